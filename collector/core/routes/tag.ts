/**
 * Static assets served by the collector: the tag and its chunks (`/cjm.js`, `/cjm.vitals.js`,
 * `/cjm.markup.js`) and the demo shop (`/demo/…`).
 * Where they come from is the runtime's business (files on Node, the assets binding on Workers).
 */
import { Hono } from 'hono';
import type { AppEnv, AppOptions } from '../http';

export const assetRoutes = (options: Pick<AppOptions, 'asset'>) => {
  const r = new Hono<AppEnv>();
  const serve = (cacheControl: string) => async (c: Parameters<AppOptions['asset']>[1], next: () => Promise<void>) => {
    const path = new URL(c.req.url).pathname;
    const res = await options.asset(path.endsWith('/') ? `${path}index.html` : path, c);
    if (!res) return next();
    const out = new Response(res.body, res);
    out.headers.set('Cache-Control', cacheControl);
    out.headers.set('X-Content-Type-Options', 'nosniff');
    return out;
  };
  r.get('/demo', (c) => c.redirect('/demo/', 301));
  r.get('/cjm.js', serve('public, max-age=3600'));
  r.get('/cjm.vitals.js', serve('public, max-age=3600'));
  r.get('/cjm.markup.js', serve('public, max-age=3600'));
  r.get('/demo/*', serve('no-cache'));
  return r;
};
