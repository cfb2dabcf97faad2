import type { WireEvent } from '../collector/core/protocol';
import type { Store } from './context';
import { DROP, RETRY, SPLIT, verdict } from './transport';

/** Sends one batch: `dropped` to report, `beacon` when the page is going away. Resolves [status, retryAfter s]. */
export type Send = (events: WireEvent[], dropped: number, beacon?: unknown) => Promise<[number, number]>;

/** A stored entry: the event and the time until which a send in flight holds it (0: free). */
type Entry = [WireEvent, number];
/** The stored outbox: entries oldest first, and events dropped since the last successful send. */
interface State {
  q: Entry[];
  d: number;
}

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
 * The persisted queue of unsent events. Every operation re-reads the stored state, changes it and writes it
 * back, and events leave it only by id, so two tabs sharing one outbox neither lose nor double-send events.
 *
 * @example
 * const [put, soon, flush] = outbox(store(true), 'cjm.o.shop', (events, dropped, beacon) => post(url, body(events), beacon), () => consent);
 * put(event); soon(); // sent within `interval` ms
 * addEventListener('pagehide', () => flush(1)); // everything, by sendBeacon
 */
export const outbox = (st: Store, key: string, send: Send, ok: () => unknown, interval = 1e3) => {
  let timer: ReturnType<typeof setTimeout> | 0 = 0,
    tries = 0;

  /** Read-modify-write of the stored state; a state that cannot be read or changed starts afresh. */
  const edit = <R>(f: (s: State) => R): R => {
    let s: State, r: R;
    try {
      r = f((s = JSON.parse(st(key)!)));
    } catch {
      r = f((s = { q: [], d: 0 }));
    }
    st(key, JSON.stringify(s));
    return r;
  };

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

  /** Sends everything that is not held by a send in flight, batch by batch, while `ok()`. Never rejects. */
  const flush = async (beacon?: unknown): Promise<void> => {
    for (let cap = BATCH; ok(); ) {
      const now = Date.now();
      let size = 512,
        dropped = 0;
      // Take a batch: free entries, ≤ BATCH events and ≤ BYTES (at least one event), and lease them.
      const events = edit((s) => {
        const out: WireEvent[] = [];
        for (const x of s.q)
          if (x[1] < now) {
            size += new Blob([JSON.stringify(x[0])]).size + 1;
            if (out.length && (out.length == cap || size > BYTES)) break;
            out.push(x[0]);
            x[1] = now + LEASE;
          }
        if (out.length) {
          dropped = s.d;
          s.d = 0;
        }
        return out;
      });
      if (!events.length) return;
      const [status, retryAfter] = await send(events, dropped, beacon);
      const ids = events.map((e) => e.id);
      let v = verdict(status);
      // Refused for its content: halve the batch until the bad event is alone, then drop it and go on
      // with full batches. FREE (-1): back to the outbox for the next round of this loop, no backoff.
      if (v == SPLIT) v = ids.length > 1 ? ((cap = ids.length >> 1), FREE) : ((cap = BATCH), DROP);
      // Settle by id: sent and dropped events leave the outbox, retried and split ones are freed (odd v).
      // Events handed to a beacon (status 1) stay held for 400 ms (less than the shortest backoff), so the second hide event of one page exit
      // (visibilitychange, then pagehide) does not beacon them again; the next flush sends them, confirmed.
      edit((s) => {
        s.q = s.q.filter((x) => !ids.includes(x[0].id) || (v & 1 && ((x[1] = status == 1 ? now + 400 : 0), 1)));
        s.d += v && dropped + (v == DROP ? ids.length : 0);
      });
      if (v == RETRY) {
        // Exponential backoff (1 s doubling to 60 s, times 0.5–1.5 jitter), or the server's Retry-After.
        return later(retryAfter * 1e3 || Math.min(6e4, 1e3 * 2 ** tries++) * (0.5 + Math.random()), 1);
      }
      tries = 0;
    }
  };

  return [
    /** put: stores an event (its id and ts are already set and never change). */
    (e: WireEvent) =>
      edit((s) => {
        if (s.q.push([e, 0]) > MAX) {
          s.q.shift();
          s.d++;
        }
      }),
    /** soon: sends within `interval` ms, unless a send (or a backoff) is already scheduled. */
    () => later(interval),
    /** flush */
    flush,
  ] as const;
};
