/**
 * The delivery queue with a fake clock and a fake receiver: the payload, retries with backoff, giving up after a
 * day, redirects, refused targets after DNS resolution, the timeout and the response cap, the lease that makes a
 * crashed run's delivery come back, and exactly-once queueing at ingest (duplicates, refolds, merges).
 */
import { describe, expect, it } from 'vitest';
import { deliverDue, type DeliveryOptions, type FetchLike } from '../../collector/core/automation/deliver';
import { putAutomationSettings } from '../../collector/core/automation/settings';
import type { Store } from '../../collector/core/store';
import { BASE, DAY, MIN, eventAt, newStore, pageAt, rule, send } from './helpers';

interface Call {
  url: string;
  pin?: { addresses: readonly string[] };
  headers: Record<string, string>;
  body: string;
}

const setup = async (
  answers: Array<number | (() => Promise<Response>)> = [200],
  opts: Partial<DeliveryOptions> = {},
) => {
  const store = await newStore();
  const r = rule({ type: 'stage_entered', stage: 'cart' });
  await store.putRule(r);
  const clock = { now: BASE };
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init, pin) => {
    calls.push({ url, pin, headers: init.headers as Record<string, string>, body: init.body as string });
    const a = answers[Math.min(calls.length - 1, answers.length - 1)] as number | (() => Promise<Response>);
    return typeof a === 'number' ? new Response(a === 200 ? 'thanks' : 'boom', { status: a }) : a();
  };
  const resolved: string[] = [];
  const o: DeliveryOptions = {
    store,
    now: () => clock.now,
    fetch,
    resolve: async (host) => {
      resolved.push(host);
      return ['93.184.215.14'];
    },
    random: () => 1,
    ...opts,
  };
  const pass = () => deliverDue(o);
  const list = () => store.listDeliveries('demo', { limit: 100 });
  return { store, r, clock, calls, resolved, pass, list, o };
};

const cart = (store: Store, visitor = 'v1', at = BASE) =>
  send(store, visitor, [pageAt('/', at - 1000), pageAt('/cart.html', at)]);

describe('delivery', () => {
  it('POSTs the signed payload once and logs the attempt', async () => {
    const { store, r, calls, resolved, pass, list } = await setup();
    await cart(store);
    expect(await pass()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect(await pass()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    expect(calls).toHaveLength(1);
    expect(resolved).toEqual(['hooks.example.test']);
    const [d] = await list();
    expect(d).toMatchObject({
      rule: r.id,
      status: 'delivered',
      attempts: 1,
      lastStatus: 200,
      lastError: null,
      doneAt: BASE,
    });
    expect(d!.log).toEqual([{ n: 1, at: BASE, status: 200, error: null, durationMs: 0 }]);

    const c = calls[0]!;
    expect(c.url).toBe('https://hooks.example.test/cjm');
    expect(c.pin).toEqual({ addresses: ['93.184.215.14'] }); // connect to the checked address (DNS rebinding)
    expect(c.headers).toMatchObject({
      'Content-Type': 'application/json',
      'Idempotency-Key': d!.id,
      'X-Cjm-Timestamp': String(BASE / 1000),
    });
    const body = JSON.parse(c.body);
    expect(body).toMatchObject({
      deliveryId: d!.id,
      site: 'demo',
      firedAt: BASE,
      rule: { id: r.id, name: r.name, trigger: { type: 'stage_entered', stage: 'cart' } },
      visitor: { id: 'v1', journey: 'v1', userId: null },
      journey: { key: 'v1', currentStage: 'cart' },
    });
    expect(body.events).toHaveLength(1);
    expect(body.events[0]).toMatchObject({ type: 'page', url: 'https://shop.test/cart.html', ts: BASE });
  });

  it('retries a failing receiver with backoff and delivers exactly once more', async () => {
    const { store, clock, calls, pass, list } = await setup([500, 500, 200]);
    await cart(store);
    expect(await pass()).toMatchObject({ retrying: 1 });
    let [d] = await list();
    expect(d).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastStatus: 500,
      lastError: 'HTTP 500: boom',
      nextAt: BASE + 30_000,
    });
    clock.now = BASE + 29_999;
    expect(await pass()).toMatchObject({ retrying: 0, delivered: 0 }); // not due yet
    clock.now = BASE + 30_000;
    expect(await pass()).toMatchObject({ retrying: 1 });
    [d] = await list();
    expect(d!.nextAt).toBe(BASE + 30_000 + 60_000); // doubled
    clock.now = d!.nextAt;
    expect(await pass()).toMatchObject({ delivered: 1 });
    clock.now += DAY;
    expect(await pass()).toMatchObject({ delivered: 0, retrying: 0 });
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.body)).size).toBe(1); // the same bytes every time
    expect(new Set(calls.map((c) => c.headers['Idempotency-Key'])).size).toBe(1);
    [d] = await list();
    expect(d!.log.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(d!.status).toBe('delivered');
  });

  it('gives up after a day of failures, with jittered delays capped at an hour', async () => {
    let i = 0;
    const randoms = [0, 0.5, 1];
    const { store, clock, calls, pass, list } = await setup([503], { random: () => randoms[i++ % 3] as number });
    await cart(store);
    for (let n = 0; n < 100; n++) {
      const r = await pass();
      if (r.failed) break;
      const [d] = await list();
      clock.now = d!.nextAt;
    }
    const [d] = await list();
    expect(d!.status).toBe('failed');
    const times = d!.log.map((a) => a.at);
    expect(times.at(-1)! - BASE).toBeLessThanOrEqual(DAY);
    expect(times.at(-1)! - BASE).toBeGreaterThan(DAY - 3_600_000);
    const gaps = times.slice(1).map((t, k) => t - times[k]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3_600_000);
    expect(gaps[0]).toBe(15_000); // 30 s with jitter 0 → half
    expect(gaps[1]).toBe(45_000); // 60 s with jitter 0.5 → three quarters
    expect(calls.length).toBe(d!.attempts);
    expect(calls.length).toBeGreaterThan(20);
    expect(calls.length).toBeLessThan(60);
  });

  it('does not follow redirects', async () => {
    const { store, calls, pass, list } = await setup([
      () => Promise.resolve(new Response(null, { status: 302, headers: { Location: 'http://169.254.169.254/' } })),
    ]);
    await cart(store);
    expect(await pass()).toMatchObject({ retrying: 1 });
    const [d] = await list();
    expect(d!.lastStatus).toBe(302);
    expect(d!.lastError).toMatch(/redirect \(302 to http:\/\/169\.254\.169\.254\/\); redirects are not followed/);
    expect(calls).toHaveLength(1);
  });

  it('refuses a hostname that resolves to a private address, at once and with a clear error', async () => {
    const { store, calls, pass, list, o } = await setup();
    o.resolve = async () => ['93.184.215.14', '127.0.0.1'];
    await cart(store);
    expect(await pass()).toMatchObject({ failed: 1 });
    const [d] = await list();
    expect(d!.status).toBe('failed');
    expect(d!.lastError).toMatch(/hooks\.example\.test \(127\.0\.0\.1\) is not a public address \(loopback\)/);
    expect(calls).toHaveLength(0);
  });

  it('retries a name that does not resolve', async () => {
    const { store, calls, pass, list, o } = await setup();
    o.resolve = async () => {
      throw new Error('getaddrinfo ENOTFOUND hooks.example.test');
    };
    await cart(store);
    expect(await pass()).toMatchObject({ retrying: 1 });
    expect((await list())[0]!.lastError).toMatch(/cannot resolve hooks\.example\.test/);
    expect(calls).toHaveLength(0);
  });

  it('reaches private targets only when the site allows them', async () => {
    const { store, r, clock, calls, resolved, pass, list } = await setup();
    await store.putRule({ ...r, action: { type: 'webhook', url: 'http://127.0.0.1:9999/hook' } });
    await cart(store);
    expect(await pass()).toMatchObject({ failed: 1 });
    expect((await list())[0]!.lastError).toMatch(
      /127\.0\.0\.1 is not a public address \(loopback\).*allowPrivateWebhooks/,
    );

    await putAutomationSettings(store, 'demo', { allowPrivateWebhooks: true });
    await cart(store, 'v2', BASE + 1000);
    clock.now = BASE + 1000;
    expect(await pass()).toMatchObject({ delivered: 1 });
    expect(calls.map((c) => c.url)).toEqual(['http://127.0.0.1:9999/hook']);
    expect(calls[0]!.pin).toBeUndefined();
    expect(resolved).toEqual([]);
  });

  it('times out a receiver that does not answer', async () => {
    const hang = (_url: string, init: RequestInit) =>
      new Promise<Response>((_ok, fail) => init.signal!.addEventListener('abort', () => fail(init.signal!.reason)));
    const { store, list, o } = await setup([], { timeoutMs: 50 });
    o.fetch = hang;
    await cart(store);
    const started = Date.now();
    expect(await deliverDue(o)).toMatchObject({ retrying: 1 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await list())[0]!.lastError).toBe('[cjm] the receiver did not answer in time');
  });

  it('reads at most maxResponseBytes of the answer', async () => {
    let pulled = 0;
    const huge = () =>
      Promise.resolve(
        new Response(
          new ReadableStream<Uint8Array>({
            pull(ctl) {
              pulled += 16 * 1024;
              ctl.enqueue(new Uint8Array(16 * 1024).fill(65));
              if (pulled >= 10 * 1024 * 1024) ctl.close();
            },
          }),
          { status: 500 },
        ),
      );
    const { store, pass, list } = await setup([huge], { maxResponseBytes: 64 * 1024 });
    await cart(store);
    await pass();
    expect(pulled).toBeLessThanOrEqual(64 * 1024 + 3 * 16 * 1024);
    expect((await list())[0]!.lastError).toBe(`HTTP 500: ${'A'.repeat(200)}`);
  });

  it('a delivery claimed by a run that crashed is sent again after the lease', async () => {
    const { store, clock, calls, pass, list } = await setup();
    await cart(store);
    const claimed = await store.claimDeliveries(clock.now, 60_000, 10); // a run claims, then dies
    expect(claimed).toHaveLength(1);
    clock.now = BASE + 59_000;
    expect(await pass()).toMatchObject({ delivered: 0 });
    clock.now = BASE + 60_000;
    expect(await pass()).toMatchObject({ delivered: 1 });
    expect(calls).toHaveLength(1);
    // The crashed run reporting late does not undo the delivery.
    await store.finishDelivery(claimed[0]!, {
      status: 'failed',
      nextAt: 0,
      attempt: { n: 1, at: BASE, status: null, error: 'late', durationMs: 0 },
    });
    expect((await list())[0]!.status).toBe('delivered');
  });

  it('two concurrent runs never send the same delivery', async () => {
    const { store, clock, calls, o } = await setup();
    for (let i = 0; i < 10; i++) await cart(store, `c${i}`, BASE + i * 1000);
    clock.now = BASE + 10_000;
    const results = await Promise.all([deliverDue(o), deliverDue(o), deliverDue(o)]);
    expect(results.reduce((s, r) => s + r.delivered, 0)).toBe(10);
    expect(calls).toHaveLength(10);
  });

  it('gives up the pending deliveries of a deleted rule', async () => {
    const { store, r, calls, pass, list } = await setup();
    await cart(store);
    expect(await store.deleteRule('demo', r.id)).toBe(true);
    expect(await store.deleteRule('demo', r.id)).toBe(false);
    expect(await pass()).toMatchObject({ delivered: 0 });
    expect(calls).toHaveLength(0);
    expect((await list())[0]).toMatchObject({
      status: 'failed',
      lastError: '[cjm] the rule was deleted before this delivery succeeded',
    });
  });
});

describe('queueing at ingest', () => {
  it('queues once per entry: duplicates, refolds of late events and merges do not re-fire', async () => {
    const { store, list } = await setup();
    const events = [pageAt('/', BASE), pageAt('/cart.html', BASE + MIN)];
    await send(store, 'q1', events);
    await send(store, 'q1', events); // the tag retried
    expect(await list()).toHaveLength(1);
    // A late event (earlier timestamp) makes ingest refold the journey: the cart entry is not new.
    await send(store, 'q1', [pageAt('/signup.html', BASE + 30_000)]);
    expect(await list()).toHaveLength(1);
    // An identify merges the visitor into the user's journey (a refold): nothing fires again.
    await send(store, 'q1', [{ id: 'idq1', type: 'identify', ts: BASE + 2 * MIN, userId: 'grace' }]);
    expect(await list()).toHaveLength(1);
    // A real new entry fires.
    await send(store, 'q1', [pageAt('/signup.html', BASE + 3 * MIN), pageAt('/cart.html', BASE + 4 * MIN)]);
    const all = await list();
    expect(all).toHaveLength(2);
    expect(
      JSON.parse((await store.claimDeliveries(BASE + DAY, 1000, 10)).find((d) => d.id === all[0]!.id)!.body).visitor,
    ).toEqual({
      id: 'q1',
      journey: 'u:grace',
      userId: 'grace',
    });
  });

  it('event rules fire for each arriving event of that name, not for duplicates', async () => {
    const { store } = await setup();
    const r = rule({ type: 'event', event: 'signup_completed' });
    await store.putRule(r);
    const e = eventAt('signup_completed', BASE);
    await send(store, 'q2', [e, eventAt('other', BASE + 1)]);
    await send(store, 'q2', [e]);
    await send(store, 'q2', [eventAt('signup_completed', BASE + 2)]);
    expect(await store.listDeliveries('demo', { rule: r.id, limit: 10 })).toHaveLength(2);
  });

  it('a disabled rule queues nothing', async () => {
    const { store, r, list } = await setup();
    await store.putRule({ ...r, enabled: false });
    await cart(store);
    expect(await list()).toEqual([]);
  });
});
