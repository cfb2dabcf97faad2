/**
 * The migration runner and wrangler agree about a local D1 (`npm start`, the local D1 of scripts/worker.ts and
 * `wrangler d1 migrations apply` record the same table): wrangler's CLI sees what the runner applied and applies
 * only the rest; the runner then sees nothing left; the schema is the one the runner gives SQLite.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_TABLE, readMigrations, runMigrations } from '../../collector/stores/migrate';
import { openSqlite } from '../../collector/stores/sqlite';
import { d1MigrationDb, ROOT, WRANGLER_TOML } from '../../scripts/worker';
import { getPlatformProxy } from 'wrangler';

const FILES = readMigrations();
const NAMES = FILES.map((f) => f.name);
const persistTo = mkdtempSync(join(tmpdir(), 'cjm-d1-migrations-'));
afterAll(() => rmSync(persistTo, { recursive: true, force: true }));

/** Runs `fn` on the local D1 kept in `persistTo` (the folder `wrangler … --persist-to` uses). */
const withD1 = async <T>(fn: (db: D1Database) => Promise<T>): Promise<T> => {
  const proxy = await getPlatformProxy<{ DB: D1Database }>({
    configPath: WRANGLER_TOML,
    persist: { path: join(persistTo, 'v3') },
  });
  try {
    return await fn(proxy.env.DB);
  } finally {
    await proxy.dispose();
  }
};

/** wrangler's own CLI, on the same local D1. */
const wrangler = async (...args: string[]): Promise<string> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), ...args, '--local', '--persist-to', persistTo],
    { cwd: ROOT, env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' } },
  );
  return stdout;
};

const listed = (out: string) => NAMES.filter((n) => out.includes(n));

describe('migrations on a local D1', () => {
  it('wrangler applies what the runner did not, and the runner what wrangler did not', async () => {
    const first = 4;
    expect(await withD1((db) => runMigrations(d1MigrationDb(db), FILES.slice(0, first)))).toEqual(
      NAMES.slice(0, first),
    );
    // wrangler sees the runner's records: only the rest is unapplied.
    expect(listed(await wrangler('d1', 'migrations', 'list', 'DB'))).toEqual(NAMES.slice(first));
    expect(listed(await wrangler('d1', 'migrations', 'apply', 'DB'))).toEqual(NAMES.slice(first));
    expect(await wrangler('d1', 'migrations', 'list', 'DB')).toMatch(/No migrations to apply/);
    // The runner sees wrangler's records: nothing left, every file recorded once, in order.
    const { applied, names, schema } = await withD1(async (db) => ({
      applied: await runMigrations(d1MigrationDb(db), FILES),
      names: (await db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`).all<{ name: string }>()).results,
      schema: (
        await db
          .prepare(
            `SELECT type, name, sql FROM sqlite_master
             WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> '${MIGRATIONS_TABLE}' ORDER BY type, name`,
          )
          .all()
      ).results,
    }));
    expect(applied).toEqual([]);
    expect(names.map((r) => r.name)).toEqual(NAMES);
    const sqlite = openSqlite(':memory:')
      .prepare(
        `SELECT type, name, sql FROM sqlite_master
         WHERE name NOT LIKE 'sqlite_%' AND name <> '${MIGRATIONS_TABLE}' ORDER BY type, name`,
      )
      .all();
    expect(schema).toEqual(sqlite);
  }, 180_000);
});
