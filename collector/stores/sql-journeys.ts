/**
 * Journeys and privacy in SQL (migration 0002): the report aggregates over the derived tables, cardinality bounds,
 * ingest counters, tombstones, erasure, refold bookkeeping and the export pages. Spread into `createSqlStore`, so
 * every driver (better-sqlite3, D1) runs the same statements.
 *
 * Reports never read `events`: they aggregate `journeys` and the derived rows each journey write keeps exact, all
 * filtered on the cohort (`first_seen` / `cohort_at`) and served by covering indexes (migration 0002_*_indexes).
 * Medians and percentiles are nearest-rank: from small histograms (touches, sessions), or (time to next stage,
 * vitals) from the bucket histograms of migration 0006, which say in which bucket the ⌈p·n⌉-th value lies, and then
 * reading that entry from the bucket's range of a sorted index. No row list travels to the app.
 */
import { atRank, percentile, sortedHistogram } from '../core/rank';
import type { CounterName, DateRange, NameEntry, StageAggregate, Store, TimelineEvent } from '../core/store';
import { chunks, storedStates, type SqlConnector, type SqlStatement, type SqlValue } from './sql';
import { bucketRange, bucketSql, rollupStatements, splitRange, type RangeParts } from './sql-rollups';
import { eraseAutomationStatements } from './sql-automation';

type JourneyMethods = Pick<
  Store,
  | 'stageAggregates'
  | 'stageDetails'
  | 'conversionCounts'
  | 'knownNames'
  | 'getCounters'
  | 'addCounters'
  | 'listMeta'
  | 'deleteMeta'
  | 'tombstoned'
  | 'erase'
  | 'staleJourneys'
  | 'exportEvents'
>;

const marks = (n: number) => Array.from({ length: n }, () => '?').join(',');
const q = (sql: string, ...params: SqlValue[]): SqlStatement => ({ sql, params });

/**
 * `AND col >= ? AND col <= ?`. Both bounds are always bound (open ends as ±2^53) so the planner picks the cohort
 * indexes, which cover the report queries.
 */
const within = (col: string, range: DateRange): { sql: string; params: SqlValue[] } => ({
  sql: ` AND ${col} >= ? AND ${col} <= ?`,
  params: [range.from ?? -Number.MAX_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER],
});

export const insertName = (site: string, n: NameEntry): SqlStatement =>
  q('INSERT OR IGNORE INTO site_names (site, kind, name) VALUES (?, ?, ?)', site, n.kind, n.name);

export const addCounter = (site: string, day: string, name: CounterName, value: number): SqlStatement =>
  q(
    `INSERT INTO site_counters (site, day, name, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (site, day, name) DO UPDATE SET value = value + excluded.value`,
    site,
    day,
    name,
    value,
  );

type Bound = { sql: string; params: SqlValue[] };

/**
 * Runs a report query over the whole days of the range (rollups) and over each partial edge day (per-journey rows,
 * `col` being their cohort column), and concatenates the rows.
 */
const both = async <T>(
  parts: RangeParts,
  rollup: (days: Bound) => Promise<T[]>,
  raw: (range: Bound) => Promise<T[]>,
  col: string,
): Promise<T[]> => {
  const out: T[] = [];
  if (parts.days) {
    let sql = '';
    const params: SqlValue[] = [];
    if (parts.days.from !== null) {
      sql += ' AND day >= ?';
      params.push(parts.days.from);
    }
    if (parts.days.to !== null) {
      sql += ' AND day <= ?';
      params.push(parts.days.to);
    }
    out.push(...(await rollup({ sql, params })));
  }
  for (const r of parts.raw)
    out.push(...(await raw({ sql: ` AND ${col} >= ? AND ${col} <= ?`, params: [r.from, r.to] })));
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
 * `n` values of the cohort range (undefined: none). One query reads the bucket histograms of the range (whole days from `cohort_values`, edge days
 * grouped from the per-journey rows); then, per wanted value, one query reads the k-th value inside its bucket only.
 * Should the histograms not account for exactly `n` values (a database written before them), the k-th value is read
 * by walking the whole sorted index instead: slower, the same answer.
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
  const rows = await both(
    splitRange(range),
    (d) =>
      db.all<HistRow>(
        `SELECT stage, name, bucket, SUM(n) AS n FROM cohort_values WHERE site = ? AND name ${src.named ? "<> ''" : "= ''"}${d.sql}
         GROUP BY name, stage, bucket`,
        [site, ...d.params],
      ),
    (r) =>
      db.all<HistRow>(
        `SELECT stage, ${src.named ? 'name' : "''"} AS name, ${bucketSql(src.col)} AS bucket, COUNT(*) AS n FROM ${src.table}
         WHERE site = ? AND ${src.col} IS NOT NULL${r.sql} GROUP BY 1, 2, 3`,
        [site, ...r.params],
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
  for (const w of wants) {
    const named = src.named ? ' AND name = ?' : '';
    const key = [site, w.stage, ...(src.named ? [w.name] : [])];
    const buckets = sortedHistogram(hist.get(id(w.stage, w.name)) ?? new Map());
    const at = buckets.reduce((t, [, n]) => t + n, 0) === w.n ? atRank(buckets, w.k) : null;
    let sql: string;
    let params: SqlValue[];
    if (at) {
      const { value: b, before } = at;
      const { lo, hi } = bucketRange(b);
      // (A range excludes NULL; both ends are never open.)
      sql = `SELECT ${src.col} AS v FROM ${src.table} WHERE site = ? AND stage = ?${named}
        ${lo === null ? '' : ` AND ${src.col} >= ?`}${hi === null ? '' : ` AND ${src.col} < ?`}${sc.sql}
        ORDER BY ${src.col} LIMIT 1 OFFSET ?`;
      params = [...key, ...(lo === null ? [] : [lo]), ...(hi === null ? [] : [hi]), ...sc.params, w.k - before - 1];
    } else {
      sql = `SELECT ${src.col} AS v FROM ${src.table} WHERE site = ? AND stage = ?${named} AND ${src.col} IS NOT NULL${sc.sql}
        ORDER BY ${src.col} LIMIT 1 OFFSET ?`;
      params = [...key, ...sc.params, w.k - 1];
    }
    const [row] = await db.all<{ v: number }>(sql, params);
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

export const sqlJourneyMethods = (db: SqlConnector): JourneyMethods => ({
  async stageAggregates(site, range) {
    const parts = splitRange(range);
    // Journeys of the cohort: totals, current and furthest stages.
    const journeys = await both(
      parts,
      (d) =>
        db.all<{ current: string | null; furthest: string | null; converted: number; n: number }>(
          `SELECT NULLIF(current_stage, '') AS current, NULLIF(furthest_stage, '') AS furthest, converted, SUM(n) AS n
           FROM cohort_journeys WHERE site = ?${d.sql} GROUP BY current_stage, furthest_stage, converted`,
          [site, ...d.params],
        ),
      (r) =>
        db.all<{ current: string | null; furthest: string | null; converted: number; n: number }>(
          `SELECT current_stage AS current, furthest_stage AS furthest, converted, COUNT(*) AS n FROM journeys
           WHERE site = ?${r.sql} GROUP BY current_stage, furthest_stage, converted`,
          [site, ...r.params],
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
        db.all<StageRow>(
          `SELECT stage, touches, sessions, SUM(n) AS n, SUM(entries) AS e, SUM(feedback_sum) AS fs, SUM(feedback_count) AS fc,
             SUM(to_next_n) AS nn
           FROM cohort_stages WHERE site = ?${d.sql} GROUP BY stage, touches, sessions`,
          [site, ...d.params],
        ),
      (r) =>
        db.all<StageRow>(
          `SELECT stage, touches, sessions, COUNT(*) AS n, SUM(entries) AS e, SUM(feedback_sum) AS fs,
             SUM(feedback_count) AS fc, COUNT(to_next_ms) AS nn
           FROM journey_stages WHERE site = ?${r.sql} GROUP BY stage, touches, sessions`,
          [site, ...r.params],
        ),
      'cohort_at',
    );
    type TransitionRow = { from: string; to: string; journeys: number; count: number };
    const transitionRows = await both(
      parts,
      (d) =>
        db.all<TransitionRow>(
          `SELECT from_stage AS "from", to_stage AS "to", SUM(journeys) AS journeys, SUM(count) AS count
           FROM cohort_transitions WHERE site = ?${d.sql} GROUP BY from_stage, to_stage`,
          [site, ...d.params],
        ),
      (r) =>
        db.all<TransitionRow>(
          `SELECT from_stage AS "from", to_stage AS "to", COUNT(*) AS journeys, SUM(count) AS count
           FROM journey_transitions WHERE site = ?${r.sql} GROUP BY from_stage, to_stage`,
          [site, ...r.params],
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
    const parts = splitRange(range);
    type ChannelRow = { stage: string; channel: string; journeys: number };
    const channelRows = await both(
      parts,
      (d) =>
        db.all<ChannelRow>(
          `SELECT stage, COALESCE(NULLIF(channel, ''), 'direct') AS channel, SUM(n) AS journeys FROM cohort_stages
           WHERE site = ?${d.sql} GROUP BY stage, channel`,
          [site, ...d.params],
        ),
      (r) =>
        db.all<ChannelRow>(
          `SELECT stage, COALESCE(channel, 'direct') AS channel, COUNT(*) AS journeys FROM journey_stages
           WHERE site = ?${r.sql} GROUP BY stage, COALESCE(channel, 'direct')`,
          [site, ...r.params],
        ),
      'cohort_at',
    );
    type ItemRow = { stage: string; kind: 'page' | 'event'; item: string; count: number; journeys: number };
    const itemRows = await both(
      parts,
      (d) =>
        db.all<ItemRow>(
          `SELECT stage, kind, item, SUM(count) AS count, SUM(journeys) AS journeys FROM cohort_items
           WHERE site = ?${d.sql} GROUP BY stage, kind, item`,
          [site, ...d.params],
        ),
      (r) =>
        db.all<ItemRow>(
          `SELECT stage, kind, item, SUM(count) AS count, COUNT(*) AS journeys FROM journey_stage_items
           WHERE site = ?${r.sql} GROUP BY stage, kind, item`,
          [site, ...r.params],
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
          db.all<CountRow>(
            `SELECT stage, name, SUM(n) AS n FROM cohort_vitals WHERE site = ?${d.sql} GROUP BY stage, name`,
            [site, ...d.params],
          ),
        (r) =>
          db.all<CountRow>(
            `SELECT stage, name, COUNT(*) AS n FROM journey_stage_vitals WHERE site = ?${r.sql} GROUP BY stage, name`,
            [site, ...r.params],
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

  async conversionCounts(site, range) {
    type Row = { channel: string | null; touches: number; sessions: number; journeys: number };
    const rows = await both(
      splitRange(range),
      (d) =>
        db.all<Row>(
          `SELECT NULLIF(first_channel, '') AS channel, conv_touches AS touches, conv_sessions AS sessions, SUM(n) AS journeys
           FROM cohort_journeys WHERE site = ?${d.sql} AND converted = 1 GROUP BY first_channel, conv_touches, conv_sessions`,
          [site, ...d.params],
        ),
      (r) =>
        db.all<Row>(
          `SELECT first_channel AS channel, conv_touches AS touches, conv_sessions AS sessions, COUNT(*) AS journeys
           FROM journeys WHERE site = ?${r.sql} AND converted = 1 AND conv_touches IS NOT NULL
           GROUP BY first_channel, conv_touches, conv_sessions`,
          [site, ...r.params],
        ),
      'first_seen',
    );
    return sumBy(rows, (r) => [r.channel, r.touches, r.sessions], ['journeys']);
  },

  async knownNames(site, kind, names) {
    const known = new Set<string>();
    for (const part of chunks(names)) {
      const rows = await db.all<{ name: string }>(
        `SELECT name FROM site_names WHERE site = ? AND kind = ? AND name IN (${marks(part.length)})`,
        [site, kind, ...part],
      );
      for (const r of rows) known.add(r.name);
    }
    const [count] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM site_names WHERE site = ? AND kind = ?', [
      site,
      kind,
    ]);
    return { known, total: count?.n ?? 0 };
  },

  async getCounters(site, fromDay, toDay) {
    const params: SqlValue[] = [site];
    let sql = 'SELECT day, name, value FROM site_counters WHERE site = ?';
    if (fromDay !== undefined) {
      sql += ' AND day >= ?';
      params.push(fromDay);
    }
    if (toDay !== undefined) {
      sql += ' AND day <= ?';
      params.push(toDay);
    }
    return db.all<{ day: string; name: CounterName; value: number }>(`${sql} ORDER BY day, name`, params);
  },

  async addCounters(site, counters) {
    if (counters.length > 0) await db.batch(counters.map((c) => addCounter(site, c.day, c.name, c.value)));
  },

  async listMeta(prefix) {
    return db.all<{ key: string; value: string }>(
      "SELECT key, value FROM meta WHERE key LIKE ? ESCAPE '\\' ORDER BY key",
      [`${prefix.replace(/[\\%_]/g, (m) => `\\${m}`)}%`],
    );
  },

  async deleteMeta(keys) {
    const statements = chunks(keys).map((part) => q(`DELETE FROM meta WHERE key IN (${marks(part.length)})`, ...part));
    if (statements.length > 0) await db.batch(statements);
  },

  async tombstoned(site, hashes) {
    const out = new Set<string>();
    for (const part of chunks(hashes)) {
      const rows = await db.all<{ hash: string }>(
        `SELECT hash FROM tombstones WHERE site = ? AND hash IN (${marks(part.length)})`,
        [site, ...part],
      );
      for (const r of rows) out.add(r.hash);
    }
    return out;
  },

  async erase(site, journey, visitors, hashes, at) {
    let events = 0;
    const statements: SqlStatement[] = [];
    const keys = [...new Set([journey, ...visitors])];
    for (const part of chunks(visitors)) {
      const [row] = await db.all<{ n: number }>(
        `SELECT COUNT(*) AS n FROM events WHERE site = ? AND visitor IN (${marks(part.length)})`,
        [site, ...part],
      );
      events += row?.n ?? 0;
      statements.push(q(`DELETE FROM events WHERE site = ? AND visitor IN (${marks(part.length)})`, site, ...part));
      statements.push(q(`DELETE FROM visitors WHERE site = ? AND visitor IN (${marks(part.length)})`, site, ...part));
      statements.push(...eraseAutomationStatements(site, part)); // stalls and deliveries carry the journey too
    }
    const states = await storedStates(db, site, keys);
    for (const state of states.values()) statements.push(...rollupStatements(site, state, null));
    for (const part of chunks(keys)) {
      for (const t of [
        'journeys',
        'journey_stages',
        'journey_transitions',
        'journey_stage_items',
        'journey_stage_vitals',
      ]) {
        statements.push(q(`DELETE FROM ${t} WHERE site = ? AND key IN (${marks(part.length)})`, site, ...part));
      }
    }
    for (const h of hashes)
      statements.push(q('INSERT OR IGNORE INTO tombstones (site, hash, deleted_at) VALUES (?, ?, ?)', site, h, at));
    await db.batch(statements);
    return events;
  },

  async staleJourneys(site, revision, limit) {
    const rows = await db.all<{ key: string }>('SELECT key FROM journeys WHERE site = ? AND revision < ? LIMIT ?', [
      site,
      revision,
      limit,
    ]);
    const [count] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM journeys WHERE site = ? AND revision < ?', [
      site,
      revision,
    ]);
    return { keys: rows.map((r) => r.key), pending: count?.n ?? 0 };
  },

  async exportEvents(site, after, limit, range) {
    const tc = within('ts', range);
    const rows = await db.all<Record<string, SqlValue>>(
      `SELECT rowid AS pos, id, visitor, type, ts, received_at, name, stage, url, referrer, title, user_id, value, props,
         channel, synthetic, device
       FROM events WHERE rowid > ? AND site = ?${tc.sql} ORDER BY rowid LIMIT ?`,
      [after, site, ...tc.params, limit],
    );
    const events = rows.map((r): TimelineEvent => {
      const e: TimelineEvent = {
        id: r.id as string,
        visitor: r.visitor as string,
        type: r.type as string,
        ts: r.ts as number,
        receivedAt: r.received_at as number,
      };
      if (r.url !== null) e.url = r.url as string;
      if (r.referrer !== null) e.referrer = r.referrer as string;
      if (r.title !== null) e.title = r.title as string;
      if (r.name !== null) e.name = r.name as string;
      if (r.stage !== null) e.stage = r.stage as string;
      if (r.user_id !== null) e.userId = r.user_id as string;
      if (r.value !== null) e.value = r.value as number;
      if (r.props !== null) e.props = JSON.parse(r.props as string) as TimelineEvent['props'];
      if (r.channel !== null) e.channel = r.channel as string;
      if (r.synthetic) e.synthetic = true;
      if (r.device !== null) e.device = r.device as string;
      return e;
    });
    const last = rows[rows.length - 1];
    return { events, next: rows.length === limit && last ? (last.pos as number) : null };
  },
});
