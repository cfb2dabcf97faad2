/**
 * Performance by construction, checked with EXPLAIN QUERY PLAN on every statement the reads issue:
 * - reading one visitor's journey only SEARCHes through indexes (its cost does not depend on the database size);
 * - funnel, journey map and touches never touch the raw `events` table.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import { funnel, journeyMap, lifecycle, retention, touches, visitorDetail } from '../../collector/core/reports';
import { defaultSiteConfig } from '../../collector/core/stages';
import { createSqlStore, type SqlConnector, type SqlValue } from '../../collector/stores/sql';
import { openSqlite, sqliteConnector } from '../../collector/stores/sqlite';

const db = openSqlite(':memory:');
const base = sqliteConnector(db);
let log: Array<{ sql: string; params: readonly SqlValue[] }> = [];
const recording: SqlConnector = {
  all: (sql, params = []) => {
    log.push({ sql, params });
    return base.all(sql, params);
  },
  batch: (s) => base.batch(s),
};
const store = createSqlStore(recording);
const site = defaultSiteConfig('demo');
const life = defaultSiteConfig('life');
const T = Date.UTC(2026, 0, 1);

const plan = (sql: string, params: readonly SqlValue[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);

beforeAll(async () => {
  await store.putSite(site);
  for (let v = 0; v < 40; v++) {
    const events = Array.from({ length: 6 }, (_, i) => ({
      id: `v${v}e${i}`,
      type: 'page' as const,
      ts: T + v * 1000 + i * 60_000,
      url: `https://shop.test${['/', '/signup', '/cart', '/checkout', '/cart', '/thank-you'][i]}`,
    }));
    const vital = { id: `v${v}lcp`, type: 'vital' as const, ts: T + v * 1000 + 1, name: 'LCP', value: 900 + v * 37.5 };
    await ingest(store, site, `v${v}`, [...events.slice(0, 2 + (v % 5)), vital], T + 86400_000);
  }
  // Another site whose customers buy again (the lifecycle numbers), days apart.
  await store.putSite(life);
  for (let v = 0; v < 30; v++) {
    const t = T + v * 3 * 3600_000;
    const buys = Array.from({ length: 1 + (v % 3) }, (_, i) => ({
      id: `l${v}b${i}`,
      type: 'event' as const,
      ts: t + 60_000 + i * (v + 1) * 86400_000,
      name: 'purchase',
    }));
    await ingest(
      store,
      life,
      `l${v}`,
      [{ id: `l${v}p`, type: 'page', ts: t, url: 'https://shop.test/' }, ...buys],
      T + 90 * 86400_000,
    );
  }
});

/** Plans are checked twice: as the collector runs (it never runs ANALYZE, so the planner has no statistics) and
 * with statistics. Without them SQLite may pick an index that only serves the ORDER BY and walks every row. */
const withAndWithoutStats = (check: () => Promise<void> | void) => async () => {
  db.exec('DROP TABLE IF EXISTS sqlite_stat1; DROP TABLE IF EXISTS sqlite_stat4; ANALYZE sqlite_schema;');
  await check();
  db.exec('ANALYZE');
  await check();
};

describe('query plans', () => {
  it(
    'one visitor: index searches only',
    withAndWithoutStats(async () => {
      log = [];
      expect(await visitorDetail(store, site, 'v7')).not.toBeNull();
      expect(log.length).toBeGreaterThan(0);
      for (const q of log) {
        const lines = plan(q.sql, q.params);
        for (const line of lines) {
          expect(line, q.sql).not.toMatch(/^SCAN (events|journeys|visitors)\b/);
          // A search on the site alone would read every row of the site: each lookup pins a visitor or a journey.
          if (/^SEARCH (events|journeys|visitors)\b/.test(line)) expect(line, q.sql).toMatch(/\(site=\? AND \w+=\?/);
        }
        if (/FROM events/.test(q.sql))
          expect(lines.join('\n'), q.sql).toMatch(/SEARCH events USING INDEX events_by_visitor/);
      }
    }),
  );

  it(
    'visitors search by id prefix: index ranges, never a scan of journeys or visitors',
    withAndWithoutStats(async () => {
      log = [];
      const page = await store.listVisitors('demo', { q: 'v1', limit: 50 });
      expect(page.visitors.map((v) => v.visitor).sort()).toEqual(
        ['v1', ...Array.from({ length: 10 }, (_, i) => `v1${i}`)].sort(),
      );
      expect(log.length).toBeGreaterThan(0);
      for (const q of log) {
        for (const line of plan(q.sql, q.params)) {
          expect(line, q.sql).not.toMatch(/^SCAN (journeys|visitors)\b/);
          // A search on the site alone (e.g. walking journeys_by_last_seen and filtering) reads every journey.
          if (/^SEARCH (journeys|visitors)\b/.test(line)) expect(line, q.sql).toMatch(/\(site=\? AND \w+[=>]\?/);
        }
      }
    }),
  );

  it(
    'funnel, journey map, touches: never the events table',
    withAndWithoutStats(async () => {
      log = [];
      await funnel(store, site, {});
      await journeyMap(store, site, { from: T, to: T + 86400_000 });
      await touches(store, site, {});
      expect(log.length).toBeGreaterThan(5);
      for (const q of log) {
        expect(q.sql).not.toMatch(/\bevents\b(?!_)/);
        for (const line of plan(q.sql, q.params)) expect(line, q.sql).not.toMatch(/\bevents\b(?! *\))/);
      }
    }),
  );

  it(
    'quantiles read one bucket of a covering index, located by the histogram rollup',
    withAndWithoutStats(() => {
      const reads = log.filter((q) => /LIMIT 1 OFFSET/.test(q.sql) && !/second_purchase_ms/.test(q.sql));
      expect(reads.map((q) => q.sql.match(/SELECT (\w+) AS v/)?.[1]).sort()).toEqual(
        expect.arrayContaining(['to_next_ms', 'value']),
      );
      for (const q of reads) {
        expect(plan(q.sql, q.params).join('\n'), q.sql).toMatch(
          /SEARCH \w+ USING COVERING INDEX (journey_stages_to_next|journey_stage_vitals_by_value) \(site=\? AND stage=\?( AND name=\?)? AND (to_next_ms|value)>\? AND \3<\?\)/,
        );
      }
      const hist = log.filter((q) => /FROM cohort_values/.test(q.sql));
      expect(hist.length).toBeGreaterThan(0);
      for (const q of hist) {
        const p = plan(q.sql, q.params).join('\n');
        expect(p, q.sql).toMatch(/^SEARCH cohort_values USING PRIMARY KEY \(site=\?/);
        expect(p, q.sql).not.toMatch(/TEMP B-TREE/);
      }
    }),
  );
  it(
    'lifecycle and retention: rollup key ranges, partial days by the cohort index, the median in one bucket',
    withAndWithoutStats(async () => {
      log = [];
      const all = await lifecycle(store, life, {});
      expect(all.repeatCustomers).toBe(20);
      const part = await lifecycle(store, life, { from: T + 3600_000, to: T + 2 * 86400_000 + 3600_000 });
      expect(part.customers).toBeGreaterThan(0);
      expect((await retention(store, life, {}, 12, T + 90 * 86400_000)).cohorts.length).toBeGreaterThan(0);
      for (const q of log) {
        const p = plan(q.sql, q.params).join('\n');
        expect(p, q.sql).not.toMatch(/^SCAN /m);
        expect(q.sql).not.toMatch(/\bevents\b(?!_)/);
        if (/FROM cohort_(lifecycle|retention)/.test(q.sql))
          expect(p, q.sql).toMatch(
            /^SEARCH cohort_(lifecycle|retention) USING PRIMARY KEY \(site=\?( AND (day|week)>\?)?/,
          );
        if (/FROM journeys/.test(q.sql) && /GROUP BY/.test(q.sql))
          expect(p, q.sql).toMatch(
            /SEARCH journeys USING INDEX journeys_by_cohort\w* \(site=\? AND first_seen>\? AND first_seen<\?\)/,
          );
      }
      const reads = log.filter((q) => /LIMIT 1 OFFSET/.test(q.sql));
      expect(reads.length).toBe(2);
      for (const q of reads)
        expect(plan(q.sql, q.params).join('\n'), q.sql).toMatch(
          /SEARCH journeys USING COVERING INDEX journeys_second_purchase \(site=\? AND second_purchase_ms>\? AND second_purchase_ms<\?\)/,
        );
    }),
  );
});
