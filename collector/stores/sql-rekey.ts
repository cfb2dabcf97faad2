/**
 * Rewriting the unkeyed hashes of earlier versions in SQL (core/rekey.ts decides what to write): tombstones still in
 * SHA-256 hex, and server-side visitor ids `srv:`/`srva:` + 32 hex digits. Spread into `createSqlStore`, so SQLite
 * and D1 run the same statements; every write is one atomic batch, so a run stopped part-way resumes where it was.
 */
import type { RekeyStore } from '../core/store';
import type { SqlConnector, SqlStatement, SqlValue } from './sql';

const q = (sql: string, ...params: SqlValue[]): SqlStatement => ({ sql, params });

/** Tables whose rows belong to a journey by its key (a visitor's own journey has the visitor's id as key). */
const BY_KEY = ['journeys', 'journey_stages', 'journey_transitions', 'journey_stage_items', 'journey_stage_vitals'];

export const sqlRekeyMethods = (db: SqlConnector): RekeyStore => ({
  async legacyTombstones(limit) {
    // 64 lower-case hex digits: the unkeyed form (keyed ones start with `k1:`).
    return db.all<{ site: string; hash: string }>(
      "SELECT site, hash FROM tombstones WHERE length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*' ORDER BY site, hash LIMIT ?",
      [limit],
    );
  },

  async rekeyTombstones(rows) {
    const statements: SqlStatement[] = [];
    for (const r of rows) {
      statements.push(
        q(
          'INSERT OR IGNORE INTO tombstones (site, hash, deleted_at) SELECT site, ?, deleted_at FROM tombstones WHERE site = ? AND hash = ?',
          r.to,
          r.site,
          r.from,
        ),
        q('DELETE FROM tombstones WHERE site = ? AND hash = ?', r.site, r.from),
      );
    }
    if (statements.length > 0) await db.batch(statements);
  },

  async legacyServerVisitors(site, limit) {
    // Index ranges of the primary key (site, visitor), then the unkeyed length: srv: + 32, srva: + 32.
    const rows = await db.all<{ visitor: string }>(
      `SELECT visitor FROM visitors WHERE site = ? AND (
         (visitor >= 'srv:' AND visitor < 'srv;' AND length(visitor) = 36) OR
         (visitor >= 'srva:' AND visitor < 'srva;' AND length(visitor) = 37))
       AND substr(visitor, instr(visitor, ':') + 1) NOT GLOB '*[^0-9a-f]*'
       ORDER BY visitor LIMIT ?`,
      [site, limit],
    );
    return rows.map((r) => r.visitor);
  },

  async renameVisitors(site, renames) {
    const statements: SqlStatement[] = [];
    for (const { from, to } of renames) {
      // The journey's state lists its visitors (JSON strings); the ids are 36/37 characters of a fixed alphabet,
      // so the quoted id occurs nowhere else.
      const quoted = [`"${from}"`, `"${to}"`] as const;
      statements.push(
        q(
          `UPDATE journeys SET state = replace(state, ?, ?) WHERE site = ? AND key = (SELECT journey FROM visitors WHERE site = ? AND visitor = ?)`,
          ...quoted,
          site,
          site,
          from,
        ),
        q('UPDATE journeys SET visitor = ? WHERE site = ? AND visitor = ?', to, site, from),
        ...BY_KEY.map((t) => q(`UPDATE ${t} SET key = ? WHERE site = ? AND key = ?`, to, site, from)),
        q('UPDATE visitors SET journey = ? WHERE site = ? AND journey = ?', to, site, from),
        q('UPDATE visitors SET visitor = ? WHERE site = ? AND visitor = ?', to, site, from),
        q('UPDATE events SET visitor = ? WHERE site = ? AND visitor = ?', to, site, from),
        q('UPDATE automation_stalls SET visitor = ? WHERE site = ? AND visitor = ?', to, site, from),
        q('UPDATE automation_deliveries SET visitor = ? WHERE site = ? AND visitor = ?', to, site, from),
      );
    }
    // A delivery's body carries the journey (its visitors): one pass over the site's deliveries per 30 renames
    // (3 parameters each, under D1's 100).
    for (let i = 0; i < renames.length; i += 30) {
      const part = renames.slice(i, i + 30);
      let body = 'body';
      const params: SqlValue[] = [];
      for (const { from, to } of part) {
        body = `replace(${body}, ?, ?)`;
        params.push(`"${from}"`, `"${to}"`);
      }
      const where = part.map(() => 'instr(body, ?) > 0').join(' OR ');
      statements.push(
        q(
          `UPDATE automation_deliveries SET body = ${body} WHERE site = ? AND (${where})`,
          ...params,
          site,
          ...part.map((r) => `"${r.from}"`),
        ),
      );
    }
    if (statements.length > 0) await db.batch(statements);
  },
});
