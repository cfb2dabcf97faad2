/**
 * The Store over any SQLite-dialect connector. better-sqlite3 (stores/sqlite.ts) and D1 (stores/d1.ts) only
 * provide a connector; all SQL lives here once, so both drivers give byte-for-byte the same results (db0's model).
 *
 * Every write is idempotent (INSERT OR IGNORE / upserts keyed by primary keys), so a write whose answer was lost
 * is safe to repeat. Queries bind at most 100 parameters (D1's limit).
 */
import type { Journey, StoredEvent } from '../core/journey';
import { transitions } from '../core/journey';
import type { SiteConfig } from '../core/stages';
import { BadCursorError, ConflictError } from '../core/store';
import { sqlKeyMethods } from './sql-keys';
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
  return e;
};

export const insertEvent = (site: string, e: StoredEvent, receivedAt: number): SqlStatement =>
  q(
    `INSERT OR IGNORE INTO events (site, id, visitor, type, ts, received_at, name, stage, url, referrer, title, user_id, value, props, channel, synthetic)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
  );

/** Statements that replace a journey and its derived rows (stages, transitions). */
export const writeJourney = (site: string, r: JourneyRecord): SqlStatement[] => {
  const j = r.journey;
  const out: SqlStatement[] = [
    q(
      `INSERT INTO journeys (site, key, version, visitor, visitor_count, user_id, current_stage, furthest_stage, converted,
         converted_at, first_seen, last_seen, first_channel, last_channel, touches, sessions, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (site, key) DO UPDATE SET version = excluded.version, visitor = excluded.visitor,
         visitor_count = excluded.visitor_count, user_id = excluded.user_id, current_stage = excluded.current_stage,
         furthest_stage = excluded.furthest_stage, converted = excluded.converted, converted_at = excluded.converted_at,
         first_seen = excluded.first_seen, last_seen = excluded.last_seen, first_channel = excluded.first_channel,
         last_channel = excluded.last_channel, touches = excluded.touches, sessions = excluded.sessions,
         state = excluded.state`,
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
    ),
    q('DELETE FROM journey_stages WHERE site = ? AND key = ?', site, r.key),
    q('DELETE FROM journey_transitions WHERE site = ? AND key = ?', site, r.key),
  ];
  for (const [stage, st] of Object.entries(j.stages)) {
    out.push(
      q(
        `INSERT INTO journey_stages (site, key, stage, first_at, entries, touches, sessions, time_ms, to_next_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        site,
        r.key,
        stage,
        st.firstAt,
        st.entries,
        st.touches,
        st.sessions,
        st.timeMs,
        st.toNextMs,
      ),
    );
  }
  for (const t of transitions(j)) {
    out.push(
      q(
        'INSERT INTO journey_transitions (site, key, from_stage, to_stage, count) VALUES (?, ?, ?, ?, ?)',
        site,
        r.key,
        t.from,
        t.to,
        t.count,
      ),
    );
  }
  return out;
};

export const deleteJourney = (site: string, key: string): SqlStatement[] => [
  q('DELETE FROM journeys WHERE site = ? AND key = ?', site, key),
  q('DELETE FROM journey_stages WHERE site = ? AND key = ?', site, key),
  q('DELETE FROM journey_transitions WHERE site = ? AND key = ?', site, key),
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


const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

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
  ...sqlAutomationMethods(db),
  async getMeta(key) {
    const rows = await db.all<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]);
    return rows[0]?.value ?? null;
  },

  async setMeta(key, value, ifAbsent = false) {
    await db.batch([
      ifAbsent
        ? q('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)', key, value)
        : q('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value),
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
      'SELECT visitor FROM visitors WHERE site = ? AND journey = ? ORDER BY visitor',
      [site, journey],
    );
    return rows.map((r) => r.visitor);
  },

  async getJourneys(site, keys) {
    const out = new Map<string, JourneyRecord>();
    for (const part of chunks(keys)) {
      const rows = await db.all<{ key: string; version: number; state: string }>(
        `SELECT key, version, state FROM journeys WHERE site = ? AND key IN (${marks(part.length)})`,
        [site, ...part],
      );
      for (const r of rows) out.set(r.key, { key: r.key, version: r.version, journey: JSON.parse(r.state) as Journey });
    }
    return out;
  },

  async eventsOfVisitors(site, visitors) {
    const out: TimelineEvent[] = [];
    for (const part of chunks(visitors)) {
      const rows = await db.all<EventRow>(
        `SELECT * FROM events WHERE site = ? AND visitor IN (${marks(part.length)}) ORDER BY ts, id`,
        [site, ...part],
      );
      out.push(...rows.map(fromEventRow));
    }
    if (visitors.length > CHUNK) out.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return out;
  },

  async commit(site, write: Commit, receivedAt) {
    const statements: SqlStatement[] = [];
    for (const e of write.events) statements.push(insertEvent(site, e, receivedAt));
    for (const l of write.links) statements.push(writeLink(site, l));
    for (const key of write.deleteJourneys) statements.push(...deleteJourney(site, key));
    for (const r of write.journeys) statements.push(journeyGuard(site, r), ...writeJourney(site, r));
    if (write.automation) statements.push(...automationStatements(site, write.automation, receivedAt));
    try {
      await db.batch(statements);
    } catch (e) {
      const stale = write.journeys.length ? await staleJourneys(db, site, write) : [];
      if (stale.length) {
        throw new ConflictError(`[cjm] journey ${stale.join(', ')} of site "${site}" changed since it was read; nothing was written, retry from fresh reads`);
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
    if (query.q) {
      where.push(
        `(user_id LIKE ? ESCAPE '\\' OR key IN (SELECT journey FROM visitors WHERE site = ? AND visitor LIKE ? ESCAPE '\\'))`,
      );
      params.push(likePrefix(query.q), site, likePrefix(query.q));
    }
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor);
      if (!c) throw new BadCursorError('cursor is not one this API returned');
      where.push('(last_seen < ? OR (last_seen = ? AND key < ?))');
      params.push(c[0], c[0], c[1]);
    }
    const rows = await db.all<JourneyRow>(
      `SELECT key, version, visitor, visitor_count, user_id, current_stage, furthest_stage, converted, first_seen,
         last_seen, first_channel, last_channel, touches, sessions
       FROM journeys WHERE ${where.join(' AND ')} ORDER BY last_seen DESC, key DESC LIMIT ?`,
      [...params, query.limit + 1],
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
