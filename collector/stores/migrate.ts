/**
 * The one migration runner: applies `collector/migrations/*.sql` not yet applied, and records each in
 * `d1_migrations` exactly as `wrangler d1 migrations apply` does (the same table, the same names, the same order), so
 * wrangler and cjm agree about a database whichever ran first. Used by stores/sqlite.ts (Node, at start) and by
 * scripts/worker.ts (the local D1 of tests and `npm run dev:worker`); on Cloudflare, wrangler applies them.
 *
 * A database provides three operations (`MigrationDb`), synchronous (better-sqlite3) or asynchronous (D1); the
 * runner answers in kind.
 *
 * @example
 * migrate(openedSqliteHandle)                       // string[]: the files applied now
 * await applyMigrations(env.DB)                     // Promise<string[]> (scripts/worker.ts)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { raw, sql, type SqlStatement } from './sql/shared';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** wrangler's default `migrations_table` (wrangler.toml sets none). */
export const MIGRATIONS_TABLE = 'd1_migrations';

/** wrangler's own definition of the table (`CREATE TABLE IF NOT EXISTS`: a table made by an older cjm is kept). */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE}(
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;

export interface MigrationFile {
  name: string;
  sql: string;
}

type Maybe<T, Async extends boolean> = Async extends true ? Promise<T> : T;

/** What a database provides to be migrated. */
export interface MigrationDb<Async extends boolean = boolean> {
  /** Runs one statement that returns nothing. */
  run(sql: string): Maybe<void, Async>;
  /** The rows of a query. */
  all(sql: string): Maybe<Array<Record<string, unknown>>, Async>;
  /** Runs the statements of one migration file, then `record`, as one transaction: all of them or none. */
  apply(sql: string, record: SqlStatement): Maybe<void, Async>;
}

/**
 * The order wrangler applies migrations in: by file name, then (a stable sort) by the number before the first `_`,
 * so `0002_a.sql` runs before `0002_b.sql` and `0010_x.sql` after `0009_y.sql`.
 */
export const migrationOrder = (names: readonly string[]): string[] => {
  const number = (name: string) => parseInt(name.split('_')[0] ?? '', 10);
  return [...names]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .sort((a, b) => (number(a) < number(b) ? -1 : number(a) > number(b) ? 1 : 0));
};

/** The `*.sql` files of `dir`, in the order they are applied. */
export const readMigrations = (dir = MIGRATIONS_DIR): MigrationFile[] =>
  migrationOrder(readdirSync(dir).filter((f) => f.endsWith('.sql'))).map((name) => ({
    name,
    sql: readFileSync(join(dir, name), 'utf8'),
  }));

type Step =
  { op: 'run'; sql: string } | { op: 'all'; sql: string } | { op: 'apply'; sql: string; record: SqlStatement };

/** The runner itself, as the steps it asks of the database (so one runner serves sync and async databases). */
function* steps(files: readonly MigrationFile[]): Generator<Step, string[], unknown> {
  yield { op: 'run', sql: CREATE_TABLE };
  const rows = (yield { op: 'all', sql: `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id` }) as Array<{
    name: string;
  }>;
  const done = new Set(rows.map((r) => r.name));
  const byName = new Map(files.map((f) => [f.name, f]));
  const applied: string[] = [];
  for (const name of migrationOrder([...byName.keys()])) {
    if (done.has(name)) continue;
    const record = sql`INSERT INTO ${raw(MIGRATIONS_TABLE)} (name) VALUES (${name})`;
    yield { op: 'apply', sql: (byName.get(name) as MigrationFile).sql, record };
    applied.push(name);
  }
  return applied;
}

/**
 * Applies the files not yet recorded in `d1_migrations`, each in its own transaction with its record; returns the
 * names applied now. Synchronous on a synchronous database, a promise on an asynchronous one.
 */
export function runMigrations(db: MigrationDb<false>, files?: readonly MigrationFile[]): string[];
export function runMigrations(db: MigrationDb<true>, files?: readonly MigrationFile[]): Promise<string[]>;
export function runMigrations(
  db: MigrationDb,
  files: readonly MigrationFile[] = readMigrations(),
): string[] | Promise<string[]> {
  const gen = steps(files);
  const next = (input?: unknown): string[] | Promise<string[]> => {
    for (;;) {
      const r = gen.next(input);
      if (r.done) return r.value;
      const s = r.value;
      const out = s.op === 'run' ? db.run(s.sql) : s.op === 'all' ? db.all(s.sql) : db.apply(s.sql, s.record);
      if (out instanceof Promise) return out.then(next);
      input = out;
    }
  };
  return next();
}
