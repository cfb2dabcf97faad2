/**
 * `POST /collect`: the public ingest endpoint (wire format in docs/protocol.md). Hostile input is normal here:
 * every refusal is a JSON 4xx naming the field, nothing is written from a refused batch, and 202 is answered
 * only after the events are committed.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { isbot } from 'isbot';
import { isInternalReferrer } from '../channels';
import { InputError } from '../errors';
import { jsonBody, type AppEnv, type AppOptions } from '../http';
import { ingestBatch, settled, type IngestOptions } from '../ingest';
import { addressKey } from '../ip';
import { createRateLimiter, DEFAULT_RATE_LIMIT } from '../limits';
import { derivedVisitorId, deviceClass } from '../privacy';
import { localDay, timezoneOf } from '../timezone';
import { LIMITS, type CollectResponse } from '../protocol';
import type { Quota } from '../quota';
import { correctTimestamps, validateBatch } from '../validate';

/**
 * Header of a 202 whose events were dropped on purpose: `bot` (User-Agent), `deleted` (erased visitor), `quota` (the
 * site's daily quota or the address's budget of new visitors, core/quota.ts).
 */
export const DROPPED_HEADER = 'X-Cjm-Dropped';

/**
 * The answer of `POST /collect`, with what was not stored; `queued: true` when the Worker's ingest queue took the
 * batch (then `accepted` counts its events and duplicates are dropped by the consumer, core/queue.ts).
 */
export type CollectAnswer = CollectResponse & {
  rejected?: number;
  deleted?: number;
  overQuota?: number;
  queued?: true;
};

export const collectRoutes = (
  options: Pick<AppOptions, 'clientIp' | 'rateLimit' | 'ingester'> & { quota?: Quota | null } = {},
) => {
  const r = new Hono<AppEnv>();
  const clientIp = (c: Parameters<NonNullable<AppOptions['clientIp']>>[0]) => options.clientIp?.(c) || null;
  const limiter = options.rateLimit === false ? null : createRateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const quota = options.quota ?? null;
  // Any origin may call; the site's own allow-list is checked below, per site.
  r.use(
    '/collect',
    cors({
      origin: (origin) => origin || '*',
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Content-Encoding'], // a browser may gzip with CompressionStream
      exposeHeaders: ['Retry-After', 'X-Cjm-Dropped'],
      maxAge: 86400,
    }),
  );
  r.post(
    '/collect',
    async (c, next) => {
      // Per-IP rate limit first: a flood costs no parsing and no database work.
      const ip = clientIp(c);
      const wait = limiter && ip ? limiter(addressKey(ip), c.var.now()) : 0;
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        throw new InputError(429, `[cjm] too many requests from this address; retry after ${wait} s`);
      }
      await next();
    },
    jsonBody({ maxBytes: LIMITS.bodyBytes, tooLarge: 'send smaller batches', compressed: true }),
    async (c) => {
      const batch = validateBatch(c.var.body);
      const store = c.var.store;
      const site = await (c.var.siteCache?.get(store, batch.site, c.var.now()) ?? store.getSite(batch.site));
      if (!site) throw new InputError(404, `[cjm] unknown site "${batch.site}"`, 'site');
      // The allow-list keeps other sites' pages from sending into this one; it is not authentication (any non-browser
      // client can send any Origin, or none). `requireOrigin` refuses requests without one.
      const origin = c.req.header('origin');
      if (origin && site.origins.length > 0 && !site.origins.includes(origin)) {
        throw new InputError(403, `[cjm] site "${site.id}" does not allow origin ${origin}`, 'site');
      }
      if (!origin && site.requireOrigin) {
        throw new InputError(
          403,
          `[cjm] site "${site.id}" requires an Origin header (requireOrigin); send server-side events to /v1/* with a write key`,
          'site',
        );
      }
      const now = c.var.now();
      const ua = c.req.header('user-agent') ?? '';
      if (isbot(ua)) {
        await store.addCounters(site.id, [
          { day: localDay(now, timezoneOf(site)), name: 'bots', value: batch.events.length },
        ]);
        c.header(DROPPED_HEADER, 'bot');
        return c.json<CollectAnswer>({ accepted: 0, duplicates: 0 }, 202);
      }
      let visitor = batch.visitor;
      if (!visitor) {
        const ip = clientIp(c);
        if (!ip) {
          throw new InputError(
            400,
            '[cjm] visitor is required: this runtime gives no client address to derive one from',
            'visitor',
          );
        }
        visitor = await derivedVisitorId(store, site.id, ip, ua, now);
      }
      const { events, rejected } = correctTimestamps(batch, now);
      // The tag sends document.referrer as it is: one from the page's own host is a move within the site, not stored.
      for (const e of events) if (e.referrer && isInternalReferrer(e.referrer, e.url)) delete e.referrer;
      const opts: IngestOptions = { device: deviceClass(ua), dropped: batch.dropped ?? 0, tooOld: rejected };
      if (quota) opts.admit = quota.admission(store, site, clientIp(c), now);
      const ingester = options.ingester?.(c) ?? ingestBatch;
      const outcomes = await ingester(store, [{ site, visitor, events, receivedAt: now, options: opts }]);
      const result: CollectAnswer = settled(outcomes[0]);
      if (rejected) result.rejected = rejected;
      if (result.deleted) c.header(DROPPED_HEADER, 'deleted');
      else if (result.overQuota) c.header(DROPPED_HEADER, 'quota');
      return c.json(result, 202);
    },
  );
  return r;
};
