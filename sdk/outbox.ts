import type { WireEvent } from '../collector/core/protocol';
import { LIMITS } from './build';
import { clock, type Timer } from './clock';
import type { Store } from './context';
import { RETRY, SENT, SPLIT, verdict, type Answer } from './transport';

/** Sends one batch: `dropped` to report, `beacon` when the page is going away. */
export type Send = (events: WireEvent[], dropped: number, beacon?: boolean) => Promise<Answer>;

/**
 * What one outbox key holds (as JSON): the event, the time until which a send in flight holds it (0: free), and its
 * order of `put` in its tab (from 1e6: 7 digits; also in the key, which it keeps sorting in the order made).
 */
export type Entry = [event: WireEvent, lease: number, order: number];

/** At most this many unsent events are kept; the oldest go first and are counted in `dropped`. */
export const MAX = 500;
/** How long a send in flight holds its events, so another tab sharing the outbox does not send them too. */
export const LEASE = 15e3;
/** How long events handed to a beacon stay held: less than the shortest backoff, longer than one page exit. */
const BEACON_HOLD = 400;
/** What a batch's body holds besides its events (site, visitor, sent, dropped), at most, in bytes. */
const ENVELOPE = 512;

export interface Outbox {
  /** Stores an event (its id and ts are already set and never change); over MAX, the oldest go and are counted. */
  _put(event: WireEvent): void;
  /** Sends within `interval` ms, unless a send (or a backoff) is already scheduled. */
  _soon(): void;
  /** Sends everything not held by a send in flight, batch by batch, while `ok()`; never rejects. */
  _flush(beacon?: boolean): Promise<void>;
}

/**
 * The persisted queue of unsent events: one key per event (`<key>/<ts><order><id>` → Entry; the keys sort oldest
 * first), and the count of events dropped since the last successful send under `<key>` itself. Adding, leasing and
 * removing an event write only that event's key, so two tabs sharing the outbox (Chromium gives each renderer its own
 * copy of localStorage and passes writes on later) never overwrite each other's events: a race can only make an event
 * be sent twice (the collector keeps one), never lose it. The dropped count is a read-modify-write of one key: two tabs
 * counting at the same moment can lose an increment (a count, never an event).
 *
 * @example
 * const box = outbox(store(true), 'cjm.o.shop', (events, dropped, beacon) => post(url, body(events), beacon), () => consent);
 * box._put(event); box._soon(); // sent within `interval` ms
 * addEventListener('pagehide', () => box._flush(true)); // everything, by sendBeacon
 */
export const outbox = (st: Store, key: string, send: Send, ok: () => boolean, interval = 1e3): Outbox => {
  const prefix = key + '/';
  /** The scheduled send, if there is one. */
  let timer: Timer | undefined;
  /** Failed attempts in a row: the backoff's exponent. */
  let tries = 0;
  let order = 1e6;

  /** Writes an entry under `k` (its key: ts, 13 digits; order, 7 digits; id). */
  const save = (k: string, entry: Entry) => st._set(k, JSON.stringify(entry));
  const dropped = () => Number(st._get(key)) || 0;
  /** Adds `count` to the dropped count. */
  const drop = (count: number) => {
    if (count) st._set(key, String(dropped() + count));
  };

  /** Sends in `ms`, unless a send is already scheduled (`replace`: reschedule it, for a backoff). */
  const schedule = (ms: number, replace?: boolean) => {
    if (replace || !timer) {
      clock._cancel(timer);
      timer = clock._after(() => {
        timer = undefined;
        void flush();
      }, ms);
    }
  };

  const flush = async (beacon?: boolean): Promise<void> => {
    // Events per batch: the collector's limit, halved while a batch refused for its content is narrowed down.
    let cap: number = LIMITS.eventsPerBatch;
    while (ok()) {
      const now = clock._now();
      // Take a batch, oldest first: free entries, at most `cap` events and LIMITS.bodyBytes (at least one event),
      // each leased at once.
      /** The entries taken, by key. */
      const batch = new Map<string, Entry>();
      let bytes = ENVELOPE;
      for (const k of st._keys(prefix)) {
        const json = st._get(k);
        if (!json) continue; // gone since listed (localStorage turned off, memory only)
        const [event, lease, order]: Entry = JSON.parse(json);
        if (lease < now) {
          // The stored entry's size: a few bytes more than the event's.
          bytes += new Blob([json]).size;
          if (batch.size && (batch.size == cap || bytes > LIMITS.bodyBytes)) break;
          const held: Entry = [event, now + LEASE, order];
          save(k, held);
          batch.set(k, held);
        }
      }
      if (!batch.size) return;
      const count = dropped();
      st._set(key, '');
      const answer = await send(
        [...batch.values()].map(([event]) => event),
        count,
        beacon,
      );
      const outcome = verdict(answer.status);
      // Refused for its content: halve the batch until the bad event is alone, then drop it and go on with full
      // batches. Halved, the events go back to the outbox for the next round of this loop, with no backoff.
      const halve = outcome == SPLIT && batch.size > 1;
      if (outcome == SPLIT) cap = halve ? batch.size >> 1 : LIMITS.eventsPerBatch;
      // Settle by key: retried and halved events are freed, the others (sent, dropped) leave the outbox; a tab that
      // sent them meanwhile (its lease expired) removed them, and writing them back only sends them once more. Events
      // handed to a beacon (status 1) stay held for BEACON_HOLD, so the second hide event of one page exit
      // (visibilitychange, then pagehide) does not beacon them again; the next flush sends them, confirmed.
      const free = outcome == RETRY || halve;
      batch.forEach(([event, , order], k) => {
        if (free) save(k, [event, answer.status == 1 ? now + BEACON_HOLD : 0, order]);
        else st._set(k, '');
      });
      // Unless sent: the count goes back, with the events dropped now.
      if (outcome != SENT) drop(count + (free ? 0 : batch.size));
      if (outcome == RETRY) {
        // Exponential backoff (1 s doubling to 60 s, times 0.5–1.5 jitter), or the server's Retry-After in seconds
        // (absent: 0; an HTTP date, or no answer: NaN; both mean the backoff).
        const backoff = Math.min(6e4, 1e3 * 2 ** tries++) * (0.5 + Math.random());
        return schedule(Number(answer.headers?.get('retry-after')) * 1e3 || backoff, true);
      }
      tries = 0;
    }
  };

  return {
    _put: (event) => {
      save(prefix + event.ts + order + event.id, [event, 0, order++]);
      const over = st._keys(prefix).slice(0, -MAX);
      for (const k of over) st._set(k, '');
      drop(over.length);
    },
    _soon: () => schedule(interval),
    _flush: flush,
  };
};
