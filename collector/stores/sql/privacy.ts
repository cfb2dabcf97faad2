/**
 * Privacy and ingest bounds in SQL (migration 0002): the PrivacyStore methods — admitted event names and prop keys
 * (cardinality bounds), the per-day ingest counters, tombstones and erasure — and the name and counter statements
 * the ingest commit adds (events.ts).
 */
import type { CounterName, NameEntry, PrivacyStore } from '../../core/store';
import { eraseAutomationStatements } from './automation';
import { DERIVED_TABLES, storedStates } from './journeys';
import { rollupStatements } from './rollups';
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
    let events = 0;
    const statements: Sql[] = [];
    const keys = [...new Set([journey, ...visitors])];
    for (const part of chunks(visitors)) {
      const [row] = await query<{ n: number }>(
        db,
        sql`SELECT COUNT(*) AS n FROM events WHERE site = ${site} AND visitor IN ${list(part)}`,
      );
      events += row?.n ?? 0;
      statements.push(sql`DELETE FROM events WHERE site = ${site} AND visitor IN ${list(part)}`);
      statements.push(sql`DELETE FROM visitors WHERE site = ${site} AND visitor IN ${list(part)}`);
      statements.push(...eraseAutomationStatements(site, part)); // stalls and deliveries carry the journey too
    }
    const states = await storedStates(db, site, keys);
    for (const state of states.values()) statements.push(...rollupStatements(site, state, null));
    for (const part of chunks(keys)) {
      for (const t of ['journeys', ...DERIVED_TABLES]) {
        statements.push(sql`DELETE FROM ${raw(t)} WHERE site = ${site} AND key IN ${list(part)}`);
      }
    }
    for (const h of hashes)
      statements.push(sql`INSERT OR IGNORE INTO tombstones (site, hash, deleted_at) VALUES (${site}, ${h}, ${at})`);
    await db.batch(statements);
    return events;
  },
});
