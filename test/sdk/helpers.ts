/** Test helpers for the SDK (happy-dom): a fake network and small DOM utilities. */
import { vi } from 'vitest';
import type { WireBatch } from '../../collector/core/protocol';
import { clock, type Timer } from '../../sdk/clock';
import type { Entry } from '../../sdk/outbox';

export interface Call {
  url: string;
  body: WireBatch;
  beacon: boolean;
  init?: RequestInit;
}

type Answer = (
  call: Call,
) => number | [status: number, retryAfter?: string] | Promise<number | [number, string?]> | Error;

/**
 * Replaces `fetch` and `navigator.sendBeacon` with recorders. `answer` decides each fetch status (default 202);
 * an `Error` makes fetch reject (network error). `beaconResult` is what sendBeacon returns.
 */
export const fakeNet = () => {
  const calls: Call[] = [];
  const net = {
    calls,
    answer: (() => 202) as Answer,
    beaconResult: true as boolean,
    fetch: vi.fn(async (url: string, init: RequestInit) => {
      const call: Call = { url: String(url), body: JSON.parse(String(init.body)), beacon: false, init };
      calls.push(call);
      const a = await net.answer(call);
      if (a instanceof Error) throw a;
      const [status, retryAfter] = typeof a == 'number' ? [a] : a;
      return {
        status,
        headers: { get: (k: string) => (k.toLowerCase() == 'retry-after' ? (retryAfter ?? null) : null) },
      } as unknown as Response;
    }),
    sendBeacon: vi.fn((url: string, body: string) => {
      if (net.beaconResult) calls.push({ url: String(url), body: JSON.parse(body), beacon: true });
      return net.beaconResult;
    }),
    /** Every event of the site, in the order sent. */
    events: (site?: string) => calls.filter((c) => !site || c.body.site == site).flatMap((c) => c.body.events),
    batches: (site?: string) => calls.filter((c) => !site || c.body.site == site),
  };
  vi.stubGlobal('fetch', net.fetch);
  Object.defineProperty(navigator, 'sendBeacon', { value: net.sendBeacon, configurable: true, writable: true });
  return net;
};

/** Makes `document.hidden` answer `hidden` and fires the events a tab switch or a navigation away fires. */
export const setHidden = (hidden: boolean) => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => (hidden ? 'hidden' : 'visible'),
  });
  document.dispatchEvent(new Event('visibilitychange'));
};

/** Sets GPC and DNT (undefined removes the override). */
export const setPrivacy = (gpc?: boolean, dnt?: string) => {
  Object.defineProperty(navigator, 'globalPrivacyControl', { configurable: true, get: () => gpc });
  Object.defineProperty(navigator, 'doNotTrack', { configurable: true, get: () => dnt ?? 'unspecified' });
};

/** A localStorage that throws on every access, like storage disabled in the browser. */
export const throwingStorage = () => {
  const fail = () => {
    throw new DOMException('The operation is insecure.', 'SecurityError');
  };
  vi.stubGlobal('localStorage', { getItem: fail, setItem: fail, removeItem: fail, clear: fail, key: fail, length: 0 });
};

/** A unique site id per test, so trackers left over from earlier tests (listeners, timers) do not interfere. */
let n = 0;
export const site = () => `site${++n}`;

/** Lets every pending promise callback run (one macrotask turn: no time passes). */
export const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * Puts the outbox on a clock the test moves (sdk/clock.ts): `advance(ms)` runs the timers that fall due, in order,
 * letting promises settle after each, so a test steps through batching delays, backoffs and leases without waiting.
 * `restore()` puts the page's clock back.
 */
export const useTestClock = (start = 1_700_000_000_000) => {
  const real = { ...clock };
  const timers = new Map<Timer, { at: number; f: () => void }>();
  let now = start;
  clock._now = () => now;
  clock._after = (f, ms) => {
    // Any unique value will do as a timer here.
    const timer = {} as Timer;
    timers.set(timer, { at: now + Math.max(0, ms), f });
    return timer;
  };
  clock._cancel = (timer) => void (timer && timers.delete(timer));
  /** The timer due first, no later than `end` (timers due at the same time in the order set). */
  const next = (end: number) => {
    let first: [Timer, { at: number; f: () => void }] | undefined;
    for (const t of timers) if (t[1].at <= end && (!first || t[1].at < first[1].at)) first = t;
    return first;
  };
  return {
    now: () => now,
    advance: async (ms: number) => {
      const end = now + ms;
      await settle();
      for (let t = next(end); t; t = next(end)) {
        timers.delete(t[0]);
        now = t[1].at;
        t[1].f();
        await settle();
      }
      now = end;
      await settle();
    },
    restore: () => Object.assign(clock, real),
  };
};

/**
 * The stored outbox `key` (`cjm.o.<site>`): its entries, one localStorage key each (`<key>/<ts><order><id>` → [event, lease, order]),
 * oldest first, and the dropped count (the key itself).
 */
export const storedOutbox = (key: string) => ({
  q: Object.keys(localStorage)
    .filter((k) => k.startsWith(key + '/'))
    .sort()
    .map((k) => JSON.parse(localStorage.getItem(k)!) as Entry),
  d: +(localStorage.getItem(key) ?? 0),
});
