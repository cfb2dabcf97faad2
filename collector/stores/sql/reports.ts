/**
 * Reports in SQL (migration 0002): the ReportStore methods, aggregates over the derived tables and the rollups.
 *
 * Reports never read `events`: they aggregate `journeys` and the derived rows each journey write keeps exact, all
 * filtered on the cohort (`first_seen` / `cohort_at`) and served by covering indexes (migration 0002_*_indexes).
 * Medians and percentiles are nearest-rank: from small histograms (touches, sessions), or (time to next stage,
 * vitals) from the bucket histograms of migration 0006, which say in which bucket the ⌈p·n⌉-th value lies, and then
 * reading that entry from the bucket's range of a sorted index. No row list travels to the app.
 */
import { atRank, percentile, sortedHistogram } from '../../core/rank';
import type { DateRange, ReportStore, Segment, StageAggregate } from '../../core/store';
import { localDay } from '../../core/timezone';
import { bucketRange, bucketSql, splitRange, type RangeParts } from './rollups';
import { empty, join, query, raw, sql, within, type Sql, type SqlConnector } from './shared';

/**
 * Runs a report query over the whole days of the range (rollups, given `AND day >= … AND day <= …`) and over each
 * partial edge day (per-journey rows, given `AND col >= … AND col <= …`, `col` being their cohort column), and
 * concatenates the rows.
 */
const both = async <T>(
  parts: RangeParts,
  rollup: (days: Sql) => Promise<T[]>,
  perJourney: (range: Sql) => Promise<T[]>,
  col: string,
): Promise<T[]> => {
  const out: T[] = [];
  if (parts.days) {
    const from = parts.days.from !== null ? sql` AND day >= ${parts.days.from}` : empty;
    const to = parts.days.to !== null ? sql` AND day <= ${parts.days.to}` : empty;
    out.push(...(await rollup(sql`${from}${to}`)));
  }
  for (const r of parts.raw)
    out.push(...(await perJourney(sql` AND ${raw(col)} >= ${r.from} AND ${raw(col)} <= ${r.to}`)));
  return out;
};

/** Where the values of a quantile live: the per-journey table, its value column, and whether rows have a name. */
interface ValueSource {
  table: 'journey_stages' | 'journey_stage_vitals';
  col: 'to_next_ms' | 'value';
  named: boolean;
}
const TO_NEXT: ValueSource = { table: 'journey_stages', col: 'to_next_ms', named: false };
const VITALS: ValueSource = { table: 'journey_stage_vitals', col: 'value', named: true };

/**
 * Exact nearest-rank quantiles: for each wanted (stage, name), in order, the k-th smallest value (1-based) among the
 * `n` values of the cohort range (undefined: none). One query reads the bucket histograms of the range (whole days
 * from `cohort_values`, edge days grouped from the per-journey rows); then, per wanted value, one query reads the
 * k-th value inside its bucket only. Should the histograms not account for exactly `n` values (a database written
 * before them), the k-th value is read by walking the whole sorted index instead: slower, the same answer.
 */
const kthValues = async (
  db: SqlConnector,
  site: string,
  range: DateRange,
  src: ValueSource,
  wants: ReadonlyArray<{ stage: string; name: string; k: number; n: number }>,
): Promise<Array<number | undefined>> => {
  if (wants.length === 0) return [];
  const id = (stage: string, name: string) => JSON.stringify([stage, name]);
  type HistRow = { stage: string; name: string; bucket: number; n: number };
  const hist = new Map<string, Map<number, number>>();
  const col = raw(src.col);
  const table = raw(src.table);
  const rows = await both(
    splitRange(range, range.tz),
    (d) =>
      query<HistRow>(
        db,
        sql`SELECT stage, name, bucket, SUM(n) AS n FROM cohort_values WHERE site = ${site} AND name ${raw(src.named ? "<> ''" : "= ''")}${d}
         GROUP BY name, stage, bucket`,
      ),
    (r) =>
      query<HistRow>(
        db,
        sql`SELECT stage, ${raw(src.named ? 'name' : "''")} AS name, ${raw(bucketSql(src.col))} AS bucket, COUNT(*) AS n FROM ${table}
         WHERE site = ${site} AND ${col} IS NOT NULL${r} GROUP BY 1, 2, 3`,
      ),
    'cohort_at',
  );
  for (const r of rows) {
    const k = id(r.stage, r.name);
    let h = hist.get(k);
    if (!h) hist.set(k, (h = new Map()));
    h.set(r.bucket, (h.get(r.bucket) ?? 0) + r.n);
  }
  const sc = within('cohort_at', range);
  const out: Array<number | undefined> = [];
  if (range.detailsFrom !== undefined && (range.from === undefined || range.from < range.detailsFrom)) {
    // The range reaches into days without per-journey rows (retention): the k-th value's bucket, as its lower bound.
    for (const w of wants) {
      const at = atRank(sortedHistogram(hist.get(id(w.stage, w.name)) ?? new Map()), w.k);
      if (!at) out.push(undefined);
      else {
        const { lo, hi } = bucketRange(at.value);
        out.push(lo ?? hi ?? undefined);
      }
    }
    return out;
  }
  for (const w of wants) {
    const named = src.named ? sql` AND name = ${w.name}` : empty;
    const buckets = sortedHistogram(hist.get(id(w.stage, w.name)) ?? new Map());
    const at = buckets.reduce((t, [, n]) => t + n, 0) === w.n ? atRank(buckets, w.k) : null;
    let q: Sql;
    if (at) {
      const { value: b, before } = at;
      const { lo, hi } = bucketRange(b);
      // (A range excludes NULL; both ends are never open.)
      q = sql`SELECT ${col} AS v FROM ${table} WHERE site = ${site} AND stage = ${w.stage}${named}
        ${lo === null ? empty : sql` AND ${col} >= ${lo}`}${hi === null ? empty : sql` AND ${col} < ${hi}`}${sc}
        ORDER BY ${col} LIMIT 1 OFFSET ${w.k - before - 1}`;
    } else {
      q = sql`SELECT ${col} AS v FROM ${table} WHERE site = ${site} AND stage = ${w.stage}${named} AND ${col} IS NOT NULL${sc}
        ORDER BY ${col} LIMIT 1 OFFSET ${w.k - 1}`;
    }
    const [row] = await query<{ v: number }>(db, q);
    out.push(row?.v);
  }
  return out;
};

/** Sums the `fields` of rows with the same key; rows whose sums are all zero are dropped. */
const sumBy = <T extends object>(rows: readonly T[], key: (r: T) => unknown[], fields: ReadonlyArray<keyof T>): T[] => {
  const out = new Map<string, T>();
  for (const r of rows) {
    const k = JSON.stringify(key(r));
    const m = out.get(k);
    if (!m) out.set(k, { ...r });
    else for (const f of fields) (m[f] as number) = (m[f] as number) + (r[f] as number);
  }
  return [...out.values()].filter((r) => fields.some((f) => (r[f] as number) !== 0));
};

/** ` AND …` conditions of a segment on the journeys table (columns prefixed with `alias`), or nothing. */
const segmentSql = (alias: '' | 'j.', segment: Segment | undefined): Sql => {
  if (!segment) return empty;
  const parts: Sql[] = [];
  const col = (c: string) => raw(`${alias}${c}`);
  if (segment.firstChannel !== undefined) parts.push(sql` AND ${col('first_channel')} = ${segment.firstChannel}`);
  if (segment.lastChannel !== undefined) parts.push(sql` AND ${col('last_channel')} = ${segment.lastChannel}`);
  if (segment.device !== undefined) parts.push(sql` AND ${col('device')} = ${segment.device}`);
  if (segment.identified !== undefined)
    parts.push(segment.identified ? sql` AND ${col('user_id')} IS NOT NULL` : sql` AND ${col('user_id')} IS NULL`);
  return parts.length ? join(parts, '') : empty;
};

/** The first `top` rows of each group, in `order`. */
const topPerGroup = <T>(rows: T[], group: (r: T) => string, order: (a: T, b: T) => number, top: number): T[] => {
  const groups = new Map<string, T[]>();
  for (const r of rows) {
    const g = group(r);
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  }
  return [...groups.keys()].sort().flatMap((g) => groups.get(g)!.sort(order).slice(0, top));
};

/** The report methods of the Store over a connector. */
export const sqlReportStore = (db: SqlConnector): ReportStore => ({
  async stageAggregates(site, range) {
    const parts = splitRange(range, range.tz);
    // Journeys of the cohort: totals, current and furthest stages.
    const journeys = await both(
      parts,
      (d) =>
        query<{ current: string | null; furthest: string | null; converted: number; n: number }>(
          db,
          sql`SELECT NULLIF(current_stage, '') AS current, NULLIF(furthest_stage, '') AS furthest, converted, SUM(n) AS n
           FROM cohort_journeys WHERE site = ${site}${d} GROUP BY current_stage, furthest_stage, converted`,
        ),
      (r) =>
        query<{ current: string | null; furthest: string | null; converted: number; n: number }>(
          db,
          sql`SELECT current_stage AS current, furthest_stage AS furthest, converted, COUNT(*) AS n FROM journeys
           WHERE site = ${site}${r} GROUP BY current_stage, furthest_stage, converted`,
        ),
      'first_seen',
    );
    // Stage rows of the cohort: sums and the touches/sessions histograms.
    type StageRow = {
      stage: string;
      touches: number;
      sessions: number;
      n: number;
      e: number;
      fs: number;
      fc: number;
      nn: number;
    };
    const rows = await both(
      parts,
      (d) =>
        query<StageRow>(
          db,
          sql`SELECT stage, touches, sessions, SUM(n) AS n, SUM(entries) AS e, SUM(feedback_sum) AS fs, SUM(feedback_count) AS fc,
             SUM(to_next_n) AS nn
           FROM cohort_stages WHERE site = ${site}${d} GROUP BY stage, touches, sessions`,
        ),
      (r) =>
        query<StageRow>(
          db,
          sql`SELECT stage, touches, sessions, COUNT(*) AS n, SUM(entries) AS e, SUM(feedback_sum) AS fs,
             SUM(feedback_count) AS fc, COUNT(to_next_ms) AS nn
           FROM journey_stages WHERE site = ${site}${r} GROUP BY stage, touches, sessions`,
        ),
      'cohort_at',
    );
    type TransitionRow = { from: string; to: string; journeys: number; count: number };
    const transitionRows = await both(
      parts,
      (d) =>
        query<TransitionRow>(
          db,
          sql`SELECT from_stage AS "from", to_stage AS "to", SUM(journeys) AS journeys, SUM(count) AS count
           FROM cohort_transitions WHERE site = ${site}${d} GROUP BY from_stage, to_stage`,
        ),
      (r) =>
        query<TransitionRow>(
          db,
          sql`SELECT from_stage AS "from", to_stage AS "to", COUNT(*) AS journeys, SUM(count) AS count
           FROM journey_transitions WHERE site = ${site}${r} GROUP BY from_stage, to_stage`,
        ),
      'cohort_at',
    );
    const byMove = new Map<string, TransitionRow>();
    for (const t of transitionRows) {
      const k = JSON.stringify([t.from, t.to]);
      const m = byMove.get(k);
      if (m) {
        m.journeys += t.journeys;
        m.count += t.count;
      } else byMove.set(k, { ...t });
    }
    const transitions = [...byMove.values()].filter((t) => t.journeys > 0);
    let total = 0;
    let converted = 0;
    const current = new Map<string, number>();
    const furthest = new Map<string, number>();
    for (const r of journeys) {
      if (r.n === 0) continue; // a rollup row whose journeys all moved on
      total += r.n;
      if (r.converted) converted += r.n;
      if (r.current !== null) current.set(r.current, (current.get(r.current) ?? 0) + r.n);
      if (r.furthest !== null) furthest.set(r.furthest, (furthest.get(r.furthest) ?? 0) + r.n);
    }
    interface Acc {
      reached: number;
      entries: number;
      fs: number;
      fc: number;
      nn: number;
      touches: Map<number, number>;
      sessions: Map<number, number>;
    }
    const acc = new Map<string, Acc>();
    for (const r of rows) {
      if (r.n === 0) continue;
      let a = acc.get(r.stage);
      if (!a)
        acc.set(
          r.stage,
          (a = { reached: 0, entries: 0, fs: 0, fc: 0, nn: 0, touches: new Map(), sessions: new Map() }),
        );
      a.reached += r.n;
      a.entries += r.e;
      a.fs += r.fs;
      a.fc += r.fc;
      a.nn += r.nn;
      a.touches.set(r.touches, (a.touches.get(r.touches) ?? 0) + r.n);
      a.sessions.set(r.sessions, (a.sessions.get(r.sessions) ?? 0) + r.n);
    }
    // Median time to the next stage: the ⌈n/2⌉-th value.
    const timed = [...acc]
      .filter(([, a]) => a.nn > 0)
      .map(([stage, a]) => ({ stage, name: '', k: Math.ceil(a.nn / 2), n: a.nn }));
    const medians = await kthValues(db, site, range, TO_NEXT, timed);
    const toNext = new Map(timed.map((w, i) => [w.stage, medians[i]]));
    const names = new Set([...acc.keys(), ...current.keys(), ...furthest.keys()]);
    const out: StageAggregate[] = [...names].sort().map((stage) => {
      const a = acc.get(stage);
      return {
        stage,
        reached: a?.reached ?? 0,
        entries: a?.entries ?? 0,
        current: current.get(stage) ?? 0,
        furthest: furthest.get(stage) ?? 0,
        medianToNextMs: toNext.get(stage) ?? null,
        toNextSamples: a?.nn ?? 0,
        medianTouches: a ? percentile(sortedHistogram(a.touches), 0.5) : null,
        medianSessions: a ? percentile(sortedHistogram(a.sessions), 0.5) : null,
        feedbackSum: a?.fs ?? 0,
        feedbackCount: a?.fc ?? 0,
      };
    });
    return { journeys: total, converted, stages: out, transitions };
  },

  async stageDetails(site, range, top) {
    const parts = splitRange(range, range.tz);
    type ChannelRow = { stage: string; channel: string; journeys: number };
    const channelRows = await both(
      parts,
      (d) =>
        query<ChannelRow>(
          db,
          sql`SELECT stage, COALESCE(NULLIF(channel, ''), 'direct') AS channel, SUM(n) AS journeys FROM cohort_stages
           WHERE site = ${site}${d} GROUP BY stage, channel`,
        ),
      (r) =>
        query<ChannelRow>(
          db,
          sql`SELECT stage, COALESCE(channel, 'direct') AS channel, COUNT(*) AS journeys FROM journey_stages
           WHERE site = ${site}${r} GROUP BY stage, COALESCE(channel, 'direct')`,
        ),
      'cohort_at',
    );
    type ItemRow = { stage: string; kind: 'page' | 'event'; item: string; count: number; journeys: number };
    const itemRows = await both(
      parts,
      (d) =>
        query<ItemRow>(
          db,
          sql`SELECT stage, kind, item, SUM(count) AS count, SUM(journeys) AS journeys FROM cohort_items
           WHERE site = ${site}${d} GROUP BY stage, kind, item`,
        ),
      (r) =>
        query<ItemRow>(
          db,
          sql`SELECT stage, kind, item, SUM(count) AS count, COUNT(*) AS journeys FROM journey_stage_items
           WHERE site = ${site}${r} GROUP BY stage, kind, item`,
        ),
      'cohort_at',
    );
    const channels = topPerGroup(
      sumBy(channelRows, (r) => [r.stage, r.channel], ['journeys']),
      (r) => r.stage,
      (a, b) => b.journeys - a.journeys || (a.channel < b.channel ? -1 : 1),
      top,
    );
    const items = topPerGroup(
      sumBy(itemRows, (r) => [r.stage, r.kind, r.item], ['count', 'journeys']),
      (r) => `${r.stage}\u0000${r.kind}`,
      (a, b) => b.count - a.count || b.journeys - a.journeys || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0),
      top,
    );
    // p75 of each vital per stage: the ⌈3n/4⌉-th value.
    type CountRow = { stage: string; name: string; n: number };
    const counts = sumBy(
      await both(
        parts,
        (d) =>
          query<CountRow>(
            db,
            sql`SELECT stage, name, SUM(n) AS n FROM cohort_vitals WHERE site = ${site}${d} GROUP BY stage, name`,
          ),
        (r) =>
          query<CountRow>(
            db,
            sql`SELECT stage, name, COUNT(*) AS n FROM journey_stage_vitals WHERE site = ${site}${r} GROUP BY stage, name`,
          ),
        'cohort_at',
      ),
      (r) => [r.stage, r.name],
      ['n'],
    );
    const p75 = await kthValues(
      db,
      site,
      range,
      VITALS,
      counts.map((c) => ({ stage: c.stage, name: c.name, k: Math.ceil((3 * c.n) / 4), n: c.n })),
    );
    const vitals: Array<{ stage: string; name: string; p75: number; samples: number }> = [];
    counts.forEach((c, i) => {
      const v = p75[i];
      if (v !== undefined) vitals.push({ stage: c.stage, name: c.name, p75: v, samples: c.n });
    });
    vitals.sort((a, b) => (a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : a.name < b.name ? -1 : 1));
    return { channels, items, vitals };
  },

  async conversionCounts(site, range, window) {
    type Row = { channel: string | null; touches: number; sessions: number; journeys: number };
    if (window) {
      // Within a window: per journey (the rollups do not keep conversion times).
      const rows = await query<Row>(
        db,
        sql`SELECT first_channel AS channel, conv_touches AS touches, conv_sessions AS sessions, COUNT(*) AS journeys
         FROM journeys WHERE site = ${site}${within('first_seen', range)} AND converted = 1 AND conv_touches IS NOT NULL
           AND converted_at - first_seen <= ${window.withinMs}
         GROUP BY first_channel, conv_touches, conv_sessions`,
      );
      return sumBy(rows, (r) => [r.channel, r.touches, r.sessions], ['journeys']);
    }
    const rows = await both(
      splitRange(range, range.tz),
      (d) =>
        query<Row>(
          db,
          sql`SELECT NULLIF(first_channel, '') AS channel, conv_touches AS touches, conv_sessions AS sessions, SUM(n) AS journeys
           FROM cohort_journeys WHERE site = ${site}${d} AND converted = 1 GROUP BY first_channel, conv_touches, conv_sessions`,
        ),
      (r) =>
        query<Row>(
          db,
          sql`SELECT first_channel AS channel, conv_touches AS touches, conv_sessions AS sessions, COUNT(*) AS journeys
           FROM journeys WHERE site = ${site}${r} AND converted = 1 AND conv_touches IS NOT NULL
           GROUP BY first_channel, conv_touches, conv_sessions`,
        ),
      'first_seen',
    );
    return sumBy(rows, (r) => [r.channel, r.touches, r.sessions], ['journeys']);
  },

  async hasCohortsBefore(site, before, tz) {
    const day = localDay(before, tz ?? 'UTC');
    const [row] = await query<{ n: number }>(
      db,
      sql`SELECT 1 AS n FROM cohort_journeys WHERE site = ${site} AND day < ${day} AND n <> 0 LIMIT 1`,
    );
    return row !== undefined;
  },

  async conversionTimesByDevice(site, range) {
    const counts = await query<{ device: string | null; n: number }>(
      db,
      sql`SELECT device, COUNT(*) AS n FROM journeys WHERE site = ${site}${within('first_seen', range)} GROUP BY device`,
    );
    const rows = await query<{ device: string | null; t: number }>(
      db,
      sql`SELECT device, converted_at - first_seen AS t FROM journeys
       WHERE site = ${site}${within('first_seen', range)} AND converted = 1 AND converted_at IS NOT NULL ORDER BY t`,
    );
    const out = new Map(counts.map((c) => [c.device, { device: c.device, journeys: c.n, times: [] as number[] }]));
    for (const r of rows) out.get(r.device)?.times.push(r.t);
    return [...out.values()];
  },

  async conversionTimes(site, range, since, segment) {
    if (since === undefined) {
      const seg = segmentSql('', segment);
      const [count] = await query<{ n: number }>(
        db,
        sql`SELECT COUNT(*) AS n FROM journeys WHERE site = ${site}${within('first_seen', range)}${seg}`,
      );
      const rows = await query<{ t: number }>(
        db,
        sql`SELECT converted_at - first_seen AS t FROM journeys
         WHERE site = ${site}${within('first_seen', range)}${seg} AND converted = 1 AND converted_at IS NOT NULL
         ORDER BY t`,
      );
      return { journeys: count?.n ?? 0, times: rows.map((r) => r.t) };
    }
    const seg = segmentSql('j.', segment);
    const [count] = await query<{ n: number }>(
      db,
      seg === empty
        ? sql`SELECT COUNT(*) AS n FROM journey_stages WHERE site = ${site} AND stage = ${since}${within('cohort_at', range)}`
        : sql`SELECT COUNT(*) AS n FROM journey_stages s CROSS JOIN journeys j
           WHERE s.site = ${site} AND s.stage = ${since}${within('s.cohort_at', range)}
             AND j.site = s.site AND j.key = s.key${seg}`,
    );
    const rows = await query<{ t: number }>(
      db,
      sql`SELECT j.converted_at - s.first_at AS t FROM journey_stages s CROSS JOIN journeys j
       WHERE s.site = ${site} AND s.stage = ${since}${within('s.cohort_at', range)}
         AND j.site = s.site AND j.key = s.key${seg} AND j.converted = 1 AND j.converted_at >= s.first_at
       ORDER BY t`,
    );
    return { journeys: count?.n ?? 0, times: rows.map((r) => r.t) };
  },

  async lifecycleAggregates(site, range) {
    type Row = { purchases: number; bucket: number; converted: number; returned: number; n: number };
    const rows = await both(
      splitRange(range, range.tz),
      (d) =>
        query<Row>(
          db,
          sql`SELECT purchases, second_bucket AS bucket, converted, returned, SUM(n) AS n FROM cohort_lifecycle
           WHERE site = ${site}${d} GROUP BY purchases, second_bucket, converted, returned`,
        ),
      (r) =>
        query<Row>(
          db,
          sql`SELECT purchases, COALESCE(${raw(bucketSql('second_purchase_ms'))}, -2) AS bucket, converted, returned,
             COUNT(*) AS n
           FROM journeys WHERE site = ${site}${r} AND purchases IS NOT NULL AND (purchases > 0 OR converted = 1)
           GROUP BY 1, 2, 3, 4`,
        ),
      'first_seen',
    );
    let customers = 0;
    let repeatCustomers = 0;
    let purchases = 0;
    let converted = 0;
    let returned = 0;
    const hist = new Map<number, number>();
    for (const r of rows) {
      if (r.n === 0) continue;
      if (r.purchases > 0) customers += r.n;
      if (r.purchases > 1) repeatCustomers += r.n;
      purchases += r.purchases * r.n;
      if (r.converted) converted += r.n;
      if (r.returned) returned += r.n;
      if (r.bucket !== -2) hist.set(r.bucket, (hist.get(r.bucket) ?? 0) + r.n);
    }
    // The median time to the second purchase: the ⌈n/2⌉-th value, read inside its bucket from the sorted index.
    let medianToSecondPurchaseMs: number | null = null;
    if (repeatCustomers > 0) {
      const k = Math.ceil(repeatCustomers / 2);
      const buckets = sortedHistogram(hist);
      const at = buckets.reduce((t, [, n]) => t + n, 0) === repeatCustomers ? atRank(buckets, k) : null;
      const sc = within('first_seen', range);
      if (at && range.detailsFrom !== undefined && (range.from === undefined || range.from < range.detailsFrom)) {
        // Past a retention horizon the journeys may be gone: the median's bucket, as its lower bound (as kthValues).
        const { lo, hi } = bucketRange(at.value);
        return {
          customers,
          repeatCustomers,
          purchases,
          medianToSecondPurchaseMs: lo ?? hi,
          converted,
          returned,
        };
      }
      let q: Sql;
      if (at) {
        const { lo, hi } = bucketRange(at.value);
        q = sql`SELECT second_purchase_ms AS v FROM journeys WHERE site = ${site}
          ${lo === null ? empty : sql` AND second_purchase_ms >= ${lo}`}${hi === null ? empty : sql` AND second_purchase_ms < ${hi}`}${sc}
          ORDER BY second_purchase_ms LIMIT 1 OFFSET ${k - at.before - 1}`;
      } else {
        q = sql`SELECT second_purchase_ms AS v FROM journeys WHERE site = ${site} AND second_purchase_ms IS NOT NULL${sc}
          ORDER BY second_purchase_ms LIMIT 1 OFFSET ${k - 1}`;
      }
      const [row] = await query<{ v: number }>(db, q);
      medianToSecondPurchaseMs = row?.v ?? null;
    }
    return { customers, repeatCustomers, purchases, medianToSecondPurchaseMs, converted, returned };
  },

  async retentionCounts(site, fromWeek, toWeek, weeks) {
    const rows = await query<{ week: string; offset: number; journeys: number }>(
      db,
      sql`SELECT week, week_offset AS "offset", n AS journeys FROM cohort_retention
       WHERE site = ${site} AND week >= ${fromWeek} AND week <= ${toWeek} AND week_offset <= ${weeks} AND n <> 0
       ORDER BY week, week_offset`,
    );
    return rows;
  },
});
