/**
 * The server-side ingest API in Segment's HTTP tracking format (docs/server-side.md): `POST /v1/track`,
 * `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/alias`, `/v1/group` and `/v1/batch`.
 *
 * Authenticated by a site's write key, sent as Segment's libraries send it: HTTP Basic with the key as user name
 * and an empty password (or `writeKey` in the JSON body, as Segment's HTTP API allows). The key decides the site.
 * Answers as Segment's clients expect: 200 `{ success: true }` once the events are committed, 400 naming the field
 * for an invalid payload, 401 for a missing, unknown or revoked key, 413 above the size limits. Nothing is stored
 * from a refused body.
 */
import { Hono, type Context } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { InputError, type InputStatus } from '../errors';
import { jsonBody, type AppOptions, type AppVariables, type BodyEnv } from '../http';
import { ingestBatch, settled, type IngestOptions, type IngestRequest } from '../ingest';
import { createRateLimiter, type RateLimitOptions } from '../limits';
import type { Quota } from '../quota';
import { keyedServerVisitor } from '../privacy';
import { mapSegment, SEGMENT_LIMITS, SEGMENT_TYPES, type SegmentType } from '../segment';
import type { Store, WriteKey } from '../store';

type SegmentEnv = { Variables: AppVariables & { writeKey?: WriteKey; keyError?: string } };

/** What every refusal of this API looks like: Segment-style `message` beside cjm's `error` and `path`. */
export interface SegmentErrorResponse {
  success: false;
  error: string;
  message: string;
  path?: string;
}

const refuse = (c: Context, status: InputStatus | 401 | 429, error: string, path?: string) =>
  c.json<SegmentErrorResponse>(
    { success: false, error, message: error, ...(path === undefined ? {} : { path }) },
    status,
  );

const MISSING_KEY =
  '[cjm] no write key: send it as the HTTP Basic user name with an empty password (Authorization: Basic base64("<key>:")), or as writeKey in the body; create one with POST /api/sites/<site>/keys';

/** Why a key is refused, or undefined when it may be used. */
const keyProblem = (key: WriteKey | null): string | undefined => {
  if (!key)
    return '[cjm] unknown write key; create one with POST /api/sites/<site>/keys (admin token) and use it exactly as shown';
  if (key.revokedAt !== null) {
    return `[cjm] write key ${key.prefix}… of site "${key.site}" was revoked on ${new Date(key.revokedAt).toISOString()}; create a new one`;
  }
  return undefined;
};

/** Looks a key up; on success records its use (at most once a minute, see touchWriteKey). */
const checkKey = async (store: Store, secret: string, now: number): Promise<{ key: WriteKey } | { error: string }> => {
  const key = await store.findWriteKey(secret);
  const problem = keyProblem(key);
  if (problem || !key) return { error: problem ?? MISSING_KEY };
  if (key.lastUsedAt === null || key.lastUsedAt <= now - 60_000) await store.touchWriteKey(key.id, now);
  return { key };
};

/** Requests one write key may send at once, and per second after that. */
export const DEFAULT_WRITE_KEY_RATE_LIMIT: RateLimitOptions = { burst: 500, perSecond: 100, maxKeys: 10_000 };

export const segmentRoutes = (
  options: Pick<AppOptions, 'writeKeyRateLimit' | 'ingester'> & { quota?: Quota | null } = {},
) => {
  const r = new Hono<SegmentEnv>();
  const perKey =
    options.writeKeyRateLimit === false
      ? null
      : createRateLimiter(options.writeKeyRateLimit ?? DEFAULT_WRITE_KEY_RATE_LIMIT);
  const quota = options.quota ?? null;

  // HTTP Basic, the way Segment's libraries send the key (analytics-node: `Basic base64(writeKey + ':')`).
  const keyAuth = basicAuth({
    verifyUser: async (user, password, c) => {
      // The key is the user name; tolerate it as the password too (`curl -u :KEY`), as nothing else goes there.
      const result = await checkKey(c.var.store, user || password, c.var.now());
      if ('error' in result) {
        c.set('keyError', result.error);
        return false;
      }
      c.set('writeKey', result.key);
      return true;
    },
    realm: 'cjm write key',
    invalidUserMessage: (c) => {
      const error =
        (c.get('keyError') as string | undefined) ??
        `[cjm] the Authorization header must be Basic base64("<write key>:")`;
      return { success: false, error, message: error };
    },
  });
  r.use('/v1/*', async (c, next) => (c.req.header('Authorization') ? keyAuth(c, next) : next()));

  const handle = (endpoint: SegmentType | 'batch') => async (c: Context<SegmentEnv & BodyEnv>) => {
    const body = c.var.body;
    const store = c.var.store;
    const now = c.var.now();
    let key = c.var.writeKey;
    if (!key) {
      const fromBody =
        typeof body === 'object' && body !== null ? (body as { writeKey?: unknown }).writeKey : undefined;
      if (typeof fromBody !== 'string' || fromBody === '') return refuse(c, 401, MISSING_KEY);
      const result = await checkKey(store, fromBody, now);
      if ('error' in result) return refuse(c, 401, result.error, 'writeKey');
      key = result.key;
    }
    const wait = perKey ? perKey(key.id, now) : 0;
    if (wait > 0) {
      // Segment's libraries back off on 429 and honour Retry-After.
      c.header('Retry-After', String(wait));
      return refuse(c, 429, `[cjm] too many requests with write key ${key.prefix}…; retry after ${wait} s`);
    }
    const site = await (c.var.siteCache?.get(store, key.site, now) ?? store.getSite(key.site));
    if (!site) return refuse(c, 401, `[cjm] the site "${key.site}" of write key ${key.prefix}… no longer exists`);

    const mapped = await mapSegment(body, endpoint, now, (legacy) => keyedServerVisitor(store, legacy));
    // All visitors of the request in one batch (one atomic commit when the store can, core/ingest.ts); a request
    // part of which failed answers with that error, and the client's retry is deduplicated by messageId, so nothing
    // counts twice. The site's daily quota applies; the budget of new visitors per address does not (a back end
    // starts visitors for all its users).
    const requests: IngestRequest[] = [];
    for (const [visitor, events] of mapped.visitors) {
      const opts: IngestOptions = {};
      if (quota) opts.admit = quota.admission(store, site, null, now);
      const alias = mapped.aliases.get(visitor);
      if (alias) opts.aliases = [alias]; // erased before the ids were keyed: its tombstone is under the old id
      requests.push({ site, visitor, events, receivedAt: now, options: opts });
    }
    const outcomes = requests.length ? await (options.ingester?.(c) ?? ingestBatch)(store, requests) : [];
    let overQuota = 0;
    for (let i = 0; i < requests.length; i++) overQuota += settled(outcomes[i]).overQuota ?? 0;
    const out: { success: true; ignored?: number; rejected?: number; overQuota?: number } = { success: true };
    if (mapped.ignored) out.ignored = mapped.ignored;
    if (mapped.rejected) out.rejected = mapped.rejected;
    if (overQuota) out.overQuota = overQuota;
    return c.json(out, 200);
  };

  const body = (maxBytes: number) => jsonBody({ maxBytes, tooLarge: 'send smaller batches', compressed: true });

  for (const type of SEGMENT_TYPES) r.post(`/v1/${type}`, body(SEGMENT_LIMITS.messageBytes), handle(type));
  r.post('/v1/batch', body(SEGMENT_LIMITS.batchBytes), handle('batch'));
  // Segment's libraries also know /v1/import as an alias of /v1/batch.
  r.post('/v1/import', body(SEGMENT_LIMITS.batchBytes), handle('batch'));
  // Bad input answers in Segment's shape; anything else goes on to app.onError.
  r.onError((err, c) => {
    if (err instanceof InputError) return refuse(c, err.status, err.message, err.path);
    throw err;
  });
  return r;
};
