/**
 * The automation loop on an injected clock and timers (a manual scheduler): when the passes run, that two never
 * overlap, that stop() waits for the pass in progress and leaves no timer behind, that a failing pass does not end the
 * loop, and that a stall fires once the clock is moved past its delay — all without waiting for real time.
 */
import { describe, expect, it } from 'vitest';
import {
  startAutomationLoop,
  type AutomationLoopOptions,
  type AutomationResult,
} from '../../collector/core/automation/run';
import type { Store } from '../../collector/core/store';
import { waitFor } from '../helpers';
import { BASE, MIN, manualScheduler, newStore, pageAt, rule, send } from './helpers';

/** A loop on a manual scheduler whose passes are counted; `fetch` answers 200 unless given. */
const loopOn = async (o: Partial<AutomationLoopOptions> & { store?: Store } = {}) => {
  const store = o.store ?? (await newStore());
  const scheduler = manualScheduler();
  const passes: AutomationResult[] = [];
  const errors: unknown[] = [];
  const loop = startAutomationLoop({
    now: scheduler.now,
    fetch: async () => new Response('ok'),
    resolve: async () => ['93.184.215.14'],
    onPass: (r) => passes.push(r),
    onError: (e) => errors.push(e),
    ...o,
    store,
    scheduler,
  });
  /** Moves the clock by `ms` and waits until the pass that starts has ended. */
  const pass = async (ms: number) => {
    const n = passes.length + errors.length;
    scheduler.advance(ms);
    await waitFor(() => passes.length + errors.length > n && scheduler.pending() === 1, { what: 'the pass' });
  };
  return { store, scheduler, passes, errors, loop, pass };
};

/** A promise resolved from outside. */
const deferred = () => {
  let resolve = () => {};
  const promise = new Promise<void>((ok) => (resolve = ok));
  return { promise, resolve };
};

describe('automation loop', () => {
  it('runs the first pass after min(interval, 1 s), then one interval after each pass ends', async () => {
    const { scheduler, passes, loop, pass } = await loopOn({ intervalMs: 15_000 });
    scheduler.advance(999);
    expect(passes).toHaveLength(0);
    await pass(1);
    expect(passes).toHaveLength(1);
    scheduler.advance(14_999);
    expect(passes).toHaveLength(1);
    await pass(1);
    expect(passes).toHaveLength(2);
    await loop.stop(); // between passes: the timer is cancelled
    expect(scheduler.pending()).toBe(0);
    scheduler.advance(86_400_000);
    expect(passes).toHaveLength(2);

    const short = await loopOn({ intervalMs: 200 });
    short.scheduler.advance(199);
    expect(short.passes).toHaveLength(0);
    await short.pass(1);
    expect(short.passes).toHaveLength(1);
    await short.loop.stop();
  });

  it('never starts a pass while one is running, however far the clock moves', async () => {
    const store = await newStore();
    await store.putRule(rule({ type: 'stage_entered', stage: 'cart' }));
    await send(store, 'slow', [pageAt('/cart.html', BASE)]);
    const held = deferred();
    let calls = 0;
    const { scheduler, passes, loop, pass } = await loopOn({
      store,
      intervalMs: 1000,
      fetch: async () => {
        calls++;
        await held.promise;
        return new Response('ok');
      },
    });
    scheduler.advance(1000);
    await waitFor(() => calls === 1, { what: 'the webhook request' });
    expect(scheduler.pending()).toBe(0); // no timer while the pass runs
    scheduler.advance(3_600_000);
    expect(calls).toBe(1);
    expect(passes).toHaveLength(0);
    held.resolve();
    await waitFor(() => passes.length === 1 && scheduler.pending() === 1, { what: 'the slow pass' });
    expect(passes[0]!.deliveries.delivered).toBe(1);
    await pass(1000);
    expect(calls).toBe(1);
    await loop.stop();
  });

  it('stop() waits for the pass in progress and leaves no timer, so nothing runs afterwards', async () => {
    const store = await newStore();
    await store.putRule(rule({ type: 'stage_entered', stage: 'cart' }));
    await send(store, 'stop', [pageAt('/cart.html', BASE)]);
    const held = deferred();
    let calls = 0;
    const { scheduler, passes, loop } = await loopOn({
      store,
      fetch: async () => {
        calls++;
        await held.promise;
        return new Response('ok');
      },
    });
    scheduler.advance(1000);
    await waitFor(() => calls === 1, { what: 'the webhook request' });
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    held.resolve();
    await stopping;
    expect(passes).toHaveLength(1);
    expect(scheduler.pending()).toBe(0);
    scheduler.advance(86_400_000);
    expect(passes).toHaveLength(1);
    expect(calls).toBe(1);
  });

  it('reports a failing pass and runs the next one', async () => {
    const real = await newStore();
    let failures = 1;
    const store = new Proxy(real, {
      get: (target, key, receiver) =>
        key === 'pruneAutomation' && failures-- > 0
          ? async () => {
              throw new Error('disk full');
            }
          : (Reflect.get(target, key, receiver) as unknown),
    });
    const { errors, passes, loop, pass } = await loopOn({ store });
    await pass(1000);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('disk full');
    expect(passes).toHaveLength(0);
    await pass(15_000);
    expect(passes).toHaveLength(1);
    await loop.stop();
  });

  it('fires a stall when the clock passes its delay, and delivers its webhook in the same pass', async () => {
    const store = await newStore();
    await store.putRule(
      rule({ type: 'stalled', stages: ['cart'], notReached: ['post-purchase'], after: '30m', emit: 'cart_abandoned' }),
    );
    await send(store, 'staller', [pageAt('/cart.html', BASE)]);
    const sent: string[] = [];
    const { passes, loop, pass } = await loopOn({
      store,
      intervalMs: 10 * MIN,
      fetch: async (_url, init) => (sent.push(String(init?.body)), new Response('ok')),
    });
    await pass(1000); // BASE + 1 s
    await pass(10 * MIN); // BASE + 10 min
    await pass(10 * MIN); // BASE + 20 min
    expect(passes.map((p) => p.stalls.fired)).toEqual([0, 0, 0]);
    expect(sent).toHaveLength(0);
    await pass(10 * MIN); // BASE + 30 min + 1 s: due
    expect(passes[3]).toMatchObject({ stalls: { fired: 1 }, deliveries: { delivered: 1 } });
    expect(JSON.parse(sent[0]!)).toMatchObject({ events: [{ name: 'cart_abandoned', synthetic: true }] });
    await pass(10 * MIN);
    expect(passes[4]).toMatchObject({ stalls: { fired: 0 }, deliveries: { delivered: 0 } });
    expect(sent).toHaveLength(1);
    await loop.stop();
  });
});
