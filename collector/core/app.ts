/**
 * createApp: the whole collector as one runtime-agnostic Hono app. The Node and Workers entries only provide the
 * store, the admin token and the static assets (tag, demo shop).
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { ErrorResponse } from './protocol';
import { apiRoutes } from './routes/api';
import { automationRoutes } from './routes/automation';
import { collectRoutes } from './routes/collect';
import { keyRoutes } from './routes/keys';
import { segmentRoutes } from './routes/segment';
import { dashboardRoutes } from './routes/dashboard';
import { assetRoutes } from './routes/tag';
import type { Store } from './store';
import type { RateLimitOptions } from './limits';

export interface AppOptions {
  /** The store of this request (on Workers built from the request's env). */
  getStore: (c: Context) => Store;
  /** The admin token of this request's deployment. */
  getAdminToken: (c: Context) => Promise<string>;
  /** A static file by URL path (`/cjm.js`, `/demo/cart.html`), or null. */
  asset: (path: string, c: Context) => Promise<Response | null>;
  /** Clock, injectable in tests. */
  now?: () => number;
  /**
   * The client's IP address as the runtime knows it (Node: the socket, Workers: `cf-connecting-ip`), or null. Used
   * only for the per-IP rate limit and the derived visitor id of the no-storage mode; never stored.
   */
  clientIp?: (c: Context) => string | null | undefined;
  /** Per-IP rate limit of `POST /collect` (default: burst 120, 20/s); false turns it off. */
  rateLimit?: RateLimitOptions | false;
}

export type AppEnv = {
  Variables: { store: Store; now: () => number };
};

/** The JSON error answer every route uses. */
export const jsonError = (
  c: Context,
  status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500,
  error: string,
  path?: string,
) => c.json<ErrorResponse>(path === undefined ? { error } : { error, path }, status);

/**
 * @example
 * const app = createApp({ getStore: () => store, getAdminToken: async () => token, asset: async () => null })
 * await app.request('/collect', { method: 'POST', body })
 */
export const createApp = (options: AppOptions) => {
  const now = options.now ?? Date.now;
  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    c.set('store', options.getStore(c));
    c.set('now', now);
    await next();
  });
  app.use('/api/*', secureHeaders());
  app.route('/', collectRoutes(options));
  app.route('/api', apiRoutes(options));
  app.route('/api', keyRoutes()); // behind apiRoutes' bearerAuth on /api/*
  app.route('/api', automationRoutes()); // behind apiRoutes' bearerAuth on /api/*
  app.route('/', segmentRoutes());
  app.route('/', assetRoutes(options));
  app.route('/', dashboardRoutes(options)); // the dashboard at the root: /, /login, /sites/…, /assets/…
  app.notFound((c) => jsonError(c, 404, `[cjm] no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      // Middleware refusals (bearerAuth, bodyLimit…): keep their status and headers, always answer JSON.
      const res = err.getResponse();
      if (res.headers.get('Content-Type')?.includes('json')) return res;
      const out = jsonError(c, err.status as 400 | 401 | 403 | 404 | 413 | 429, err.message || '[cjm] request refused');
      res.headers.forEach((v, k) => {
        if (k.toLowerCase() !== 'content-type' && k.toLowerCase() !== 'content-length') out.headers.set(k, v);
      });
      return out;
    }
    console.error('[cjm] internal error', err);
    return jsonError(c, 500, '[cjm] internal error');
  });
  return app;
};

export type App = ReturnType<typeof createApp>;
