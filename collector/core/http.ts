/**
 * The HTTP plumbing every route shares, Hono's way: the app's options and `Env` types, the JSON error answer (given
 * once, by `answerError` in `app.onError`), the site-loading middleware (`c.var.site`), the one JSON body reader
 * (`c.var.body`, size-limited) and the admin token check of `/api`.
 *
 * Routes throw `InputError` (core/errors.ts) for bad input and never build an error body themselves: parse → call a
 * service → render.
 */
import type { Context, ErrorHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { InputError } from './errors';
import type { RateLimitOptions } from './limits';
import type { ErrorResponse } from './protocol';
import type { StorageMonitor, StorageProbe } from './services/health';
import type { SiteConfig } from './stages';
import { StoreUnavailableError, type Store } from './store';

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
  /**
   * The databases behind the store, their names and sizes (`GET /api/health`, the dashboard's banner, the names a
   * site's `database` may take). Absent: one database of unknown size.
   */
  storage?: (c: Context) => StorageProbe;
  /** Full errors and writes as the store saw them (the store built with the same monitor: stores/routed.ts). */
  monitor?: StorageMonitor;
}

/** The storage of this request: its probe and the process's monitor (core/services/health.ts). */
export interface StorageContext {
  probe?: StorageProbe;
  monitor?: StorageMonitor;
}

/** What every request carries (set by the first middleware of createApp). */
export interface AppVariables {
  store: Store;
  now: () => number;
  storage: StorageContext;
}
export type AppEnv = { Variables: AppVariables };
/** A route behind `withSite`: the `:site` of its path, loaded. */
export type SiteEnv = { Variables: { site: SiteConfig } };
/** A route behind `jsonBody`: the parsed, size-checked body (untrusted: a service checks it). */
export type BodyEnv = { Variables: { body: unknown } };

/** The JSON error answer: `{ error, path }`, `path` only when a field is to blame. */
export const jsonError = (c: Context, status: ContentfulStatusCode, error: string, path?: string) =>
  c.json<ErrorResponse>(path === undefined ? { error } : { error, path }, status);

/**
 * `app.onError`: an InputError becomes its JSON answer; a store that cannot take the write now (a full database, a
 * site being moved: StoreUnavailableError) a 503 with `Retry-After`, which the tag and server-side clients retry; a
 * middleware's HTTPException (bearerAuth, csrf…) keeps its status and headers but always answers JSON; anything else
 * is a logged 500 that says nothing of the cause.
 */
export const answerError: ErrorHandler = (err, c) => {
  if (err instanceof InputError) return jsonError(c, err.status, err.message, err.path);
  if (err instanceof StoreUnavailableError) {
    console.error(err.message);
    c.header('Retry-After', String(err.retryAfter));
    return jsonError(c, 503, err.message);
  }
  if (err instanceof HTTPException) {
    const res = err.getResponse();
    if (res.headers.get('Content-Type')?.includes('json')) return res;
    const out = jsonError(c, err.status as ContentfulStatusCode, err.message || '[cjm] request refused');
    res.headers.forEach((v, k) => {
      if (k.toLowerCase() !== 'content-type' && k.toLowerCase() !== 'content-length') out.headers.set(k, v);
    });
    return out;
  }
  console.error('[cjm] internal error', err);
  return jsonError(c, 500, '[cjm] internal error');
};

/** Loads the `:site` of the path onto `c.var.site`; an unknown site is a 404 naming `site`. */
export const withSite = createMiddleware<AppEnv & SiteEnv>(async (c, next) => {
  const id = c.req.param('site') ?? '';
  const site = await c.get('store').getSite(id);
  if (!site) throw new InputError(404, `[cjm] unknown site "${id}"`, 'site');
  c.set('site', site);
  await next();
});

/** Largest body of an admin API request (a site configuration, a rule): far above any real one. */
export const API_BODY_BYTES = 1024 * 1024;

export interface JsonBodyOptions {
  /** Largest body in bytes; above it a 413. */
  maxBytes?: number;
  /** What a larger body should do instead, appended to the 413 message. */
  tooLarge?: string;
  /** What the body should be, for the 400 (`a site configuration` → "the body must be JSON (a site configuration)"). */
  expected?: string;
  /** An empty body is this value instead of a 400. */
  empty?: unknown;
}

/**
 * The one body reader: the body as JSON onto `c.var.body`, whatever the Content-Type (the tag sends `text/plain` to
 * avoid a CORS preflight, `curl -d` a form type, Segment's libraries `application/json`). Above `maxBytes` a 413 (by
 * Hono's bodyLimit, before parsing); text that is not JSON a 400.
 *
 * @example
 * r.post('/sites', jsonBody({ expected: 'a site configuration' }), async (c) => c.json(await createSite(store, c.var.body)))
 */
export const jsonBody = (options: JsonBodyOptions = {}) => {
  const maxBytes = options.maxBytes ?? API_BODY_BYTES;
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new InputError(
        413,
        `[cjm] the body is larger than ${maxBytes} bytes${options.tooLarge ? `; ${options.tooLarge}` : ''}`,
      );
    },
  });
  return createMiddleware<AppEnv & BodyEnv>(async (c, next) =>
    limit(c, async () => {
      const text = await c.req.text();
      let body: unknown;
      if (options.empty !== undefined && text.trim() === '') body = options.empty;
      else {
        try {
          body = JSON.parse(text);
        } catch {
          throw new InputError(
            400,
            options.expected ? `[cjm] the body must be JSON (${options.expected})` : '[cjm] the body is not valid JSON',
          );
        }
      }
      c.set('body', body);
      await next();
    }),
  );
};

/** The query string of the request, for the parsers of routes/query.ts. */
export const searchParams = (c: Context): URLSearchParams => new URL(c.req.url).searchParams;

/** Compares two strings in time independent of where they differ. */
export const safeEqual = (a: string, b: string): boolean => {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
};

/** `Authorization: Bearer <admin token>`, the guard of the `/api` sub-app. */
export const adminAuth = (getAdminToken: AppOptions['getAdminToken']) =>
  bearerAuth({
    verifyToken: async (token, c) => safeEqual(token, await getAdminToken(c)),
    noAuthenticationHeader: { message: { error: '[cjm] the API needs Authorization: Bearer <admin token>' } },
    invalidAuthenticationHeader: {
      message: { error: '[cjm] the Authorization header must be Bearer <admin token>' },
    },
    invalidToken: { message: { error: '[cjm] the admin token is wrong' } },
  });
