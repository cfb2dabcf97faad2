/**
 * Group commit (the Node collector): `/collect` and `/v1/*` hand validated requests to one batcher, which runs
 * `ingestBatch` over whatever arrived while the previous commit ran — no fixed delay: a lone request is committed at
 * once, under load a commit holds many. A request is answered only after the commit that holds its events. The queue
 * in front is bounded: when it is full the answer is a 503 with `Retry-After` (the tag keeps its outbox and retries,
 * Segment's libraries back off), never an acknowledged loss. `drain()` commits what is queued (SIGTERM).
 */
import { ingestBatch, type Ingester, type IngestOutcome, type IngestRequest } from './ingest';
import { StoreUnavailableError, type Store } from './store';

export interface BatcherOptions {
  /** Most requests one commit holds. */
  maxRequests: number;
  /** Most events one commit holds (a request is never split: a batch may pass it by one request). */
  maxEvents: number;
  /** Events waiting for a commit beyond which new requests are refused with 503. */
  maxQueuedEvents: number;
  /** `Retry-After` of that 503, in seconds. */
  retryAfter: number;
  /** Lets the runtime read more requests before the next batch (Node: setImmediate). */
  yieldToIo: (fn: () => void) => void;
  /** The ingest itself (a test may wrap it). */
  ingest: Ingester;
}

export const DEFAULT_BATCHER: BatcherOptions = {
  maxRequests: 500,
  maxEvents: 5_000,
  maxQueuedEvents: 50_000,
  retryAfter: 1,
  yieldToIo: (fn) => setTimeout(fn, 0),
  ingest: ingestBatch,
};

/** Sizes of the commits made so far (the bench reports their p50/p99). */
export interface BatchStats {
  commits: number;
  /** Requests and events of each of the latest commits (up to 10,000). */
  requests: number[];
  events: number[];
  /** Requests refused because the queue was full. */
  refused: number;
}

export interface Batcher {
  /** The Ingester to give the routes (AppOptions.ingester). */
  ingester: Ingester;
  /** Resolves once everything queued is committed (and answered). */
  drain(): Promise<void>;
  stats(): BatchStats;
  /** Events waiting for a commit. */
  queued(): number;
}

interface Waiting {
  requests: readonly IngestRequest[];
  events: number;
  done: (outcomes: IngestOutcome[]) => void;
  fail: (error: unknown) => void;
}

const STATS_KEPT = 10_000;

/**
 * @example
 * const batcher = createBatcher({ yieldToIo: setImmediate })
 * const app = createApp({ ..., ingester: () => batcher.ingester })
 */
export const createBatcher = (options: Partial<BatcherOptions> = {}): Batcher => {
  const o: BatcherOptions = { ...DEFAULT_BATCHER, ...options };
  const queues = new Map<Store, Waiting[]>();
  let queuedEvents = 0;
  let running = false;
  let idle: Array<() => void> = [];
  const stats: BatchStats = { commits: 0, requests: [], events: [], refused: 0 };

  const record = (requests: number, events: number) => {
    stats.commits++;
    stats.requests.push(requests);
    stats.events.push(events);
    if (stats.requests.length > STATS_KEPT) {
      stats.requests.splice(0, stats.requests.length - STATS_KEPT);
      stats.events.splice(0, stats.events.length - STATS_KEPT);
    }
  };

  /** Takes the next batch of one store off its queue. */
  const take = (queue: Waiting[]): Waiting[] => {
    const batch: Waiting[] = [];
    let requests = 0;
    let events = 0;
    while (queue.length > 0) {
      const next = queue[0] as Waiting;
      if (batch.length > 0 && (requests + next.requests.length > o.maxRequests || events + next.events > o.maxEvents))
        break;
      queue.shift();
      batch.push(next);
      requests += next.requests.length;
      events += next.events;
    }
    return batch;
  };

  const run = async () => {
    for (;;) {
      const entry = [...queues].find(([, q]) => q.length > 0);
      if (!entry) break;
      const [store, queue] = entry;
      const batch = take(queue);
      const requests = batch.flatMap((w) => w.requests);
      const events = batch.reduce((n, w) => n + w.events, 0);
      try {
        const outcomes = await o.ingest(store, requests);
        record(requests.length, events);
        let at = 0;
        for (const w of batch) {
          w.done(outcomes.slice(at, at + w.requests.length));
          at += w.requests.length;
        }
      } catch (error) {
        for (const w of batch) w.fail(error);
      } finally {
        queuedEvents -= events;
      }
      // Let the server read what arrived during this commit: it makes the next batch.
      await new Promise<void>((ok) => o.yieldToIo(ok));
    }
    running = false;
    const waiters = idle;
    idle = [];
    for (const w of waiters) w();
  };

  const ingester: Ingester = (store, requests) => {
    if (requests.length === 0) return Promise.resolve([]);
    const events = requests.reduce((n, r) => n + r.events.length, 0);
    if (queuedEvents > 0 && queuedEvents + events > o.maxQueuedEvents) {
      stats.refused++;
      return Promise.reject(
        new StoreUnavailableError(
          `[cjm] the collector is busy (${queuedEvents} events waiting for a commit); retry after ${o.retryAfter} s`,
          o.retryAfter,
        ),
      );
    }
    queuedEvents += events;
    const p = new Promise<IngestOutcome[]>((done, fail) => {
      let q = queues.get(store);
      if (!q) queues.set(store, (q = []));
      q.push({ requests, events, done, fail });
    });
    if (!running) {
      // After the runtime has read what arrived with this request (not a fixed delay): they commit together.
      running = true;
      o.yieldToIo(() => void run());
    }
    return p;
  };

  return {
    ingester,
    drain: () => (running ? new Promise<void>((ok) => idle.push(ok)) : Promise.resolve()),
    stats: () => ({ ...stats, requests: [...stats.requests], events: [...stats.events] }),
    queued: () => queuedEvents,
  };
};
