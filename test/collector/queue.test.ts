/**
 * The ingest queue's producer and consumer (core/queue.ts) without workerd: the app with `queueIngester` over a
 * queue that keeps what it is sent, and `consumeIngest` over those messages on the same SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../collector/core/errors';
import { ingestBatch, type Ingester, type IngestEvent } from '../../collector/core/ingest';
import {
  consumeIngest,
  QUEUE_LIMITS,
  queueIngester,
  retryDelay,
  toMessages,
  type DeliveredMessage,
  type IngestMessage,
  type IngestQueue,
} from '../../collector/core/queue';
import { createQuota } from '../../collector/core/quota';
import { ConflictError, StoreFullError, StoreUnavailableError } from '../../collector/core/store';
import { makeApp, page, T0 } from '../helpers';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const ADDRESS = '203.0.113.7';
const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)).byteLength;

/** A queue that keeps every message (and each sendBatch call), or refuses when told to. */
const memoryQueue = () => {
  const calls: IngestMessage[][] = [];
  const q = {
    refuse: false,
    calls,
    get messages() {
      return calls.flat();
    },
    sendBatch: async (messages: Iterable<{ body: IngestMessage; contentType?: 'json' }>) => {
      if (q.refuse) throw new Error('queue unavailable');
      // What the queue hands the consumer: the JSON of what was sent.
      calls.push([...messages].map((m) => JSON.parse(JSON.stringify(m.body)) as IngestMessage));
    },
  } satisfies IngestQueue & Record<string, unknown>;
  return q;
};
const delivered = (bodies: readonly unknown[], attempts = 1): DeliveredMessage[] =>
  bodies.map((body) => ({ body, attempts }));

const setup = async () => {
  const queue = memoryQueue();
  const t = await makeApp(undefined, {
    ingester: () => queueIngester(queue),
    clientIp: () => ADDRESS,
    rateLimit: false,
  });
  const collect = (body: unknown) => t.collect(body, { headers: { 'Content-Type': 'text/plain', 'User-Agent': UA } });
  const timeline = async (visitor: string) => {
    const res = await t.api(`/api/sites/demo/visitors/${visitor}`);
    return res.status === 200
      ? ((await res.json()) as { timeline: Array<{ id: string }> }).timeline.map((e) => e.id)
      : [];
  };
  return { ...t, queue, collect, timeline };
};

describe('the ingest queue', () => {
  it('answers 202 queued without storing; the consumer stores it, and a redelivery adds nothing', async () => {
    const t = await setup();
    const events = [page('/'), page('/cart')];
    const res = await t.collect({ site: 'demo', visitor: 'v1', events, dropped: 2 });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2, duplicates: 0, queued: true });
    expect(await t.timeline('v1')).toEqual([]);
    expect(t.queue.messages).toHaveLength(1);
    const [m] = t.queue.messages;
    expect(m).toMatchObject({ v: 1, site: 'demo', visitor: 'v1', device: 'desktop', dropped: 2 });
    expect(m!.quota).toEqual({ address: ADDRESS });
    expect(m!.events.map((e) => e.id)).toEqual(events.map((e) => e.id));

    const quota = createQuota();
    expect(await consumeIngest(t.store, delivered(t.queue.messages), { quota })).toEqual([{ ack: true }]);
    expect(await t.timeline('v1')).toEqual(events.map((e) => e.id));
    const counters = async () =>
      ((await (await t.api('/api/sites/demo/counters')).json()) as { totals: Record<string, number> }).totals;
    expect(await counters()).toMatchObject({ stored: 2, dropped: 2 });

    // Delivered again (the consumer died after the commit): acknowledged, nothing counted twice.
    expect(await consumeIngest(t.store, delivered(t.queue.messages, 2), { quota })).toEqual([{ ack: true }]);
    // The same message twice in one batch, too.
    expect(await consumeIngest(t.store, delivered([m, m], 3), { quota })).toEqual([{ ack: true }, { ack: true }]);
    expect(await t.timeline('v1')).toEqual(events.map((e) => e.id));
    expect(await counters()).toMatchObject({ stored: 2, dropped: 2 });
  });

  it('answers 503 with Retry-After when the queue refuses, and refuses bad input before queuing', async () => {
    const t = await setup();
    t.queue.refuse = true;
    const res = await t.collect({ site: 'demo', visitor: 'v1', events: [page('/')] });
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('5');
    t.queue.refuse = false;
    const bad = await t.collect({ site: 'demo', visitor: 'v1', events: [{ id: 'x', type: 'nope', ts: T0 }] });
    expect(bad.status).toBe(400);
    expect(t.queue.messages).toEqual([]);
  });

  it('rebuilds the quota in the consumer: the budget of new visitors of the address carried in the message', async () => {
    const t = await setup();
    for (const v of ['n1', 'n2'])
      expect((await t.collect({ site: 'demo', visitor: v, events: [page('/')] })).status).toBe(202);
    // 12 new visitors an hour is a burst of one: the second new visitor of that address is counted, not stored.
    const quota = createQuota({ newVisitorsPerHour: 12 });
    const decisions = await consumeIngest(t.store, delivered(t.queue.messages), { quota });
    expect(decisions).toEqual([{ ack: true }, { ack: true }]);
    expect((await t.timeline('n1')).length).toBe(1);
    expect(await t.timeline('n2')).toEqual([]);
    const totals = ((await (await t.api('/api/sites/demo/counters')).json()) as { totals: Record<string, number> })
      .totals;
    expect(totals.tooManyVisitors).toBe(1);
  });

  it('splits a request over a message’s 128 KB and groups sends by 100 messages and 256 KB', async () => {
    const t = await setup();
    const site = (await t.store.getSite('demo'))!;
    const events: IngestEvent[] = Array.from({ length: 400 }, (_, i) => ({
      ...page(`/p${i}`),
      title: 'x'.repeat(900),
    }));
    const parts = toMessages({ site, visitor: 'big', events, receivedAt: T0, options: { dropped: 3, tooOld: 1 } });
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(bytes(p.body)).toBeLessThanOrEqual(QUEUE_LIMITS.messageBytes - 1024);
      expect(p.bytes).toBeGreaterThanOrEqual(bytes(p.body));
    }
    expect(parts.flatMap((p) => p.body.events.map((e) => e.id))).toEqual(events.map((e) => e.id));
    expect(parts.map((p) => [p.body.dropped, p.body.tooOld])).toEqual(
      parts.map((_, i) => (i === 0 ? [3, 1] : [undefined, undefined])),
    );

    const queue = memoryQueue();
    const small = Array.from({ length: 150 }, (_, i) => ({
      site,
      visitor: `s${i}`,
      events: [page('/')],
      receivedAt: T0,
    }));
    const outcomes = await queueIngester(queue)(t.store, [...small, { site, visitor: 'big', events, receivedAt: T0 }]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    for (const call of queue.calls) {
      expect(call.length).toBeLessThanOrEqual(QUEUE_LIMITS.batchMessages);
      expect(call.reduce((n, m) => n + bytes(m), 0)).toBeLessThanOrEqual(QUEUE_LIMITS.batchBytes);
    }
    expect(queue.messages).toHaveLength(150 + parts.length);

    // Stored from its parts, in any order: one journey with every event.
    const decisions = await consumeIngest(t.store, delivered([...queue.messages].reverse()));
    expect(decisions.every((d) => d.ack && !d.error)).toBe(true);
    expect(await t.timeline('big')).toEqual(events.map((e) => e.id));
  });

  it('retries what may succeed later, acknowledges (and reports) what never can', async () => {
    const t = await setup();
    for (const v of ['a', 'b', 'c', 'd', 'e']) await t.collect({ site: 'demo', visitor: v, events: [page('/')] });
    const bodies: unknown[] = [...t.queue.messages, { nope: true }, { ...t.queue.messages[0]!, site: 'gone' }];
    const errors = [
      new StoreUnavailableError('[cjm] D1 is overloaded', 5),
      new ConflictError('lost the race'),
      new StoreFullError('[cjm] full'),
      new InputError(400, '[cjm] visitor ids starting with "u:" are reserved', 'visitor'),
    ];
    const failing: Ingester = async (store, requests) => {
      const real = await ingestBatch(store, requests.slice(4));
      return [...errors.map((error) => ({ ok: false as const, error })), ...real];
    };
    const decisions = await consumeIngest(t.store, delivered(bodies, 3), { ingester: failing });
    expect(decisions.map((d) => (d.ack ? 'ack' : `retry ${d.delaySeconds}`))).toEqual([
      'retry 8',
      'retry 8',
      'retry 8',
      'ack',
      'ack',
      'ack',
      'ack',
    ]);
    expect(decisions[3]!.error).toBe(errors[3]);
    expect(decisions[4]!.error).toBeUndefined();
    expect((decisions[5]!.error as InputError).message).toMatch(/not an ingest message/);
    expect((decisions[6]!.error as InputError).message).toMatch(/unknown site "gone"/);
    expect(await t.timeline('e')).toHaveLength(1);

    // An ingest that throws as a whole (the commit failed): every message is retried.
    const broken: Ingester = async () => {
      throw new StoreUnavailableError('[cjm] D1 is down');
    };
    const all = await consumeIngest(t.store, delivered(t.queue.messages, 1), { ingester: broken });
    expect(all.map((d) => d.ack)).toEqual([false, false, false, false, false]);
    expect([1, 2, 8, 9, 20].map(retryDelay)).toEqual([2, 4, 256, 300, 300]);
  });
});
