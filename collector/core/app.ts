/**
 * createApp: the whole collector as one runtime-agnostic Hono app. The Node and Workers entries only provide the
 * store, the admin token, the static assets (tag, demo shop) and, on Node, a native scrypt for passwords. The only
 * module that imports routes.
 *
 * Errors: routes and services throw InputError (core/errors.ts); `app.onError` (answerError in http.ts) turns it
 * into the JSON error body, once. The Segment-format API answers in Segment's shape from its own onError.
 */
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { answerError, apiAuth, closeUnread, hsts, jsonError, type ApiEnv, type AppEnv, type AppOptions } from './http';
import { createSignInLimiter } from './limits';
import { createPasswordKdf } from './passwords';
import { createQuota } from './quota';
import { createSiteCache, siteOfWrite } from './site-cache';
import { apiRoutes } from './routes/api';
import { automationRoutes } from './routes/automation';
import { collectRoutes } from './routes/collect';
import { dashboardRoutes } from './routes/dashboard';
import { healthRoutes } from './routes/health';
import { keyRoutes } from './routes/keys';
import { segmentRoutes } from './routes/segment';
import { assetRoutes } from './routes/tag';
import { teamRoutes } from './routes/team';
import { StoreFullError } from './store';

export type { AppEnv, AppOptions } from './http';

/**
 * @example
 * const app = createApp({ getStore: () => store, getAdminToken: async () => token, asset: async () => null })
 * await app.request('/collect', { method: 'POST', body })
 */
export const createApp = (options: AppOptions) => {
  const now = options.now ?? Date.now;
  const isHttps = options.isHttps ?? ((c) => new URL(c.req.url).protocol === 'https:');
  // Shared by the sign-in form, the API's bearer check and share-link passwords: one budget of guesses per address.
  const signIns = options.signInLimit === false ? null : createSignInLimiter(options.signInLimit);
  const kdf = createPasswordKdf(options.kdf);
  const quota = options.quota === false ? null : createQuota(options.quota);
  const sites = options.siteCacheMs ? createSiteCache({ ttlMs: options.siteCacheMs }) : null;
  const app = new Hono<AppEnv>();
  app.use('*', closeUnread, async (c, next) => {
    c.set('store', options.getStore(c));
    c.set('now', now);
    c.set('storage', { probe: options.storage?.(c), monitor: options.monitor });
    c.set('https', isHttps(c));
    c.set('kdf', kdf);
    if (options.rawBody) {
      const read = options.rawBody;
      c.set('rawBody', () => read(c));
    }
    if (sites) c.set('siteCache', sites);
    await next();
    // A change of a site through this app: the ingest routes read it afresh (another isolate within siteCacheMs).
    const changed = sites ? siteOfWrite(c.req.method, c.req.path) : null;
    if (sites && changed !== null) sites.invalidate(changed === '' ? undefined : changed);
  });

  // The read and admin API: one sub-app, every route behind a bearer token (the admin token or a personal one),
  // each service authorizing the actor it puts on c.var.actor.
  const api = new Hono<ApiEnv>();
  api.use('*', secureHeaders({ strictTransportSecurity: false }), hsts, apiAuth(options, signIns));
  api.route('/', apiRoutes());
  api.route('/', keyRoutes());
  api.route('/', automationRoutes());
  api.route('/', teamRoutes());
  api.route('/', healthRoutes());

  app.route('/', collectRoutes({ ...options, quota }));
  app.route('/api', api);
  app.route('/', segmentRoutes({ ...options, quota }));
  app.route('/', assetRoutes(options));
  app.route('/', dashboardRoutes(options, signIns)); // the dashboard at the root: /, /login, /sites/…, /share/…, /assets/…
  app.notFound((c) => jsonError(c, 404, `[cjm] no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError(async (err, c) => {
    // A full database: the monitor's record goes to meta (best effort, at most once a minute), for every isolate.
    if (err instanceof StoreFullError) await options.monitor?.persist(c.var.store, now());
    return answerError(err, c);
  });
  return app;
};

export type App = ReturnType<typeof createApp>;
