/**
 * `npm run move-site`: moves a site's data into another D1 database of the Worker, or out of a Node SQLite file into
 * D1 (collector/stores/move.ts has the steps and why each is safe to run again).
 *
 *   npm run move-site -- --site shop --to DB_SHOP                         # local D1 (.wrangler/state)
 *   npm run move-site -- --site shop --to DB_SHOP --remote                # the deployed D1 databases
 *   npm run move-site -- --from-sqlite data/cjm.db --site shop --to DB    # npm start's file into D1
 *
 * Options: --config <wrangler.toml> (default the repo's), --persist-to <dir> (local state, default .wrangler/state),
 * --chunk <rows> (default 500), --replace-target, --abort. The D1 databases are the `[[d1_databases]]` bindings of
 * the config, reached through wrangler's getPlatformProxy (local files, or with --remote the real databases: run
 * `wrangler login` first). Local databases are migrated here; remote ones with `wrangler d1 migrations apply`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { getPlatformProxy } from 'wrangler';
import { d1Connector, d1Databases } from '../collector/stores/d1';
import { moveSite, type MoveResult } from '../collector/stores/move';
import { openSqlite, sqliteConnector } from '../collector/stores/sqlite';
import type { SqlConnector } from '../collector/stores/sql';
import { applyMigrations, WRANGLER_TOML } from './worker';

export interface MoveSiteArgs {
  site: string;
  to: string;
  fromSqlite?: string;
  config?: string;
  persistTo?: string;
  remote?: boolean;
  chunk?: number;
  replaceTarget?: boolean;
  abort?: boolean;
  log?: (line: string) => void;
}

/** A copy of the config with `remote = true` on every D1 binding (getPlatformProxy then reaches the real ones). */
const remoteConfig = (config: string): string => {
  const lines = readFileSync(config, 'utf8')
    .split('\n')
    .flatMap((line) => (/^\s*\[\[d1_databases\]\]/.test(line) ? [line, 'remote = true'] : [line]));
  const dir = mkdtempSync(join(tmpdir(), 'cjm-move-'));
  const file = join(dir, 'wrangler.remote.toml');
  // Relative paths (main, migrations_dir) keep pointing where they did.
  const base = resolve(config, '..');
  writeFileSync(
    file,
    lines
      .map((l) =>
        l.replace(
          /^(main|migrations_dir|directory)\s*=\s*"([^"]+)"/,
          (_, k: string, v: string) => `${k} = ${JSON.stringify(resolve(base, v))}`,
        ),
      )
      .join('\n'),
  );
  return file;
};

/** Runs one move with the D1 databases of the config (local or remote) and, with `fromSqlite`, the file. */
export const runMoveSite = async (a: MoveSiteArgs): Promise<MoveResult> => {
  const config = resolve(a.config ?? WRANGLER_TOML);
  const proxy = await getPlatformProxy<Record<string, unknown>>({
    configPath: a.remote ? remoteConfig(config) : config,
    persist: a.remote ? false : { path: join(resolve(a.persistTo ?? '.wrangler/state'), 'v3') },
    remoteBindings: a.remote === true,
  });
  const file = a.fromSqlite ? openSqlite(resolve(a.fromSqlite)) : null;
  try {
    const databases: Record<string, SqlConnector> = {};
    for (const [name, db] of d1Databases(proxy.env)) {
      if (!a.remote) await applyMigrations(db);
      databases[name] = d1Connector(db);
    }
    return await moveSite(
      {
        databases,
        ...(file && a.fromSqlite ? { sqlite: { db: sqliteConnector(file), label: resolve(a.fromSqlite) } } : {}),
      },
      {
        site: a.site,
        to: a.to,
        ...(a.chunk ? { chunk: a.chunk } : {}),
        replaceTarget: a.replaceTarget === true,
        abort: a.abort === true,
        log: a.log ?? ((line) => console.log(line)),
      },
    );
  } finally {
    file?.close();
    await proxy.dispose();
  }
};

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({
    options: {
      site: { type: 'string' },
      to: { type: 'string' },
      'from-sqlite': { type: 'string' },
      config: { type: 'string' },
      'persist-to': { type: 'string' },
      remote: { type: 'boolean' },
      chunk: { type: 'string' },
      'replace-target': { type: 'boolean' },
      abort: { type: 'boolean' },
    },
  });
  if (!values.site || !values.to) {
    console.error(
      '[cjm] usage: npm run move-site -- --site <site> --to <D1 binding> [--from-sqlite data/cjm.db] [--remote] [--config wrangler.toml] [--persist-to dir] [--chunk 500] [--replace-target] [--abort]',
    );
    process.exit(2);
  }
  process.env.WRANGLER_SEND_METRICS ??= 'false';
  try {
    const r = await runMoveSite({
      site: values.site,
      to: values.to,
      ...(values['from-sqlite'] ? { fromSqlite: values['from-sqlite'] } : {}),
      ...(values.config ? { config: values.config } : {}),
      ...(values['persist-to'] ? { persistTo: values['persist-to'] } : {}),
      remote: values.remote === true,
      ...(values.chunk ? { chunk: Number(values.chunk) } : {}),
      replaceTarget: values['replace-target'] === true,
      abort: values.abort === true,
    });
    console.log(JSON.stringify(r));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
