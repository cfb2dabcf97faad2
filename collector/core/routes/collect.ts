/**
 * `POST /collect`: the public ingest endpoint (wire format in docs/protocol.md). Hostile input is normal here:
 * every refusal is a JSON 4xx naming the field, nothing is written from a refused batch, and 202 is answered
 * only after the events are committed.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { jsonError, type AppEnv } from '../app';
import { ingest } from '../ingest';
import { LIMITS, type CollectResponse } from '../protocol';
import { correctTimestamps, validateBatch, ValidationError } from '../validate';

export const collectRoutes = () => {
  const r = new Hono<AppEnv>();
  // Any origin may call; the site's own allow-list is checked below, per site.
  r.use('/collect', cors({ origin: (origin) => origin || '*', allowMethods: ['POST', 'OPTIONS'], allowHeaders: ['Content-Type'], maxAge: 86400 }));
  r.post(
    '/collect',
    bodyLimit({
      maxSize: LIMITS.bodyBytes,
      onError: (c) => jsonError(c, 413, `[cjm] the body is larger than ${LIMITS.bodyBytes} bytes; send smaller batches`),
    }),
    async (c) => {
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        return jsonError(c, 400, '[cjm] the body is not valid JSON');
      }
      let batch;
      try {
        batch = validateBatch(body);
      } catch (e) {
        if (e instanceof ValidationError) return jsonError(c, 400, e.message, e.path);
        throw e;
      }
      const store = c.get('store');
      const site = await store.getSite(batch.site);
      if (!site) return jsonError(c, 404, `[cjm] unknown site "${batch.site}"`, 'site');
      const origin = c.req.header('origin');
      if (origin && site.origins.length > 0 && !site.origins.includes(origin)) {
        return jsonError(c, 403, `[cjm] site "${site.id}" does not allow origin ${origin}`, 'site');
      }
      if (!batch.visitor) return jsonError(c, 400, '[cjm] visitor is required', 'visitor');
      const now = c.get('now')();
      const { events, rejected } = correctTimestamps(batch, now);
      const result: CollectResponse & { rejected?: number } =
        events.length === 0 ? { accepted: 0, duplicates: 0 } : await ingest(store, site, batch.visitor, events, now);
      if (rejected) result.rejected = rejected;
      return c.json(result, 202);
    },
  );
  return r;
};
