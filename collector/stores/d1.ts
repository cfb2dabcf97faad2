/**
 * The D1 store on Cloudflare Workers: a connector for stores/sql/ (which holds all the SQL), nothing else.
 *
 * Reads are `prepare().bind().all()`; a commit is one `db.batch()`, which D1 runs as a single transaction (all
 * statements or none). The SQL layer binds null, never `undefined` (D1 refuses it), and at most 100 parameters per
 * statement. Migrations are applied by wrangler (`wrangler d1 migrations apply DB`), not here.
 */
import { D1_LIMIT_BYTES, type DatabaseStats } from '../core/services/health';
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

/**
 * Whether a binding is a D1 database (what wrangler.toml's `[[d1_databases]]` gives a Worker): it has D1's methods,
 * and is not an RPC stub (a service binding such as `ASSETS` answers every method name, made-up ones included).
 */
export const isD1Database = (v: unknown): v is D1Database => {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.prepare === 'function' &&
    typeof o.batch === 'function' &&
    typeof o.exec === 'function' &&
    typeof o.cjmNoSuchMethod !== 'function'
  );
};

/**
 * The D1 databases of a Worker's `env`, by binding name: every binding that is a D1 database (`DB`, `DB_SHOP`…),
 * so a `[[d1_databases]]` entry in wrangler.toml is all a site's own database needs.
 */
export const d1Databases = (env: object): Map<string, D1Database> => {
  const out = new Map<string, D1Database>();
  for (const [name, v] of Object.entries(env)) if (isD1Database(v)) out.set(name, v);
  return out;
};

/**
 * The size of a D1 database: `meta.size_after` of a trivial query (D1 reports the database's size after every
 * query; its page pragmas are refused with SQLITE_AUTH), against `limitBytes` (10 GB on Workers Paid).
 */
export const d1Stats = async (name: string, db: D1Database, limitBytes = D1_LIMIT_BYTES): Promise<DatabaseStats> => {
  const { meta } = await db.prepare('SELECT 1').all();
  const size = (meta as { size_after?: unknown }).size_after;
  return {
    name,
    runtime: 'd1',
    sizeBytes: typeof size === 'number' ? size : 0,
    limitBytes,
    pageSize: null,
    pageCount: null,
    freePages: null,
    maxPageCount: null,
    diskFreeBytes: null,
  };
};
