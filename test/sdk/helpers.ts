/** Test helpers for the SDK (happy-dom): a fake network and small DOM utilities. */
import { vi } from 'vitest';
import type { WireBatch, WireEvent } from '../../collector/core/protocol';

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

/** Lets pending promise callbacks (and fake-timer-free awaits) run. */
export const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * The stored outbox `key` (`cjm.o.<site>`): its entries, one localStorage key each (`<key>/<ts><order><id>` → [event, lease, order]),
 * oldest first, and the dropped count (the key itself).
 */
export const storedOutbox = (key: string) => ({
  q: Object.keys(localStorage)
    .filter((k) => k.startsWith(key + '/'))
    .sort()
    .map((k) => JSON.parse(localStorage.getItem(k)!) as [WireEvent, number, number]),
  d: +(localStorage.getItem(key) ?? 0),
});
