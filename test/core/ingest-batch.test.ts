/**
 * `ingestBatch`: many requests, one commit, an answer each. What happens to the others when one request is bad, when
 * the one commit fails for one of them, when another writer commits a journey of the batch first, when the database
 * is full; and that the commit of a batch is one transaction however many requests it holds.
 */
import { describe, expect, it } from 'vitest';
import { ingest, ingestBatch, type IngestRequest } from '../../collector/core/ingest';
import { defaultSiteConfig } from '../../collector/core/stages';
import { StoreFullError, type Store } from '../../collector/core/store';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';

const T = Date.UTC(2026, 10, 1, 12);
const site = defaultSiteConfig('demo');
const page = (id: string, ts: number, path = '/') => ({ id, type: 'page' as const, ts, url: `https://s.test${path}` });
const request = (visitor: string, events: IngestRequest['events']): IngestRequest => ({
  site,
  visitor,
  events,
  receivedAt: T + 60_000,
});

const count = (db: ReturnType<typeof openSqlite>, sql: string) => (db.prepare(sql).get() as { n: number }).n;

describe('ingestBatch', () => {
  it('answers each request: a refused one gets its error, the others are committed', async () => {
    const db = openSqlite(':memory:');
    const store = createSqliteStore(db);
    const out = await ingestBatch(store, [
      request('v1', [page('a1', T), page('a2', T + 1000, '/cart')]),
      request('u:reserved', [page('b1', T)]),
      request('v2', [page('c1', T)]),
      request('v1', [page('a2', T + 1000, '/cart'), page('a3', T + 2000, '/checkout')]),
    ]);
    expect(out.map((o) => (o.ok ? o.result : 'error'))).toEqual([
      { accepted: 2, duplicates: 0 },
      'error',
      { accepted: 1, duplicates: 0 },
      { accepted: 1, duplicates: 1 }, // a2 is a duplicate of the first request, in the same batch
    ]);
    const refused = out[1];
    expect(refused?.ok === false && (refused.error as { status?: number }).status).toBe(400);
    expect(count(db, 'SELECT COUNT(*) AS n FROM events')).toBe(4);
    expect(count(db, "SELECT COUNT(*) AS n FROM events WHERE visitor = 'u:reserved'")).toBe(0);
    const j = (await store.getJourneys('demo', ['v1'])).get('v1');
    expect(j?.version).toBe(1); // two requests of v1, one write of its journey
    expect(j?.journey.current).toBe('checkout');
  });

  it('is one transaction for the whole batch', async () => {
    const db = openSqlite(':memory:');
    const base = createSqliteStore(db);
    let commits = 0;
    const store: Store = {
      ...base,
      commitBatch: async (writes) => {
        commits++;
        await base.commitBatch(writes);
      },
    };
    const requests = Array.from({ length: 50 }, (_, v) => request(`v${v}`, [page(`e${v}`, T + v)]));
    const out = await ingestBatch(store, requests);
    expect(out.every((o) => o.ok)).toBe(true);
    expect(commits).toBe(1);
    expect(count(db, 'SELECT COUNT(*) AS n FROM journeys')).toBe(50);
  });

  it('when the one commit fails for one request, commits the others alone and gives it the error', async () => {
    const db = openSqlite(':memory:');
    const base = createSqliteStore(db);
    const poison = new Error('constraint failed (simulated)');
    const store: Store = {
      ...base,
      commitBatch: async (writes) => {
        if (writes.some((w) => w.write.events.some((e) => e.id === 'bad'))) throw poison;
        await base.commitBatch(writes);
      },
    };
    const out = await ingestBatch(store, [
      request('v1', [page('a1', T)]),
      request('v2', [page('bad', T)]),
      request('v3', [page('c1', T)]),
    ]);
    expect(out.map((o) => o.ok)).toEqual([true, false, true]);
    expect(out[1]?.ok === false && out[1].error).toBe(poison);
    expect(out[0]?.ok && out[0].result).toEqual({ accepted: 1, duplicates: 0 });
    expect(db.prepare('SELECT id FROM events ORDER BY id').all()).toEqual([{ id: 'a1' }, { id: 'c1' }]);
  });

  it('retries from fresh reads when another writer committed one of its journeys first', async () => {
    const db = openSqlite(':memory:');
    const other = createSqliteStore(db); // another isolate on the same database
    const base = createSqliteStore(db);
    let raced = false;
    const store: Store = {
      ...base,
      commitBatch: async (writes) => {
        if (!raced) {
          raced = true;
          await ingest(other, site, 'v1', [page('x1', T + 500, '/cart'), page('a1', T)], T);
        }
        await base.commitBatch(writes);
      },
    };
    const out = await ingestBatch(store, [request('v1', [page('a1', T), page('a2', T + 1000)]), request('v2', [])]);
    // The retry sees a1 stored by the other writer: a duplicate; x1 is folded in its place.
    expect(out[0]?.ok && out[0].result).toEqual({ accepted: 1, duplicates: 1 });
    expect(db.prepare("SELECT id FROM events WHERE visitor = 'v1' ORDER BY ts").all()).toEqual([
      { id: 'a1' },
      { id: 'x1' },
      { id: 'a2' },
    ]);
    const j = (await base.getJourneys('demo', ['v1'])).get('v1');
    expect(j?.journey.last?.[1]).toBe('a2');
    expect(j?.version).toBe(2);
  });

  it('gives every request the error of a full database, and writes nothing', async () => {
    const db = openSqlite(':memory:');
    const base = createSqliteStore(db);
    const full = new StoreFullError('[cjm] the database is full (simulated)', 60, 'DB');
    const store: Store = {
      ...base,
      commitBatch: async () => {
        throw full;
      },
    };
    const out = await ingestBatch(store, [request('v1', [page('a1', T)]), request('v2', [page('b1', T)])]);
    expect(out).toEqual([
      { ok: false, error: full },
      { ok: false, error: full },
    ]);
    expect(count(db, 'SELECT COUNT(*) AS n FROM events')).toBe(0);
  });

  it('folds an identify merge of two visitors of one batch once', async () => {
    const db = openSqlite(':memory:');
    const store = createSqliteStore(db);
    const id = (eid: string, ts: number) => ({ id: eid, type: 'identify' as const, ts, userId: 'ada' });
    const out = await ingestBatch(store, [
      request('v1', [page('a1', T), id('a2', T + 1000)]),
      request('v2', [page('b1', T + 2000, '/cart'), id('b2', T + 3000)]),
    ]);
    expect(out.every((o) => o.ok)).toBe(true);
    const j = (await store.getJourneys('demo', ['u:ada'])).get('u:ada');
    expect(j?.journey.visitors).toEqual(['v1', 'v2']);
    expect(j?.version).toBe(1);
    expect(count(db, "SELECT COUNT(*) AS n FROM journeys WHERE key IN ('v1', 'v2')")).toBe(0);
    expect(db.prepare('SELECT visitor, journey FROM visitors ORDER BY visitor').all()).toEqual([
      { visitor: 'v1', journey: 'u:ada' },
      { visitor: 'v2', journey: 'u:ada' },
    ]);
  });
});
