/**
 * Keyed hashes on SQLite (issue 14, item 12): a database written by the previous version (the fixture) is rekeyed in
 * place by a started collector, erased visitors stay erased, live server-side visitors keep their journeys under
 * their keyed ids, and a collector started with another secret is refused.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Running } from '../../collector/node';
import { openSqlite } from '../../collector/stores/sqlite';
import { checkRekeyed, fixtureStatements, LEGACY, sqliteDump } from './rekey';

const TOKEN = 'rekey-test-token-0123456789';
let dir: string;
let file: string;
let c: Running;

const dumpOf = sqliteDump;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cjm-rekey-'));
  file = join(dir, 'cjm.db');
  const db = openSqlite(file); // today's migrations: the previous version's schema is the same
  for (const sql of fixtureStatements()) db.exec(sql);
  const before = JSON.stringify(db.prepare('SELECT * FROM tombstones').all());
  expect(before.match(/[0-9a-f]{64}/g)).toHaveLength(LEGACY.tombstones);
  db.close();
  c = await start({ port: 0, db: file, adminToken: TOKEN, automation: false });
});
afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const v1 = (body: unknown, key: string) =>
  fetch(`${c.url}/v1/track`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Basic ${btoa(`${key}:`)}` },
    body: JSON.stringify(body),
  });

describe('rekeying a database written before keyed hashes (SQLite)', () => {
  it('rewrites every tombstone and server-side id in place at start', async () => {
    await checkRekeyed(c.store, dumpOf(c.db));
    // The secret is beside the database, not in it.
    expect(existsSync(`${file}.secret`)).toBe(true);
    expect(readFileSync(`${file}.secret`, 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await c.store.getMeta('hash_secret')).toBeNull();
    expect(await c.store.getMeta('hash_secret_check')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('maps Segment messages onto the rekeyed visitors; one erased before the upgrade stays erased', async () => {
    const key = (await c.store.createWriteKey('demo', 'after')).key;
    const ids = await checkRekeyed(c.store, dumpOf(c.db));
    // carol (userId only): onto her renamed visitor, its synthetic link a duplicate of the one stored.
    const carol = await v1({ event: 'paid', userId: 'carol@example.com', messageId: 'carol-2' }, key);
    expect(carol.status).toBe(200);
    const ofCarol = c.db.prepare('SELECT id FROM events WHERE visitor = ? ORDER BY id').all(ids.carol) as {
      id: string;
    }[];
    expect(ofCarol.map((r) => r.id)).toEqual(['seg:carol-1', 'seg:carol-2', expect.stringMatching(/^segl:/)]);
    const visitors = (c.db.prepare('SELECT COUNT(*) AS n FROM visitors').get() as { n: number }).n;
    // erin (anonymousId that is an e-mail): onto her renamed visitor, no new one.
    expect((await v1({ event: 'x', anonymousId: 'erin@example.com', messageId: 'erin-2' }, key)).status).toBe(200);
    expect(c.db.prepare("SELECT visitor FROM events WHERE id = 'seg:erin-2'").get()).toEqual({ visitor: ids.erin });
    expect((c.db.prepare('SELECT COUNT(*) AS n FROM visitors').get() as { n: number }).n).toBe(visitors);
    // dave was erased before the upgrade (his srv: tombstone was unkeyed): his new message is dropped.
    const dave = await v1({ event: 'viewed', userId: 'dave@example.com', messageId: 'dave-2' }, key);
    expect(dave.status).toBe(200);
    expect(c.db.prepare("SELECT COUNT(*) AS n FROM events WHERE id = 'seg:dave-2'").get()).toEqual({ n: 0 });
  });

  it('starts again on the same file (the secret kept beside it), and refuses another secret', async () => {
    await c.close();
    c = await start({ port: 0, db: file, adminToken: TOKEN, automation: false });
    await checkRekeyed(c.store, dumpOf(c.db));
    await c.close();
    await expect(
      start({ port: 0, db: file, adminToken: TOKEN, automation: false, secret: 'another-secret-0123456789abcdef' }),
    ).rejects.toThrow(/differs from the one this database was written with/);
    c = await start({ port: 0, db: file, adminToken: TOKEN, automation: false });
  });
});
