/**
 * The Workers entry: the same Hono app as collector/node.ts, with a D1 store built from the request's `env.DB`,
 * the tag and the demo shop served from the static-assets binding, and a cron handler for periodic work.
 *
 * Bindings (wrangler.toml): `DB` (D1), `ASSETS` (static assets assembled by `npm run build:worker`), and the
 * `CJM_ADMIN_TOKEN` secret or var. Everything comes from `env`, never from globals.
 */
import type { Context } from 'hono';
import { createApp } from './core/app';
import { runAutomation } from './core/automation/run';
import { ensureDemoSite, resolveAdminToken } from './core/bootstrap';
import { hashKey, useHashKey, useHashSecret } from './core/privacy';
import { rekeyLegacyHashes } from './core/rekey';
import { maintenance } from './core/sites';
import type { Store } from './core/store';
import { createD1Store } from './stores/d1';

export interface Env {
  DB: D1Database;
  /** Absent when deployed without `[assets]`: then the tag and demo shop are not served (404). */
  ASSETS?: Fetcher;
  /** The admin token (`wrangler secret put CJM_ADMIN_TOKEN`); when unset, one is generated once and kept in D1. */
  CJM_ADMIN_TOKEN?: string;
  /**
   * The hashing secret of tombstones and server-side visitor ids (`wrangler secret put CJM_SECRET`, 24+ characters);
   * when unset, one is generated and kept in D1, where a D1 export then holds it too (docs/api.md).
   */
  CJM_SECRET?: string;
}

const envOf = (c: Context): Env => c.env as Env;

/**
 * Start-up work, once per isolate and database, as `npm start` does at boot: the admin token (from the env, or
 * generated once and kept in D1) and the demo site. A failure is not cached, so the next request tries again.
 */
const booted = new WeakMap<D1Database, Promise<string>>();
/** The hashing key of each database, resolved once per isolate and handed to every request's store. */
const hashKeys = new WeakMap<D1Database, Promise<CryptoKey>>();

/** A D1 store of the request's database, with the database's hashing key. */
const storeOf = (env: Env): Store => {
  const store = createD1Store(env.DB);
  const key = hashKeys.get(env.DB);
  return key ? useHashKey(store, key) : store;
};

const boot = (env: Env): Promise<string> => {
  let ready = booted.get(env.DB);
  if (!ready) {
    const store = createD1Store(env.DB);
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
  // Set by Cloudflare's edge for every request (a client cannot forge it there); absent in tests outside workerd.
  clientIp: (c) => c.req.header('cf-connecting-ip') ?? null,
});

/**
 * Periodic work run by the cron trigger (wrangler.toml `[triggers] crons`), in order, each with the D1 store and
 * the scheduled time. Stall detection and automations (issue 7) register here.
 */
export const periodicJobs: Array<(store: Store, now: number) => Promise<void>> = [
  // Salts older than two days, refolds after a stage-model change (what Node's 30-second timer runs).
  async (store, now) => {
    try {
      await maintenance(store, now);
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
];

export default {
  async fetch(request, env, ctx) {
    const refused = await bootFailure(env);
    if (refused) return refused;
    return app.fetch(request as unknown as Request, env, ctx);
  },
  async scheduled(controller, env) {
    await boot(env);
    const store = storeOf(env);
    for (const job of periodicJobs) await job(store, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
