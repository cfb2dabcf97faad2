/**
 * The Node entry over a real socket: the client address comes from the connection (getConnInfo), so the
 * no-visitor-id mode derives an id, and the maintenance timer stops with the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestBatch } from '../../collector/core/ingest';
import { start, type Running } from '../../collector/node';
import { waitFor } from '../helpers';

let server: Running;
beforeAll(async () => {
  server = await start({ port: 0, db: ':memory:', adminToken: 'node-test-token-0123456789' });
});
afterAll(async () => {
  await server.close();
});

const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

describe('collector on Node', () => {
  it('derives a visitor id from the socket address when the tag sends none, and never stores the address', async () => {
    const send = () =>
      fetch(`${server.url}/collect`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
        body: JSON.stringify({
          site: 'demo',
          events: [
            { id: `n${Math.random().toString(36).slice(2)}`, type: 'page', ts: Date.now(), url: 'https://shop.test/' },
          ],
        }),
      });
    expect((await send()).status).toBe(202);
    expect((await send()).status).toBe(202);
    const list = (await (
      await fetch(`${server.url}/api/sites/demo/visitors`, {
        headers: { Authorization: 'Bearer node-test-token-0123456789' },
      })
    ).json()) as {
      visitors: { visitor: string; device: string; touches: number }[];
    };
    expect(list.visitors).toHaveLength(1);
    expect(list.visitors[0]).toMatchObject({ device: 'desktop', touches: 2 });
    expect(list.visitors[0]!.visitor).toMatch(/^d:/);
    const rows = server.db.prepare('SELECT * FROM events').all();
    expect(JSON.stringify(rows)).not.toMatch(/127\.0\.0\.1|::1|Chrome\/131/);
  });
});

describe('group commit on Node', () => {
  it('commits the requests that arrive during a commit together, and close() answers each after its commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cjm-drain-'));
    const file = join(dir, 'cjm.db');
    // The first commit waits for the test: the requests that arrive meanwhile queue for the next one.
    let release = () => {};
    const gate = new Promise<void>((ok) => (release = ok));
    const running = await start({
      port: 0,
      db: file,
      adminToken: 'node-test-token-0123456789',
      automation: false,
      batch: { ingest: async (store, requests) => (await gate, ingestBatch(store, requests)) },
    });
    const N = 40;
    const answers = Array.from({ length: N }, (_, v) =>
      fetch(`${running.url}/collect`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
        body: JSON.stringify({
          site: 'demo',
          visitor: `drain${v}`,
          events: [0, 1, 2].map((i) => ({
            id: `d${v}-${i}`,
            type: 'page',
            ts: Date.now() + i,
            url: 'https://shop.test/',
          })),
        }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { accepted?: number } })),
    );
    await waitFor(() => running.batcher.queued() === N * 3, { what: 'every request waiting for a commit' });
    // SIGTERM's path: no new connections; what is queued is committed and answered before the database closes.
    const closed = running.close();
    release();
    await closed;
    const done = await Promise.all(answers);
    expect(done.map((a) => a.status)).toEqual(done.map(() => 202));
    expect(done.reduce((n, a) => n + (a.body.accepted ?? 0), 0)).toBe(N * 3);
    const db = new Database(file);
    const count = db.prepare("SELECT COUNT(*) AS n FROM events WHERE visitor LIKE 'drain%'").get() as { n: number };
    db.close();
    expect(count.n).toBe(N * 3);
    const s = running.batcher.stats();
    expect(s.commits).toBe(2); // the first request alone, then the other 39 in one commit
    expect(s.requests).toEqual([1, N - 1]);
    rmSync(dir, { recursive: true, force: true });
  });
});
