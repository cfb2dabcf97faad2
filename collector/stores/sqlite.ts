/**
 * The SQLite store on Node (better-sqlite3): a connector for stores/sql/, plus migrations applied at start.
 *
 * Durability: WAL journal; `synchronous=NORMAL` by default (an acknowledged event survives a process crash),
 * `synchronous=FULL` with `sync: 'full'` (CJM_SYNC=full: it also survives power loss). Erasure: `secure_delete`, and a
 * checkpoint that truncates the log after each erasure (`scrub`).
 */
import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { DatabaseStats } from '../core/services/health';
import type { Store } from '../core/store';
import { storeError } from './full';
import { MIGRATIONS_DIR, readMigrations, runMigrations, type MigrationDb } from './migrate';
import { createSqlStore, type SqlConnector, type SqlStatement, type SqlValue } from './sql';

export { MIGRATIONS_DIR } from './migrate';

/** A better-sqlite3 handle as the migration runner sees it (stores/migrate.ts): each file runs with `exec`. */
export const sqliteMigrationDb = (db: Database.Database): MigrationDb<false> => ({
  run: (sql) => {
    db.exec(sql);
  },
  all: (sql) => db.prepare(sql).all() as Array<Record<string, unknown>>,
  apply: (sql, record: SqlStatement) =>
    db.transaction(() => {
      db.exec(sql);
      db.prepare(record.sql).run(...record.params);
    })(),
});

/**
 * Applies `collector/migrations/*.sql` not yet applied, recorded in `d1_migrations` as wrangler records them for
 * D1 (stores/migrate.ts), so one schema and one record of it serve both runtimes. Returns the files applied now.
 */
export const migrate = (db: Database.Database, dir = MIGRATIONS_DIR): string[] =>
  runMigrations(sqliteMigrationDb(db), readMigrations(dir));

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
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => {
      try {
        return prepare(sql).all(...params) as T[];
      } catch (e) {
        throw storeError(e); // SQLITE_FULL: StoreFullError (stores/full.ts)
      }
    },
    batch: async (statements) => {
      try {
        runAll(statements);
      } catch (e) {
        throw storeError(e);
      }
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

/**
 * The sizes of a SQLite database (core/services/health.ts): its pages, `max_page_count`, and the free space of the
 * disk that holds `file` (none for `:memory:`). The limit is whichever comes first.
 */
export const sqliteStats = (db: Database.Database, file: string, name = 'DB'): DatabaseStats => {
  const pragma = (p: string) => Number(db.pragma(p, { simple: true }));
  const pageSize = pragma('page_size');
  const pageCount = pragma('page_count');
  const maxPageCount = pragma('max_page_count');
  let diskFreeBytes: number | null = null;
  if (file !== ':memory:') {
    try {
      const fs = statfsSync(dirname(resolve(file)));
      diskFreeBytes = Number(fs.bavail) * Number(fs.bsize);
    } catch {
      /* not every platform tells */
    }
  }
  const sizeBytes = pageCount * pageSize;
  const byPages = maxPageCount * pageSize;
  return {
    name,
    runtime: 'sqlite',
    sizeBytes,
    limitBytes: diskFreeBytes === null ? byPages : Math.min(byPages, sizeBytes + diskFreeBytes),
    pageSize,
    pageCount,
    freePages: pragma('freelist_count'),
    maxPageCount,
    diskFreeBytes,
  };
};
