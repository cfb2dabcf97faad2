/**
 * The group commit (core/batcher.ts) with a controlled ingest and a manual "yield to I/O": which requests share a
 * commit, when each is answered, what a full queue answers, and what SIGTERM's drain waits for.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../collector/core/batcher';
import { ingestBatch, type IngestOutcome, type IngestRequest } from '../../collector/core/ingest';
import { defaultSiteConfig } from '../../collector/core/stages';
import { StoreUnavailableError, type Store } from '../../collector/core/store';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';

const site = defaultSiteConfig('demo');
const T = Date.UTC(2026, 10, 1, 12);
const req = (visitor: string, n = 1): IngestRequest => ({
  site,
  visitor,
  receivedAt: T,
  events: Array.from({ length: n }, (_, i) => ({
    id: `${visitor}-${i}`,
    type: 'page' as const,
    ts: T + i,
    url: 'https://s.test/',
  })),
});
const store = {} as Store;

/** An ingest that holds each commit until released, and a scheduler that runs yields only when flushed. */
const harness = (caps: { maxRequests?: number; maxEvents?: number; maxQueuedEvents?: number } = {}) => {
  const commits: string[][] = [];
  const gates: Array<() => void> = [];
  let failNext: Error | null = null;
  const pending: Array<() => void> = [];
  const batcher = createBatcher({
    ...caps,
    retryAfter: 2,
    yieldToIo: (fn) => pending.push(fn),
    ingest: async (_s, requests) => {
      commits.push(requests.map((r) => r.visitor));
      await new Promise<void>((ok) => gates.push(ok));
      if (failNext) {
        const e = failNext;
        failNext = null;
        throw e;
      }
      return requests.map((r): IngestOutcome => ({ ok: true, result: { accepted: r.events.length, duplicates: 0 } }));
    },
  });
  const settle = () => new Promise<void>((ok) => setTimeout(ok, 0)); // lets resolved promises run
  const flush = async () => {
    while (pending.length) (pending.shift() as () => void)();
    await settle();
  };
  const release = async () => {
    (gates.shift() as () => void)();
    await settle();
  };
  return {
    batcher,
    commits,
    flush,
    release,
    settle,
    failOnce: (e: Error) => {
      failNext = e;
    },
  };
};

describe('group commit', () => {
  it('commits what arrived during a commit in the next one, and answers each request after its own commit', async () => {
    const h = harness();
    const answered: string[] = [];
    const send = (v: string) => h.batcher.ingester(store, [req(v)]).then(() => answered.push(v));
    void send('a');
    await h.flush();
    expect(h.commits).toEqual([['a']]); // a lone request: at once, no delay
    void send('b');
    void send('c');
    void send('d');
    await h.flush();
    expect(h.commits).toEqual([['a']]); // the next batch waits for the running commit
    expect(answered).toEqual([]);
    await h.release();
    expect(answered).toEqual(['a']);
    await h.flush();
    expect(h.commits).toEqual([['a'], ['b', 'c', 'd']]);
    expect(answered).toEqual(['a']); // not before their commit
    await h.release();
    expect(answered).toEqual(['a', 'b', 'c', 'd']);
    expect(h.batcher.stats()).toMatchObject({ commits: 2, requests: [1, 3], events: [1, 3] });
  });

  it('caps a batch by requests and by events, never splitting a request', async () => {
    const h = harness({ maxRequests: 2, maxEvents: 5 });
    const all = [req('a', 1), req('b', 1), req('c', 1), req('d', 4), req('e', 6)].map((r) =>
      h.batcher.ingester(store, [r]),
    );
    await h.flush();
    expect(h.commits).toEqual([['a', 'b']]);
    for (const expected of [['c', 'd'], ['e']]) {
      await h.release();
      await h.flush();
      expect(h.commits.at(-1)).toEqual(expected);
    }
    await h.release();
    expect((await Promise.all(all)).map((o) => o.length)).toEqual([1, 1, 1, 1, 1]);
  });

  it('refuses with a 503 and Retry-After when the queue is full, never accepting what it cannot commit', async () => {
    const h = harness({ maxQueuedEvents: 10 });
    const first = h.batcher.ingester(store, [req('a', 6)]);
    const second = h.batcher.ingester(store, [req('b', 4)]);
    const refused = h.batcher.ingester(store, [req('c', 1)]).catch((e: unknown) => e);
    const e = await refused;
    expect(e).toBeInstanceOf(StoreUnavailableError);
    expect((e as StoreUnavailableError).retryAfter).toBe(2);
    expect(h.batcher.stats().refused).toBe(1);
    await h.flush();
    expect(h.commits).toEqual([['a', 'b']]);
    await h.release();
    expect((await first).length + (await second).length).toBe(2);
    expect(h.batcher.queued()).toBe(0);
    // Room again: accepted.
    const again = h.batcher.ingester(store, [req('c', 1)]);
    await h.flush();
    await h.release();
    expect(await again).toHaveLength(1);
  });

  it('fails the requests of a commit that threw, and goes on with the next', async () => {
    const h = harness();
    const a = h.batcher.ingester(store, [req('a')]).catch((e: unknown) => e);
    await h.flush();
    const b = h.batcher.ingester(store, [req('b')]);
    h.failOnce(new Error('disk I/O error'));
    await h.release();
    expect(await a).toEqual(new Error('disk I/O error'));
    await h.flush();
    await h.release();
    expect(await b).toHaveLength(1);
  });

  it('drain resolves once everything queued is committed', async () => {
    const h = harness();
    const a = h.batcher.ingester(store, [req('a')]);
    await h.flush();
    const b = h.batcher.ingester(store, [req('b')]); // arrives during the first commit
    let drained = false;
    void h.batcher.drain().then(() => (drained = true));
    await h.release();
    expect(drained).toBe(false);
    await h.flush();
    await h.release();
    await h.flush();
    await h.settle();
    expect(drained).toBe(true);
    expect((await a).length + (await b).length).toBe(2);
  });

  it('over a real store: one commit per batch, each event stored once', async () => {
    const db = openSqlite(':memory:');
    const real = createSqliteStore(db);
    let commits = 0;
    const counted: Store = { ...real, commitBatch: async (w) => (commits++, real.commitBatch(w)) };
    const batcher = createBatcher({ yieldToIo: setImmediate, ingest: ingestBatch });
    const out = await Promise.all(
      Array.from({ length: 40 }, (_, i) => batcher.ingester(counted, [req(`v${i % 10}`, 3)])),
    );
    const accepted = out.flat().reduce((n, o) => n + (o.ok ? o.result.accepted : 0), 0);
    expect(accepted).toBe(30); // 10 visitors × 3 distinct ids; the rest are duplicates
    expect((db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n).toBe(30);
    expect(commits).toBe(1); // all 40 arrived before the first commit started
  });
});
