/**
 * The store contract on D1, on a real workerd-backed D1 in-process (wrangler's getPlatformProxy, migrated from
 * collector/migrations), and the byte-for-byte comparison with the SQLite store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createD1Store } from '../../collector/stores/d1';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { openLocalD1, type LocalD1 } from '../../scripts/worker';
import { storeContract, transcript } from './contract';
import { teamContract, teamTranscript } from './team-contract';

let d1: LocalD1;
beforeAll(async () => {
  d1 = await openLocalD1();
});
afterAll(async () => {
  await d1?.dispose();
});

/** Empties every table of the local D1 (the migrations record stays), so each test starts from a fresh database. */
const reset = async () => {
  const { results } = await d1.db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
    )
    .all<{ name: string }>();
  if (!results.length) return;
  // The audit log is append-only (its triggers refuse DELETE): lifted around the reset, put back as they were.
  const triggers = (
    await d1.db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
      .all<{ name: string; sql: string }>()
  ).results;
  const sequence = await d1.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").first();
  await d1.db.batch([
    ...triggers.map((t) => d1.db.prepare(`DROP TRIGGER "${t.name}"`)),
    ...results.map((r) => d1.db.prepare(`DELETE FROM "${r.name}"`)),
    // AUTOINCREMENT counters (the audit log's ids) start again too, as in a fresh database.
    ...(sequence ? [d1.db.prepare('DELETE FROM sqlite_sequence')] : []),
    ...triggers.map((t) => d1.db.prepare(t.sql)),
  ]);
};

const open = async () => {
  await reset();
  return { store: createD1Store(d1.db), sibling: () => createD1Store(d1.db) };
};
storeContract('D1 (workerd)', open);
teamContract('D1 (workerd)', open);

describe('teams on D1', () => {
  it('give the same results as on SQLite, byte for byte', async () => {
    await reset();
    const fromD1 = await teamTranscript(createD1Store(d1.db));
    const fromSqlite = await teamTranscript(createSqliteStore(openSqlite(':memory:')));
    expect(fromSqlite.length).toBeGreaterThanOrEqual(10);
    expect(fromSqlite.join('\n')).toMatch(/^removed true$/m);
    for (let i = 0; i < fromSqlite.length; i++) expect(fromD1[i], `line ${i}`).toBe(fromSqlite[i]);
    expect(fromD1.length).toBe(fromSqlite.length);
  }, 60_000);

  it('the audit log refuses any change or deletion of an entry (the triggers of migration 0030)', async () => {
    await reset();
    const store = createD1Store(d1.db);
    const entry = { site: 'shop', at: 1, actor: 'admin-token', actorLabel: 'admin token', action: 'a', target: null };
    await store.appendAudit({ ...entry, detail: null });
    await expect(d1.db.prepare("UPDATE audit_log SET actor = 'someone else'").run()).rejects.toThrow(/append-only/);
    await expect(d1.db.prepare('DELETE FROM audit_log').run()).rejects.toThrow(/append-only/);
    expect(await store.listAudit('shop', 10)).toMatchObject([entry]);
  });
});

describe('D1 and SQLite give the same results', () => {
  it('byte for byte, for one sequence of ingests, merges, refolds, chunked reads, filters and cursors', async () => {
    await reset();
    const fromD1 = await transcript(createD1Store(d1.db));
    const fromSqlite = await transcript(createSqliteStore(openSqlite(':memory:')));
    expect(fromD1.length).toBeGreaterThan(60);
    // The sequence exercises what it claims to: a refold, a merge, more than one page, the erase.
    const all = fromSqlite.join('\n');
    expect(all).toMatch(/"journey":"u:u1"/);
    expect(all).toMatch(/^pages .*"cursor":"[^"]+"/m);
    expect(all).toMatch(/^erase [1-9]/m);
    expect(all).toMatch(/^tombstoned \["hash-u1","hash-v3"\]/m);
    for (let i = 0; i < fromSqlite.length; i++) expect(fromD1[i], `line ${i}`).toBe(fromSqlite[i]);
    expect(fromD1.length).toBe(fromSqlite.length);
  }, 180_000); // every D1 call crosses getPlatformProxy's bridge: slow on a busy 2-core machine
});
