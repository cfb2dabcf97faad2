/**
 * The Store over any SQLite-dialect connector. better-sqlite3 (stores/sqlite.ts) and D1 (stores/d1.ts) only
 * provide a connector; all SQL lives here once, so both drivers give byte-for-byte the same results (db0's model).
 *
 * Every write is idempotent (INSERT OR IGNORE / upserts keyed by primary keys), so a write whose answer was lost
 * is safe to repeat. Queries bind at most 100 parameters (D1's limit).
 */
import type { Journey, StoredEvent } from '../core/journey';
import { JOURNEY_VERSION, transitions } from '../core/journey';
import type { SiteConfig } from '../core/stages';
import { BadCursorError, ConflictError } from '../core/store';
import { addCounter, insertName, sqlJourneyMethods } from './sql-journeys';
import { rollupStatements } from './sql-rollups';
import { sqlKeyMethods } from './sql-keys';
import { sqlRekeyMethods } from './sql-rekey';
import { automationStatements, sqlAutomationMethods } from './sql-automation';
import type {
  Commit,
  JourneyRecord,
  Store,
  TimelineEvent,
  VisitorLink,
  VisitorQuery,
  VisitorSummary,
} from '../core/store';

export type SqlValue = string | number | null;
export interface SqlStatement {
  sql: string;
  params: SqlValue[];
}

/** What a driver provides: reads, and an atomic batch of writes. */
export interface SqlConnector {
  all<T = Record<string, SqlValue>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs all statements in one transaction: all of them or none. */
  batch(statements: readonly SqlStatement[]): Promise<void>;
}

/** Largest IN-list we bind (D1 allows 100 parameters per statement; a few go to other columns). */
export const CHUNK = 90;

export const chunks = <T>(items: readonly T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

const marks = (n: number) => Array.from({ length: n }, () => '?').join(',');
const q = (sql: string, ...params: SqlValue[]): SqlStatement => ({ sql, params });
const nul = <T>(v: T | undefined | null): T | null => (v === undefined ? null : v);

interface EventRow {
  id: string;
  visitor: string;
  type: string;
  ts: number;
  received_at: number;
  name: string | null;
  stage: string | null;
  url: string | null;
  referrer: string | null;
  title: string | null;
  user_id: string | null;
  value: number | null;
  props: string | null;
  channel: string | null;
  synthetic: number;
  device: string | null;
}

const fromEventRow = (r: EventRow): TimelineEvent => {
  const e: TimelineEvent = { id: r.id, visitor: r.visitor, type: r.type, ts: r.ts, receivedAt: r.received_at };
  if (r.url !== null) e.url = r.url;
  if (r.referrer !== null) e.referrer = r.referrer;
  if (r.title !== null) e.title = r.title;
  if (r.name !== null) e.name = r.name;
  if (r.stage !== null) e.stage = r.stage;
  if (r.user_id !== null) e.userId = r.user_id;
  if (r.value !== null) e.value = r.value;
  if (r.props !== null) e.props = JSON.parse(r.props) as TimelineEvent['props'];
  if (r.channel !== null) e.channel = r.channel;
  if (r.synthetic) e.synthetic = true;
  if (r.device) e.device = r.device;
  return e;
};

export const insertEvent = (site: string, e: StoredEvent, receivedAt: number): SqlStatement =>
  q(
    `INSERT OR IGNORE INTO events (site, id, visitor, type, ts, received_at, name, stage, url, referrer, title, user_id, value, props, channel, synthetic, device)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    site,
    e.id,
    e.visitor,
    e.type,
    e.ts,
    receivedAt,
    nul(e.name),
    nul(e.stage),
    nul(e.url),
    nul(e.referrer),
    nul(e.title),
    nul(e.userId),
    nul(e.value),
    e.props ? JSON.stringify(e.props) : null,
    nul(e.channel),
    e.synthetic ? 1 : 0,
    nul(e.device),
  );

/** One derived row of a journey: its table, primary key and full insert. */
interface DerivedRow {
  table: string;
  pk: Record<string, SqlValue>;
  values: Record<string, SqlValue>;
}

const DERIVED_TABLES = [
  'journey_stages',
  'journey_transitions',
  'journey_stage_items',
  'journey_stage_vitals',
] as const;

/** Every derived row of a journey (what the funnel and the journey map aggregate), each with its cohort. */
export const derivedRows = (site: string, key: string, j: Journey): DerivedRow[] => {
  const cohort = j.firstSeen;
  const rows: DerivedRow[] = [];
  for (const [stage, st] of Object.entries(j.stages)) {
    rows.push({
      table: 'journey_stages',
      pk: { site, key, stage },
      values: {
        first_at: st.firstAt,
        entries: st.entries,
        touches: st.touches,
        sessions: st.sessions,
        time_ms: st.timeMs,
        to_next_ms: st.toNextMs,
        cohort_at: cohort,
        channel: j.sessions[st.sessions - 1]?.channel ?? null,
        feedback_sum: st.feedback?.sum ?? 0,
        feedback_count: st.feedback?.count ?? 0,
      },
    });
    for (const [kind, items] of [
      ['page', st.pages],
      ['event', st.events],
    ] as const) {
      for (const [item, count] of Object.entries(items ?? {})) {
        rows.push({
          table: 'journey_stage_items',
          pk: { site, key, stage, kind, item },
          values: { count, cohort_at: cohort },
        });
      }
    }
    for (const [name, value] of Object.entries(st.vitals)) {
      rows.push({
        table: 'journey_stage_vitals',
        pk: { site, key, stage, name },
        values: { value, cohort_at: cohort },
      });
    }
  }
  for (const t of transitions(j)) {
    rows.push({
      table: 'journey_transitions',
      pk: { site, key, from_stage: t.from, to_stage: t.to },
      values: { count: t.count, cohort_at: cohort },
    });
  }
  return rows;
};

const rowId = (r: DerivedRow) => JSON.stringify([r.table, Object.values(r.pk)]);
const upsertRow = (r: DerivedRow): SqlStatement => {
  const cols = [...Object.keys(r.pk), ...Object.keys(r.values)];
  return {
    sql: `INSERT OR REPLACE INTO ${r.table} (${cols.join(', ')}) VALUES (${marks(cols.length)})`,
    params: [...Object.values(r.pk), ...Object.values(r.values)],
  };
};
const deleteRow = (r: DerivedRow): SqlStatement => ({
  sql: `DELETE FROM ${r.table} WHERE ${Object.keys(r.pk)
    .map((k) => `${k} = ?`)
    .join(' AND ')}`,
  params: Object.values(r.pk),
});

/**
 * Statements that write a journey and its derived rows (stages, transitions, pages/events, vitals). With
 * `r.previous` (the stored journey whose derived rows are in the database), only the rows that changed are written;
 * otherwise all derived rows of the key are replaced.
 */
export const writeJourney = (site: string, r: JourneyRecord): SqlStatement[] => {
  const j = r.journey;
  const out: SqlStatement[] = [
    q(
      `INSERT INTO journeys (site, key, version, visitor, visitor_count, user_id, current_stage, furthest_stage, converted,
         converted_at, first_seen, last_seen, first_channel, last_channel, touches, sessions, state, revision,
         conv_touches, conv_sessions, device)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (site, key) DO UPDATE SET version = excluded.version, visitor = excluded.visitor,
         visitor_count = excluded.visitor_count, user_id = excluded.user_id, current_stage = excluded.current_stage,
         furthest_stage = excluded.furthest_stage, converted = excluded.converted, converted_at = excluded.converted_at,
         first_seen = excluded.first_seen, last_seen = excluded.last_seen, first_channel = excluded.first_channel,
         last_channel = excluded.last_channel, touches = excluded.touches, sessions = excluded.sessions,
         state = excluded.state, revision = excluded.revision, conv_touches = excluded.conv_touches,
         conv_sessions = excluded.conv_sessions, device = excluded.device`,
      site,
      r.key,
      r.version,
      j.visitors[0] ?? r.key,
      j.visitors.length,
      j.userId,
      j.current,
      j.furthest,
      j.converted ? 1 : 0,
      j.converted?.at ?? null,
      j.firstSeen,
      j.lastSeen,
      j.firstChannel,
      j.lastChannel,
      j.touches,
      j.sessions.length,
      JSON.stringify(j),
      r.revision ?? 0,
      j.converted?.touches ?? null,
      j.converted?.sessions ?? null,
      j.sessions[j.sessions.length - 1]?.device ?? null,
    ),
  ];
  out.push(...rollupStatements(site, r.previous, j));
  const next = derivedRows(site, r.key, j);
  if (r.previous && r.previous.v === JOURNEY_VERSION) {
    const before = new Map(derivedRows(site, r.key, r.previous).map((row) => [rowId(row), row]));
    for (const row of next) {
      const id = rowId(row);
      const old = before.get(id);
      before.delete(id);
      if (!old || JSON.stringify(old.values) !== JSON.stringify(row.values)) out.push(upsertRow(row));
    }
    for (const gone of before.values()) out.push(deleteRow(gone));
  } else {
    // previous === null: the writer knows nothing is stored for the key (a new journey): nothing to delete.
    if (r.previous !== null)
      for (const t of DERIVED_TABLES) out.push(q(`DELETE FROM ${t} WHERE site = ? AND key = ?`, site, r.key));
    for (const row of next) out.push(upsertRow(row));
  }
  return out;
};

export const deleteJourney = (site: string, key: string): SqlStatement[] => [
  q('DELETE FROM journeys WHERE site = ? AND key = ?', site, key),
  ...DERIVED_TABLES.map((t) => q(`DELETE FROM ${t} WHERE site = ? AND key = ?`, site, key)),
];

const writeLink = (site: string, l: VisitorLink): SqlStatement =>
  q(
    `INSERT INTO visitors (site, visitor, journey, user_id, identified_at, identify_event) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (site, visitor) DO UPDATE SET journey = excluded.journey, user_id = excluded.user_id,
       identified_at = excluded.identified_at, identify_event = excluded.identify_event`,
    site,
    l.visitor,
    l.journey,
    l.userId,
    l.identifiedAt,
    l.identifyEvent,
  );

interface JourneyRow {
  key: string;
  version: number;
  visitor: string;
  visitor_count: number;
  user_id: string | null;
  current_stage: string | null;
  furthest_stage: string | null;
  converted: number;
  first_seen: number;
  last_seen: number;
  first_channel: string | null;
  last_channel: string | null;
  touches: number;
  sessions: number;
  device: string | null;
}

const summary = (r: JourneyRow): VisitorSummary => ({
  visitor: r.visitor,
  journey: r.key,
  userId: r.user_id,
  visitors: r.visitor_count,
  currentStage: r.current_stage,
  furthestStage: r.furthest_stage,
  converted: r.converted === 1,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  firstChannel: r.first_channel,
  lastChannel: r.last_channel,
  touches: r.touches,
  sessions: r.sessions,
  device: r.device,
});

const encodeCursor = (lastSeen: number, key: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify([lastSeen, key]))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const decodeCursor = (c: string): [number, string] | undefined => {
  try {
    const bin = atob(c.replace(/-/g, '+').replace(/_/g, '/'));
    const v = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)))) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    /* fall through */
  }
  return undefined;
};

/** Upper bound of a prefix range: every string starting with `prefix` sorts below it (SQLite compares UTF-8 bytes). */
const prefixEnd = (prefix: string) => `${prefix}\u{10FFFF}`;

/**
 * Optimistic concurrency for a journey write: fails the whole batch (a NOT NULL violation on `meta.value`, no row
 * is ever inserted) unless the stored journey is still the one the writer read (`version - 1`; absent for version
 * 1), or is already exactly this record (the same commit repeated after a lost answer, which stays a no-op).
 */
export const journeyGuard = (site: string, r: JourneyRecord): SqlStatement =>
  q(
    `INSERT INTO meta (key, value) SELECT 'cjm:stale-journey', NULL
     WHERE COALESCE((SELECT version FROM journeys WHERE site = ? AND key = ?), 0) <> ?
       AND NOT EXISTS (SELECT 1 FROM journeys WHERE site = ? AND key = ? AND version = ? AND state = ?)`,
    site,
    r.key,
    r.version - 1,
    site,
    r.key,
    r.version,
    JSON.stringify(r.journey),
  );

/** The stored states of journeys (for the rollups of journeys written without their previous state). */
export const storedStates = async (
  db: SqlConnector,
  site: string,
  keys: readonly string[],
): Promise<Map<string, Journey>> => {
  const out = new Map<string, Journey>();
  for (const part of chunks(keys)) {
    const rows = await db.all<{ key: string; state: string }>(
      `SELECT key, state FROM journeys WHERE site = ? AND key IN (${marks(part.length)})`,
      [site, ...part],
    );
    for (const r of rows) out.set(r.key, JSON.parse(r.state) as Journey);
  }
  return out;
};

/** The journeys of `write` that another writer changed since they were read (what made `journeyGuard` fail). */
const staleJourneys = async (db: SqlConnector, site: string, write: Commit): Promise<string[]> => {
  const stored = new Map<string, { version: number; state: string }>();
  for (const part of chunks(write.journeys.map((r) => r.key))) {
    const rows = await db.all<{ key: string; version: number; state: string }>(
      `SELECT key, version, state FROM journeys WHERE site = ? AND key IN (${marks(part.length)})`,
      [site, ...part],
    );
    for (const row of rows) stored.set(row.key, row);
  }
  return write.journeys
    .filter((r) => {
      const now = stored.get(r.key);
      const same = now !== undefined && now.version === r.version && now.state === JSON.stringify(r.journey);
      return (now?.version ?? 0) !== r.version - 1 && !same;
    })
    .map((r) => r.key);
};

/**
 * Builds the Store from a connector.
 *
 * @example
 * const store = createSqlStore({ all: async (sql, p) => db.prepare(sql).all(...p), batch: ... })
 */
export const createSqlStore = (db: SqlConnector): Store => ({
  ...sqlKeyMethods(db),
  ...sqlJourneyMethods(db),
  ...sqlAutomationMethods(db),
  ...sqlRekeyMethods(db),
  async getMeta(key) {
    const rows = await db.all<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]);
    return rows[0]?.value ?? null;
  },

  async setMeta(key, value, ifAbsent = false) {
    await db.batch([
      ifAbsent
        ? q('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)', key, value)
        : q(
            'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
            key,
            value,
          ),
    ]);
    const rows = await db.all<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]);
    return rows[0]?.value ?? value;
  },

  async getSite(id) {
    const rows = await db.all<{ config: string }>('SELECT config FROM sites WHERE id = ?', [id]);
    return rows[0] ? (JSON.parse(rows[0].config) as SiteConfig) : null;
  },

  async listSites() {
    const rows = await db.all<{ config: string }>('SELECT config FROM sites ORDER BY id');
    return rows.map((r) => JSON.parse(r.config) as SiteConfig);
  },

  async putSite(site) {
    await db.batch([
      q(
        `INSERT INTO sites (id, config, created_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET config = excluded.config`,
        site.id,
        JSON.stringify(site),
        Date.now(),
      ),
    ]);
  },

  async existingEventIds(site, ids) {
    const found = new Set<string>();
    for (const part of chunks(ids)) {
      const rows = await db.all<{ id: string }>(
        `SELECT id FROM events WHERE site = ? AND id IN (${marks(part.length)})`,
        [site, ...part],
      );
      for (const r of rows) found.add(r.id);
    }
    return found;
  },

  async getLinks(site, visitors) {
    const out = new Map<string, VisitorLink>();
    for (const part of chunks(visitors)) {
      const rows = await db.all<{
        visitor: string;
        journey: string;
        user_id: string | null;
        identified_at: number | null;
        identify_event: string | null;
      }>(`SELECT * FROM visitors WHERE site = ? AND visitor IN (${marks(part.length)})`, [site, ...part]);
      for (const r of rows) {
        out.set(r.visitor, {
          visitor: r.visitor,
          journey: r.journey,
          userId: r.user_id,
          identifiedAt: r.identified_at,
          identifyEvent: r.identify_event,
        });
      }
    }
    return out;
  },

  async visitorsOfJourney(site, journey) {
    const rows = await db.all<{ visitor: string }>(
      'SELECT visitor FROM visitors WHERE site = ? AND journey = ? ORDER BY +visitor',
      [site, journey],
    );
    return rows.map((r) => r.visitor);
  },

  async getJourneys(site, keys) {
    const out = new Map<string, JourneyRecord>();
    for (const part of chunks(keys)) {
      const rows = await db.all<{ key: string; version: number; state: string; revision: number }>(
        `SELECT key, version, state, revision FROM journeys WHERE site = ? AND key IN (${marks(part.length)})`,
        [site, ...part],
      );
      for (const r of rows) {
        out.set(r.key, {
          key: r.key,
          version: r.version,
          journey: JSON.parse(r.state) as Journey,
          revision: r.revision,
        });
      }
    }
    return out;
  },

  async eventsOfVisitors(site, visitors, latest) {
    let out: TimelineEvent[] = [];
    for (const part of chunks(visitors)) {
      const where = `site = ? AND visitor IN (${marks(part.length)})`;
      const rows =
        latest === undefined
          ? await db.all<EventRow>(`SELECT * FROM events WHERE ${where} ORDER BY ts, id`, [site, ...part])
          : await db.all<EventRow>(
              `SELECT * FROM (SELECT * FROM events WHERE ${where} ORDER BY ts DESC, id DESC LIMIT ?) ORDER BY ts, id`,
              [site, ...part, latest],
            );
      out.push(...rows.map(fromEventRow));
    }
    if (visitors.length > CHUNK) out.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (latest !== undefined && out.length > latest) out = out.slice(out.length - latest);
    return out;
  },

  async commit(site, write: Commit, receivedAt) {
    const statements: SqlStatement[] = [];
    for (const e of write.events) statements.push(insertEvent(site, e, receivedAt));
    for (const l of write.links) statements.push(writeLink(site, l));
    // The stored state of journeys deleted, or written without `previous`: their rollup sums are subtracted.
    const unknown = [
      ...write.deleteJourneys,
      ...write.journeys.filter((r) => r.previous === undefined).map((r) => r.key),
    ];
    const stored = unknown.length ? await storedStates(db, site, unknown) : new Map<string, Journey>();
    for (const key of write.deleteJourneys)
      statements.push(...rollupStatements(site, stored.get(key), null), ...deleteJourney(site, key));
    for (const r of write.journeys) {
      const w = r.previous === undefined ? { ...r, previous: stored.get(r.key) ?? null } : r;
      statements.push(journeyGuard(site, w), ...writeJourney(site, w));
    }
    for (const n of write.names ?? []) statements.push(insertName(site, n));
    for (const c of write.counters ?? []) statements.push(addCounter(site, c.day, c.name, c.value));
    if (write.automation) statements.push(...automationStatements(site, write.automation, receivedAt));
    try {
      await db.batch(statements);
    } catch (e) {
      const stale = write.journeys.length ? await staleJourneys(db, site, write) : [];
      if (stale.length) {
        throw new ConflictError(
          `[cjm] journey ${stale.join(', ')} of site "${site}" changed since it was read; nothing was written, retry from fresh reads`,
        );
      }
      throw e;
    }
  },

  async listVisitors(site, query: VisitorQuery) {
    const where = ['site = ?'];
    const params: SqlValue[] = [site];
    if (query.stage !== undefined) {
      where.push('current_stage = ?');
      params.push(query.stage);
    }
    if (query.channel !== undefined) {
      where.push('first_channel = ?');
      params.push(query.channel);
    }
    if (query.converted !== undefined) {
      where.push('converted = ?');
      params.push(query.converted ? 1 : 0);
    }
    if (query.from !== undefined) {
      where.push('last_seen >= ?');
      params.push(query.from);
    }
    if (query.to !== undefined) {
      where.push('first_seen <= ?');
      params.push(query.to);
    }
    // Search by visitor or user id prefix: prefix ranges (not LIKE) on the visitors primary key and journeys_by_user
    // give the matching keys first; CROSS JOIN (which SQLite never reorders) then reads each journey by its key, so
    // a search never walks every journey of the site, whatever the planner's statistics say.
    let from = 'journeys';
    const matchParams: SqlValue[] = [];
    if (query.q) {
      from = `(SELECT DISTINCT match FROM (SELECT key AS match FROM journeys WHERE site = ? AND user_id >= ? AND user_id < ?
               UNION ALL SELECT journey FROM visitors WHERE site = ? AND visitor >= ? AND visitor < ?)) CROSS JOIN journeys`;
      matchParams.push(site, query.q, prefixEnd(query.q), site, query.q, prefixEnd(query.q));
      where.push('key = match');
    }
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor);
      if (!c) throw new BadCursorError('cursor is not one this API returned');
      where.push('(last_seen < ? OR (last_seen = ? AND key < ?))');
      params.push(c[0], c[0], c[1]);
    }
    const rows = await db.all<JourneyRow>(
      `SELECT key, version, visitor, visitor_count, user_id, current_stage, furthest_stage, converted, first_seen,
         last_seen, first_channel, last_channel, touches, sessions, device
       FROM ${from} WHERE ${where.join(' AND ')} ORDER BY last_seen DESC, key DESC LIMIT ?`,
      [...matchParams, ...params, query.limit + 1],
    );
    const more = rows.length > query.limit;
    const page = rows.slice(0, query.limit);
    const lastRow = page[page.length - 1];
    return {
      visitors: page.map(summary),
      cursor: more && lastRow ? encodeCursor(lastRow.last_seen, lastRow.key) : null,
    };
  },
});
