/**
 * Local Cloudflare Worker helpers for tests, `npm run dev:worker` and `npm run bench`: assemble the static assets,
 * apply the migrations to a local D1, and start the Worker on a real workerd (wrangler's `unstable_startWorker`).
 *
 * @example
 * const w = await startLocalWorker({ adminToken: 'a-token-of-24-characters-at-least' })   // free port, fresh temp D1
 * await fetch(`${w.url}/collect`, { method: 'POST', body })
 * await w.stop()
 *
 * CLI: `tsx scripts/worker.ts assets` assembles .worker-assets/ (run by `npm run build:worker`).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getPlatformProxy, unstable_splitSqlQuery, unstable_startWorker } from 'wrangler';
import { MIGRATIONS_DIR, readMigrations, runMigrations, type MigrationDb } from '../collector/stores/migrate';

process.env.WRANGLER_SEND_METRICS ??= 'false';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WRANGLER_TOML = join(ROOT, 'wrangler.toml');
export const ASSETS_DIR = join(ROOT, '.worker-assets');
export { MIGRATIONS_DIR };

/**
 * Assembles what the `ASSETS` binding serves: the built tag and its chunks (`/cjm.js`,
 * `/cjm.vitals.js`, `/cjm.markup.js` from dist/), the dashboard's
 * built stylesheet, script and manifest (`/assets/…` from dist/assets/) and the demo shop (`/demo/…` from
 * demo-site/), the same URL paths collector/node.ts serves from files.
 */
/** The tag and its lazily loaded chunks, served at the root. */
const TAG_FILES = ['cjm.js', 'cjm.vitals.js', 'cjm.markup.js'];

export const assembleAssets = (root = ROOT, out = join(root, '.worker-assets')): string => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const file of [...TAG_FILES, 'assets/manifest.json']) {
    const from = join(root, 'dist', file);
    if (!existsSync(from)) throw new Error(`[cjm] ${from} is missing: build it first with npm run build`);
  }
  for (const file of TAG_FILES) cpSync(join(root, 'dist', file), join(out, file));
  cpSync(join(root, 'dist', 'assets'), join(out, 'assets'), { recursive: true });
  cpSync(join(root, 'demo-site'), join(out, 'demo'), { recursive: true });
  return out;
};

/** A D1 database as the migration runner sees it (collector/stores/migrate.ts): a file runs as one atomic batch. */
export const d1MigrationDb = (db: D1Database): MigrationDb<true> => ({
  run: async (sql) => {
    await db.prepare(sql).run();
  },
  all: async (sql) => (await db.prepare(sql).all<Record<string, unknown>>()).results,
  apply: async (sql, record) => {
    await db.batch([
      ...unstable_splitSqlQuery(sql).map((s) => db.prepare(s)),
      db.prepare(record.sql).bind(...record.params),
    ]);
  },
});

/**
 * Applies `collector/migrations/*.sql` not yet applied to a D1 database, with the runner `npm start` uses, recorded in
 * `d1_migrations` exactly as `wrangler d1 migrations apply` records them (so either may run later).
 */
export const applyMigrations = (db: D1Database, dir = MIGRATIONS_DIR): Promise<string[]> =>
  runMigrations(d1MigrationDb(db), readMigrations(dir));

export interface LocalD1 {
  db: D1Database;
  /** Every D1 binding by name: `DB` and the `databases` asked for. */
  databases: Record<string, D1Database>;
  dispose: () => Promise<void>;
}

export interface LocalD1Options {
  /** More D1 bindings beside `DB` (`DB_SHOP`…), each a database of its own, migrated like `DB`. */
  databases?: readonly string[];
}

/** The local `database_id` of an extra binding: its local state is kept under it (`--persist-to`). */
const localDatabaseId = (binding: string) => `local-${binding.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

/**
 * A real workerd-backed D1 in this process (wrangler's `getPlatformProxy`), migrated. `persistTo` is the folder
 * `wrangler dev --persist-to` uses (default: a fresh temp folder).
 */
export const openLocalD1 = async (
  persistTo = mkdtempSync(join(tmpdir(), 'cjm-d1-')),
  options: LocalD1Options = {},
): Promise<LocalD1> => {
  const extra = options.databases ?? [];
  mkdirSync(persistTo, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const proxy = await getPlatformProxy<Record<string, D1Database>>({
      configPath: extra.length ? localConfig(persistTo, { assets: true, databases: extra }) : WRANGLER_TOML,
      persist: { path: join(persistTo, 'v3') },
    });
    try {
      const databases: Record<string, D1Database> = {};
      for (const name of ['DB', ...extra]) {
        const db = proxy.env[name];
        if (!db) throw new Error(`[cjm] the local Worker config has no D1 binding ${name}`);
        await applyMigrations(db);
        databases[name] = db;
      }
      return { db: databases.DB as D1Database, databases, dispose: () => proxy.dispose() };
    } catch (e) {
      await proxy.dispose();
      if (String(e).includes('has no D1 binding') || attempt >= 3) throw e;
      // Miniflare's synchronous proxy (every `prepare` of the migrations' many statements is a blocking call to a
      // worker thread) has been seen to lose a reply on a loaded machine (an AssertionError in fetch-sync). Each
      // migration file is one atomic batch recorded in d1_migrations, so a fresh proxy resumes where this one stopped.
      console.warn(`[cjm] local D1 migration attempt ${attempt} failed (${String(e)}); retrying with a fresh proxy`);
    }
  }
};

/**
 * wrangler.toml for a local run, written into `dir` (paths made absolute): without its `[assets]` table when
 * `assets` is false, without its `[[queues.*]]` tables (the `INGEST` queue) unless `queue` is set (only its
 * consumer left out with `'producer-only'`), and with one more `[[d1_databases]]` entry per name of `databases`.
 */
export const localConfig = (
  dir: string,
  o: { assets: boolean; databases?: readonly string[]; queue?: LocalWorkerOptions['queue'] },
): string => {
  const lines: string[] = [];
  let skipping = false;
  for (const line of readFileSync(WRANGLER_TOML, 'utf8').split('\n')) {
    if (/^\s*\[/.test(line))
      skipping =
        (!o.assets && /^\s*\[assets\]/.test(line)) ||
        (!o.queue && /^\s*\[\[queues\./.test(line)) ||
        (o.queue === 'producer-only' && /^\s*\[\[queues\.consumers\]\]/.test(line));
    if (skipping) continue;
    lines.push(
      line.replace(
        /^(main|migrations_dir|directory)\s*=\s*"([^"]+)"/,
        (_, k: string, v: string) => `${k} = ${JSON.stringify(join(ROOT, v))}`,
      ),
    );
  }
  for (const binding of o.databases ?? []) {
    lines.push(
      '',
      '[[d1_databases]]',
      `binding = ${JSON.stringify(binding)}`,
      `database_name = ${JSON.stringify(`cjm-${binding.toLowerCase()}`)}`,
      `database_id = ${JSON.stringify(localDatabaseId(binding))}`,
      `migrations_dir = ${JSON.stringify(join(ROOT, 'collector/migrations'))}`,
    );
  }
  const queue = o.queue === 'producer-only' ? '.producer-only' : o.queue ? '' : '.no-queue';
  const file = join(dir, `wrangler.local${o.assets ? '' : '.no-assets'}${queue}.toml`);
  writeFileSync(file, lines.join('\n'));
  return file;
};

/** A free TCP port on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => ok(port));
    });
  });

export interface LocalWorkerOptions {
  /** Default: a free port. */
  port?: number;
  /** The `CJM_ADMIN_TOKEN` var; when absent the Worker generates one and keeps it in D1 (`token` reads it back). */
  adminToken?: string;
  /** The `CJM_SECRET` var (the hashing secret); when absent the Worker keeps one in D1. */
  secret?: string;
  /** Local D1 state folder (`--persist-to`); default a fresh temp folder, removed by `stop()`. */
  persistTo?: string;
  /**
   * Serve the tag and the demo shop (default true): reassembles .worker-assets/ and binds ASSETS as wrangler.toml
   * does. With `false` the Worker runs without the assets router in front of it, which is what `scheduled()` needs:
   * locally, wrangler's assets router does not pass cron events on (on Cloudflare they reach the Worker directly).
   */
  assets?: boolean;
  /** More D1 bindings beside `DB` (`DB_SHOP`…), each its own local database, migrated like `DB`. */
  databases?: readonly string[];
  /** More plain-text vars (`CJM_D1_LIMIT_BYTES`…). */
  vars?: Record<string, string>;
  /**
   * Run with wrangler.toml's `INGEST` queue, local (default false: the Worker ingests directly, as without the
   * binding on Cloudflare). `'producer-only'`: the producer binding without the consumer, where the local broker
   * accepts and discards every message (what the bench measures the producer's own cost with).
   */
  queue?: boolean | 'producer-only';
}

export interface LocalWorker {
  url: string;
  port: number;
  /** The admin token the Worker answers to. */
  token: string;
  /** The local D1 state folder (`wrangler dev --persist-to`). */
  persistTo: string;
  /** Runs the cron handler once, as the cron trigger would (`scheduledTime` defaults to now); needs `assets: false`. */
  scheduled: (scheduledTime?: number) => Promise<Response>;
  stop: () => Promise<void>;
}

/**
 * Starts collector/worker.ts on a real local workerd with a migrated local D1, on 127.0.0.1. Stop it with `stop()`.
 */
export const startLocalWorker = async (options: LocalWorkerOptions = {}): Promise<LocalWorker> => {
  const temp = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), 'cjm-worker-'));
  const assets = options.assets !== false;
  const queue = options.queue ?? false;
  // Assembled per Worker (in its own folder): test files running in parallel never see each other's half-copied assets.
  const assetsDir = assets ? assembleAssets(ROOT, join(persistTo, 'assets')) : undefined;
  // Migrate (and read a kept token) through the same local D1 files the Worker will open.
  const databases = options.databases ?? [];
  const d1 = await openLocalD1(persistTo, { databases });
  await d1.dispose();
  const port = options.port ?? (await freePort());
  const vars = {
    ...options.vars,
    ...(options.adminToken ? { CJM_ADMIN_TOKEN: options.adminToken } : {}),
    ...(options.secret ? { CJM_SECRET: options.secret } : {}),
  };
  const worker = await unstable_startWorker({
    config:
      assets && databases.length === 0 && queue === true
        ? WRANGLER_TOML
        : localConfig(persistTo, { assets, databases, queue }),
    ...(assetsDir ? { assets: assetsDir } : {}),
    bindings: Object.fromEntries(Object.entries(vars).map(([k, value]) => [k, { type: 'plain_text' as const, value }])),
    dev: {
      server: { hostname: '127.0.0.1', port },
      inspector: false,
      persist: persistTo,
      watch: false,
      // 'error' (CJM_WORKER_LOG overrides): without network, miniflare warns on every start that it cannot fetch the
      // `Request.cf` object.
      logLevel: (process.env.CJM_WORKER_LOG as 'debug' | 'info' | 'log' | 'warn' | 'error' | undefined) ?? 'error',
      // GET /cdn-cgi/handler/scheduled runs the cron handler (the same as a cron trigger firing).
      testScheduled: true,
    },
  });
  const stop = async () => {
    await worker.dispose();
    if (temp) rmSync(persistTo, { recursive: true, force: true });
  };
  try {
    await worker.ready;
    const url = (await worker.url).toString().replace(/\/$/, '');
    let token = options.adminToken;
    if (!token) {
      // The first request boots the Worker (token generated and kept in D1, demo site); then read the token back.
      await (await fetch(`${url}/`)).arrayBuffer();
      const again = await openLocalD1(persistTo);
      const { results } = await again.db
        .prepare("SELECT value FROM meta WHERE key = 'admin_token'")
        .all<{ value: string }>();
      await again.dispose();
      token = results[0]?.value;
      if (!token) throw new Error('[cjm] the local Worker did not keep an admin token in D1');
    }
    const scheduled = (time = Date.now()) => fetch(`${url}/cdn-cgi/handler/scheduled?time=${time}`);
    return { url, port, token, persistTo, scheduled, stop };
  } catch (e) {
    await stop();
    throw e;
  }
};

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain && process.argv[2] === 'assets') {
  console.log(`[cjm] assembled the Worker's static assets in ${assembleAssets()}`);
}
