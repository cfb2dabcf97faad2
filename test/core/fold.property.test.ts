/**
 * The central property of cjm: a journey depends only on the set of events, never on how they arrived.
 * Random event sets of up to three visitors (page views, events, stages, feedback, vitals, identifies linking them to
 * users), split into random batches, sent in random order with random repeats, must give exactly the journeys — and
 * exactly the derived rows the reports read — of one pass over the sorted events. Under the default stage model and
 * under a model using every rule kind (`nth`, `where`, `returnAfter`, `afterStage`, alone and combined), with events
 * carrying values and props and gaps long enough for returns.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ingest, ingestBatch, userJourneyKey } from '../../collector/core/ingest';
import { compareEvents, foldEvents, type FoldOptions, type StoredEvent } from '../../collector/core/journey';
import type { Props, WireEvent } from '../../collector/core/protocol';
import { checkStages, compileStages, defaultSiteConfig, type SiteConfig } from '../../collector/core/stages';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';

const T = Date.UTC(2026, 0, 1);
const NOW = T + 10 * 86400_000;

/** Every rule kind, alone and combined; rules that overlap (the furthest wins) and count (`nth`) across stages. */
const RULES: SiteConfig['stages'] = [
  { name: 'landing' },
  { name: 'browse', urls: ['/blog/**', '/'], afterStage: 'landing' },
  { name: 'cart', urls: ['**/cart*'], events: ['add_to_cart'] },
  { name: 'buyer', events: ['purchase'] },
  { name: 'big', events: ['purchase'], where: { value: { gte: 4 } } },
  { name: 'repeat', events: ['purchase', 'signup'], nth: 2, afterStage: 'cart' },
  { name: 'back', returnAfter: '60m', afterStage: 'buyer' },
  { name: 'regular', returnAfter: '45m', nth: 2 },
  {
    name: 'vip',
    urls: ['/thank-you', '/checkout'],
    events: ['purchase'],
    nth: 2,
    where: { 'props.plan': { in: ['pro', 'team'] } },
    returnAfter: '35m',
  },
  {
    name: 'fan',
    events: ['video_play'],
    where: { 'props.plan': { exists: true }, value: { lte: 4 } },
    afterStage: 'buyer',
  },
  { name: 'free', events: ['video_play', 'add_to_cart'], where: { 'props.plan': { eq: 'free' } }, nth: 2 },
];
const MODELS = [
  { label: 'the default stage model', site: defaultSiteConfig('demo'), maxMinute: 240 },
  {
    label: 'a model with every rule kind',
    site: defaultSiteConfig('demo', { stages: RULES, conversion: 'buyer' }),
    maxMinute: 900,
  },
] as const;
for (const m of MODELS) if (checkStages(m.site.stages, m.site.conversion)) throw new Error(`bad model ${m.label}`);

const PATHS = [
  '/',
  '/signup',
  '/cart',
  '/checkout',
  '/thank-you',
  '/blog/post',
  '/?utm_source=newsletter&utm_medium=email',
  '/cart?gclid=abc',
];
const REFERRERS = [undefined, 'https://www.google.com/', 'https://t.me/channel', 'https://news.example/'];

const arbEventUpTo = (maxMinute: number) =>
  fc.record({
    visitor: fc.constantFrom('v1', 'v2', 'v3'),
    kind: fc.constantFrom(
      'page',
      'page',
      'page',
      'event',
      'event',
      'event',
      'event',
      'stage',
      'feedback',
      'vital',
      'identify',
    ),
    minute: fc.integer({ min: 0, max: maxMinute }),
    pick: fc.nat(),
    value: fc.integer({ min: 1, max: 5 }),
  });

type Gen = { visitor: string; kind: string; minute: number; pick: number; value: number };
const PLANS: Array<Props | undefined> = [
  undefined,
  { plan: 'pro' },
  { plan: 'team' },
  { plan: 'free' },
  { plan: null },
  { other: 'x' },
];

const toWireIn =
  (opts: FoldOptions) =>
  (g: Gen, i: number): WireEvent & { visitor: string } => {
    const base = { id: `e${String(i).padStart(3, '0')}`, ts: T + g.minute * 60_000, visitor: g.visitor };
    switch (g.kind) {
      case 'page': {
        const referrer = REFERRERS[g.pick % REFERRERS.length];
        return {
          ...base,
          type: 'page',
          url: `https://shop.test${PATHS[g.pick % PATHS.length]}`,
          ...(referrer ? { referrer } : {}),
          // Some page views carry a value and props too (the rules' `where` applies to them as to events).
          ...(g.pick % 5 === 0 ? { value: g.value, props: { plan: g.value % 2 ? 'pro' : 'free' } } : {}),
        };
      }
      case 'event': {
        const props = PLANS[Math.floor(g.pick / 4) % PLANS.length];
        return {
          ...base,
          type: 'event',
          name: ['add_to_cart', 'purchase', 'video_play', 'signup'][g.pick % 4] as string,
          ...(g.pick % 3 === 0 ? {} : { value: g.value }),
          ...(props ? { props } : {}),
        };
      }
      case 'stage':
        return { ...base, type: 'stage', stage: opts.model.names[g.pick % opts.model.names.length] as string };
      case 'feedback':
        return { ...base, type: 'feedback', value: g.value };
      case 'vital':
        return { ...base, type: 'vital', name: ['LCP', 'INP', 'CLS'][g.pick % 3] as string, value: g.value * 100 };
      default:
        return { ...base, type: 'identify', userId: ['ada', 'bob'][g.pick % 2] as string };
    }
  };

/** Everything the reports read, without write counters (`version`) and arrival times. */
const dump = (db: ReturnType<typeof openSqlite>) => ({
  journeys: db
    .prepare(
      `SELECT key, visitor, visitor_count, user_id, current_stage, furthest_stage, converted, converted_at, first_seen,
         last_seen, first_channel, last_channel, touches, sessions, state, revision, conv_touches, conv_sessions, device
       FROM journeys ORDER BY key`,
    )
    .all(),
  stages: db.prepare('SELECT * FROM journey_stages ORDER BY key, stage').all(),
  transitions: db.prepare('SELECT * FROM journey_transitions ORDER BY key, from_stage, to_stage').all(),
  items: db.prepare('SELECT * FROM journey_stage_items ORDER BY key, stage, kind, item').all(),
  vitals: db.prepare('SELECT * FROM journey_stage_vitals ORDER BY key, stage, name').all(),
  links: db.prepare('SELECT * FROM visitors ORDER BY visitor').all(),
  rollups: [
    'cohort_journeys',
    'cohort_stages',
    'cohort_transitions',
    'cohort_items',
    'cohort_vitals',
    'cohort_values',
  ].map((t) =>
    db
      .prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3, 4, 5`)
      .all()
      .filter((r) =>
        Object.entries(r as Record<string, unknown>).some(([k, v]) => ['n', 'journeys'].includes(k) && v !== 0),
      ),
  ),
  events: db.prepare('SELECT id, visitor, type, ts FROM events ORDER BY id').all(),
});

const run = async (site: SiteConfig, batches: Array<Array<WireEvent & { visitor: string }>>) => {
  const db = openSqlite(':memory:');
  const store = createSqliteStore(db);
  for (const b of batches) {
    const visitor = b[0]?.visitor;
    if (visitor === undefined) continue;
    await ingest(
      store,
      site,
      visitor,
      b.map(({ visitor: _v, ...e }) => e),
      NOW,
    );
  }
  return { db, store };
};

/** The same requests through `ingestBatch`, grouped into batches of the given sizes (one commit per batch). */
const runGrouped = async (
  site: SiteConfig,
  batches: Array<Array<WireEvent & { visitor: string }>>,
  groups: number[],
) => {
  const db = openSqlite(':memory:');
  const store = createSqliteStore(db);
  const requests = batches
    .filter((b) => b.length > 0)
    .map((b) => ({
      site,
      visitor: b[0]!.visitor,
      events: b.map(({ visitor: _v, ...e }) => e),
      receivedAt: NOW,
    }));
  const results = [];
  for (let at = 0, k = 0; at < requests.length; k++) {
    const size = groups[k % groups.length] ?? 1;
    const outcomes = await ingestBatch(store, requests.slice(at, at + size));
    for (const o of outcomes) {
      if (!o.ok) throw o.error;
      results.push(o.result);
    }
    at += size;
  }
  return { db, store, results };
};

/** The journey key each visitor must end in: the user of its earliest identify, else itself. */
const expectedKeys = (events: Array<WireEvent & { visitor: string }>) => {
  const out = new Map<string, string>();
  for (const e of [...events].sort(compareEvents)) {
    if (!out.has(e.visitor)) out.set(e.visitor, e.visitor);
    if (e.type === 'identify' && e.userId && !out.get(e.visitor)!.startsWith('u:'))
      out.set(e.visitor, userJourneyKey(e.userId));
  }
  return out;
};

describe.each(MODELS)('under $label', ({ site, maxMinute }) => {
  const opts = { model: compileStages(site), sessionTimeoutMs: 30 * 60_000, siteHosts: [] };
  const toWire = toWireIn(opts);
  const arbEvent = arbEventUpTo(maxMinute);

  describe('incremental ingest equals one sorted fold', () => {
    it('for any event set, any split into batches, any order, any repeats', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(arbEvent, { minLength: 1, maxLength: 40 }),
          fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 40 }),
          fc.array(fc.nat(), { maxLength: 4 }),
          fc.nat(),
          fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 10 }),
          async (gens, sizes, repeats, seed, groups) => {
            const events = gens.map(toWire);
            // Reference: each visitor's events in one sorted batch, visitors in order.
            const byVisitor = new Map<string, Array<WireEvent & { visitor: string }>>();
            for (const e of [...events].sort(compareEvents))
              byVisitor.set(e.visitor, [...(byVisitor.get(e.visitor) ?? []), e]);
            const ref = await run(
              site,
              [...byVisitor.keys()].sort().map((v) => byVisitor.get(v)!),
            );

            // Random order (seeded shuffle), random batch sizes, each batch split per visitor, random repeats.
            const order = [...events];
            let s = seed;
            for (let i = order.length - 1; i > 0; i--) {
              s = (s * 1103515245 + 12345) % 2 ** 31;
              const j = s % (i + 1);
              [order[i], order[j]] = [order[j]!, order[i]!];
            }
            const batches: Array<Array<WireEvent & { visitor: string }>> = [];
            let at = 0;
            for (let k = 0; at < order.length; k++) {
              const chunk = order.slice(at, at + (sizes[k % sizes.length] ?? 1));
              at += chunk.length;
              for (const v of ['v1', 'v2', 'v3']) {
                const part = chunk.filter((e) => e.visitor === v);
                if (part.length) batches.push(part);
              }
            }
            for (const r of repeats) if (batches.length) batches.push(batches[r % batches.length]!);
            const got = await run(site, batches);

            const a = dump(got.db);
            const b = dump(ref.db);
            expect(a).toEqual(b);

            // The same requests grouped into ingestBatch calls of any sizes (requests of one visitor, of visitors
            // merging by identify and repeats in one batch): the same database, and each event accepted once.
            const grouped = await runGrouped(site, batches, groups);
            expect(dump(grouped.db)).toEqual(b);
            const accepted = grouped.results.reduce((n, r) => n + r.accepted, 0);
            expect(accepted).toBe(new Set(events.map((e) => e.id)).size);
            const answered = grouped.results.reduce((n, r) => n + r.accepted + r.duplicates, 0);
            expect(answered).toBe(batches.reduce((n, b2) => n + b2.length, 0));
            grouped.db.close();

            // And each stored journey is the pure fold of its members' events, under the expected links.
            const keys = expectedKeys(events);
            const links = got.db.prepare('SELECT visitor, journey FROM visitors').all() as Array<{
              visitor: string;
              journey: string;
            }>;
            expect(new Map(links.map((l) => [l.visitor, l.journey]))).toEqual(keys);
            for (const key of new Set(keys.values())) {
              const members = [...keys].filter(([, k]) => k === key).map(([v]) => v);
              const stored = (await got.store.getJourneys('demo', [key])).get(key)!.journey;
              const mine: StoredEvent[] = events.filter((e) => members.includes(e.visitor));
              expect(stored).toEqual(foldEvents(mine, opts));
            }
            // The day rollups (open range) agree with the per-journey rows (a range inside one day reads those).
            const oneDay = { from: T - 3600_000, to: T + 23 * 3600_000 };
            expect(await got.store.stageAggregates('demo', {})).toEqual(
              await got.store.stageAggregates('demo', oneDay),
            );
            expect(await got.store.stageDetails('demo', {}, 100)).toEqual(
              await got.store.stageDetails('demo', oneDay, 100),
            );
            const conv = async (r: { from?: number; to?: number }) =>
              (await got.store.conversionCounts('demo', r)).sort((x, y) =>
                JSON.stringify(x).localeCompare(JSON.stringify(y)),
              );
            expect(await conv({})).toEqual(await conv(oneDay));
            got.db.close();
            ref.db.close();
          },
        ),
        { numRuns: 60 },
      );
    }, 120_000);
  });

  describe('pure fold', () => {
    it('is independent of input order and equals folding any sorted prefix then the rest', () => {
      // Stages entered by their rules (not by an explicit stage) in some run: every stage must be, or the generated
      // events would not exercise its rule.
      const byRule = new Set<string>();
      fc.assert(
        fc.property(fc.array(arbEvent, { minLength: 1, maxLength: 60 }), fc.nat(), (gens, cut) => {
          const events: StoredEvent[] = gens.map(toWire).map((e) => ({ ...e, visitor: 'v1' }));
          const sorted = [...events].sort(compareEvents);
          const whole = foldEvents(sorted, opts);
          for (const entry of whole.entries)
            if (!events.find((e) => e.id === entry.event)?.stage) byRule.add(entry.stage);
          expect(foldEvents([...events].reverse(), opts)).toEqual(whole);
          const k = cut % (sorted.length + 1);
          expect(foldEvents(sorted.slice(k), opts, foldEvents(sorted.slice(0, k), opts))).toEqual(whole);
        }),
        { numRuns: 1000 },
      );
      expect([...byRule].sort()).toEqual(site.stages.map((s) => s.name).sort());
    });
  });
});
