/**
 * Admin API for a site's server-side write keys (docs/server-side.md), mounted under `/api` next to the read API
 * and behind the same `Authorization: Bearer <admin token>` (the bearerAuth of routes/api.ts covers `/api/*`;
 * test/segment/keys.test.ts checks that these routes refuse a request without it).
 *
 * - `POST   /api/sites/:site/keys` `{ name? }` → 201 `{ key, writeKey }`: the secret `key` is shown this once.
 * - `GET    /api/sites/:site/keys` → `{ keys }`, newest first: prefix, name, created, last used, revoked.
 * - `DELETE /api/sites/:site/keys/:id` → `{ writeKey }` with `revokedAt` set (idempotent; the row is kept).
 */
import { Hono } from 'hono';
import { jsonError, type AppEnv } from '../app';
import { loadSite } from './api';

export const KEY_NAME_LENGTH = 100;

export const keyRoutes = () => {
  const r = new Hono<AppEnv>();

  r.post('/sites/:site/keys', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const text = await c.req.text();
    let body: unknown = {};
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return jsonError(c, 400, '[cjm] the body is not valid JSON');
      }
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return jsonError(c, 400, '[cjm] the body must be a JSON object like { "name": "billing backend" }');
    }
    const name = (body as { name?: unknown }).name ?? '';
    if (typeof name !== 'string' || name.length > KEY_NAME_LENGTH) {
      return jsonError(c, 400, `[cjm] name must be a string of at most ${KEY_NAME_LENGTH} characters`, 'name');
    }
    const created = await c.get('store').createWriteKey(site.id, name.trim(), c.get('now')());
    c.header('Cache-Control', 'no-store');
    return c.json(created, 201);
  });

  r.get('/sites/:site/keys', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    return c.json({ keys: await c.get('store').listWriteKeys(site.id) });
  });

  r.delete('/sites/:site/keys/:id', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const id = c.req.param('id');
    const writeKey = await c.get('store').revokeWriteKey(site.id, id, c.get('now')());
    if (!writeKey) return jsonError(c, 404, `[cjm] site "${site.id}" has no write key "${id}"`, 'id');
    return c.json({ writeKey });
  });
  return r;
};
