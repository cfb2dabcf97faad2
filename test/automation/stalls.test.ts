/**
 * Stall rules at the fold level, with a fake clock: a stall fires once per entry, is cancelled by progress,
 * superseded and re-armed by a new entry; idle (win-back) and plain-delay (review request) rules; the synthetic
 * event lands in the timeline and the webhook is queued with it.
 */
import { describe, expect, it } from 'vitest';
import { evaluateStalls, judgeStall } from '../../collector/core/automation/stalls';
import type { StalledTrigger } from '../../collector/core/automation/rules';
import { BASE, DAY, MIN, eventAt, newStore, pageAt, rule, send, timelineOf } from './helpers';

const CART: StalledTrigger = {
  type: 'stalled',
  stages: ['cart', 'checkout'],
  notReached: ['post-purchase'],
  after: '30m',
  emit: 'cart_abandoned',
};

const setup = async (trigger: StalledTrigger = CART) => {
  const store = await newStore();
  const r = rule(trigger);
  await store.putRule(r);
  const run = (at: number) => evaluateStalls({ store, now: () => at });
  const synthetic = async (visitor: string) => (await timelineOf(store, visitor)).filter((e) => e.synthetic);
  const deliveries = () => store.listDeliveries('demo', { limit: 100 });
  return { store, r, run, synthetic, deliveries };
};

describe('stalled: entered X, not reached Y within T', () => {
  it('fires once, after T, with a synthetic event in the timeline and one queued webhook', async () => {
    const { store, r, run, synthetic, deliveries } = await setup();
    await send(store, 'v1', [pageAt('/', BASE), pageAt('/cart.html', BASE + MIN)]);
    expect(await run(BASE + 30 * MIN)).toMatchObject({ fired: 0 }); // 29 min after the entry
    expect(await synthetic('v1')).toEqual([]);

    expect(await run(BASE + 31 * MIN)).toMatchObject({ fired: 1 });
    const syn = await synthetic('v1');
    expect(syn).toHaveLength(1);
    expect(syn[0]).toMatchObject({
      type: 'event',
      name: 'cart_abandoned',
      synthetic: true,
      ts: BASE + 31 * MIN,
      props: { rule: r.id },
    });

    const queued = await deliveries();
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ rule: r.id, event: syn[0]!.id, status: 'pending', attempts: 0 });

    // Later passes: nothing more.
    expect(await run(BASE + 2 * DAY)).toMatchObject({ fired: 0 });
    expect(await synthetic('v1')).toHaveLength(1);
    expect(await deliveries()).toHaveLength(1);

    // The journey stays consistent: still in cart, the synthetic event counted once.
    const key = (await store.getLinks('demo', ['v1'])).get('v1')!.journey;
    const j = (await store.getJourneys('demo', [key])).get(key)!.journey;
    expect(j.current).toBe('cart');
    expect(j.events).toBe(3);
  });

  it('never fires when the visitor reaches Y before T (and moving on within X is the same stay)', async () => {
    const { store, run, synthetic, deliveries } = await setup();
    await send(store, 'v2', [pageAt('/cart.html', BASE), pageAt('/checkout.html', BASE + 5 * MIN)]);
    await send(store, 'v2', [pageAt('/thank-you.html', BASE + 20 * MIN)]);
    expect(await run(BASE + 40 * MIN)).toMatchObject({ fired: 0, progressed: 1 });
    expect(await run(BASE + 5 * DAY)).toMatchObject({ fired: 0 });
    expect(await synthetic('v2')).toEqual([]);
    expect(await deliveries()).toEqual([]);
  });

  it('reaching Y after T does not undo a stall that was due (a late pass still fires it)', async () => {
    const { store, run, synthetic } = await setup();
    await send(store, 'v3', [pageAt('/cart.html', BASE)]);
    await send(store, 'v3', [pageAt('/thank-you.html', BASE + 45 * MIN)]);
    expect(await run(BASE + 50 * MIN)).toMatchObject({ fired: 1 });
    expect((await synthetic('v3')).map((e) => e.ts)).toEqual([BASE + 30 * MIN]);
  });

  it('a new entry into X re-arms it: one firing per entry', async () => {
    const { store, run, synthetic, deliveries } = await setup();
    await send(store, 'v4', [pageAt('/cart.html', BASE)]);
    expect(await run(BASE + 31 * MIN)).toMatchObject({ fired: 1 });
    // Leaves X (signup) and comes back to the cart: a new entry.
    await send(store, 'v4', [pageAt('/signup.html', BASE + 40 * MIN), pageAt('/cart.html', BASE + 41 * MIN)]);
    expect(await run(BASE + 60 * MIN)).toMatchObject({ fired: 0 });
    expect(await run(BASE + 72 * MIN)).toMatchObject({ fired: 1 });
    expect(await run(BASE + 3 * DAY)).toMatchObject({ fired: 0 });
    expect((await synthetic('v4')).map((e) => e.ts)).toEqual([BASE + 30 * MIN, BASE + 71 * MIN]);
    expect(await deliveries()).toHaveLength(2);
  });

  it('a new entry before T supersedes the armed one: the timer restarts, it fires once', async () => {
    const { store, run, synthetic } = await setup();
    await send(store, 'v5', [
      pageAt('/cart.html', BASE),
      pageAt('/signup.html', BASE + 5 * MIN),
      pageAt('/cart.html', BASE + 10 * MIN),
    ]);
    expect(await run(BASE + 31 * MIN)).toMatchObject({ fired: 0, superseded: 1 });
    expect(await run(BASE + 41 * MIN)).toMatchObject({ fired: 1 });
    expect((await synthetic('v5')).map((e) => e.ts)).toEqual([BASE + 40 * MIN]);
  });

  it('fires once even when the same events arrive again and the pass runs twice at the same time', async () => {
    const { store, run, synthetic, deliveries } = await setup();
    const events = [pageAt('/cart.html', BASE)];
    await send(store, 'v6', events);
    await send(store, 'v6', events); // a retry of the tag: duplicates
    const [a, b] = await Promise.all([run(BASE + 31 * MIN), run(BASE + 31 * MIN)]);
    expect(a.fired + b.fired).toBeGreaterThanOrEqual(1);
    expect(await synthetic('v6')).toHaveLength(1);
    expect(await deliveries()).toHaveLength(1);
  });

  it('follows the visitor into a merged (identified) journey', async () => {
    const { store, run, synthetic, deliveries } = await setup();
    await send(store, 'v7', [pageAt('/cart.html', BASE)]);
    await send(store, 'v7', [{ id: 'id7', type: 'identify', ts: BASE + MIN, userId: 'ada' }]);
    expect(await run(BASE + 31 * MIN)).toMatchObject({ fired: 1 });
    expect(await synthetic('v7')).toHaveLength(1);
    const [d] = await deliveries();
    expect(JSON.parse((await store.claimDeliveries(BASE + 32 * MIN, 60_000, 10))[0]!.body)).toMatchObject({
      deliveryId: d!.id,
      visitor: { id: 'v7', journey: 'u:ada', userId: 'ada' },
    });
  });

  it('a disabled or deleted rule never fires', async () => {
    const { store, r, run, synthetic } = await setup();
    await send(store, 'v8', [pageAt('/cart.html', BASE)]);
    await store.putRule({ ...r, enabled: false });
    expect(await run(BASE + 31 * MIN)).toMatchObject({ fired: 0, cancelled: 1 });
    expect(await synthetic('v8')).toEqual([]);
  });

  it('a longer T set on the rule later moves the armed stalls', async () => {
    const { store, r, run, synthetic } = await setup();
    await send(store, 'v9', [pageAt('/cart.html', BASE)]);
    await store.putRule({ ...r, trigger: { ...CART, after: '2h' } });
    expect(await run(BASE + 31 * MIN)).toMatchObject({ fired: 0 });
    expect(await run(BASE + 121 * MIN)).toMatchObject({ fired: 1 });
    expect((await synthetic('v9')).map((e) => e.ts)).toEqual([BASE + 120 * MIN]);
  });
});

describe('stalled: idle (win-back) and plain delay (review request)', () => {
  it('win-back: fires 60 days after the last activity following post-purchase', async () => {
    const { store, run, synthetic } = await setup({
      type: 'stalled',
      stages: ['post-purchase'],
      after: '60d',
      idle: true,
      emit: 'win_back',
    });
    await send(store, 'w1', [pageAt('/thank-you.html', BASE)]);
    await send(store, 'w1', [pageAt('/', BASE + 10 * DAY)]); // came back once
    expect(await run(BASE + 61 * DAY)).toMatchObject({ fired: 0, rescheduled: 1 });
    expect(await run(BASE + 69 * DAY)).toMatchObject({ fired: 0, rescheduled: 0 }); // not due yet: not even read
    expect(await run(BASE + 70 * DAY + 1)).toMatchObject({ fired: 1 });
    expect((await synthetic('w1')).map((e) => [e.name, e.ts])).toEqual([['win_back', BASE + 70 * DAY]]);
  });

  it('review request: fires 3 days after entering post-purchase, whatever the visitor did since', async () => {
    const { store, run, synthetic } = await setup({
      type: 'stalled',
      stages: ['post-purchase'],
      after: '3d',
      emit: 'review_request',
    });
    await send(store, 'w2', [pageAt('/thank-you.html', BASE), pageAt('/', BASE + DAY)]);
    expect(await run(BASE + 3 * DAY - 1)).toMatchObject({ fired: 0 });
    expect(await run(BASE + 3 * DAY)).toMatchObject({ fired: 1 });
    expect((await synthetic('w2')).map((e) => e.name)).toEqual(['review_request']);
  });
});

describe('judgeStall (pure)', () => {
  const entries = [
    { stage: 'landing', from: null, at: 0, event: 'a' },
    { stage: 'cart', from: 'landing', at: 10, event: 'b' },
    { stage: 'checkout', from: 'cart', at: 20, event: 'c' },
  ];
  const t: StalledTrigger = { ...CART, after: '1s' };
  it('waits, fires at the deadline, and is cancelled when its entry is gone', () => {
    expect(judgeStall({ entryEvent: 'b' }, t, { entries, lastSeen: 20 }, 500)).toEqual({
      status: 'armed',
      dueAt: 1010,
    });
    expect(judgeStall({ entryEvent: 'b' }, t, { entries, lastSeen: 20 }, 1010)).toEqual({ status: 'fired', at: 1010 });
    expect(judgeStall({ entryEvent: 'zz' }, t, { entries, lastSeen: 20 }, 1010)).toMatchObject({ status: 'cancelled' });
    const bought = [...entries, { stage: 'post-purchase', from: 'checkout', at: 1000, event: 'd' }];
    expect(judgeStall({ entryEvent: 'b' }, t, { entries: bought, lastSeen: 1000 }, 2000)).toMatchObject({
      status: 'progressed',
    });
  });
});

it('event rules fire on the synthetic event too (a site may listen for cart_abandoned)', async () => {
  const { store, run } = await setup();
  const listener = rule({ type: 'event', event: 'cart_abandoned' });
  await store.putRule(listener);
  await send(store, 'v10', [pageAt('/cart.html', BASE), eventAt('add_to_cart', BASE + 1)]);
  await run(BASE + 31 * MIN);
  expect((await store.listDeliveries('demo', { rule: listener.id, limit: 10 })).length).toBe(1);
});
