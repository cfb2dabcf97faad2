/**
 * The SQLite store on Node (better-sqlite3): a connector for stores/sql.ts, plus migrations applied at start.
 *
 * Durability: WAL journal; `synchronous=NORMAL` by default (an acknowledged event survives a process crash),
 * `synchronous=FULL` with `sync: 'full'` (CJM_SYNC=full: it also survives power loss). Erasure: `secure_delete`, and a
 * checkpoint that truncates the log after each erasure (`scrub`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Store } from '../core/store';
import { createSqlStore, type SqlConnector, type SqlValue } from './sql';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/**
 * Applies `collector/migrations/*.sql` not yet applied, recorded in `d1_migrations` (the table wrangler uses for
 * D1), so one schema and one record of it serve both runtimes.
 */
export const migrate = (db: Database.Database, dir = MIGRATIONS_DIR): string[] => {
  db.exec(`CREATE TABLE IF NOT EXISTS d1_migrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
  const done = new Set((db.prepare('SELECT name FROM d1_migrations').all() as { name: string }[]).map((r) => r.name));
  const applied: string[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    if (done.has(name)) continue;
    const sql = readFileSync(join(dir, name), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').run(name);
    })();
    applied.push(name);
  }
  return applied;
};

export interface SqliteOptions {
  /** 'normal' (default): durable against a process crash; 'full': also against power loss. */
  sync?: 'normal' | 'full';
}

/** Opens (or creates) a database file, or `:memory:`, with the pragmas cjm expects, and migrates it. */
export const openSqlite = (file: string, options: SqliteOptions = {}): Database.Database => {
  const db = new Database(file);
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Deleted content is overwritten with zeros, so an erased visitor leaves no copy in free pages (docs/api.md).
  db.pragma('secure_delete = ON');
  migrate(db);
  return db;
};

/** A connector over a better-sqlite3 handle: statements are prepared once and cached. */
export const sqliteConnector = (db: Database.Database): SqlConnector => {
  const cache = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  const runAll = db.transaction((statements: readonly { sql: string; params: SqlValue[] }[]) => {
    for (const s of statements) prepare(s.sql).run(...s.params);
  });
  return {
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => prepare(sql).all(...params) as T[],
    batch: async (statements) => {
      runAll(statements);
    },
  };
};

/**
 * The Store on a better-sqlite3 handle (injected, never opened here from globals).
 *
 * @example
 * const store = createSqliteStore(openSqlite('./data/cjm.db'))
 */
export const createSqliteStore = (db: Database.Database): Store => ({
  ...createSqlStore(sqliteConnector(db)),
  // After an erasure: copy the log into the file and truncate it, so no old page version stays in the -wal file.
  scrub: async () => {
    db.pragma('wal_checkpoint(TRUNCATE)');
  },
});
