/**
 * The Node entry: opens the SQLite file, builds the app, serves it with @hono/node-server.
 * `npm start` runs this file; tests import `start()` to run a collector on a free port.
 */
import { lookup } from 'node:dns/promises';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type Database from 'better-sqlite3';
import { createApp, type App } from './core/app';
import { startAutomationLoop, type AutomationLoopOptions } from './core/automation/run';
import { pinnedFetch } from './webhook-fetch';
import { ensureDemoSite, resolveAdminToken } from './core/bootstrap';
import { createStorageMonitor, type StorageProbe } from './core/services/health';
import { maintenance } from './core/sites';
import type { Store } from './core/store';
import { createRoutedStore } from './stores/routed';
import { openSqlite, sqliteConnector, sqliteStats } from './stores/sqlite';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/**
 * Maps URL paths onto files: the built tag in dist/, the dashboard's built stylesheet, script and their manifest in
 * dist/assets/, the demo shop in demo-site/. Never leaves those folders. Read on every request, so a rebuild shows
 * at the next page load.
 */
export const fileAssets = (root = ROOT) => {
  const mounts: Array<[string, string]> = [
    ['/cjm.js', join(root, 'dist', 'cjm.js')],
    ['/cjm.vitals.js', join(root, 'dist', 'cjm.vitals.js')],
    ['/assets/', join(root, 'dist', 'assets') + sep],
    ['/demo/', join(root, 'demo-site') + sep],
  ];
  return async (path: string): Promise<Response | null> => {
    for (const [prefix, target] of mounts) {
      let file: string;
      if (prefix.endsWith('/')) {
        if (!path.startsWith(prefix)) continue;
        let rel: string;
        try {
          rel = decodeURIComponent(path.slice(prefix.length));
        } catch {
          return null;
        }
        file = normalize(join(target, rel));
        if (!file.startsWith(target)) return null;
      } else if (path === prefix) file = target;
      else continue;
      try {
        if (!statSync(file).isFile()) return null;
        return new Response(readFileSync(file), {
          headers: { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' },
        });
      } catch {
        return null;
      }
    }
    return null;
  };
};

export interface StartOptions {
  port?: number;
  host?: string;
  /** SQLite file, or ':memory:'. */
  db?: string;
  adminToken?: string;
  sync?: 'normal' | 'full';
  /** Print the banner (npm start). */
  log?: boolean;
  /** Take the client IP from X-Forwarded-For (only behind a trusted reverse proxy). */
  trustProxy?: boolean;
  /**
   * Journey automation (stalls, webhooks): a pass every `intervalMs` (default 15 s), its limits, its clock and timers
   * (`scheduler`, for tests); false: off.
   */
  automation?: false | Partial<Omit<AutomationLoopOptions, 'store'>>;
}

export interface Running {
  url: string;
  port: number;
  token: string;
  app: App;
  store: Store;
  db: Database.Database;
  close: () => Promise<void>;
}

/** Every address of a hostname, for the webhook target check (core/automation/urls.ts). */
const resolveAll = async (host: string): Promise<string[]> =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Starts a collector; resolves once it listens. */
export const start = async (options: StartOptions = {}): Promise<Running> => {
  const file = options.db ?? './data/cjm.db';
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const db = openSqlite(file, { sync: options.sync ?? 'normal' });
  // One database, through the routing store: a full disk is reported to the monitor, and a site moved to D1
  // (npm run move-site -- --from-sqlite) answers 503 here instead of taking events that would never reach D1.
  const monitor = createStorageMonitor();
  const store = createRoutedStore({ DB: sqliteConnector(db) }, { monitor });
  const storage: StorageProbe = { main: 'DB', names: ['DB'], stats: async () => [sqliteStats(db, file)] };
  const token = await resolveAdminToken(store, options.adminToken);
  await ensureDemoSite(store);
  const asset = fileAssets();
  const app = createApp({
    getStore: () => store,
    getAdminToken: async () => token,
    asset,
    storage: () => storage,
    monitor,
    // The socket's address; behind a reverse proxy set CJM_TRUST_PROXY=1 to take the first X-Forwarded-For hop.
    clientIp: (c) =>
      (options.trustProxy ? c.req.header('x-forwarded-for')?.split(',')[0]?.trim() : undefined) ||
      getConnInfo(c).remote.address ||
      null,
  });
  // Periodic maintenance: delete salts older than two days, refold journeys after a stage-model change.
  let maintaining: Promise<unknown> = Promise.resolve();
  const runMaintenance = () => {
    maintaining = maintaining
      .then(() => maintenance(store, Date.now()))
      .catch((e: unknown) => console.error('[cjm] maintenance failed', e));
  };
  runMaintenance();
  const timer = setInterval(runMaintenance, 30_000);
  timer.unref();
  const host = options.host ?? '127.0.0.1';
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((ok, fail) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: host }, (info) =>
      ok({ server: s, port: info.port }),
    );
    s.once('error', fail);
  });
  const shown = host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host;
  const url = `http://${shown}:${port}`;
  if (options.log) {
    console.log(`cjm collector listening on ${url}  (database ${file})
  dashboard   ${url}/  (sign in with the admin token below)
  demo shop   ${url}/demo/
  the tag     ${url}/cjm.js
  API         ${url}/api/sites/demo/visitors
  admin token ${token}${options.adminToken ? '  (from CJM_ADMIN_TOKEN)' : ''}
  try:        curl -H "Authorization: Bearer ${token}" ${url}/api/sites/demo/visitors
  no data yet? npm run simulate -- --visitors 5000 --url ${url}   (realistic traffic for the dashboard)`);
  }
  const automation =
    options.automation === false
      ? null
      : startAutomationLoop({ store, now: Date.now, fetch: pinnedFetch, resolve: resolveAll, ...options.automation });
  let closed = false;
  return {
    url,
    port,
    token,
    app,
    store,
    db,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await maintaining;
      await new Promise<void>((ok) => server.close(() => ok()));
      await automation?.stop();
      db.close();
    },
  };
};

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const env = process.env;
  const running = await start({
    port: env.PORT ? Number(env.PORT) : 8787,
    host: env.HOST ?? '127.0.0.1',
    db: env.CJM_DB ?? './data/cjm.db',
    adminToken: env.CJM_ADMIN_TOKEN || undefined,
    sync: env.CJM_SYNC === 'full' ? 'full' : 'normal',
    trustProxy: env.CJM_TRUST_PROXY === '1',
    log: true,
    automation: env.CJM_AUTOMATION_INTERVAL_MS ? { intervalMs: Number(env.CJM_AUTOMATION_INTERVAL_MS) } : undefined,
  });
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
