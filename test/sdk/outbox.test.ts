// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { LIMITS, type WireEvent } from '../../collector/core/protocol';
import { clock } from '../../sdk/clock';
import { store, uid, type Store } from '../../sdk/context';
import { LEASE, MAX, outbox, type Send } from '../../sdk/outbox';
import type { Answer } from '../../sdk/transport';
import { storedOutbox, useTestClock } from './helpers';

const KEY = 'cjm.o.test';
const ev = (i: number, extra: Partial<WireEvent> = {}): WireEvent => ({
  id: `e${i}-${uid()}`,
  type: 'event',
  ts: Date.now(),
  name: `n${i}`,
  ...extra,
});

interface Sent {
  events: WireEvent[];
  dropped: number;
  beacon: unknown;
}

/**
 * Two tabs over one localStorage, as Chromium runs them (one renderer process each): a tab reads and writes its own
 * copy at once, and the other tab's copy gets each write `lag` ms later (on the test clock).
 */
const tabs = (lag: number): Store[] => {
  const copies = [new Map<string, string>(), new Map<string, string>()];
  return copies.map((mine, i) => ({
    _get: (k) => mine.get(k) ?? null,
    _set: (k, v) => {
      const write = (m: Map<string, string>) => (v ? m.set(k, v) : m.delete(k));
      write(mine);
      clock._after(() => write(copies[1 - i]!), lag);
      return v;
    },
    _keys: (p) => [...mine.keys()].filter((k) => k.startsWith(p)).sort(),
  }));
};

/** The collector's answer: a status, with a Retry-After header when `retryAfter` is given. */
const answer = (status: number, retryAfter?: string): Answer => ({
  status,
  headers: { get: (name) => (name == 'retry-after' ? (retryAfter ?? null) : null) },
});

/** A send that records batches and answers with `status()` (and Retry-After `retry`, in seconds). */
const recorder = (status: () => number = () => 202, retry?: string) => {
  const sent: Sent[] = [];
  const send = vi.fn<Send>(async (events, dropped, beacon) => {
    sent.push({ events, dropped, beacon });
    return answer(status(), retry);
  });
  return { sent, send, ids: () => sent.flatMap((b) => b.events.map((e) => e.id)) };
};

const stored = () => storedOutbox(KEY);

let time: ReturnType<typeof useTestClock>;
beforeEach(() => {
  localStorage.clear();
  time = useTestClock();
});
afterEach(() => {
  time.restore();
});

describe('outbox', () => {
  test('persists events with their id and ts, and sends them in one batch after the interval', async () => {
    const r = recorder();
    const { _put: put, _soon: soon } = outbox(store(true), KEY, r.send, () => true, 1000);
    const a = ev(1),
      b = ev(2);
    put(a);
    soon();
    put(b);
    soon();
    expect(stored().q.map((x) => x[0])).toEqual([a, b]);
    await time.advance(999);
    expect(r.send).not.toHaveBeenCalled();
    await time.advance(1);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.events).toEqual([a, b]);
    expect(r.sent[0]!.dropped).toBe(0);
    expect(stored().q).toEqual([]);
  });

  test('keeps ids and timestamps through every retry, with exponential backoff', async () => {
    let status = 503;
    const r = recorder(() => status);
    const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true, 1000);
    const a = ev(1);
    put(a);
    await flush();
    expect(r.sent).toHaveLength(1);
    expect(stored().q[0]![1]).toBe(0); // freed for the retry
    // 1st retry after 1 s × jitter (0.5–1.5), 2nd after 2 s × jitter, …
    const gaps: number[] = [];
    let last = time.now();
    for (let i = 0; i < 4; i++) {
      const before = r.sent.length;
      while (r.sent.length == before) await time.advance(10);
      gaps.push(time.now() - last);
      last = time.now();
    }
    gaps.forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(1000 * 2 ** i * 0.5 - 10);
      expect(g).toBeLessThanOrEqual(1000 * 2 ** i * 1.5 + 10);
    });
    status = 202;
    while (r.sent.length == 5) await time.advance(100);
    expect(r.sent.every((b) => b.events.length == 1 && b.events[0]!.id == a.id && b.events[0]!.ts == a.ts)).toBe(true);
    expect(stored().q).toEqual([]);
  });

  test('backoff is capped at 60 s', async () => {
    const r = recorder(() => 500);
    const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
    put(ev(1));
    await flush();
    const times: number[] = [];
    while (r.sent.length < 20) {
      const before = r.sent.length;
      await time.advance(100);
      if (r.sent.length > before) times.push(time.now());
    }
    // From the 8th try on the base is 60 s: gaps of 60 s × jitter (0.5–1.5).
    const gaps = times.slice(8).map((t, i) => t - times[i + 7]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(30_000 - 100);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(90_000 + 100);
  });

  test('honours Retry-After (seconds) on 429', async () => {
    let status = 429;
    const r = recorder(() => status, '30');
    const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
    put(ev(1));
    await flush();
    status = 202;
    await time.advance(29_999);
    expect(r.sent).toHaveLength(1);
    await time.advance(1);
    expect(r.sent).toHaveLength(2);
  });

  test('a Retry-After that is not a number of seconds (an HTTP date) means the backoff', async () => {
    let status = 503;
    const r = recorder(() => status, 'Wed, 21 Oct 2015 07:28:00 GMT');
    const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
    put(ev(1));
    await flush();
    status = 202;
    await time.advance(499);
    expect(r.sent).toHaveLength(1);
    await time.advance(1001); // the first backoff: 1 s × 0.5–1.5
    expect(r.sent).toHaveLength(2);
  });

  test('events pushed during a backoff wait for it (no hammering of a failing collector)', async () => {
    const r = recorder(() => 503);
    const { _put: put, _soon: soon, _flush: flush } = outbox(store(true), KEY, r.send, () => true, 100);
    put(ev(1));
    await flush();
    for (let i = 0; i < 5; i++) {
      put(ev(i + 2));
      soon();
    }
    await time.advance(400);
    expect(r.sent).toHaveLength(1);
  });

  test('is bounded at 500 events: the oldest are dropped and reported once as `dropped`', async () => {
    const r = recorder();
    const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
    const all = Array.from({ length: MAX + 20 }, (_, i) => ev(i));
    all.forEach((e) => put(e));
    expect(stored().q).toHaveLength(MAX);
    expect(stored().d).toBe(20);
    await flush();
    expect(r.ids()).toEqual(all.slice(20).map((e) => e.id));
    expect(r.sent[0]!.dropped).toBe(20);
    expect(r.sent.slice(1).every((b) => b.dropped == 0)).toBe(true);
    expect(stored().d).toBe(0);
    put(ev(999));
    await flush();
    expect(r.sent.at(-1)!.dropped).toBe(0);
  });

  test('a batch that failed with a retryable error keeps its dropped count for the next try', async () => {
    let status = 503;
    const r = recorder(() => status);
    const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
    for (let i = 0; i < MAX + 3; i++) put(ev(i));
    await flush();
    expect(r.sent[0]!.dropped).toBe(3);
    expect(stored().d).toBe(3);
    status = 202;
    await flush();
    expect(r.sent[1]!.dropped).toBe(3);
    expect(stored().d).toBe(0);
  });

  test.each([400, 401, 403, 404, 410, 413, 422])(
    '%i: a batch of one is dropped and counted, not retried',
    async (status) => {
      let s = status;
      const r = recorder(() => s);
      const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
      put(ev(1));
      await flush();
      expect(stored()).toEqual({ q: [], d: 1 });
      await time.advance(120_000);
      expect(r.sent).toHaveLength(1);
      s = 202;
      put(ev(3));
      await flush();
      expect(r.sent[1]!.dropped).toBe(1);
      expect(stored().d).toBe(0);
    },
  );

  test.each([401, 403, 404, 410])(
    '%i: a whole batch is dropped at once (the site, not an event, is refused)',
    async (status) => {
      const r = recorder(() => status);
      const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
      for (let i = 0; i < 10; i++) put(ev(i));
      await flush();
      expect(r.sent).toHaveLength(1);
      expect(stored()).toEqual({ q: [], d: 10 });
    },
  );

  test.each([400, 413, 422])(
    '%i: the batch is halved until the bad event is alone; the others are delivered',
    async (status) => {
      const bad = ev(7, { name: '' });
      const good = Array.from({ length: 20 }, (_, i) => ev(i));
      const r = recorder();
      r.send.mockImplementation(async (events, dropped, beacon) => {
        r.sent.push({ events, dropped, beacon });
        return answer(events.some((e) => e.id == bad.id) ? status : 202);
      });
      const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
      good.slice(0, 7).forEach((e) => put(e));
      put(bad);
      good.slice(7).forEach((e) => put(e));
      await flush();
      const delivered = r.sent
        .filter((b) => !b.events.some((e) => e.id == bad.id))
        .flatMap((b) => b.events.map((e) => e.id));
      expect(delivered.sort()).toEqual(good.map((e) => e.id).sort());
      expect(r.sent.length).toBeLessThanOrEqual(12);
      expect(stored().q).toEqual([]);
      // The drop is reported with the next batch (here within the same flush), and only once.
      expect(r.sent.map((b) => b.dropped).filter(Boolean)).toEqual([1]);
    },
  );

  test.each([0, 408, 429, 500, 502, 503, 504])('%i: the batch is retried', async (status) => {
    let s = status;
    const r = recorder(() => s);
    const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
    const a = ev(1);
    put(a);
    await flush();
    s = 202;
    await time.advance(2000);
    expect(r.sent).toHaveLength(2);
    expect(r.sent[1]!.events[0]!.id).toBe(a.id);
    expect(stored()).toEqual({ q: [], d: 0 });
  });

  test('removes acknowledged events by id, keeping what another tab changed meanwhile', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sent: WireEvent[][] = [];
    const send: Send = async (events) => {
      sent.push(events);
      await gate;
      return answer(202);
    };
    const { _put: put, _flush: flush } = outbox(store(true), KEY, send, () => true);
    const a = ev(1),
      b = ev(2);
    put(a);
    put(b);
    const done = flush();
    await time.advance(0);
    // Meanwhile another tab drops `a` (say its own bound) and adds `c` (an older ts: at the front) and `d`.
    const c = ev(3, { ts: a.ts - 1 }),
      d = ev(4);
    localStorage.removeItem(Object.keys(localStorage).find((k) => k.endsWith(a.id))!);
    localStorage.setItem(`${KEY}/${c.ts}2000000${c.id}`, JSON.stringify([c, 0, 2e6]));
    localStorage.setItem(`${KEY}/${d.ts}2000001${d.id}`, JSON.stringify([d, 0, 2000001]));
    expect(stored().q.map((x) => x[0].id)).toEqual([c.id, b.id, d.id]);
    release();
    await done;
    expect(sent[0]!.map((e) => e.id)).toEqual([a.id, b.id]);
    // b was acknowledged; c and d were not sent by this flush's first batch but by the next one.
    expect(sent[1]!.map((e) => e.id)).toEqual([c.id, d.id]);
    expect(stored().q).toEqual([]);
  });

  test('two outboxes sharing storage (two tabs) send each event once', async () => {
    const sent: string[] = [];
    const gates: (() => void)[] = [];
    const send: Send = (events) =>
      new Promise((resolve) => {
        sent.push(...events.map((e) => e.id));
        gates.push(() => resolve(answer(202)));
      });
    const tab1 = outbox(store(true), KEY, send, () => true);
    const tab2 = outbox(store(true), KEY, send, () => true);
    const evs = [ev(1), ev(2), ev(3)];
    tab1._put(evs[0]!);
    tab2._put(evs[1]!);
    tab1._put(evs[2]!);
    const f1 = tab1._flush(),
      f2 = tab2._flush();
    await time.advance(0);
    // tab1 leased all three; tab2 found nothing free.
    expect(sent).toEqual(evs.map((e) => e.id));
    gates.forEach((g) => g());
    await Promise.all([f1, f2]);
    expect(sent).toHaveLength(3);
    expect(stored().q).toEqual([]);
  });

  test('two tabs tracking at the same moment, each writing over a stale copy of the other: no event lost', async () => {
    const [st1, st2] = tabs(5);
    const sent = new Set<string>();
    const send: Send = async (events) => {
      events.forEach((e) => sent.add(e.id));
      return answer(202);
    };
    const a = outbox(st1!, KEY, send, () => true, 20);
    const b = outbox(st2!, KEY, send, () => true, 20);
    const all: WireEvent[] = [];
    // 30 events per tab, interleaved 1 ms apart (less than the lag), each tab flushing as the tag does.
    for (let i = 0; i < 30; i++) {
      for (const { _put: put, _soon: soon } of [a, b]) {
        const e = ev(all.length);
        all.push(e);
        put(e);
        soon();
      }
      await time.advance(1);
    }
    await time.advance(LEASE * 3);
    await Promise.all([a._flush(), b._flush()]);
    expect(all.filter((e) => !sent.has(e.id)).map((e) => e.name)).toEqual([]);
    // Both copies end empty: nothing is left to send twice more.
    expect(st1!._keys(KEY + '/')).toEqual([]);
    expect(st2!._keys(KEY + '/')).toEqual([]);
  });

  test('a lease expires: events of a send that never answered (tab closed) are sent again', async () => {
    const sent: string[] = [];
    const hang: Send = (events) => {
      sent.push(...events.map((e) => e.id));
      return new Promise(() => {});
    };
    const { _put: put, _flush: flush1 } = outbox(store(true), KEY, hang, () => true);
    const a = ev(1);
    put(a);
    void flush1();
    await time.advance(0);
    const r = recorder();
    const { _flush: flush2 } = outbox(store(true), KEY, r.send, () => true);
    await flush2();
    expect(r.sent).toHaveLength(0); // still leased
    await time.advance(LEASE + 1);
    await flush2();
    expect(r.ids()).toEqual([a.id]);
  });

  test('a second flush in the same tab does not resend events in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sent: string[][] = [];
    const send: Send = async (events) => {
      sent.push(events.map((e) => e.id));
      await gate;
      return answer(202);
    };
    const { _put: put, _flush: flush } = outbox(store(true), KEY, send, () => true);
    put(ev(1));
    const f1 = flush();
    await time.advance(0);
    const b = ev(2);
    put(b);
    const f2 = flush(true);
    await time.advance(0);
    expect(sent).toEqual([[expect.any(String)], [b.id]]);
    release();
    await Promise.all([f1, f2]);
  });

  test('splits batches at 100 events and 64 KB', async () => {
    const r = recorder();
    const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
    for (let i = 0; i < 250; i++) put(ev(i));
    await flush();
    expect(r.sent.map((b) => b.events.length)).toEqual([LIMITS.eventsPerBatch, LIMITS.eventsPerBatch, 50]);
    localStorage.clear();
    const r2 = recorder();
    const { _put: put2, _flush: flush2 } = outbox(store(true), KEY, r2.send, () => true);
    const big = 'é'.repeat(4000); // 8,000 bytes of UTF-8 per event
    for (let i = 0; i < 20; i++) put2(ev(i, { props: { big } }));
    await flush2();
    expect(r2.sent.length).toBeGreaterThan(2);
    for (const b of r2.sent) {
      const body = JSON.stringify({
        site: 'x'.repeat(64),
        visitor: uid(),
        sent: Date.now(),
        dropped: 500,
        events: b.events,
      });
      expect(new Blob([body]).size).toBeLessThanOrEqual(LIMITS.bodyBytes);
    }
    expect(r2.sent.flatMap((b) => b.events)).toHaveLength(20);
  });

  test('an event larger than a body is still sent alone (the collector answers 413: dropped and counted)', async () => {
    const r = recorder(() => 413);
    const { _put: put, _flush: flush } = outbox(store(true), KEY, r.send, () => true);
    put(ev(1, { props: { big: 'x'.repeat(70_000) } }));
    put(ev(2));
    await flush();
    expect(r.sent.map((b) => b.events.length)).toEqual([1, 1]);
    expect(stored().d).toBe(2); // this recorder refuses everything with 413
  });

  test('sends nothing and writes nothing while not allowed', async () => {
    const r = recorder();
    let ok = false;
    const { _soon: soon, _flush: flush } = outbox(store(true), KEY, r.send, () => ok);
    soon();
    await flush();
    await time.advance(5000);
    expect(localStorage.length).toBe(0);
    expect(r.send).not.toHaveBeenCalled();
    ok = true;
  });

  test('what a previous page left unsent is sent by the next one', async () => {
    const failing = recorder(() => 0);
    const { _put: put, _flush: flush } = outbox(store(true), KEY, failing.send, () => true);
    const a = ev(1);
    put(a);
    await flush();
    // A new page load: a new outbox over the same storage.
    const r = recorder();
    const { _soon: soon } = outbox(store(true), KEY, r.send, () => true, 1000);
    soon();
    await time.advance(1000);
    expect(r.ids()).toEqual([a.id]);
  });

  test('in memory, sent events leave no trace that counts against the bound (nothing is reported dropped)', async () => {
    const r = recorder();
    const { _put: put, _flush: flush } = outbox(store(false), KEY, r.send, () => true);
    for (let i = 0; i < MAX + 100; i++) {
      put(ev(i));
      await flush();
    }
    expect(r.sent).toHaveLength(MAX + 100);
    expect(r.sent.every((b) => b.dropped == 0)).toBe(true);
  });

  test('works in memory (storage none, or localStorage throwing) and never rejects on garbage', async () => {
    const r = recorder();
    const { _put: put, _flush: flush } = outbox(store(false), KEY, r.send, () => true);
    put(ev(1));
    await flush();
    expect(r.sent).toHaveLength(1);
    expect(localStorage.length).toBe(0);
    localStorage.setItem(KEY, '{"q":1,"d":"x"}');
    const { _put: put2, _flush: flush2 } = outbox(store(true), KEY, r.send, () => true);
    await expect(flush2()).resolves.toBeUndefined();
    put2(ev(2));
    await expect(flush2()).resolves.toBeUndefined();
    expect(r.sent).toHaveLength(2);
  });
});
