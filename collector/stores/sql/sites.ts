/**
 * Sites and meta in SQL (migration 0001): the SiteStore methods — site configurations (JSON), and values kept in
 * the database (the admin token, salts).
 */
import type { SiteConfig } from '../../core/stages';
import type { SiteStore } from '../../core/store';
import { chunks, list, query, sql, type SqlConnector } from './shared';

/** The site and meta methods of the Store over a connector. */
export const sqlSiteStore = (db: SqlConnector): SiteStore => {
  const getMeta = async (key: string): Promise<string | null> => {
    const rows = await query<{ value: string }>(db, sql`SELECT value FROM meta WHERE key = ${key}`);
    return rows[0]?.value ?? null;
  };
  return {
    getMeta,

    async setMeta(key, value, ifAbsent = false) {
      await db.batch([
        ifAbsent
          ? sql`INSERT OR IGNORE INTO meta (key, value) VALUES (${key}, ${value})`
          : sql`INSERT INTO meta (key, value) VALUES (${key}, ${value}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ]);
      return (await getMeta(key)) ?? value;
    },

    async listMeta(prefix) {
      const pattern = `${prefix.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      return query<{ key: string; value: string }>(
        db,
        sql`SELECT key, value FROM meta WHERE key LIKE ${pattern} ESCAPE '\\' ORDER BY key`,
      );
    },

    async deleteMeta(keys) {
      const statements = chunks(keys).map((part) => sql`DELETE FROM meta WHERE key IN ${list(part)}`);
      if (statements.length > 0) await db.batch(statements);
    },

    async getSite(id) {
      const rows = await query<{ config: string }>(db, sql`SELECT config FROM sites WHERE id = ${id}`);
      return rows[0] ? (JSON.parse(rows[0].config) as SiteConfig) : null;
    },

    async listSites() {
      const rows = await query<{ config: string }>(db, sql`SELECT config FROM sites ORDER BY id`);
      return rows.map((r) => JSON.parse(r.config) as SiteConfig);
    },

    async putSite(site) {
      await db.batch([
        sql`INSERT INTO sites (id, config, created_at) VALUES (${site.id}, ${JSON.stringify(site)}, ${Date.now()})
            ON CONFLICT (id) DO UPDATE SET config = excluded.config`,
      ]);
    },
  };
};
