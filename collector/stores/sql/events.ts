/**
 * Events and journeys in SQL (migration 0001): the EventStore methods — what ingest reads, the atomic commit, the
 * visitors list, refold bookkeeping and the raw export. An event's columns come from the field table
 * (core/event-fields.ts): the insert and the row → event mapping are derived from it.
 *
 * Every write is idempotent (INSERT OR IGNORE / upserts keyed by primary keys), so a write whose answer was lost
 * is safe to repeat.
 */
import { FIELDS } from '../../core/event-fields';
import type { Journey, StoredEvent } from '../../core/journey';
import {
  BadCursorError,
  ConflictError,
  type Commit,
  type EventStore,
  type JourneyRecord,
  type SiteWrite,
  type TimelineEvent,
  type VisitorLink,
  type VisitorSummary,
} from '../../core/store';
import { automationStatements } from './automation';
import { deleteJourney, journeyGuard, storedStates, writeJourney } from './journeys';
import { addCounter, insertName } from './privacy';
import { rollupStatements } from './rollups';
import { CHUNK, chunks, join, list, query, raw, Sql, sql, within, type SqlConnector, type SqlValue } from './shared';

/** The columns of `events` after `site`, in field-table order. */
const EVENT_COLUMNS = raw(FIELDS.map((f) => f.column).join(', '));
/** The insert of one event (the same text every time). */
const INSERT_EVENT =
  sql`INSERT OR IGNORE INTO events (site, ${EVENT_COLUMNS}) VALUES ${list([null, ...FIELDS.map(() => null)])}`.sql;

/** A field's value as bound: flags as 1/0, props as JSON, absent as null. */
const columnValue = (kind: string, v: unknown): SqlValue => {
  if (kind === 'flag') return v ? 1 : 0;
  if (v === undefined || v === null) return null;
  return kind === 'props' ? JSON.stringify(v) : (v as SqlValue);
};

const KEYS = FIELDS.map((f) => f.key);
const KINDS = FIELDS.map((f) => f.kind);

/** The insert of an event: its fields, and `receivedAt` (kept beside a stored event, not in it). */
export const insertEvent = (site: string, e: StoredEvent, receivedAt: number): Sql => {
  const params: SqlValue[] = [site];
  const row = e as Record<string, unknown>;
  for (let i = 0; i < KEYS.length; i++) {
    const key = KEYS[i] as string;
    params.push(columnValue(KINDS[i] as string, key === 'receivedAt' ? receivedAt : row[key]));
  }
  return new Sql(INSERT_EVENT, params);
};

/** A row of `events` as an event: only the fields that are set (not null), in field-table order. */
const fromEventRow = (r: Record<string, SqlValue>): TimelineEvent => {
  const e: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = r[f.column];
    if (v === null || v === undefined) continue;
    if (f.kind === 'flag') {
      if (v) e[f.key] = true;
    } else e[f.key] = f.kind === 'props' ? JSON.parse(v as string) : v;
  }
  return e as unknown as TimelineEvent;
};

const writeLink = (site: string, l: VisitorLink): Sql =>
  sql`INSERT INTO visitors (site, visitor, journey, user_id, identified_at, identify_event)
     VALUES (${site}, ${l.visitor}, ${l.journey}, ${l.userId}, ${l.identifiedAt}, ${l.identifyEvent})
     ON CONFLICT (site, visitor) DO UPDATE SET journey = excluded.journey, user_id = excluded.user_id,
       identified_at = excluded.identified_at, identify_event = excluded.identify_event`;

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

/** The journeys of `write` that another writer changed since they were read (what made `journeyGuard` fail). */
const changedJourneys = async (db: SqlConnector, site: string, write: Commit): Promise<string[]> => {
  const stored = new Map<string, { version: number; state: string }>();
  for (const part of chunks(write.journeys.map((r) => r.key))) {
    const rows = await query<{ key: string; version: number; state: string }>(
      db,
      sql`SELECT key, version, state FROM journeys WHERE site = ${site} AND key IN ${list(part)}`,
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

/** The statements of one site's write: its events, links, journeys (guarded), names, counters and automation. */
const commitStatements = async (db: SqlConnector, { site, write, receivedAt }: SiteWrite): Promise<Sql[]> => {
  const statements: Sql[] = [];
  const times = write.receivedAt;
  write.events.forEach((e, i) => statements.push(insertEvent(site, e, times?.[i] ?? receivedAt)));
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
  return statements;
};

/** Writes of one or many sites in one transaction; a stale journey makes it a ConflictError (nothing written). */
const commitAll = async (db: SqlConnector, writes: readonly SiteWrite[]): Promise<void> => {
  const statements: Sql[] = [];
  for (const w of writes) statements.push(...(await commitStatements(db, w)));
  try {
    await db.batch(statements);
  } catch (e) {
    const stale: string[] = [];
    for (const { site, write } of writes) {
      if (write.journeys.length === 0) continue;
      for (const key of await changedJourneys(db, site, write)) stale.push(`${key} of site "${site}"`);
    }
    if (stale.length) {
      throw new ConflictError(
        `[cjm] journey ${stale.join(', ')} changed since it was read; nothing was written, retry from fresh reads`,
      );
    }
    throw e;
  }
};

/** The event and journey methods of the Store over a connector. */
export const sqlEventStore = (db: SqlConnector): EventStore => ({
  async existingEventIds(site, ids) {
    const found = new Set<string>();
    for (const part of chunks(ids)) {
      const rows = await query<{ id: string }>(
        db,
        sql`SELECT id FROM events WHERE site = ${site} AND id IN ${list(part)}`,
      );
      for (const r of rows) found.add(r.id);
    }
    return found;
  },

  async getLinks(site, visitors) {
    const out = new Map<string, VisitorLink>();
    for (const part of chunks(visitors)) {
      const rows = await query<{
        visitor: string;
        journey: string;
        user_id: string | null;
        identified_at: number | null;
        identify_event: string | null;
      }>(db, sql`SELECT * FROM visitors WHERE site = ${site} AND visitor IN ${list(part)}`);
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
    const rows = await query<{ visitor: string }>(
      db,
      sql`SELECT visitor FROM visitors WHERE site = ${site} AND journey = ${journey} ORDER BY +visitor`,
    );
    return rows.map((r) => r.visitor);
  },

  async getJourneys(site, keys) {
    const out = new Map<string, JourneyRecord>();
    for (const part of chunks(keys)) {
      const rows = await query<{ key: string; version: number; state: string; revision: number }>(
        db,
        sql`SELECT key, version, state, revision FROM journeys WHERE site = ${site} AND key IN ${list(part)}`,
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
      const where = sql`site = ${site} AND visitor IN ${list(part)}`;
      const rows = await query<Record<string, SqlValue>>(
        db,
        latest === undefined
          ? sql`SELECT * FROM events WHERE ${where} ORDER BY ts, id`
          : sql`SELECT * FROM (SELECT * FROM events WHERE ${where} ORDER BY ts DESC, id DESC LIMIT ${latest}) ORDER BY ts, id`,
      );
      out.push(...rows.map(fromEventRow));
    }
    if (visitors.length > CHUNK) out.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (latest !== undefined && out.length > latest) out = out.slice(out.length - latest);
    return out;
  },

  async commit(site, write, receivedAt) {
    await commitAll(db, [{ site, write, receivedAt }]);
  },

  async commitBatch(writes) {
    await commitAll(db, writes);
  },

  async listVisitors(site, q) {
    const where: Sql[] = [sql`site = ${site}`];
    if (q.stage !== undefined) where.push(sql`current_stage = ${q.stage}`);
    if (q.channel !== undefined) where.push(sql`first_channel = ${q.channel}`);
    if (q.lastChannel !== undefined) where.push(sql`last_channel = ${q.lastChannel}`);
    if (q.device !== undefined) where.push(sql`device = ${q.device}`);
    if (q.identified !== undefined) where.push(q.identified ? sql`user_id IS NOT NULL` : sql`user_id IS NULL`);
    if (q.converted !== undefined) where.push(sql`converted = ${q.converted ? 1 : 0}`);
    if (q.from !== undefined) where.push(sql`last_seen >= ${q.from}`);
    if (q.to !== undefined) where.push(sql`first_seen <= ${q.to}`);
    // Search by visitor or user id prefix: prefix ranges (not LIKE) on the visitors primary key and journeys_by_user
    // give the matching keys first; CROSS JOIN (which SQLite never reorders) then reads each journey by its key, so
    // a search never walks every journey of the site, whatever the planner's statistics say.
    let from = sql`journeys`;
    if (q.q) {
      from = sql`(SELECT DISTINCT match FROM (SELECT key AS match FROM journeys WHERE site = ${site} AND user_id >= ${q.q} AND user_id < ${prefixEnd(q.q)}
               UNION ALL SELECT journey FROM visitors WHERE site = ${site} AND visitor >= ${q.q} AND visitor < ${prefixEnd(q.q)})) CROSS JOIN journeys`;
      where.push(sql`key = match`);
    }
    if (q.cursor !== undefined) {
      const c = decodeCursor(q.cursor);
      if (!c) throw new BadCursorError('cursor is not one this API returned');
      where.push(sql`(last_seen < ${c[0]} OR (last_seen = ${c[0]} AND key < ${c[1]}))`);
    }
    const rows = await query<JourneyRow>(
      db,
      sql`SELECT key, version, visitor, visitor_count, user_id, current_stage, furthest_stage, converted, first_seen,
         last_seen, first_channel, last_channel, touches, sessions, device
       FROM ${from} WHERE ${join(where, ' AND ')} ORDER BY last_seen DESC, key DESC LIMIT ${q.limit + 1}`,
    );
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const lastRow = page[page.length - 1];
    return {
      visitors: page.map(summary),
      cursor: more && lastRow ? encodeCursor(lastRow.last_seen, lastRow.key) : null,
    };
  },

  async staleJourneys(site, revision, limit) {
    const rows = await query<{ key: string }>(
      db,
      sql`SELECT key FROM journeys WHERE site = ${site} AND revision < ${revision} LIMIT ${limit}`,
    );
    const [count] = await query<{ n: number }>(
      db,
      sql`SELECT COUNT(*) AS n FROM journeys WHERE site = ${site} AND revision < ${revision}`,
    );
    return { keys: rows.map((r) => r.key), pending: count?.n ?? 0 };
  },

  async exportEvents(site, after, limit, range) {
    const rows = await query<Record<string, SqlValue>>(
      db,
      sql`SELECT rowid AS pos, ${EVENT_COLUMNS}
       FROM events WHERE rowid > ${after} AND site = ${site}${within('ts', range)} ORDER BY rowid LIMIT ${limit}`,
    );
    const last = rows[rows.length - 1];
    return { events: rows.map(fromEventRow), next: rows.length === limit && last ? (last.pos as number) : null };
  },
});
