/**
 * Privacy and ingest bounds in SQL (migration 0002): the PrivacyStore methods — admitted event names and prop keys
 * (cardinality bounds), the per-day ingest counters, tombstones and erasure — and the name and counter statements
 * the ingest commit adds (events.ts).
 */
import type { CounterName, NameEntry, PrivacyStore } from '../../core/store';
import { eraseAutomationStatements } from './automation';
import { DERIVED_TABLES, storedStates } from './journeys';
import { rollupStatements } from './rollups';
import type { Journey } from '../../core/journey';
import { chunks, empty, list, query, raw, sql, type Sql, type SqlConnector } from './shared';

export const insertName = (site: string, n: NameEntry): Sql =>
  sql`INSERT OR IGNORE INTO site_names (site, kind, name) VALUES (${site}, ${n.kind}, ${n.name})`;

export const addCounter = (site: string, day: string, name: CounterName, value: number): Sql =>
  sql`INSERT INTO site_counters (site, day, name, value) VALUES (${site}, ${day}, ${name}, ${value})
     ON CONFLICT (site, day, name) DO UPDATE SET value = value + excluded.value`;

/** The privacy methods of the Store over a connector. */
export const sqlPrivacyStore = (db: SqlConnector): PrivacyStore => ({
  async knownNames(site, kind, names) {
    const known = new Set<string>();
    for (const part of chunks(names)) {
      const rows = await query<{ name: string }>(
        db,
        sql`SELECT name FROM site_names WHERE site = ${site} AND kind = ${kind} AND name IN ${list(part)}`,
      );
      for (const r of rows) known.add(r.name);
    }
    const [count] = await query<{ n: number }>(
      db,
      sql`SELECT COUNT(*) AS n FROM site_names WHERE site = ${site} AND kind = ${kind}`,
    );
    return { known, total: count?.n ?? 0 };
  },

  async getCounters(site, fromDay, toDay) {
    const from = fromDay !== undefined ? sql` AND day >= ${fromDay}` : empty;
    const to = toDay !== undefined ? sql` AND day <= ${toDay}` : empty;
    return query<{ day: string; name: CounterName; value: number }>(
      db,
      sql`SELECT day, name, value FROM site_counters WHERE site = ${site}${from}${to} ORDER BY day, name`,
    );
  },

  async addCounters(site, counters) {
    if (counters.length > 0) await db.batch(counters.map((c) => addCounter(site, c.day, c.name, c.value)));
  },

  async tombstoned(site, hashes) {
    const out = new Set<string>();
    for (const part of chunks(hashes)) {
      const rows = await query<{ hash: string }>(
        db,
        sql`SELECT hash FROM tombstones WHERE site = ${site} AND hash IN ${list(part)}`,
      );
      for (const r of rows) out.add(r.hash);
    }
    return out;
  },

  async erase(site, journey, visitors, hashes, at) {
    const keys = [...new Set([journey, ...visitors])];
    const events = await countEvents(db, site, visitors);
    // Erasure subtracts the journey's contribution from the rollups (retention keeps it: `expire`).
    const states = await storedStates(db, site, keys);
    const statements = deletionStatements(site, keys, visitors, [...states.values()]);
    for (const h of hashes)
      statements.push(sql`INSERT OR IGNORE INTO tombstones (site, hash, deleted_at) VALUES (${site}, ${h}, ${at})`);
    await db.batch(statements);
    return events;
  },

  async expire(site, before, limit) {
    const found = await query<{ key: string }>(
      db,
      sql`SELECT key FROM journeys WHERE site = ${site} AND last_seen < ${before} ORDER BY last_seen, key LIMIT ${limit.journeys}`,
    );
    if (found.length === 0) return { journeys: 0, events: 0, done: true };
    const keys = found.map((r) => r.key);
    // The visitors of each journey (an anonymous journey's key is its visitor id).
    const members = new Map<string, Set<string>>(keys.map((k) => [k, new Set(k.startsWith('u:') ? [] : [k])]));
    for (const part of chunks(keys)) {
      const rows = await query<{ visitor: string; journey: string }>(
        db,
        sql`SELECT visitor, journey FROM visitors WHERE site = ${site} AND journey IN ${list(part)}`,
      );
      for (const r of rows) members.get(r.journey)?.add(r.visitor);
    }
    // Events per visitor, one grouped read per 90 visitors; then whole journeys while their events fit the chunk.
    const perVisitor = new Map<string, number>();
    for (const part of chunks([...members.values()].flatMap((m) => [...m]))) {
      const rows = await query<{ visitor: string; n: number }>(
        db,
        sql`SELECT visitor, COUNT(*) AS n FROM events WHERE site = ${site} AND visitor IN ${list(part)} GROUP BY visitor`,
      );
      for (const r of rows) perVisitor.set(r.visitor, r.n);
    }
    const taken: string[] = [];
    const visitors: string[] = [];
    let events = 0;
    for (const key of keys) {
      const own = [...members.get(key)!];
      const n = own.reduce((t, v) => t + (perVisitor.get(v) ?? 0), 0);
      if (taken.length > 0 && events + n > limit.events) break;
      if (n > limit.events) {
        // One journey with more events than a chunk: its events go in slices first, the journey in a later chunk.
        const has = (v: string) => perVisitor.get(v) ?? 0;
        const part = chunks(own).find((p) => p.some((v) => has(v) > 0))!;
        const slice = sql`DELETE FROM events WHERE site = ${site} AND id IN (SELECT id FROM events WHERE site = ${site}
          AND visitor IN ${list(part)} LIMIT ${limit.events})`;
        if (!(await guarded(db, site, [key], before, [slice]))) return { journeys: 0, events: 0, done: false };
        return {
          journeys: 0,
          events: Math.min(
            limit.events,
            part.reduce((t, v) => t + has(v), 0),
          ),
          done: false,
        };
      }
      taken.push(key);
      visitors.push(...own);
      events += n;
    }
    // No rollup statements: the cohort sums of those days stay (the journey map and funnel keep their numbers).
    if (!(await guarded(db, site, taken, before, deletionStatements(site, taken, visitors, []))))
      return { journeys: 0, events: 0, done: false };
    return { journeys: taken.length, events, done: false };
  },
});

/**
 * Runs a retention batch behind expiryGuard. false: a journey was active again (the next chunk, choosing again, skips
 * it); any other failure is thrown.
 */
const guarded = async (
  db: SqlConnector,
  site: string,
  keys: readonly string[],
  before: number,
  statements: readonly Sql[],
): Promise<boolean> => {
  try {
    await db.batch([...expiryGuard(site, keys, before), ...statements]);
    return true;
  } catch (e) {
    for (const part of chunks(keys)) {
      const [row] = await query<{ n: number }>(
        db,
        sql`SELECT COUNT(*) AS n FROM journeys WHERE site = ${site} AND key IN ${list(part)} AND last_seen >= ${before}`,
      );
      if ((row?.n ?? 0) > 0) return false;
    }
    throw e;
  }
};

/** How many events the visitors have. */
const countEvents = async (db: SqlConnector, site: string, visitors: readonly string[]): Promise<number> => {
  let events = 0;
  for (const part of chunks(visitors)) {
    const [row] = await query<{ n: number }>(
      db,
      sql`SELECT COUNT(*) AS n FROM events WHERE site = ${site} AND visitor IN ${list(part)}`,
    );
    events += row?.n ?? 0;
  }
  return events;
};

/**
 * The one deletion path of erasure and retention: the events and links of `visitors`, their automation rows, the
 * journeys `keys` and their derived rows; for each of `subtract` (the stored states of erased journeys) the
 * statements that take its contribution out of the rollups.
 */
export const deletionStatements = (
  site: string,
  keys: readonly string[],
  visitors: readonly string[],
  subtract: readonly Journey[],
): Sql[] => {
  const statements: Sql[] = [];
  for (const part of chunks([...new Set(visitors)])) {
    statements.push(sql`DELETE FROM events WHERE site = ${site} AND visitor IN ${list(part)}`);
    statements.push(sql`DELETE FROM visitors WHERE site = ${site} AND visitor IN ${list(part)}`);
    statements.push(...eraseAutomationStatements(site, part)); // stalls and deliveries carry the journey too
  }
  for (const state of subtract) statements.push(...rollupStatements(site, state, null));
  for (const part of chunks([...new Set(keys)])) {
    for (const t of ['journeys', ...DERIVED_TABLES]) {
      statements.push(sql`DELETE FROM ${raw(t)} WHERE site = ${site} AND key IN ${list(part)}`);
    }
  }
  return statements;
};

/**
 * Fails the whole retention batch (a NOT NULL violation on `meta.value`, as journeyGuard) when one of the journeys
 * was active again since it was chosen: an event that arrived in between keeps it.
 */
const expiryGuard = (site: string, keys: readonly string[], before: number): Sql[] =>
  chunks(keys).map(
    (part) =>
      sql`INSERT INTO meta (key, value) SELECT 'cjm:journey-active-again', NULL WHERE EXISTS
        (SELECT 1 FROM journeys WHERE site = ${site} AND key IN ${list(part)} AND last_seen >= ${before})`,
  );
