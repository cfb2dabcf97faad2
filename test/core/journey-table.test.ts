/**
 * Table-driven tests of the journey fold: each case is a set of events and the journey they must give. Every case
 * runs in sorted order, reversed, shuffled, and through ingest in shuffled single-event batches with duplicates.
 */
import { describe, expect, it } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import { foldEvents, journeyView, type Journey, type StoredEvent } from '../../collector/core/journey';
import { compileStages, defaultSiteConfig } from '../../collector/core/stages';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { shuffled } from '../helpers';

const site = defaultSiteConfig('demo', { origins: ['https://shop.test'] });
const opts = { model: compileStages(site), sessionTimeoutMs: 30 * 60_000, siteHosts: ['shop.test'] };
const T = Date.UTC(2026, 0, 1);
const MIN = 60_000;

type E = Partial<StoredEvent> & { m: number };
let seq = 0;
const mk = (visitor: string, list: E[]): StoredEvent[] =>
  list.map(({ m, ...f }) => ({
    id: `t${String(++seq).padStart(4, '0')}`,
    visitor,
    type: 'page',
    ts: T + m * MIN,
    ...f,
  }));
const p = (m: number, path: string, f: Partial<StoredEvent> = {}): E => ({ m, url: `https://shop.test${path}`, ...f });

interface Case {
  name: string;
  events: StoredEvent[];
  expect: (j: Journey) => void;
}

const cases: Case[] = [
  {
    name: 'straight walk to conversion',
    events: mk('v', [p(0, '/'), p(1, '/signup'), p(2, '/cart'), p(3, '/checkout'), p(4, '/thank-you')]),
    expect: (j) => {
      expect(j.entries.map((e) => e.stage)).toEqual(['landing', 'signup', 'cart', 'checkout', 'post-purchase']);
      expect(j.converted).toEqual({ at: T + 4 * MIN, touches: 5, sessions: 1 });
      expect(j.stages.cart).toMatchObject({ touches: 3, toNextMs: MIN });
    },
  },
  {
    name: 'back-steps and re-entries are entries; furthest never goes back',
    events: mk('v', [p(0, '/'), p(1, '/checkout'), p(2, '/cart'), p(3, '/checkout'), p(4, '/cart')]),
    expect: (j) => {
      expect(j.entries.map((e) => `${e.from}>${e.stage}`)).toEqual([
        'null>landing',
        'landing>checkout',
        'checkout>cart',
        'cart>checkout',
        'checkout>cart',
      ]);
      expect(j.current).toBe('cart');
      expect(j.furthest).toBe('checkout');
      expect(j.stages.cart?.entries).toBe(2);
      expect(j.stages.checkout?.timeMs).toBe(2 * MIN);
      // landing → signup never happened: no time to next for landing's next stage (signup)
      expect(j.stages.landing?.toNextMs).toBeNull();
      expect(j.converted).toBeNull();
    },
  },
  {
    name: 'sessions split after 30 minutes of inactivity, each with its channel',
    events: mk('v', [
      p(0, '/?utm_source=newsletter&utm_medium=email'),
      p(29, '/a'),
      p(60, '/', { referrer: 'https://www.google.com/' }),
      p(200, '/'),
      p(201, '/thank-you'),
    ]),
    expect: (j) => {
      expect(j.sessions.map((s) => [s.channel, s.touches])).toEqual([
        ['email', 2],
        ['organic_search', 1],
        ['direct', 2],
      ]);
      expect(j.firstChannel).toBe('email');
      expect(j.lastChannel).toBe('organic_search'); // last non-direct
      expect(j.converted).toEqual({ at: T + 201 * MIN, touches: 5, sessions: 3 });
    },
  },
  {
    name: 'an internal referrer does not make a new channel',
    events: mk('v', [p(0, '/', { referrer: 'https://shop.test/blog' })]),
    expect: (j) => expect(j.firstChannel).toBe('direct'),
  },
  {
    name: 'explicit stage events win; unknown stages are ignored',
    events: mk('v', [
      p(0, '/cart', { stage: 'checkout' }),
      { m: 1, type: 'stage', stage: 'nope' },
      { m: 2, type: 'stage', stage: 'signup' },
    ]),
    expect: (j) => {
      expect(j.entries.map((e) => e.stage)).toEqual(['checkout', 'signup']);
      expect(j.touches).toBe(1); // stage markers are not touches
    },
  },
  {
    name: 'feedback and vitals belong to the stage they name, else the current one; the latest vital wins',
    events: mk('v', [
      p(0, '/'),
      { m: 1, type: 'vital', name: 'LCP', value: 2000 },
      { m: 2, type: 'vital', name: 'LCP', value: 1500 },
      { m: 3, type: 'feedback', value: 4 },
      p(4, '/cart'),
      { m: 5, type: 'feedback', value: 2 },
      { m: 6, type: 'feedback', value: 5, stage: 'landing' },
    ]),
    expect: (j) => {
      expect(j.stages.landing?.vitals).toEqual({ LCP: 1500 });
      expect(j.stages.landing?.feedback).toEqual({ sum: 9, count: 2 });
      expect(j.stages.cart?.feedback).toEqual({ sum: 2, count: 1 });
    },
  },
  {
    name: 'pages and events are counted per stage by path and name',
    events: mk('v', [
      p(0, '/'),
      p(1, '/?x=1'),
      p(2, '/cart'),
      { m: 3, type: 'event', name: 'coupon' },
      { m: 4, type: 'event', name: 'coupon' },
    ]),
    expect: (j) => {
      expect(j.stages.landing?.pages).toEqual({ '/': 2 });
      expect(j.stages.cart?.pages).toEqual({ '/cart': 1 });
      expect(j.stages.cart?.events).toEqual({ coupon: 2 });
    },
  },
  {
    name: 'equal timestamps are ordered by id; the first stage is entered only by a first touch without a stage',
    events: mk('v', [p(0, '/cart'), p(0, '/checkout'), p(0, '/')]),
    expect: (j) => {
      expect(j.entries.map((e) => e.stage)).toEqual(['cart', 'checkout']);
      expect(j.current).toBe('checkout');
      expect(j.stages.checkout?.pages).toEqual({ '/checkout': 1, '/': 1 });
    },
  },
  {
    name: 'conversion counts when a stage after the conversion stage is reached first',
    events: mk('v', [p(0, '/'), { m: 1, type: 'stage', stage: 'post-purchase' }]),
    expect: (j) => expect(j.converted).toEqual({ at: T + MIN, touches: 1, sessions: 1 }),
  },
];

describe.each(cases)('fold: $name', ({ events, expect: check }) => {
  const whole = foldEvents(events, opts);
  it('gives the expected journey', () => check(whole));
  it('in any order', () => {
    expect(foldEvents([...events].reverse(), opts)).toEqual(whole);
    for (let seed = 1; seed <= 5; seed++) expect(foldEvents(shuffled(events, seed), opts)).toEqual(whole);
  });
  it('through ingest, one event per batch, shuffled, with duplicates', async () => {
    const store = createSqliteStore(openSqlite(':memory:'));
    const order = shuffled(events, 7);
    for (const e of [...order, ...order.slice(0, 2)]) {
      const { visitor, ...wire } = e;
      await ingest(store, site, visitor, [wire as never], T + 1000 * MIN);
    }
    expect((await store.getJourneys('demo', ['v'])).get('v')?.journey).toEqual(whole);
    expect(journeyView('v', whole, opts.model).stages).toHaveLength(5);
  });
});

describe('identify merges (cross-device)', () => {
  const phone = mk('phone', [p(0, '/'), { m: 1, type: 'identify', userId: 'ada' }]);
  const laptop = mk('laptop', [p(10, '/cart'), { m: 11, type: 'identify', userId: 'ada' }, p(12, '/thank-you')]);
  const other = mk('laptop', [{ m: 20, type: 'identify', userId: 'bob' }]);

  const run = async (batches: StoredEvent[][]) => {
    const store = createSqliteStore(openSqlite(':memory:'));
    for (const b of batches)
      await ingest(
        store,
        site,
        b[0]!.visitor,
        b.map(({ visitor: _v, ...w }) => w as never),
        T + 1000 * MIN,
      );
    return store;
  };

  it.each([
    ['phone first', [phone, laptop, other]],
    ['laptop first', [laptop, phone, other]],
    ['the later identify first', [other, laptop, phone]],
    ['identify events last', [[phone[0]!], [laptop[0]!, laptop[2]!], other, [laptop[1]!], [phone[1]!]]],
  ])('%s: one journey u:ada with both devices; the earliest identify wins over a later one', async (_, batches) => {
    const store = await run(batches as StoredEvent[][]);
    const links = await store.getLinks('demo', ['phone', 'laptop']);
    expect(links.get('phone')?.journey).toBe('u:ada');
    expect(links.get('laptop')?.journey).toBe('u:ada');
    const journeys = await store.getJourneys('demo', ['u:ada', 'u:bob', 'phone', 'laptop']);
    expect([...journeys.keys()]).toEqual(['u:ada']);
    expect(journeys.get('u:ada')!.journey).toEqual(foldEvents([...phone, ...laptop, ...other], opts));
  });

  it('an earlier identify arriving late moves the visitor to the other user and refolds both journeys', async () => {
    const early = mk('tab', [{ m: -5, type: 'identify', userId: 'eve' }]);
    const tab = mk('tab', [p(0, '/'), { m: 1, type: 'identify', userId: 'zed' }]);
    const zedPhone = mk('zphone', [p(3, '/cart'), { m: 4, type: 'identify', userId: 'zed' }]);
    const store = await run([tab, zedPhone]);
    expect((await store.getJourneys('demo', ['u:zed'])).get('u:zed')!.journey.visitors.sort()).toEqual([
      'tab',
      'zphone',
    ]);
    await ingest(
      store,
      site,
      'tab',
      early.map(({ visitor: _v, ...w }) => w as never),
      T,
    );
    const after = await store.getJourneys('demo', ['u:zed', 'u:eve']);
    expect(after.get('u:zed')!.journey).toEqual(foldEvents(zedPhone, opts));
    expect(after.get('u:eve')!.journey).toEqual(foldEvents([...early, ...tab], opts));
  });
});
