/**
 * The central property of cjm: a journey depends only on the set of events, never on how they arrived.
 * Random event sets of up to three visitors (page views, events, stages, feedback, vitals, identifies linking them to
 * users), split into random batches, sent in random order with random repeats, must give exactly the journeys — and
 * exactly the derived rows the reports read — of one pass over the sorted events.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ingest, userJourneyKey } from '../../collector/core/ingest';
import { compareEvents, foldEvents, type StoredEvent } from '../../collector/core/journey';
import type { WireEvent } from '../../collector/core/protocol';
import { compileStages, defaultSiteConfig } from '../../collector/core/stages';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';

const site = defaultSiteConfig('demo');
const opts = { model: compileStages(site), sessionTimeoutMs: 30 * 60_000, siteHosts: [] };
const T = Date.UTC(2026, 0, 1);
const NOW = T + 10 * 86400_000;

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

const arbEvent = fc.record({
  visitor: fc.constantFrom('v1', 'v2', 'v3'),
  kind: fc.constantFrom('page', 'page', 'page', 'event', 'stage', 'feedback', 'vital', 'identify'),
  minute: fc.integer({ min: 0, max: 240 }),
  pick: fc.nat(),
  value: fc.integer({ min: 1, max: 5 }),
});

type Gen = { visitor: string; kind: string; minute: number; pick: number; value: number };

const toWire = (g: Gen, i: number): WireEvent & { visitor: string } => {
  const base = { id: `e${String(i).padStart(3, '0')}`, ts: T + g.minute * 60_000, visitor: g.visitor };
  switch (g.kind) {
    case 'page': {
      const referrer = REFERRERS[g.pick % REFERRERS.length];
      return {
        ...base,
        type: 'page',
        url: `https://shop.test${PATHS[g.pick % PATHS.length]}`,
        ...(referrer ? { referrer } : {}),
      };
    }
    case 'event':
      return {
        ...base,
        type: 'event',
        name: ['add_to_cart', 'purchase', 'video_play', 'signup'][g.pick % 4] as string,
      };
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

const run = async (batches: Array<Array<WireEvent & { visitor: string }>>) => {
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

describe('incremental ingest equals one sorted fold', () => {
  it('for any event set, any split into batches, any order, any repeats', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbEvent, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.nat(),
        async (gens, sizes, repeats, seed) => {
          const events = gens.map(toWire);
          // Reference: each visitor's events in one sorted batch, visitors in order.
          const byVisitor = new Map<string, Array<WireEvent & { visitor: string }>>();
          for (const e of [...events].sort(compareEvents))
            byVisitor.set(e.visitor, [...(byVisitor.get(e.visitor) ?? []), e]);
          const ref = await run([...byVisitor.keys()].sort().map((v) => byVisitor.get(v)!));

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
          const got = await run(batches);

          const a = dump(got.db);
          const b = dump(ref.db);
          expect(a).toEqual(b);

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
          expect(await got.store.stageAggregates('demo', {})).toEqual(await got.store.stageAggregates('demo', oneDay));
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
    fc.assert(
      fc.property(fc.array(arbEvent, { minLength: 1, maxLength: 60 }), fc.nat(), (gens, cut) => {
        const events: StoredEvent[] = gens.map(toWire).map((e) => ({ ...e, visitor: 'v1' }));
        const sorted = [...events].sort(compareEvents);
        const whole = foldEvents(sorted, opts);
        expect(foldEvents([...events].reverse(), opts)).toEqual(whole);
        const k = cut % (sorted.length + 1);
        expect(foldEvents(sorted.slice(k), opts, foldEvents(sorted.slice(0, k), opts))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
