/**
 * The one migration runner (collector/stores/migrate.ts) on SQLite: wrangler's order, one record per file in
 * d1_migrations, nothing applied twice, a failing file leaves neither schema nor record, a database migrated by the
 * previous cjm (its own d1_migrations definition) is continued, and the asynchronous path (D1's) gives the same.
 * test/stores/migrations-d1.test.ts checks the same runner against wrangler's own CLI on a local D1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MIGRATIONS_TABLE,
  migrationOrder,
  readMigrations,
  runMigrations,
  type MigrationDb,
} from '../../collector/stores/migrate';
import { migrate, sqliteMigrationDb } from '../../collector/stores/sqlite';

const FILES = readMigrations();
const NAMES = FILES.map((f) => f.name);

const recorded = (db: Database.Database) =>
  (db.prepare(`SELECT id, name FROM ${MIGRATIONS_TABLE} ORDER BY id`).all() as Array<{ id: number; name: string }>).map(
    (r) => r.name,
  );
/** Every table and index cjm's migrations made, with its SQL. */
const schema = (db: Database.Database) =>
  db
    .prepare(
      `SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> '${MIGRATIONS_TABLE}' ORDER BY type, name`,
    )
    .all();

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const migrationsDir = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'cjm-migrations-'));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
};

describe('migration runner', () => {
  it("orders files as wrangler does: by name, then by the number before '_' (0002_a before 0002_b before 0010)", () => {
    expect(migrationOrder(['0010_z.sql', '0002_b.sql', '0009_y.sql', '0002_a.sql', '0001_x.sql'])).toEqual([
      '0001_x.sql',
      '0002_a.sql',
      '0002_b.sql',
      '0009_y.sql',
      '0010_z.sql',
    ]);
    expect(NAMES).toEqual(migrationOrder(NAMES));
    expect(NAMES.length).toBeGreaterThan(8);
    const dir = migrationsDir({ '0002_b.sql': 'SELECT 1;', 'notes.txt': 'not a migration', '0001_a.sql': 'SELECT 1;' });
    expect(readMigrations(dir).map((f) => f.name)).toEqual(['0001_a.sql', '0002_b.sql']);
  });

  it('applies every file once, recording each in d1_migrations in order; a second run applies nothing', () => {
    const db = new Database(':memory:');
    expect(migrate(db)).toEqual(NAMES);
    expect(recorded(db)).toEqual(NAMES);
    expect(migrate(db)).toEqual([]);
    expect(recorded(db)).toEqual(NAMES);
    expect(schema(db).length).toBeGreaterThan(20);
  });

  it('continues a database the previous version migrated (its own definition of d1_migrations)', () => {
    const fresh = new Database(':memory:');
    migrate(fresh);
    const old = new Database(':memory:');
    // What collector/stores/sqlite.ts created and wrote before the shared runner.
    old.exec(`CREATE TABLE IF NOT EXISTS d1_migrations (
      id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
    for (const f of FILES.slice(0, 5)) {
      old.exec(f.sql);
      old.prepare('INSERT INTO d1_migrations (name) VALUES (?)').run(f.name);
    }
    expect(migrate(old)).toEqual(NAMES.slice(5));
    expect(recorded(old)).toEqual(NAMES);
    expect(schema(old)).toEqual(schema(fresh));
  });

  it('a failing file writes neither its schema nor its record; the files before it stay applied', () => {
    const dir = migrationsDir({
      '0001_a.sql': 'CREATE TABLE a (x INTEGER);',
      '0002_b.sql': 'CREATE TABLE b (x INTEGER);\nCREATE TABLE oops (;',
    });
    const db = new Database(':memory:');
    expect(() => migrate(db, dir)).toThrow();
    expect(recorded(db)).toEqual(['0001_a.sql']);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('a', 'b')").all()).toEqual([
      { name: 'a' },
    ]);
    writeFileSync(join(dir, '0002_b.sql'), 'CREATE TABLE b (x INTEGER);');
    expect(migrate(db, dir)).toEqual(['0002_b.sql']);
    expect(recorded(db)).toEqual(['0001_a.sql', '0002_b.sql']);
  });

  it('answers a promise on an asynchronous database (as D1 is), with the same result', async () => {
    const sync = new Database(':memory:');
    migrate(sync);
    const db = new Database(':memory:');
    const inner = sqliteMigrationDb(db);
    const calls: string[] = [];
    const async: MigrationDb<true> = {
      run: async (sql) => {
        calls.push('run');
        inner.run(sql);
      },
      all: async (sql) => {
        calls.push('all');
        return inner.all(sql);
      },
      apply: async (sql, record) => {
        calls.push('apply');
        inner.apply(sql, record);
      },
    };
    const pending = runMigrations(async, FILES);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual(NAMES);
    expect(calls).toEqual(['run', 'all', ...NAMES.map(() => 'apply')]);
    expect(recorded(db)).toEqual(NAMES);
    expect(schema(db)).toEqual(schema(sync));
    expect(await runMigrations(async, FILES)).toEqual([]);
  });
});
