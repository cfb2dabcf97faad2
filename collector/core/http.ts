/**
 * The HTTP plumbing every route shares, Hono's way: the app's options and `Env` types, the JSON error answer (given
 * once, by `answerError` in `app.onError`), the site-loading middleware (`c.var.site`), the one body reader
 * (`readBody`: size-limited while it streams, decompressing where a route accepts it) under the JSON body
 * (`c.var.body`) and the dashboard's forms (`c.var.form`), the connection rule for answers sent before a body was
 * read, HSTS over https, and the bearer check of `/api` (the admin token or a personal API token) that puts the
 * request's actor on `c.var.actor`.
 *
 * Routes throw `InputError` (core/errors.ts) for bad input and never build an error body themselves: parse → call a
 * service → render.
 */
import type { Context, ErrorHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Actor } from './access';
import type { SessionLimits } from './dashboard/auth';
import { InputError } from './errors';
import type { RateLimitOptions, SignInLimiter, SignInLimitOptions } from './limits';
import type { Ingester } from './ingest';
import type { SiteCache } from './site-cache';
import type { KdfOptions, PasswordKdf } from './passwords';
import type { QuotaOptions } from './quota';
import type { ErrorResponse } from './protocol';
import type { StorageMonitor, StorageProbe } from './services/health';
import type { SiteConfig } from './stages';
import { StoreUnavailableError, type Store } from './store';
import { API_TOKEN_PREFIX, tokenActor, type TokenRefusal } from './services/tokens';

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
   * Whether the client reached the collector over https. Default: the request URL's scheme (right on Workers; on
   * Node behind a TLS proxy the entry answers from the trusted `X-Forwarded-Proto`). Decides the session cookie's
   * `Secure` flag and HSTS.
   */
  isHttps?: (c: Context) => boolean;
  /** The limiter of admin-token guesses (sign-in and `/api` bearer tokens alike); false turns it off. */
  signInLimit?: SignInLimitOptions | false;
  /** Per-site daily event quota and per-address new-visitor budget (core/quota.ts); false turns both off. */
  quota?: Partial<QuotaOptions> | false;
  /** Rate limit per write key on `/v1/*` (default: burst 500, 100/s); false turns it off. */
  writeKeyRateLimit?: RateLimitOptions | false;
  /**
   * The password KDF (core/passwords.ts): Node passes `node:crypto`'s scrypt (collector/node.ts); without one, new
   * hashes are PBKDF2-SHA-256 through WebCrypto (the Worker). `cost` below production only with `testOnly: true`.
   */
  kdf?: KdfOptions;
  /** Dashboard sessions' idle timeout and absolute cap (default 48 hours and 14 days). */
  sessions?: Partial<SessionLimits>;
  /** Per-address rate limit of the public share pages (default: burst 60, 1/s); false turns it off. */
  shareRateLimit?: RateLimitOptions | false;
  /**
   * The databases behind the store, their names and sizes (`GET /api/health`, the dashboard's banner, the names a
   * site's `database` may take). Absent: one database of unknown size.
   */
  storage?: (c: Context) => StorageProbe;
  /** Full errors and writes as the store saw them (the store built with the same monitor: stores/routed.ts). */
  monitor?: StorageMonitor;
  /**
   * Where `/collect` and `/v1/*` hand validated requests (core/ingest.ts, `Ingester`): default `ingestBatch` at once;
   * Node passes its group commit (core/batcher.ts), the Worker its queue producer when it has an `INGEST` binding.
   */
  ingester?: (c: Context) => Ingester;
  /**
   * The body of a request read from the runtime's own stream (Node: the IncomingMessage), for uncompressed bodies:
   * it spares the Web Request and ReadableStream a request body otherwise goes through (a tenth of a small ingest's
   * CPU on Node). Absent: `c.req.raw.body`.
   */
  rawBody?: (c: Context) => AsyncIterable<Uint8Array> | null;
  /**
   * Keep the sites the ingest routes read for this long per process or isolate (core/site-cache.ts); a change made
   * through this app drops its site at once. Absent or 0: every request reads its site.
   */
  siteCacheMs?: number;
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
  /** The client reached the collector over https (AppOptions.isHttps). */
  https: boolean;
  /** The password KDF of this runtime. */
  kdf: PasswordKdf;
  /** The ingest routes' site cache (AppOptions.siteCacheMs), when on. */
  siteCache?: SiteCache;
  /** The request body as the runtime reads it, when it can without a Web stream (AppOptions.rawBody). */
  rawBody?: () => AsyncIterable<Uint8Array> | null;
}
export type AppEnv = { Variables: AppVariables };
/** A route behind an authentication (`/api`'s bearer check, the dashboard's session): who is asking. */
export type ActorEnv = { Variables: { actor: Actor } };
/** An `/api` route. */
export type ApiEnv = AppEnv & ActorEnv;
/** A route behind `withSite`: the `:site` of its path, loaded. */
export type SiteEnv = { Variables: { site: SiteConfig } };
/** A route behind `jsonBody`: the parsed, size-checked body (untrusted: a service checks it). */
export type BodyEnv = { Variables: { body: unknown } };
/** The text fields of a form, every value of each name in order (untrusted: a service checks them). */
export type FormFields = Record<string, string[]>;
/** A route behind `formBody`: the form's fields, the expected ones present. */
export type FormEnv = { Variables: { form: FormFields } };

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

/**
 * Largest body of an admin API request by default: a site configuration (20 stages of 50 patterns of 200 characters
 * fit). Routes with smaller bodies say so (a rule 64 KB, a key's name or the automation settings 4 KB).
 */
export const API_BODY_BYTES = 1024 * 1024;
/** Deepest nesting of arrays and objects in an accepted JSON body (the deepest real payload has about 8). */
export const JSON_DEPTH = 64;

export interface ReadBodyOptions {
  /** Largest body in bytes, after decompression; above it a 413, read no further. */
  maxBytes: number;
  /** What a larger body should do instead, appended to the 413 message. */
  tooLarge?: string;
  /** Accept `Content-Encoding: gzip` and `deflate` (the ingest routes); otherwise any encoding is a 415. */
  compressed?: boolean;
}

/** The requests (their contexts) whose body was read to its end. */
const readToEnd = new WeakSet<Context>();

const FORMATS: Record<string, 'gzip' | 'deflate'> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate' };

/** Counts the bytes a stream passes, refusing past `max` (the compressed side of a compressed body). */
const counted = (max: number, refuse: () => InputError) => {
  let size = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      size += chunk.byteLength;
      if (size > max) controller.error(refuse());
      else controller.enqueue(chunk);
    },
  });
};

/**
 * The one body reader: the request body, read as a stream and never held beyond `maxBytes`. With `compressed`,
 * `Content-Encoding: gzip` (or `x-gzip`) and `deflate` (zlib, RFC 9110) are decompressed as they stream in, and the
 * limit applies to the decompressed bytes, so a gzip bomb is refused after its first `maxBytes` (413); any other
 * encoding is a 415; a body that is not what its encoding says is a 400. A request whose body was read to its end is
 * remembered (see `closeUnread`).
 */
export const readBody = async (c: Context, options: ReadBodyOptions): Promise<Uint8Array> => {
  const { maxBytes } = options;
  const tooLarge = () =>
    new InputError(
      413,
      `[cjm] the body is larger than ${maxBytes} bytes${options.tooLarge ? `; ${options.tooLarge}` : ''}`,
    );
  const encoding = (c.req.header('content-encoding') ?? '').trim().toLowerCase();
  const format = encoding === '' || encoding === 'identity' ? null : FORMATS[encoding];
  if (format === undefined || (format && !options.compressed)) {
    throw new InputError(
      415,
      `[cjm] Content-Encoding "${encoding.slice(0, 40)}" is not accepted here; send ${options.compressed ? 'gzip, deflate or ' : ''}an uncompressed body`,
      'Content-Encoding',
    );
  }
  // A declared length above the limit is refused before a byte is read (a compressed body is never larger than its
  // content here: JSON compresses).
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  const native = format ? null : (c.var as Partial<AppVariables>).rawBody?.();
  if (native) return readNative(c, native, maxBytes, tooLarge);
  const raw = c.req.raw.body;
  if (!raw) {
    readToEnd.add(c);
    return new Uint8Array(0);
  }
  const stream = format
    ? raw
        .pipeThrough(counted(maxBytes, tooLarge))
        .pipeThrough(new DecompressionStream(format) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>)
    : raw;
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        void reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (format) throw new InputError(400, `[cjm] the body is not valid ${format} (Content-Encoding: ${encoding})`);
    throw e; // the client went away mid-body
  }
  readToEnd.add(c);
  return joined(chunks, size);
};

/** Chunks into one array. */
const joined = (chunks: readonly Uint8Array[], size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
};

/** An uncompressed body from the runtime's stream, with the same limit (AppOptions.rawBody). */
const readNative = async (
  c: Context,
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  tooLarge: () => InputError,
): Promise<Uint8Array> => {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge(); // leaving the loop stops reading; closeUnread closes the connection
    chunks.push(chunk);
  }
  readToEnd.add(c);
  return joined(chunks, size);
};

/** True when arrays and objects in the JSON text nest deeper than `max` (a linear scan, strings skipped). */
export const nestedDeeper = (text: string, max: number): boolean => {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92)
        i++; // backslash: skip the escaped character
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 || ch === 123) {
      if (++depth > max) return true;
    } else if (ch === 93 || ch === 125) depth--;
  }
  return false;
};

export interface JsonBodyOptions {
  /** Largest body in bytes (decompressed); above it a 413. */
  maxBytes?: number;
  /** What a larger body should do instead, appended to the 413 message. */
  tooLarge?: string;
  /** What the body should be, for the 400 (`a site configuration` → "the body must be JSON (a site configuration)"). */
  expected?: string;
  /** An empty body is this value instead of a 400. */
  empty?: unknown;
  /** Accept gzip and deflate bodies (`/collect`, `/v1/*`). */
  compressed?: boolean;
}

/**
 * The body as JSON onto `c.var.body`, whatever the Content-Type (the tag sends `text/plain` to avoid a CORS
 * preflight, `curl -d` a form type, Segment's libraries `application/json`). Read by `readBody` (413 above
 * `maxBytes`, 415/400 for encodings); text that is not JSON, or nests deeper than JSON_DEPTH, a 400.
 *
 * @example
 * r.post('/sites', jsonBody({ expected: 'a site configuration' }), async (c) => c.json(await createSite(store, c.var.body)))
 */
export const jsonBody = (options: JsonBodyOptions = {}) => {
  const read: ReadBodyOptions = {
    maxBytes: options.maxBytes ?? API_BODY_BYTES,
    ...(options.tooLarge ? { tooLarge: options.tooLarge } : {}),
    ...(options.compressed ? { compressed: true } : {}),
  };
  return createMiddleware<AppEnv & BodyEnv>(async (c, next) => {
    const text = new TextDecoder().decode(await readBody(c, read));
    let body: unknown;
    if (options.empty !== undefined && text.trim() === '') body = options.empty;
    else {
      if (nestedDeeper(text, JSON_DEPTH)) {
        throw new InputError(400, `[cjm] the body nests arrays and objects deeper than ${JSON_DEPTH} levels`);
      }
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
  });
};

/** Largest body of the sign-in and sign-out forms. */
export const SIGN_IN_BODY_BYTES = 16 * 1024;
/** Largest body of a dashboard form (the stage model's form has its own, larger limit). */
export const FORM_BODY_BYTES = 64 * 1024;

const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

export interface FormBodyOptions {
  /** Largest body in bytes; above it a 413. */
  maxBytes?: number;
  /** Fields the form always sends (an empty text input still sends its name); a body without one is a 400. */
  required?: readonly string[];
}

/**
 * A dashboard form's body onto `c.var.form`: only `application/x-www-form-urlencoded` or `multipart/form-data` (415
 * otherwise: a JSON or text post never reaches a form's handler, whatever its cookie), read by `readBody` (413 above
 * `maxBytes`), a malformed body a 400, and every `required` field present (400 naming it) — a missing field is never
 * taken for an empty one.
 */
export const formBody = (options: FormBodyOptions = {}) => {
  const maxBytes = options.maxBytes ?? FORM_BODY_BYTES;
  return createMiddleware<AppEnv & FormEnv>(async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    if (!FORM_TYPES.includes(type.split(';')[0]!.trim().toLowerCase())) {
      throw new InputError(
        415,
        `[cjm] dashboard forms are sent as ${FORM_TYPES.join(' or ')}, not ${type.slice(0, 60) || 'no Content-Type'}`,
        'Content-Type',
      );
    }
    const bytes = await readBody(c, { maxBytes, tooLarge: 'a dashboard form is never this large' });
    let data: FormData;
    try {
      data = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': type } }).formData();
    } catch {
      throw new InputError(400, '[cjm] the form body is malformed');
    }
    const form: FormFields = {};
    for (const [name, value] of data.entries()) {
      if (typeof value !== 'string') throw new InputError(400, `[cjm] the form field "${name}" must be text`, name);
      (form[name] ??= []).push(value);
    }
    for (const name of options.required ?? []) {
      if (!form[name]) throw new InputError(400, `[cjm] the form has no field "${name}"`, name);
    }
    c.set('form', form);
    await next();
  });
};

/**
 * An answer sent before the request body was read to its end (a 413 part-way, a 429 or 401 before reading, a
 * redirect) says `Connection: close`: the unread rest of the body would otherwise be taken for the next request on
 * a keep-alive connection, or the connection reset under it. The first middleware of the app.
 */
export const closeUnread = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const length = c.req.header('content-length');
  const hasBody = (length !== undefined && length.trim() !== '0') || c.req.header('transfer-encoding') !== undefined;
  if (!hasBody || readToEnd.has(c)) return;
  try {
    c.res.headers.set('Connection', 'close');
  } catch {
    c.res = new Response(c.res.body, c.res); // immutable headers (a fetched asset): copy
    c.res.headers.set('Connection', 'close');
  }
});

/** HSTS (one year, subdomains included) on answers to https requests only: over http the header means nothing. */
export const hsts = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.var.https) c.res.headers.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
});

/** The collector's own origin as the browser sees it (https behind a trusted TLS proxy). */
export const ownOrigin = (c: Context): string => {
  const url = new URL(c.req.url);
  return `${(c as Context<AppEnv>).var.https ? 'https:' : url.protocol}//${url.host}`;
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

const REFUSALS: Record<TokenRefusal | 'wrong', string> = {
  wrong: '[cjm] the token is wrong (neither the admin token nor a personal API token)',
  unknown: '[cjm] the token is wrong (neither the admin token nor a personal API token)',
  revoked: '[cjm] this personal API token is revoked',
  expired: '[cjm] this personal API token has expired; create a new one on your account page',
};

/**
 * `Authorization: Bearer <admin token | personal API token>`, the guard of the `/api` sub-app; puts the actor on
 * `c.var.actor`. A request that presents a token is a guess until it is right: it waits on the sign-in limiter first
 * (429 with `Retry-After`), and a wrong, revoked or expired one counts there.
 */
export const apiAuth = (options: Pick<AppOptions, 'getAdminToken' | 'clientIp'>, limiter: SignInLimiter | null) => {
  const refusal = new WeakMap<Context, string>();
  const bearer = bearerAuth({
    verifyToken: async (token, c) => {
      const ip = options.clientIp?.(c);
      const now = (c as Context<AppEnv>).var.now();
      let actor: Actor | null = null;
      if (safeEqual(token, await options.getAdminToken(c))) actor = { kind: 'admin-token' };
      else if (token.startsWith(API_TOKEN_PREFIX)) {
        const found = await tokenActor((c as Context<AppEnv>).var.store, token, now);
        if ('actor' in found) actor = found.actor;
        else refusal.set(c, REFUSALS[found.refused]);
      }
      if (actor) {
        limiter?.succeeded(ip, now);
        (c as Context<ApiEnv>).set('actor', actor);
        return true;
      }
      limiter?.failed(ip, now);
      return false;
    },
    noAuthenticationHeader: {
      message: { error: '[cjm] the API needs Authorization: Bearer <admin token or personal API token>' },
    },
    invalidAuthenticationHeader: {
      message: { error: '[cjm] the Authorization header must be Bearer <admin token or personal API token>' },
    },
    invalidToken: { message: (c) => ({ error: refusal.get(c) ?? REFUSALS.wrong }) },
  });
  return createMiddleware<AppEnv>(async (c, next) => {
    const wait = limiter && c.req.header('authorization') ? limiter.wait(options.clientIp?.(c), c.var.now()) : 0;
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new InputError(429, `[cjm] too many wrong tokens from this address; retry after ${wait} s`);
    }
    return bearer(c as Context, next);
  });
};
