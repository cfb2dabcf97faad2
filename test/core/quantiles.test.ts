/**
 * Quantiles from the bucket histograms (migration 0006): the bucket function is the same in JavaScript and SQLite,
 * each bucket is an exact value range, the median time-to-next and the vitals p75 equal a brute-force nearest-rank over the journeys of any range, with
 * and without the histograms, and the migration's backfill equals the histograms ingest keeps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import type { WireEvent } from '../../collector/core/protocol';
import { defaultSiteConfig } from '../../collector/core/stages';
import { bucketRange, bucketSql, valueBucket } from '../../collector/stores/sql/rollups';
import { createSqliteStore, MIGRATIONS_DIR, openSqlite } from '../../collector/stores/sqlite';
import { mulberry32 } from '../../bench/lib/traffic';
import { rangesCuttingDays } from '../helpers';

const DAY = 86400_000;
const D = Date.UTC(2026, 10, 1);

const EDGES = [
  0,
  -0,
  1e-300,
  -1e-300,
  0.0005,
  0.001,
  0.0011,
  0.00999,
  0.01,
  0.0099999,
  0.05,
  0.1,
  0.25,
  1,
  9.999,
  10,
  99.5,
  100,
  149.9999,
  150,
  2500,
  2500.4,
  1e6,
  123456789,
  2 ** 31,
  2 ** 53,
  1e12,
  1e12 + 1,
  1e15,
  1e300,
  Number.MAX_VALUE,
  -0.0009,
  -0.001,
  -1,
  -1e12,
  -1e300,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  0.1 + 0.2,
  1 / 3,
  (2 / 3) * 1000,
];

/** The largest double below x (x finite, not the smallest double). */
const nextDown = (x: number): number => {
  if (x === 0) return -Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const i = new BigInt64Array(f.buffer);
  i[0] = i[0]! + (x > 0 ? -1n : 1n);
  return f[0]!;
};

describe('valueBucket', () => {
  const db = openSqlite(':memory:');
  const sqlBucket = db.prepare(`WITH t(x) AS (SELECT ?) SELECT ${bucketSql('x')} AS b FROM t`);
  const check = (v: number) => {
    const b = valueBucket(v);
    expect((sqlBucket.get(v) as { b: number }).b, `bucket of ${v}`).toBe(b);
    // The range of the bucket is exact: its ends are the first doubles of this bucket and of the next.
    const { lo, hi } = bucketRange(b);
    if (lo !== null) {
      expect(v, `${v} ≥ lower bound of bucket ${b}`).toBeGreaterThanOrEqual(lo);
      expect(valueBucket(lo)).toBe(b);
      expect(valueBucket(nextDown(lo))).toBeLessThan(b);
    }
    if (hi !== null) {
      expect(v, `${v} < upper bound of bucket ${b}`).toBeLessThan(hi);
      expect(valueBucket(hi)).toBeGreaterThan(b);
      expect(valueBucket(nextDown(hi))).toBe(b);
    }
  };

  it('is the same in SQLite, and inside its bounds, at the edges', () => {
    for (const v of EDGES) check(v);
  });

  it('is the same in SQLite, and inside its bounds, for any double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => check(v)),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), (v) => check(v)),
      { numRuns: 20_000 },
    );
  });

  it('is monotonic and coarse: at most 18 buckets per decade', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (a, b) => {
          if (a <= b) expect(valueBucket(a)).toBeLessThanOrEqual(valueBucket(b));
        },
      ),
      { numRuns: 20_000 },
    );
    const seen = new Set<number>();
    for (let v = 1; v < 10; v *= 1.001) seen.add(valueBucket(v));
    expect(seen.size).toBe(18);
  });
});

/** Journeys with random vitals and times between stages, spread over days. */
const seed = async (visitors: number, rnd: () => number) => {
  const db = openSqlite(':memory:');
  const store = createSqliteStore(db);
  const site = defaultSiteConfig('demo');
  const paths = ['/', '/signup', '/cart', '/checkout', '/thank-you'];
  const vitalValue = () => {
    const r = rnd();
    if (r < 0.05) return -rnd() * 10; // hostile input is normal: negative, tiny and huge values
    if (r < 0.1) return rnd() * 1e15;
    if (r < 0.4) return Math.round(rnd() * 1000) / 1000; // CLS-like
    return Math.round(rnd() * 5000 * 10) / 10; // ms
  };
  for (let v = 0; v < visitors; v++) {
    let t = D + Math.floor(rnd() * 6 * DAY);
    const events: WireEvent[] = [];
    const steps = 1 + Math.floor(rnd() * paths.length);
    for (let i = 0; i < steps; i++) {
      events.push({ id: `v${v}-p${i}`, type: 'page', ts: t, url: `https://s.test${paths[i]}` });
      for (const name of ['LCP', 'CLS', 'INP']) {
        if (rnd() < 0.6) events.push({ id: `v${v}-${name}${i}`, type: 'vital', ts: t + 1, name, value: vitalValue() });
      }
      t += rnd() < 0.2 ? Math.floor(rnd() * 20) : Math.floor(rnd() * 3 * DAY); // some within the same second
    }
    await ingest(store, site, `v${v}`, events, D + 20 * DAY);
  }
  return { db, store };
};

const nearestRank = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.ceil(p * values.length) - 1];

describe('quantiles from the histograms', () => {
  it('equal a brute-force nearest rank for any range, with and without the histograms', async () => {
    const { db, store } = await seed(400, mulberry32(7));
    const ranges = rangesCuttingDays(D);
    const expected = (r: { from?: number; to?: number }) => {
      const inRange = `cohort_at >= ${r.from ?? -1e15} AND cohort_at <= ${r.to ?? 1e15}`;
      const toNext = new Map<string, number[]>();
      for (const row of db
        .prepare(`SELECT stage, to_next_ms AS v FROM journey_stages WHERE to_next_ms IS NOT NULL AND ${inRange}`)
        .all() as Array<{ stage: string; v: number }>) {
        toNext.set(row.stage, [...(toNext.get(row.stage) ?? []), row.v]);
      }
      const vitals = new Map<string, number[]>();
      for (const row of db
        .prepare(`SELECT stage, name, value AS v FROM journey_stage_vitals WHERE ${inRange}`)
        .all() as Array<{ stage: string; name: string; v: number }>) {
        const k = `${row.stage}/${row.name}`;
        vitals.set(k, [...(vitals.get(k) ?? []), row.v]);
      }
      return {
        toNext: Object.fromEntries([...toNext].map(([s, vs]) => [s, nearestRank(vs, 0.5)])),
        vitals: Object.fromEntries([...vitals].map(([k, vs]) => [k, nearestRank(vs, 0.75)])),
      };
    };
    const actual = async (r: { from?: number; to?: number }) => {
      const agg = await store.stageAggregates('demo', r);
      const det = await store.stageDetails('demo', r, 5);
      return {
        toNext: Object.fromEntries(
          agg.stages.filter((s) => s.medianToNextMs !== null).map((s) => [s.stage, s.medianToNextMs]),
        ),
        vitals: Object.fromEntries(det.vitals.map((v) => [`${v.stage}/${v.name}`, v.p75])),
      };
    };
    let compared = 0;
    for (const r of ranges) {
      const want = expected(r);
      compared += Object.keys(want.vitals).length + Object.keys(want.toNext).length;
      expect(await actual(r), JSON.stringify(r)).toEqual(want);
    }
    expect(compared).toBeGreaterThan(40);
    // A database written before the histograms: the same answers, by walking the whole index.
    db.exec('DELETE FROM cohort_values');
    for (const r of ranges) expect(await actual(r), JSON.stringify(r)).toEqual(expected(r));
  });

  it('the migration backfills exactly the histograms ingest keeps', async () => {
    const { db } = await seed(150, mulberry32(11));
    const dump = () =>
      db.prepare('SELECT * FROM cohort_values WHERE n <> 0 ORDER BY site, name, stage, bucket, day').all();
    const kept = dump();
    expect(kept.length).toBeGreaterThan(100);
    db.exec('DELETE FROM cohort_values');
    const sql = readFileSync(join(MIGRATIONS_DIR, '0006_value_histograms.sql'), 'utf8');
    db.exec(sql.slice(sql.indexOf('INSERT INTO')));
    expect(dump()).toEqual(kept);
  });
});
