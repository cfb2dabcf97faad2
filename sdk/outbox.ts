import type { WireEvent } from '../collector/core/protocol';
import type { Store } from './context';
import { DROP, RETRY, SPLIT, verdict } from './transport';

/** Sends one batch: `dropped` to report, `beacon` when the page is going away. Resolves [status, retryAfter s]. */
export type Send = (events: WireEvent[], dropped: number, beacon?: unknown) => Promise<[number, number]>;

/**
 * A stored entry, one localStorage key per event: the event, the time until which a send in flight holds it (0: free),
 * and its order of `put` in its tab (from 1e6: 7 digits), which keeps events of one millisecond in the order made.
 */
type Entry = [WireEvent, number, number];

const FREE = -1;

/** At most this many unsent events are kept; the oldest go first and are counted in `dropped`. */
export const MAX = 500;
/** Events per request (collector limit). */
export const BATCH = 100;
/** Body bytes per request (collector limit). */
export const BYTES = 65536;
/** How long a send in flight holds its events, so another tab sharing the outbox does not send them too. */
export const LEASE = 15e3;

/**
 * The persisted queue of unsent events: one key per event (`<key>/<ts><order><id>` → Entry; the keys sort oldest
 * first), and the count of events dropped since the last successful send under `<key>` itself. Adding, leasing and
 * removing an event write only that event's key, so two tabs sharing the outbox (Chromium gives each renderer its own
 * copy of localStorage and passes writes on later) never overwrite each other's events: a race can only make an event
 * be sent twice (the collector keeps one), never lose it. The dropped count is a read-modify-write of one key: two tabs
 * counting at the same moment can lose an increment (a count, never an event).
 *
 * @example
 * const [put, soon, flush] = outbox(store(true), 'cjm.o.shop', (events, dropped, beacon) => post(url, body(events), beacon), () => consent);
 * put(event); soon(); // sent within `interval` ms
 * addEventListener('pagehide', () => flush(1)); // everything, by sendBeacon
 */
export const outbox = (st: Store, key: string, send: Send, ok: () => unknown, interval = 1e3) => {
  let timer: ReturnType<typeof setTimeout> | 0 = 0,
    tries = 0,
    n = 1e6;
  const p = key + '/',
    /** Adds `c` to the dropped count. */
    drop = (c: number) => c && st(key, c + ~~st(key)! + ''),
    /** Writes an entry ('': removes it) under its key: ts (13 digits), order (7 digits), id. */
    set = (x: Entry, v = JSON.stringify(x)) => st(p + x[0].ts + x[2] + x[0].id, v);

  /** Sends in `ms`, unless a send is already scheduled (`force`: reschedule, for a backoff). */
  const later = (ms: number, force?: 1) => {
    if (force || !timer) {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timer = 0;
        flush();
      }, ms);
    }
  };

  /** put: stores an event (its id and ts are already set and never change); over MAX, the oldest go and are counted. */
  const put = (e: WireEvent) => {
    set([e, 0, n++]);
    drop(
      st
        .k(p)
        .slice(0, -MAX)
        .map((k) => st(k, '')).length,
    );
  };

  /** Sends everything that is not held by a send in flight, batch by batch, while `ok()`. Never rejects (the keys under `p` hold only JSON this tag wrote). */
  const flush = async (beacon?: unknown): Promise<void> => {
    for (let cap = BATCH; ok();) {
      const now = Date.now(),
        batch: Entry[] = [];
      let size = 512;
      // Take a batch: free entries, ≤ BATCH events and ≤ BYTES (at least one event), and lease them.
      for (const k of st.k(p)) {
        // '' (removed, in memory) reads as 0: 0[1] is undefined, not < now.
        const j = st(k)!,
          x: Entry = JSON.parse(j || '0');
        if (x[1] < now) {
          // The stored entry's size: a few bytes more than the event's.
          size += new Blob([j]).size;
          if (batch.length && (batch.length == cap || size > BYTES)) break;
          x[1] = now + LEASE;
          batch.push(x);
          set(x);
        }
      }
      if (!batch.length) return;
      const dropped = ~~st(key)!;
      st(key, '');
      const [status, retryAfter] = await send(
        batch.map((x) => x[0]),
        dropped,
        beacon,
      );
      let v = verdict(status);
      // Refused for its content: halve the batch until the bad event is alone, then drop it and go on
      // with full batches. FREE (-1): back to the outbox for the next round of this loop, no backoff.
      if (v == SPLIT) v = batch.length > 1 ? ((cap = batch.length >> 1), FREE) : ((cap = BATCH), DROP);
      // Settle by key: sent and dropped events leave the outbox, retried and split ones are freed (odd v); a tab that
      // sent them meanwhile (its lease expired) removed them, and writing them back only sends them once more.
      // Events handed to a beacon (status 1) stay held for 400 ms (less than the shortest backoff), so the second hide event of one page exit
      // (visibilitychange, then pagehide) does not beacon them again; the next flush sends them, confirmed.
      for (const x of batch) v & 1 ? ((x[1] = status == 1 ? now + 400 : 0), set(x)) : set(x, '');
      drop(v && dropped + (v == DROP ? batch.length : 0));
      if (v == RETRY) {
        // Exponential backoff (1 s doubling to 60 s, times 0.5–1.5 jitter), or the server's Retry-After.
        return later(retryAfter * 1e3 || Math.min(6e4, 1e3 * 2 ** tries++) * (0.5 + Math.random()), 1);
      }
      tries = 0;
    }
  };

  return [
    put,
    /** soon: sends within `interval` ms, unless a send (or a backoff) is already scheduled. */
    () => later(interval),
    /** flush */
    flush,
  ] as const;
};
