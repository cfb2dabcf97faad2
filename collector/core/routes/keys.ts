/**
 * Admin API for a site's server-side write keys (docs/server-side.md), mounted under `/api` by app.ts behind the
 * bearer check (test/segment/keys.test.ts checks that these routes refuse a request without it); admins and up.
 *
 * - `POST   /api/sites/:site/keys` `{ name? }` → 201 `{ key, writeKey }`: the secret `key` is shown this once.
 * - `GET    /api/sites/:site/keys` → `{ keys }`, newest first: prefix, name, created, last used, revoked.
 * - `DELETE /api/sites/:site/keys/:id` → `{ writeKey }` with `revokedAt` set (idempotent; the row is kept).
 */
import { Hono } from 'hono';
import { InputError } from '../errors';
import { jsonBody, withSite, type ApiEnv } from '../http';
import { createWriteKey, listWriteKeys, revokeWriteKey } from '../services/keys';

export const keyRoutes = () => {
  const r = new Hono<ApiEnv>();

  r.post('/sites/:site/keys', withSite, jsonBody({ empty: {}, maxBytes: 4 * 1024 }), async (c) => {
    const body = c.var.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new InputError(400, '[cjm] the body must be a JSON object like { "name": "billing backend" }');
    }
    const name = (body as { name?: unknown }).name ?? '';
    const created = await createWriteKey(c.var.actor, c.var.store, c.var.site, name, c.var.now());
    c.header('Cache-Control', 'no-store');
    return c.json(created, 201);
  });

  r.get('/sites/:site/keys', withSite, async (c) =>
    c.json({ keys: await listWriteKeys(c.var.actor, c.var.store, c.var.site) }),
  );

  r.delete('/sites/:site/keys/:id', withSite, async (c) =>
    c.json({ writeKey: await revokeWriteKey(c.var.actor, c.var.store, c.var.site, c.req.param('id'), c.var.now()) }),
  );
  return r;
};
