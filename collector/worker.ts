/**
 * The Workers entry: the same Hono app as collector/node.ts, with the routing store over the request's D1 bindings,
 * the tag and the demo shop served from the static-assets binding, and a cron handler for periodic work.
 *
 * Bindings (wrangler.toml): `DB` (D1, the main database), more D1 bindings for sites kept in their own database
 * (`DB_SHOP`…: any D1 binding counts, see `d1Databases`), `ASSETS` (static assets assembled by `npm run build:worker`), and the
 * `CJM_ADMIN_TOKEN` secret or var, and optionally `INGEST` (a Cloudflare Queue: producer and consumer, see `queue`
 * below). Everything comes from `env`, never from globals.
 */
import type { Context } from 'hono';
import { createApp } from './core/app';
import { runAutomation } from './core/automation/run';
import { ensureDemoSite, resolveAdminToken } from './core/bootstrap';
import { hashKey, useHashKey, useHashSecret } from './core/privacy';
import { rekeyLegacyHashes } from './core/rekey';
import { createStorageMonitor, D1_LIMIT_BYTES, type StorageProbe } from './core/services/health';
import { ingestBatch } from './core/ingest';
import { consumeIngest, queueIngester, type IngestMessage } from './core/queue';
import { createQuota } from './core/quota';
import { dutyCycle } from './core/retention';
import { expireSites, maintenance } from './core/sites';
import type { Store } from './core/store';
import { d1Connector, d1Databases, d1Stats } from './stores/d1';
import { createRoutedStore, MAIN_DATABASE } from './stores/routed';

export interface Env {
  DB: D1Database;
  /** Absent when deployed without `[assets]`: then the tag and demo shop are not served (404). */
  ASSETS?: Fetcher;
  /** The admin token (`wrangler secret put CJM_ADMIN_TOKEN`); when unset, one is generated once and kept in D1. */
  CJM_ADMIN_TOKEN?: string;
  /** The size limit of each D1 database in bytes (default 10 GB, Workers Paid; 500000000 on Free). */
  CJM_D1_LIMIT_BYTES?: string;
  /**
   * The hashing secret of tombstones and server-side visitor ids (`wrangler secret put CJM_SECRET`, 24+ characters);
   * when unset, one is generated and kept in D1, where a D1 export then holds it too (docs/api.md).
   */
  CJM_SECRET?: string;
  /**
   * The ingest queue (wrangler.toml `[[queues.producers]]` and `[[queues.consumers]]`): with it, /collect and /v1/*
   * answer once the queue has accepted the request and `queue()` stores the batches; without it, they ingest directly.
   */
  INGEST?: Queue<IngestMessage>;
  /**
   * Tests only (test/worker/queue.test.ts sets it as a var; never in wrangler.toml): a visitor id prefix. A batch
   * holding the first delivery of a message of such a visitor fails after its commit and before its
   * acknowledgements, as a consumer killed mid-batch would; GET /__test/queue answers what the consumer did.
   */
  CJM_TEST_QUEUE_CRASH?: string;
}

/** Full errors and writes of this isolate's stores (core/services/health.ts). */
const monitor = createStorageMonitor();

/** The Worker's databases for GET /api/health and a new site's `database`: its D1 bindings, `DB` first. */
export const storageOf = (env: Env): StorageProbe => {
  const dbs = d1Databases(env);
  const names = [MAIN_DATABASE, ...[...dbs.keys()].filter((n) => n !== MAIN_DATABASE).sort()];
  const limit = Number(env.CJM_D1_LIMIT_BYTES) > 0 ? Number(env.CJM_D1_LIMIT_BYTES) : D1_LIMIT_BYTES;
  return {
    main: MAIN_DATABASE,
    names,
    stats: () => Promise.all(names.map((n) => d1Stats(n, dbs.get(n) as D1Database, limit))),
  };
};

const envOf = (c: Context): Env => c.env as Env;

/**
 * Start-up work, once per isolate and database, as `npm start` does at boot: the admin token (from the env, or
 * generated once and kept in D1) and the demo site. A failure is not cached, so the next request tries again.
 */
const booted = new WeakMap<D1Database, Promise<string>>();
/** The hashing key of each database, resolved once per isolate and handed to every request's store. */
const hashKeys = new WeakMap<D1Database, Promise<CryptoKey>>();

const routedStore = (env: Env): Store =>
  createRoutedStore(Object.fromEntries([...d1Databases(env)].map(([name, db]) => [name, d1Connector(db)])), {
    main: MAIN_DATABASE,
    monitor,
  });

/**
 * The store of a request or a cron run: the routing store over every D1 binding of `env` (`DB` holds settings, keys,
 * meta and every site that names no database of its own; `DB_SHOP`… the sites that do; stores/routed.ts), with the
 * main database's hashing key.
 */
export const storeOf = (env: Env): Store => {
  const store = routedStore(env);
  const key = hashKeys.get(env.DB);
  return key ? useHashKey(store, key) : store;
};

const boot = (env: Env): Promise<string> => {
  let ready = booted.get(env.DB);
  if (!ready) {
    // The routing store: the rekey below reaches the sites kept in their own databases too.
    const store = routedStore(env);
    if (env.CJM_SECRET) useHashSecret(store, env.CJM_SECRET);
    ready = (async () => {
      const token = await resolveAdminToken(store, env.CJM_ADMIN_TOKEN || undefined);
      const key = hashKey(store);
      hashKeys.set(env.DB, key);
      await key; // a CJM_SECRET that does not match the database refuses to start (503)
      // Tombstones and server-side ids of a previous version, rekeyed in place (core/rekey.ts).
      await rekeyLegacyHashes(store, Date.now());
      await ensureDemoSite(store);
      return token;
    })();
    ready.catch(() => hashKeys.delete(env.DB));
    ready.catch(() => booted.delete(env.DB));
    booted.set(env.DB, ready);
  }
  return ready;
};

/**
 * Boots, or answers 503 with why it cannot (a CJM_ADMIN_TOKEN too short to keep guessers out, …): the Worker's
 * "refused at start", on every request until the configuration is fixed.
 */
const bootFailure = async (env: Env): Promise<Response | null> => {
  try {
    await boot(env);
    return null;
  } catch (e) {
    const error = e instanceof Error && e.message.startsWith('[cjm]') ? e.message : '[cjm] the Worker failed to start';
    console.error(error, e);
    return Response.json({ error }, { status: 503 });
  }
};

/** A static file from the assets binding (`/cjm.js`, `/demo/cart.html`), or null when there is none. */
const asset = async (path: string, c: Context): Promise<Response | null> => {
  const assets = envOf(c).ASSETS;
  if (!assets) return null;
  const res = await assets.fetch(new URL(path, c.req.url).toString());
  if (res.status !== 200) {
    await res.body?.cancel();
    return null;
  }
  return res as unknown as Response;
};

export const app = createApp({
  getStore: (c) => storeOf(envOf(c)),
  getAdminToken: (c) => boot(envOf(c)),
  asset,
  storage: (c) => storageOf(envOf(c)),
  monitor,
  // Set by Cloudflare's edge for every request (a client cannot forge it there); absent in tests outside workerd.
  clientIp: (c) => c.req.header('cf-connecting-ip') ?? null,
  // The ingest routes keep each site 10 s per isolate: a /collect reads nothing from D1 for it (core/site-cache.ts).
  siteCacheMs: 10_000,
  // With the queue binding, /collect and /v1/* answer once the queue has the request; the consumer stores it.
  ingester: (c) => {
    const queue = envOf(c).INGEST;
    return queue ? queueIngester(queue) : ingestBatch;
  },
});

/** The consumer's quota (per isolate, as the app's): the daily quota and the budget of new visitors per address. */
const consumerQuota = createQuota();

/** What the consumer did under `CJM_TEST_QUEUE_CRASH` (GET /__test/queue). */
const testQueue = { crashed: 0, redelivered: 0 };

/**
 * The consumer of the `INGEST` queue: each batch (up to 100 messages, wrangler.toml) is stored with one
 * `ingestBatch`; a message is acknowledged after its commit, retried with a growing delay on a store error, and
 * acknowledged and logged when it can never be stored. A batch that fails as a whole (no boot, a crash) is delivered
 * again; its events then count as duplicates, never twice.
 */
export const consumeBatch = async (batch: MessageBatch<unknown>, env: Env): Promise<void> => {
  try {
    await boot(env);
  } catch (e) {
    console.error('[cjm] the ingest consumer cannot start; the batch is retried', e);
    batch.retryAll({ delaySeconds: 30 });
    return;
  }
  const decisions = await consumeIngest(storeOf(env), batch.messages, { quota: consumerQuota });
  const crash = env.CJM_TEST_QUEUE_CRASH;
  if (crash) {
    const first = (m: Message<unknown>) => {
      const visitor = (m.body as { visitor?: unknown } | null)?.visitor;
      return m.attempts === 1 && typeof visitor === 'string' && visitor.startsWith(crash);
    };
    if (batch.messages.some(first)) {
      testQueue.crashed += batch.messages.length;
      throw new Error('[cjm] test: the consumer failed after the commit, before the acknowledgements');
    }
    testQueue.redelivered += batch.messages.filter((m) => m.attempts > 1).length;
  }
  batch.messages.forEach((m, i) => {
    const d = decisions[i];
    if (!d || d.ack) {
      if (d?.error) console.error(`[cjm] dropped queued message ${m.id}: it can never be stored`, d.error);
      m.ack();
    } else {
      console.error(
        `[cjm] queued message ${m.id} failed (attempt ${m.attempts}); retried in ${d.delaySeconds} s`,
        d.error,
      );
      m.retry({ delaySeconds: d.delaySeconds });
    }
  });
};

/**
 * Periodic work run by the cron trigger (wrangler.toml `[triggers] crons`), in order, each with the D1 store and
 * the scheduled time. Stall detection and automations (issue 7) register here.
 */
export const periodicJobs: Array<(store: Store, now: number) => Promise<void>> = [
  // Salts older than two days, refolds after a stage-model change (what Node's 30-second timer runs).
  async (store, now) => {
    try {
      await maintenance(store, now, undefined, null); // retention: the last job
    } catch (e) {
      console.error('[cjm] maintenance failed', e); // the next cron run tries again; the automation still runs
    }
  },
  // Journey automation: due stalls, then due webhooks, with the Worker's fetch. No resolver: literal addresses are
  // checked, and Cloudflare's fetch cannot reach private networks (docs/automation.md).
  async (store, now) => {
    try {
      await runAutomation({
        store,
        now: () => Math.max(now, Date.now()),
        fetch: (url, init) => fetch(url, init),
        budgetMs: 60_000,
      });
    } catch (e) {
      console.error('[cjm] automation pass failed', e); // the next cron run tries again; other jobs still run
    }
  },
  // Retention (core/retention.ts), last: a long catch-up delays no other job. dutyCycle: D1 serves the ingest between
  // chunks.
  async (store, now) => {
    try {
      await expireSites(store, now, dutyCycle);
    } catch (e) {
      console.error('[cjm] retention failed', e);
    }
  },
];

export default {
  async fetch(request, env, ctx) {
    if (env.CJM_TEST_QUEUE_CRASH && new URL(request.url).pathname === '/__test/queue') return Response.json(testQueue);
    const refused = await bootFailure(env);
    if (refused) return refused;
    return app.fetch(request as unknown as Request, env, ctx);
  },
  async scheduled(controller, env) {
    await boot(env);
    const store = storeOf(env);
    for (const job of periodicJobs) await job(store, controller.scheduledTime);
  },
  queue: (batch, env) => consumeBatch(batch, env),
} satisfies ExportedHandler<Env>;
