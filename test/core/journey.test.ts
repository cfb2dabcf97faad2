import { describe, expect, it } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import { foldEvents, type StoredEvent } from '../../collector/core/journey';
import type { WireEvent } from '../../collector/core/protocol';
import { compileStages, defaultSiteConfig } from '../../collector/core/stages';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { shuffled } from '../helpers';

const site = defaultSiteConfig('demo');
const opts = { model: compileStages(site), sessionTimeoutMs: 30 * 60_000 };
const T = Date.UTC(2026, 0, 1);
const min = 60_000;

const e = (id: string, minutes: number, fields: Partial<StoredEvent>): StoredEvent => ({
  id,
  visitor: 'v1',
  type: 'page',
  ts: T + minutes * min,
  ...fields,
});

const walk: StoredEvent[] = [
  e('a', 0, { url: 'https://shop.test/?utm_source=newsletter&utm_medium=email' }),
  e('b', 2, { url: 'https://shop.test/signup' }),
  e('c', 3, { type: 'event', name: 'add_to_cart' }),
  e('d', 5, { url: 'https://shop.test/checkout' }),
  e('e', 6, { url: 'https://shop.test/cart' }), // back-step
  e('f', 90, { url: 'https://shop.test/checkout', referrer: 'https://www.google.com/' }), // new session
  e('g', 91, { type: 'feedback', value: 4 }),
  e('h', 92, { url: 'https://shop.test/thank-you' }),
];

describe('journey fold', () => {
  const j = foldEvents(walk, opts);

  it('enters stages in order, with back-steps and re-entries', () => {
    expect(j.entries.map((x) => [x.from, x.stage])).toEqual([
      [null, 'landing'],
      ['landing', 'signup'],
      ['signup', 'cart'],
      ['cart', 'checkout'],
      ['checkout', 'cart'],
      ['cart', 'checkout'],
      ['checkout', 'post-purchase'],
    ]);
    expect(j.current).toBe('post-purchase');
    expect(j.furthest).toBe('post-purchase');
    expect(j.stages.cart?.entries).toBe(2);
  });

  it('counts sessions, touches and conversion', () => {
    expect(j.sessions).toHaveLength(2);
    expect(j.touches).toBe(7); // 6 page views + 1 event; feedback is not a touch
    expect(j.converted).toEqual({ at: T + 92 * min, touches: 7, sessions: 2 });
    expect(j.stages.cart).toMatchObject({ touches: 3, sessions: 1 });
  });

  it('times the stages: completed stays plus the stay in progress', () => {
    expect(j.stages.landing?.timeMs).toBe(2 * min);
    expect(j.stages.checkout?.timeMs).toBe(1 * min + 2 * min);
    expect(j.stages.signup?.toNextMs).toBe(1 * min);
  });

  it('gives the same journey whatever the order of arrival', () => {
    for (let seed = 1; seed < 30; seed++) expect(foldEvents(shuffled(walk, seed), opts)).toEqual(j);
  });

  it('folding in parts equals folding at once', () => {
    const first = foldEvents(walk.slice(0, 4), opts);
    expect(foldEvents(walk.slice(4), opts, structuredClone(first))).toEqual(j);
  });

  it('records feedback against the stage the visitor was in', () => {
    expect(j.stages.checkout?.feedback).toEqual({ sum: 4, count: 1 });
  });

  it('lets an explicit stage win over the URL rules', () => {
    const k = foldEvents([e('a', 0, { url: 'https://shop.test/cart', stage: 'checkout' })], opts);
    expect(k.current).toBe('checkout');
  });
});

describe('synthetic events (added by the collector itself)', () => {
  it('stay in the journey but are no touch, no session, no stage and no activity', () => {
    const base = walk.slice(0, 5);
    const fired = e('stall', 400, { type: 'event', name: 'cart_abandoned', synthetic: true });
    const j = foldEvents([...base, fired], opts);
    const without = foldEvents(base, opts);
    expect(j.events).toBe(without.events + 1);
    expect(j.last).toEqual([fired.ts, 'stall']);
    expect({ ...j, events: 0, last: null }).toEqual({ ...without, events: 0, last: null });
  });
});

describe('ingest keeps journeys identical under any arrival order and duplicates', () => {
  const run = async (batches: StoredEvent[][]) => {
    const store = createSqliteStore(openSqlite(':memory:'));
    for (const b of batches) await ingest(store, site, 'v1', b as WireEvent[], T + 1000 * min);
    const rec = (await store.getJourneys('demo', ['v1'])).get('v1');
    return rec?.journey;
  };

  it('late events and repeats give the same journey as one ordered batch', async () => {
    const once = await run([walk]);
    expect(once).toEqual(j0());
    for (let seed = 1; seed < 8; seed++) {
      const order = shuffled(walk, seed);
      const parts = [order.slice(0, 3), order.slice(2, 6), order.slice(5), order.slice(0, 2)];
      expect(await run(parts)).toEqual(once);
    }
  });

  it('merges the journeys of visitors identified as one user', async () => {
    const store = createSqliteStore(openSqlite(':memory:'));
    const phone = [
      e('p1', 0, { visitor: 'phone', url: 'https://shop.test/' }),
      e('p2', 1, { visitor: 'phone', type: 'identify', userId: 'ada' }),
    ];
    const laptop = [
      e('l1', 10, { visitor: 'laptop', url: 'https://shop.test/cart' }),
      e('l2', 11, { visitor: 'laptop', type: 'identify', userId: 'ada' }),
      e('l3', 12, { visitor: 'laptop', url: 'https://shop.test/thank-you' }),
    ];
    await ingest(store, site, 'laptop', laptop as WireEvent[], T + 100 * min);
    await ingest(store, site, 'phone', phone as WireEvent[], T + 100 * min);
    const journeys = await store.getJourneys('demo', ['u:ada', 'phone', 'laptop']);
    expect([...journeys.keys()]).toEqual(['u:ada']);
    const merged = journeys.get('u:ada')!.journey;
    expect(merged.visitors).toEqual(['phone', 'laptop']);
    expect(merged.entries.map((x) => x.stage)).toEqual(['landing', 'cart', 'post-purchase']);
    expect(merged.userId).toBe('ada');
  });
});

function j0() {
  return foldEvents(walk, opts);
}

describe('purchases (the lifecycle numbers)', () => {
  const fold = (config: Parameters<typeof compileStages>[0], events: StoredEvent[]) =>
    foldEvents(events, { model: compileStages(config), sessionTimeoutMs: 30 * 60_000 }).purchases;

  it("counts every event of the conversion stage's events whose where holds, re-entry or not", () => {
    const stages = [
      { name: 'browse' },
      { name: 'buy', events: ['purchase', 'order_completed'], where: { 'props.test': { exists: false } } },
      { name: 'again', events: ['purchase'], nth: 2 },
    ];
    const got = fold({ stages, conversion: 'buy' }, [
      e('a', 0, {}),
      e('b', 1, { type: 'event', name: 'purchase', props: { test: true } }), // a test order: not a purchase
      e('c', 2, { type: 'event', name: 'purchase' }),
      e('d', 3, { type: 'event', name: 'order_completed' }), // still in `buy`: no entry, a purchase all the same
      e('f', 900, { type: 'event', name: 'purchase' }), // a later session, whatever stage it enters
      e('g', 901, { url: 'https://shop.test/thank-you' }),
    ]);
    expect(got).toEqual({ count: 3, at: [T + 2 * min, T + 3 * min] });
  });

  it('with a conversion stage of URLs only, its page views; with neither, each entry into it; none without', () => {
    const urls = fold({ stages: [{ name: 'a' }, { name: 'done', urls: ['/thank-you*'] }], conversion: 'done' }, [
      e('a', 0, {}),
      e('b', 1, { url: 'https://shop.test/thank-you' }),
      e('c', 2, { url: 'https://shop.test/thank-you?reload=1' }),
      e('d', 3, { type: 'event', name: 'purchase' }),
    ]);
    expect(urls).toEqual({ count: 2, at: [T + min, T + 2 * min] });
    const entries = fold({ stages: [{ name: 'a' }, { name: 'done' }], conversion: 'done' }, [
      e('a', 0, {}),
      e('b', 1, { type: 'stage', stage: 'done' }),
      e('c', 2, { type: 'stage', stage: 'a' }),
      e('d', 3, { type: 'stage', stage: 'done' }),
    ]);
    expect(entries).toEqual({ count: 2, at: [T + min, T + 3 * min] });
    // The default model converts on the thank-you page too, but lists purchase events: the page is no purchase.
    expect(fold(site, [e('a', 0, {}), e('b', 1, { url: 'https://shop.test/thank-you' })])).toEqual({
      count: 0,
      at: [],
    });
  });
});
