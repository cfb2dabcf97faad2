/**
 * The D1 store on Cloudflare Workers: a connector for stores/sql/ (which holds all the SQL), nothing else.
 *
 * Reads are `prepare().bind().all()`; a commit is one `db.batch()`, which D1 runs as a single transaction (all
 * statements or none). The SQL layer binds null, never `undefined` (D1 refuses it), and at most 100 parameters per
 * statement. Migrations are applied by wrangler (`wrangler d1 migrations apply DB`), not here.
 */
import type { Store } from '../core/store';
import { storeError } from './full';
import { createSqlStore, type SqlConnector, type SqlStatement, type SqlValue } from './sql';

/** A connector over a D1 binding (injected: built per request from `env.DB`, never read from globals). */
export const d1Connector = (db: D1Database): SqlConnector => ({
  all: async <T>(sql: string, params: readonly SqlValue[] = []) => {
    try {
      const { results } = await db
        .prepare(sql)
        .bind(...params)
        .all<T>();
      return results;
    } catch (e) {
      throw storeError(e); // a full database: StoreFullError (stores/full.ts)
    }
  },
  batch: async (statements: readonly SqlStatement[]) => {
    if (statements.length === 0) return;
    try {
      await db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params)));
    } catch (e) {
      throw storeError(e);
    }
  },
});

/**
 * The Store on a D1 database.
 *
 * @example
 * export default { fetch: (req, env) => createApp({ getStore: (c) => createD1Store(c.env.DB), ... }).fetch(req, env) }
 */
export const createD1Store = (db: D1Database): Store => createSqlStore(d1Connector(db));
