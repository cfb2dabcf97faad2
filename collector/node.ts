/**
 * The Node entry: opens the SQLite file, builds the app, serves it with @hono/node-server.
 * `npm start` runs this file; tests import `start()` to run a collector on a free port.
 */
import { lookup } from 'node:dns/promises';
import { randomBytes, scrypt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import { serve, type HttpBindings, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type Database from 'better-sqlite3';
import { createApp, type App } from './core/app';
import { startAutomationLoop, type AutomationLoopOptions } from './core/automation/run';
import { createBatcher, type Batcher, type BatcherOptions } from './core/batcher';
import { pinnedFetch } from './webhook-fetch';
import { ensureDemoSite, resolveAdminToken } from './core/bootstrap';
import type { KdfOptions, NativeScrypt } from './core/passwords';
import { createBootstrapInvite, invitePath } from './core/services/members';
import { useHashSecret } from './core/privacy';
import { rekeyLegacyHashes } from './core/rekey';
import { createStorageMonitor, type StorageProbe } from './core/services/health';
import { dutyCycle } from './core/retention';
import { maintenance } from './core/sites';
import type { QuotaOptions } from './core/quota';
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
    ['/cjm.markup.js', join(root, 'dist', 'cjm.markup.js')],
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
  /**
   * Reverse proxies in front of the collector (CJM_TRUST_PROXY): with N, the client address is the N-th
   * `X-Forwarded-For` entry from the right and https is read from `X-Forwarded-Proto` (see trustedClient). 0 or
   * false (default): the socket's address, plain http. `true` means 1.
   */
  trustProxy?: boolean | number;
  /**
   * The hashing secret of tombstones and server-side visitor ids (CJM_SECRET, 24+ characters). Without it, a secret
   * is kept in `<db>.secret` beside the database file (created on first start), or in memory for ':memory:'.
   */
  secret?: string;
  /**
   * Deployment-wide quota defaults (core/quota.ts; a site's `limits` override them): CJM_QUOTA_EVENTS_PER_DAY,
   * CJM_QUOTA_NEW_VISITORS_PER_HOUR.
   */
  quota?: Partial<QuotaOptions>;
  /** The group commit's caps (core/batcher.ts); tests use small ones. */
  batch?: Partial<Omit<BatcherOptions, 'yieldToIo'>>;
  /** Timeouts and the connection cap of the HTTP server (default SERVER_LIMITS). */
  limits?: Partial<ServerLimits>;
  /**
   * Journey automation (stalls, webhooks): a pass every `intervalMs` (default 15 s), its limits, its clock and timers
   * (`scheduler`, for tests); false: off.
   */
  automation?: false | Partial<Omit<AutomationLoopOptions, 'store'>>;
  /**
   * The password KDF's cost (default production: scrypt N = 2^15). Tests pass TEST_KDF_COST (core/passwords.ts);
   * the scrypt is always node:crypto's.
   */
  kdfCost?: KdfOptions['cost'];
}

export interface Running {
  url: string;
  port: number;
  token: string;
  /** While no user exists: the bootstrap invite printed in the banner (the first user's account). */
  firstUserInvite: string | null;
  app: App;
  store: Store;
  db: Database.Database;
  /** The group commit of `/collect` and `/v1/*`. */
  batcher: Batcher;
  /** The HTTP server (its timeouts and connection cap are SERVER_LIMITS unless `limits` said otherwise). */
  server: Server;
  close: () => Promise<void>;
}

/**
 * How the HTTP server treats slow and numerous clients (docs/reliability.md, "Hostile clients"): the request headers
 * must arrive within 10 s and the whole request within 30 s, an idle keep-alive connection is closed after 5 s, and
 * at most 1,024 connections are open at once (more are refused at accept). Production runs behind a reverse proxy,
 * which buffers slow clients before they reach the collector (README, "Behind a reverse proxy").
 */
export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}
export const SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
};

/** Applies the limits to a started server (Node checks the two request timeouts every `connectionsCheckingInterval`). */
const applyServerLimits = (server: Server, limits: ServerLimits): void => {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
};

/** The number of trusted proxies from CJM_TRUST_PROXY (`0`…`10`; `true` is 1), or a start-up error naming the fix. */
export const trustedHops = (value: string | boolean | number | undefined): number => {
  if (value === undefined || value === false || value === '' || value === 'false') return 0;
  if (value === true || value === 'true') return 1;
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 10) {
    throw new Error(
      `[cjm] CJM_TRUST_PROXY must be the number of reverse proxies in front of the collector (0-10), not "${String(value)}"`,
    );
  }
  return n;
};

/**
 * The entry of a forwarded list (`X-Forwarded-For`, `X-Forwarded-Proto`) that `hops` trusted proxies vouch for: the
 * `hops`-th from the right. Each proxy appends what it saw, so entries further left were written by the client and
 * prove nothing; with fewer entries than proxies, the left-most one (every entry was appended by a proxy).
 */
export const forwardedEntry = (header: string | undefined, hops: number): string | undefined => {
  if (!header || hops <= 0) return undefined;
  const entries = header
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return entries[Math.max(0, entries.length - hops)];
};

/** An address as a proxy may write it (`203.0.113.7:5123`, `[2001:db8::1]:443`), without the port; undefined if not an IP. */
const bareIp = (entry: string | undefined): string | undefined => {
  if (!entry) return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  const ip = bracketed?.[1] ?? v4port?.[1] ?? entry;
  return isIP(ip) ? ip : undefined;
};

/**
 * The client address and scheme of a request with `hops` trusted proxies: the vouched-for `X-Forwarded-For` entry
 * (the socket's address when it is missing or not an IP address, so a client can never pick its own), and https
 * when the vouched-for `X-Forwarded-Proto` says so. Without trusted proxies: the socket's address, plain http.
 */
export const trustedClient = (hops: number) => ({
  ip: (c: Context): string | null =>
    bareIp(forwardedEntry(c.req.header('x-forwarded-for'), hops)) ?? getConnInfo(c).remote.address ?? null,
  https: (c: Context): boolean => forwardedEntry(c.req.header('x-forwarded-proto'), hops)?.toLowerCase() === 'https',
});

/**
 * The hashing secret of a database: CJM_SECRET when given, else the file `<db>.secret` (32 random bytes, created with
 * mode 0600 on first start), so a copy of the database file alone cannot test whether a known e-mail was erased.
 * For ':memory:' none: the store then keeps one in the database (core/privacy.ts).
 */
export const resolveHashSecret = (file: string, fromEnv: string | undefined): string | undefined => {
  if (fromEnv) return fromEnv;
  if (file === ':memory:') return undefined;
  const path = `${resolve(file)}.secret`;
  if (!existsSync(path)) {
    try {
      writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process created it first
    }
  }
  return readFileSync(path, 'utf8').trim();
};

/** Quota defaults from CJM_QUOTA_EVENTS_PER_DAY and CJM_QUOTA_NEW_VISITORS_PER_HOUR (positive integers). */
export const quotaFromEnv = (env: NodeJS.ProcessEnv): Partial<QuotaOptions> => {
  const out: Partial<QuotaOptions> = {};
  for (const [name, field] of [
    ['CJM_QUOTA_EVENTS_PER_DAY', 'eventsPerDay'],
    ['CJM_QUOTA_NEW_VISITORS_PER_HOUR', 'newVisitorsPerHour'],
  ] as const) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (!/^[1-9]\d{0,11}$/.test(v)) throw new Error(`[cjm] ${name} must be a positive integer, not "${v}"`);
    out[field] = Number(v);
  }
  return out;
};

/**
 * Node's scrypt (libuv's thread pool: the event loop keeps serving while a password is hashed), for the password KDF
 * of core/passwords.ts. `maxmem` leaves room above the 128·N·r·p bytes the parameters need.
 */
export const nodeScrypt: NativeScrypt = (password, salt, keyLength, cost) =>
  new Promise((ok, fail) => {
    const N = 2 ** cost.ln;
    scrypt(
      password,
      salt,
      keyLength,
      { N, r: cost.r, p: cost.p, maxmem: 128 * N * cost.r * cost.p + 1024 * 1024 },
      (e, key) => (e ? fail(e) : ok(new Uint8Array(key.buffer, key.byteOffset, key.byteLength))),
    );
  });

/** Every address of a hostname, for the webhook target check (core/automation/urls.ts). */
const resolveAll = async (host: string): Promise<string[]> =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** How long the ingest routes keep a site (core/site-cache.ts); changes through the app drop it at once. */
const SITE_CACHE_MS = 10_000;

/** Starts a collector; resolves once it listens. */
/**
 * Between two retention chunks: a passive WAL checkpoint (outside any write transaction: the pages the chunk
 * freed and zeroed are copied back here rather than inside the next commit that crosses the auto-checkpoint), then
 * `dutyCycle` for the chunk and the checkpoint together (the ingest commits go in). bench/retention.ts measures both.
 */
export const retentionPause = (db: Database.Database, chunkMs: number): Promise<void> => {
  const t = performance.now();
  db.pragma('wal_checkpoint(PASSIVE)');
  return dutyCycle(chunkMs + (performance.now() - t));
};

export const start = async (options: StartOptions = {}): Promise<Running> => {
  const file = options.db ?? './data/cjm.db';
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const db = openSqlite(file, { sync: options.sync ?? 'normal' });
  // One database, through the routing store: a full disk is reported to the monitor, and a site moved to D1
  // (npm run move-site -- --from-sqlite) answers 503 here instead of taking events that would never reach D1.
  const monitor = createStorageMonitor();
  const store = createRoutedStore(
    { DB: sqliteConnector(db) },
    { monitor, scrub: async () => void db.pragma('wal_checkpoint(TRUNCATE)') },
  );
  const storage: StorageProbe = { main: 'DB', names: ['DB'], stats: async () => [sqliteStats(db, file)] };
  const token = await resolveAdminToken(store, options.adminToken).catch((e: unknown) => {
    db.close(); // refused at start (a short CJM_ADMIN_TOKEN): nothing stays open
    throw e;
  });
  try {
    const secret = resolveHashSecret(file, options.secret);
    if (secret) useHashSecret(store, secret);
    // Tombstones and server-side ids of a previous version, rekeyed in place before the first request.
    await rekeyLegacyHashes(store, Date.now());
  } catch (e) {
    db.close(); // a secret that does not match the database: refused at start
    throw e;
  }
  await ensureDemoSite(store);
  const asset = fileAssets();
  const client = trustedClient(trustedHops(options.trustProxy));
  // Group commit: the requests that arrive while one commit runs go into the next (core/batcher.ts).
  const batcher = createBatcher({ yieldToIo: setImmediate, ...options.batch });
  const app = createApp({
    getStore: () => store,
    ingester: () => batcher.ingester,
    siteCacheMs: SITE_CACHE_MS,
    // Bodies straight from the socket's IncomingMessage (core/http.ts readBody), not through a Web ReadableStream.
    rawBody: (c) => (c.env as Partial<HttpBindings> | undefined)?.incoming ?? null,
    getAdminToken: async () => token,
    asset,
    storage: () => storage,
    monitor,
    // The socket's address; behind N reverse proxies (CJM_TRUST_PROXY=N) the N-th X-Forwarded-For entry from the right.
    clientIp: client.ip,
    isHttps: client.https,
    kdf: { scrypt: nodeScrypt, ...(options.kdfCost ? { cost: options.kdfCost } : {}) },
    ...(options.quota ? { quota: options.quota } : {}),
  });
  // Periodic maintenance: delete salts older than two days, refold journeys after a stage-model change.
  let maintaining: Promise<unknown> = Promise.resolve();
  const runMaintenance = () => {
    maintaining = maintaining
      .then(() => maintenance(store, Date.now(), undefined, (ms) => retentionPause(db, ms)))
      .catch((e: unknown) => console.error('[cjm] maintenance failed', e));
  };
  runMaintenance();
  const timer = setInterval(runMaintenance, 30_000);
  timer.unref();
  const host = options.host ?? '127.0.0.1';
  const limits: ServerLimits = { ...SERVER_LIMITS, ...options.limits };
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((ok, fail) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: options.port ?? 8787,
        hostname: host,
        serverOptions: {
          headersTimeout: limits.headersTimeoutMs,
          requestTimeout: limits.requestTimeoutMs,
          connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs / 2),
        },
      },
      (info) => ok({ server: s, port: info.port }),
    );
    applyServerLimits(s as Server, limits);
    s.once('error', fail);
  });
  const shown = host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host;
  const url = `http://${shown}:${port}`;
  // No user yet: a one-time link that makes the first account (an instance owner), printed where only the operator
  // sees it. A new start prints a new one and the earlier link stops working.
  const firstUserInvite =
    (await store.countUsers()) === 0
      ? url + invitePath((await createBootstrapInvite(null, store, Date.now())).secret)
      : null;
  if (options.log) {
    console.log(`cjm collector listening on ${url}  (database ${file})
  dashboard   ${url}/
  ${
    firstUserInvite
      ? `first user  open ${firstUserInvite}
              (one use, 24 hours: your account, owner of every site; then invite your team from a site's Team tab)`
      : 'sign in     with your e-mail and password (or the admin token below)'
  }
  demo shop   ${url}/demo/
  the tag     ${url}/cjm.js
  API         ${url}/api/sites/demo/visitors
  admin token ${token}${options.adminToken ? '  (from CJM_ADMIN_TOKEN)' : ''}   (the instance owner's key, for scripts)
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
    firstUserInvite,
    app,
    store,
    db,
    batcher,
    server: server as Server,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await maintaining;
      // No new connections; the requests already in answer after the commit that holds them (SIGTERM drains).
      const closing = new Promise<void>((ok) => server.close(() => ok()));
      await batcher.drain();
      await closing;
      await batcher.drain();
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
    secret: env.CJM_SECRET || undefined,
    quota: quotaFromEnv(env),
    sync: env.CJM_SYNC === 'full' ? 'full' : 'normal',
    trustProxy: trustedHops(env.CJM_TRUST_PROXY),
    log: true,
    automation: env.CJM_AUTOMATION_INTERVAL_MS ? { intervalMs: Number(env.CJM_AUTOMATION_INTERVAL_MS) } : undefined,
  });
  const stop = () => {
    void running.close().then(() => {
      // The sizes of the commits made (p50/p99 in the bench, docs/benchmarks.md).
      if (env.CJM_BATCH_STATS) writeFileSync(env.CJM_BATCH_STATS, JSON.stringify(running.batcher.stats()));
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
