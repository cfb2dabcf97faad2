/**
 * The Worker with its ingest queue (wrangler.toml `INGEST`, local on workerd + local D1): requests/s accepted by
 * `POST /collect` (202 once queued), how fast the consumer drains them into D1, the lag from a 202 to the event being
 * visible in the visitor's timeline, and D1 round trips per event with and without the queue.
 *
 * Lag: probe requests (one new visitor each, one event) are sent at a steady rate beside background traffic; the
 * bench reads one visitors list per 100 ms tick (`?q=<probe prefix>`, newest first) and takes a probe's lag as the
 * time from its 202 to the first tick that lists it (a visitor is listed in the same commit that stores its events).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoSite } from '../collector/core/bootstrap';
import { ingestBatch, type IngestRequest } from '../collector/core/ingest';
import { hashKey, useHashKey } from '../collector/core/privacy';
import { consumeIngest, queueIngester, type IngestMessage } from '../collector/core/queue';
import type { Store } from '../collector/core/store';
import { d1Connector } from '../collector/stores/d1';
import { createRoutedStore, MAIN_DATABASE } from '../collector/stores/routed';
import type { SqlConnector } from '../collector/stores/sql';
import { openLocalD1, startLocalWorker } from '../scripts/worker';
import { bodyFactory, cannon, UA, type CannonResult } from './lib/cannon';

const TOKEN = 'bench-token-0123456789abcdef';
const TICK_MS = 100;

export interface QueueBench {
  seconds: number;
  /** The producer alone (no consumer configured): 202s per second at full speed. */
  producer: CannonResult;
  /** Full-speed run with the consumer in the same workerd: 202s per second, latency of the 202. */
  accepted: CannonResult;
  /** 202s of that run (its events, one each). */
  acceptedEvents: number;
  /** Events stored per second by the consumer, from the start of that run until all of its events were stored. */
  drainEventsPerSec: number;
  drainSeconds: number;
  /** Lag runs: background requests/s (0: probes only) and the probes' lag percentiles in ms. */
  lag: { background: number; achieved: number; probes: number; seen: number; p50: number; p99: number; max: number }[];
  /** D1 round trips per event (reads, commits) on the same traffic: direct ingest vs the queue's consumer. */
  queries: { direct: { reads: number; commits: number }; queued: { reads: number; commits: number }; events: number };
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : Number.NaN;

const storedEvents = async (url: string): Promise<number> => {
  const res = await fetch(`${url}/api/sites/demo/counters`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { totals: { stored: number } }).totals.stored;
};

/** Probes at `perSecond` for `seconds`, the lag of each from its 202 to the tick whose list shows it. */
const probeLag = async (url: string, perSecond: number, seconds: number, tag: string) => {
  const sentAt = new Map<string, number>();
  const lags: number[] = [];
  let done = false;
  let sending = true;
  const poll = (async () => {
    const headers = { Authorization: `Bearer ${TOKEN}` };
    let deadline = Number.POSITIVE_INFINITY;
    while (!done) {
      const tick = performance.now();
      const res = await fetch(`${url}/api/sites/demo/visitors?q=${tag}&limit=500`, { headers });
      const seenAt = performance.now();
      if (res.ok) {
        for (const v of ((await res.json()) as { visitors: { visitor: string }[] }).visitors) {
          const t = sentAt.get(v.visitor);
          if (t !== undefined) {
            lags.push(seenAt - t);
            sentAt.delete(v.visitor);
          }
        }
      } else await res.arrayBuffer();
      if (!sending && deadline === Number.POSITIVE_INFINITY) deadline = seenAt + 60_000;
      if (!sending && (sentAt.size === 0 || seenAt > deadline)) done = true;
      await new Promise((r) => setTimeout(r, Math.max(0, TICK_MS - (performance.now() - tick))));
    }
  })();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const visitor = `${tag}-${n++}`;
    const res = await fetch(`${url}/collect`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
      body: JSON.stringify({
        site: 'demo',
        visitor,
        events: [{ id: `${visitor}-e`, type: 'page', ts: Date.now(), url: 'https://shop.test/probe' }],
      }),
    });
    await res.arrayBuffer();
    if (res.status === 202) sentAt.set(visitor, performance.now());
    const next = start + (n * 1000) / perSecond;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  const probes = n;
  sending = false;
  await poll;
  lags.sort((a, b) => a - b);
  return { probes, seen: lags.length, p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: lags.at(-1) ?? 0 };
};

/** A connector that counts its round trips. */
const counting = (inner: SqlConnector) => {
  const c = { reads: 0, commits: 0 };
  const connector: SqlConnector = {
    all: (sql, params) => {
      c.reads++;
      return inner.all(sql, params);
    },
    batch: (statements) => {
      if (statements.length > 0) c.commits++;
      return inner.batch(statements);
    },
  };
  return { connector, c };
};

/**
 * D1 round trips per event for the same requests (the bench's traffic: 1-event requests, five per visitor), as the
 * Worker's /collect runs them: the site read and one ingest per request (direct), or the site read and a send per
 * request, then one consumer batch of 100 messages (the queue).
 */
const queriesPerEvent = async (requests: number) => {
  const run = async (queued: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'cjm-bench-queue-d1-'));
    const d1 = await openLocalD1(dir);
    try {
      const { connector, c } = counting(d1Connector(d1.db));
      const plain = createRoutedStore({ [MAIN_DATABASE]: connector }, { main: MAIN_DATABASE });
      await ensureDemoSite(plain);
      const store: Store = useHashKey(plain, hashKey(plain));
      await store.getSite('demo');
      c.reads = 0;
      c.commits = 0;
      const body = bodyFactory(1);
      const sent: IngestMessage[] = [];
      const queue = queueIngester({
        sendBatch: async (ms) => {
          for (const m of ms) sent.push(JSON.parse(JSON.stringify(m.body)) as IngestMessage);
        },
      });
      let events = 0;
      for (let i = 0; i < requests; i++) {
        const batch = JSON.parse(body()) as { visitor: string; events: IngestRequest['events'] };
        const site = (await store.getSite('demo'))!; // what /collect reads for every request
        const r: IngestRequest = { site, visitor: batch.visitor, events: batch.events, receivedAt: Date.now() };
        events += r.events.length;
        await (queued ? queue : ingestBatch)(store, [r]);
      }
      for (let i = 0; i < sent.length; i += 100) {
        await consumeIngest(
          store,
          sent.slice(i, i + 100).map((b) => ({ body: b, attempts: 1 })),
        );
      }
      return { reads: c.reads / events, commits: c.commits / events, events };
    } finally {
      await d1.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const direct = await run(false);
  const queued = await run(true);
  return { direct: { reads: direct.reads, commits: direct.commits }, queued, events: direct.events };
};

/** The producer alone: the binding without a consumer (the local broker accepts and discards each message). */
const producerOnly = async (seconds: number): Promise<CannonResult> => {
  const w = await startLocalWorker({ adminToken: TOKEN, assets: false, queue: 'producer-only' });
  try {
    await (await fetch(`${w.url}/api/sites/demo`, { headers: { Authorization: `Bearer ${TOKEN}` } })).arrayBuffer();
    const { raw: _raw, ...result } = await cannon({ url: w.url, events: 1, seconds, forwardedFor: true });
    return result;
  } finally {
    await w.stop();
  }
};

export const benchQueue = async (seconds: number, log: (s: string) => void): Promise<QueueBench> => {
  const producer = await producerOnly(seconds);
  log(
    `  producer alone (no consumer): ${producer.rps.toFixed(0)} req/s (p50 ${producer.p50} ms, p99 ${producer.p99} ms, ${producer.non2xx} non-2xx)`,
  );
  const w = await startLocalWorker({ adminToken: TOKEN, assets: false, queue: true });
  try {
    // Warm up: boot, the demo site.
    await (await fetch(`${w.url}/api/sites/demo`, { headers: { Authorization: `Bearer ${TOKEN}` } })).arrayBuffer();
    const before = await storedEvents(w.url);
    const started = performance.now();
    const accepted = await cannon({ url: w.url, events: 1, seconds, forwardedFor: true });
    const target = before + accepted.raw['2xx'];
    log(
      `  accepted ${accepted.rps.toFixed(0)} req/s (p50 ${accepted.p50} ms, p99 ${accepted.p99} ms, ${accepted.non2xx} non-2xx); draining ${accepted.raw['2xx']} events…`,
    );
    let stored = before;
    const drainDeadline = performance.now() + 15 * 60_000;
    while (stored < target && performance.now() < drainDeadline) {
      await new Promise((r) => setTimeout(r, 500));
      stored = await storedEvents(w.url);
    }
    const drainSeconds = (performance.now() - started) / 1000;
    const drainEventsPerSec = (stored - before) / drainSeconds;
    log(
      `  drained ${stored - before} events in ${drainSeconds.toFixed(1)} s: ${drainEventsPerSec.toFixed(0)} events/s`,
    );

    const lag: QueueBench['lag'] = [];
    // Probes alone, then beside background traffic at half of what the consumer drains.
    const backgrounds = [0, Math.max(5, Math.floor(drainEventsPerSec * 0.5))];
    for (const [i, background] of backgrounds.entries()) {
      const load = background
        ? cannon({ url: w.url, events: 1, seconds, forwardedFor: true, rate: background })
        : Promise.resolve(null);
      const probe = await probeLag(w.url, 10, seconds, `probe${i}x${process.pid}`);
      const bg = await load;
      const row = { background, achieved: bg ? bg.rps : 0, ...probe };
      lag.push(row);
      log(
        `  lag with ${background} req/s beside (${row.achieved.toFixed(0)} achieved): p50 ${row.p50.toFixed(0)} ms, p99 ${row.p99.toFixed(0)} ms, max ${row.max.toFixed(0)} ms (${row.seen}/${row.probes} probes seen)`,
      );
    }
    const queries = await queriesPerEvent(500);
    log(
      `  D1 round trips per event: direct ${queries.direct.reads.toFixed(2)} reads + ${queries.direct.commits.toFixed(2)} commits; queued ${queries.queued.reads.toFixed(2)} + ${queries.queued.commits.toFixed(2)}`,
    );
    const { raw: _raw, ...result } = accepted;
    return {
      seconds,
      producer,
      accepted: result,
      acceptedEvents: accepted.raw['2xx'],
      drainEventsPerSec,
      drainSeconds,
      lag,
      queries,
    };
  } finally {
    await w.stop();
  }
};
