/**
 * Journeys and privacy in SQL (migration 0002): the report aggregates over the derived tables, cardinality bounds,
 * ingest counters, tombstones, erasure, refold bookkeeping and the export pages. Spread into `createSqlStore`, so
 * every driver (better-sqlite3, D1) runs the same statements.
 *
 * Reports never read `events`: they aggregate `journeys` and the derived rows each journey write keeps exact, all
 * filtered on the cohort (`first_seen` / `cohort_at`). Medians and percentiles are nearest-rank, computed in SQL
 * with window functions (SQLite ≥ 3.25, D1), so no row list travels to the app.
 */
import type { CounterName, DateRange, NameEntry, StageAggregate, Store, TimelineEvent } from '../core/store';
import { chunks, type SqlConnector, type SqlStatement, type SqlValue } from './sql';

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

/** `AND col >= ? AND col <= ?` for the bounds that are set. */
const within = (col: string, range: DateRange): { sql: string; params: SqlValue[] } => {
  let sql = '';
  const params: SqlValue[] = [];
  if (range.from !== undefined) {
    sql += ` AND ${col} >= ?`;
    params.push(range.from);
  }
  if (range.to !== undefined) {
    sql += ` AND ${col} <= ?`;
    params.push(range.to);
  }
  return { sql, params };
};

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

/**
 * Nearest-rank percentile of `col` per group over the derived table, in one query: the ⌈p·n⌉-th smallest value.
 * `rankExpr` is ⌈p·n⌉ in integer arithmetic (median: (n + 1) / 2; p75: (3n + 3) / 4).
 */
const percentileSql = (table: string, groupCols: string, col: string, rankExpr: string, cohort: string) =>
  `SELECT ${groupCols}, v, n FROM (
     SELECT ${groupCols}, ${col} AS v, ROW_NUMBER() OVER (PARTITION BY ${groupCols} ORDER BY ${col}) AS rn,
       COUNT(*) OVER (PARTITION BY ${groupCols}) AS n
     FROM ${table} WHERE site = ? AND ${col} IS NOT NULL${cohort}
   ) WHERE rn = ${rankExpr}`;

const MEDIAN = '(n + 1) / 2';
const P75 = '(3 * n + 3) / 4';

export const sqlJourneyMethods = (db: SqlConnector): JourneyMethods => ({
  async stageAggregates(site, range) {
    const jc = within('first_seen', range);
    const sc = within('cohort_at', range);
    const [totals] = await db.all<{ n: number; c: number | null }>(
      `SELECT COUNT(*) AS n, SUM(converted) AS c FROM journeys WHERE site = ?${jc.sql}`,
      [site, ...jc.params],
    );
    const current = await db.all<{ stage: string; n: number }>(
      `SELECT current_stage AS stage, COUNT(*) AS n FROM journeys WHERE site = ?${jc.sql} AND current_stage IS NOT NULL
       GROUP BY current_stage`,
      [site, ...jc.params],
    );
    const furthest = await db.all<{ stage: string; n: number }>(
      `SELECT furthest_stage AS stage, COUNT(*) AS n FROM journeys WHERE site = ?${jc.sql} AND furthest_stage IS NOT NULL
       GROUP BY furthest_stage`,
      [site, ...jc.params],
    );
    const stages = await db.all<{ stage: string; reached: number; entries: number; fs: number; fc: number }>(
      `SELECT stage, COUNT(*) AS reached, SUM(entries) AS entries, SUM(feedback_sum) AS fs, SUM(feedback_count) AS fc
       FROM journey_stages WHERE site = ?${sc.sql} GROUP BY stage`,
      [site, ...sc.params],
    );
    const median = (col: string) =>
      db.all<{ stage: string; v: number; n: number }>(percentileSql('journey_stages', 'stage', col, MEDIAN, sc.sql), [
        site,
        ...sc.params,
      ]);
    const [toNext, touches, sessions] = await Promise.all([median('to_next_ms'), median('touches'), median('sessions')]);
    const transitions = await db.all<{ from: string; to: string; journeys: number; count: number }>(
      `SELECT from_stage AS "from", to_stage AS "to", COUNT(*) AS journeys, SUM(count) AS count
       FROM journey_transitions WHERE site = ?${sc.sql} GROUP BY from_stage, to_stage`,
      [site, ...sc.params],
    );
    const byStage = <T extends { stage: string }>(rows: T[]) => new Map(rows.map((r) => [r.stage, r]));
    const cur = byStage(current);
    const fur = byStage(furthest);
    const nx = byStage(toNext);
    const tc = byStage(touches);
    const ss = byStage(sessions);
    const names = new Set([...stages.map((s) => s.stage), ...cur.keys(), ...fur.keys()]);
    const st = byStage(stages);
    const out: StageAggregate[] = [...names].sort().map((stage) => {
      const s = st.get(stage);
      return {
        stage,
        reached: s?.reached ?? 0,
        entries: s?.entries ?? 0,
        current: cur.get(stage)?.n ?? 0,
        furthest: fur.get(stage)?.n ?? 0,
        medianToNextMs: nx.get(stage)?.v ?? null,
        toNextSamples: nx.get(stage)?.n ?? 0,
        medianTouches: tc.get(stage)?.v ?? null,
        medianSessions: ss.get(stage)?.v ?? null,
        feedbackSum: s?.fs ?? 0,
        feedbackCount: s?.fc ?? 0,
      };
    });
    return { journeys: totals?.n ?? 0, converted: totals?.c ?? 0, stages: out, transitions };
  },

  async stageDetails(site, range, top) {
    const sc = within('cohort_at', range);
    const channelRows = await db.all<{ stage: string; channel: string; journeys: number }>(
      `SELECT stage, COALESCE(channel, 'direct') AS channel, COUNT(*) AS journeys FROM journey_stages
       WHERE site = ?${sc.sql} GROUP BY stage, COALESCE(channel, 'direct') ORDER BY stage, journeys DESC, channel`,
      [site, ...sc.params],
    );
    const perStage = new Map<string, number>();
    const channels = channelRows.filter((r) => {
      const n = (perStage.get(r.stage) ?? 0) + 1;
      perStage.set(r.stage, n);
      return n <= top;
    });
    const items = await db.all<{ stage: string; kind: 'page' | 'event'; item: string; count: number; journeys: number }>(
      `SELECT stage, kind, item, total AS count, journeys FROM (
         SELECT stage, kind, item, SUM(count) AS total, COUNT(*) AS journeys,
           ROW_NUMBER() OVER (PARTITION BY stage, kind ORDER BY SUM(count) DESC, COUNT(*) DESC, item) AS rn
         FROM journey_stage_items WHERE site = ?${sc.sql} GROUP BY stage, kind, item
       ) WHERE rn <= ? ORDER BY stage, kind, rn`,
      [site, ...sc.params, top],
    );
    const vitals = await db.all<{ stage: string; name: string; v: number; n: number }>(
      percentileSql('journey_stage_vitals', 'stage, name', 'value', P75, sc.sql),
      [site, ...sc.params],
    );
    return {
      channels,
      items,
      vitals: vitals.map((r) => ({ stage: r.stage, name: r.name, p75: r.v, samples: r.n })),
    };
  },

  async conversionCounts(site, range) {
    const jc = within('first_seen', range);
    return db.all<{ channel: string | null; touches: number; sessions: number; journeys: number }>(
      `SELECT first_channel AS channel, conv_touches AS touches, conv_sessions AS sessions, COUNT(*) AS journeys
       FROM journeys WHERE site = ?${jc.sql} AND converted = 1 AND conv_touches IS NOT NULL
       GROUP BY first_channel, conv_touches, conv_sessions`,
      [site, ...jc.params],
    );
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
    const [count] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM site_names WHERE site = ? AND kind = ?', [site, kind]);
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
    }
    for (const part of chunks(keys)) {
      for (const t of ['journeys', 'journey_stages', 'journey_transitions', 'journey_stage_items', 'journey_stage_vitals']) {
        statements.push(q(`DELETE FROM ${t} WHERE site = ? AND key IN (${marks(part.length)})`, site, ...part));
      }
    }
    for (const h of hashes) statements.push(q('INSERT OR IGNORE INTO tombstones (site, hash, deleted_at) VALUES (?, ?, ?)', site, h, at));
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
