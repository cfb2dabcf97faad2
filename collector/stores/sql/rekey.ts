/**
 * Rewriting the unkeyed hashes of earlier versions in SQL (core/rekey.ts decides what to write): tombstones still in
 * SHA-256 hex, and server-side visitor ids `srv:`/`srva:` + 32 hex digits. Each write is one atomic batch, so a run
 * stopped part-way resumes where it was.
 */
import type { RekeyStore } from '../../core/store';
import { DERIVED_TABLES } from './journeys';
import { query, raw, sql, type Sql, type SqlConnector, type SqlPart } from './shared';

/** Renames per pass over a site's deliveries: 3 parameters each, under D1's 100. */
const DELIVERY_PASS = 30;

/** The rekeying methods of the Store over a connector. */
export const sqlRekeyStore = (db: SqlConnector): RekeyStore => ({
  async legacyTombstones(limit) {
    // 64 lower-case hex digits: the unkeyed form (keyed ones start with `k1:`).
    return query<{ site: string; hash: string }>(
      db,
      sql`SELECT site, hash FROM tombstones WHERE length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'
          ORDER BY site, hash LIMIT ${limit}`,
    );
  },

  async rekeyTombstones(rows) {
    const statements: Sql[] = [];
    for (const r of rows) {
      statements.push(
        sql`INSERT OR IGNORE INTO tombstones (site, hash, deleted_at)
            SELECT site, ${r.to}, deleted_at FROM tombstones WHERE site = ${r.site} AND hash = ${r.from}`,
        sql`DELETE FROM tombstones WHERE site = ${r.site} AND hash = ${r.from}`,
      );
    }
    if (statements.length > 0) await db.batch(statements);
  },

  async legacyServerVisitors(site, limit) {
    // Ranges of the primary key (site, visitor), then the unkeyed form: srv: / srva: and 32 hex digits.
    const rows = await query<{ visitor: string }>(
      db,
      sql`SELECT visitor FROM visitors WHERE site = ${site} AND (
            (visitor >= 'srv:' AND visitor < 'srv;' AND length(visitor) = 36) OR
            (visitor >= 'srva:' AND visitor < 'srva;' AND length(visitor) = 37))
          AND substr(visitor, instr(visitor, ':') + 1) NOT GLOB '*[^0-9a-f]*'
          ORDER BY visitor LIMIT ${limit}`,
    );
    return rows.map((r) => r.visitor);
  },

  async renameVisitors(site, renames) {
    const statements: Sql[] = [];
    for (const { from, to } of renames) {
      // A journey's state lists its visitors as JSON strings; the ids are 36/37 characters of a fixed alphabet,
      // so the quoted id occurs nowhere else.
      statements.push(
        sql`UPDATE journeys SET state = replace(state, ${`"${from}"`}, ${`"${to}"`})
            WHERE site = ${site} AND key = (SELECT journey FROM visitors WHERE site = ${site} AND visitor = ${from})`,
        sql`UPDATE journeys SET visitor = ${to} WHERE site = ${site} AND visitor = ${from}`,
        ...['journeys', ...DERIVED_TABLES].map(
          (t) => sql`UPDATE ${raw(t)} SET key = ${to} WHERE site = ${site} AND key = ${from}`,
        ),
        sql`UPDATE visitors SET journey = ${to} WHERE site = ${site} AND journey = ${from}`,
        sql`UPDATE visitors SET visitor = ${to} WHERE site = ${site} AND visitor = ${from}`,
        sql`UPDATE events SET visitor = ${to} WHERE site = ${site} AND visitor = ${from}`,
        sql`UPDATE automation_stalls SET visitor = ${to} WHERE site = ${site} AND visitor = ${from}`,
        sql`UPDATE automation_deliveries SET visitor = ${to} WHERE site = ${site} AND visitor = ${from}`,
      );
    }
    // A delivery's body carries the journey (its visitors): one pass over the site's deliveries per 30 renames.
    for (let i = 0; i < renames.length; i += DELIVERY_PASS) {
      const part = renames.slice(i, i + DELIVERY_PASS);
      let body: SqlPart = raw('body');
      for (const { from, to } of part) body = sql`replace(${body}, ${`"${from}"`}, ${`"${to}"`})`;
      let where: SqlPart = raw('0');
      for (const { from } of part) where = sql`${where} OR instr(body, ${`"${from}"`}) > 0`;
      statements.push(sql`UPDATE automation_deliveries SET body = ${body} WHERE site = ${site} AND (${where})`);
    }
    if (statements.length > 0) await db.batch(statements);
  },
});
