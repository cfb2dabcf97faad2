/** The dashboard's stylesheet, script and icon, served without a session; versioned URLs are cached for good. */
import { Hono } from 'hono';
import {
  CSS_PATH,
  CSS_VERSION,
  DASHBOARD_CSS,
  DASHBOARD_JS,
  FAVICON_SVG,
  JS_PATH,
  JS_VERSION,
} from '../../dashboard/assets';
import type { AppEnv } from '../../http';

export const dashboardAssetRoutes = () => {
  const r = new Hono<AppEnv>();
  r.get(CSS_PATH, (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', c.req.query('v') === CSS_VERSION ? 'public, max-age=31536000, immutable' : 'no-cache');
    return c.body(DASHBOARD_CSS);
  });
  r.get(JS_PATH, (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', c.req.query('v') === JS_VERSION ? 'public, max-age=31536000, immutable' : 'no-cache');
    return c.body(DASHBOARD_JS);
  });
  r.get('/assets/favicon.svg', (c) => {
    c.header('Content-Type', 'image/svg+xml');
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(FAVICON_SVG);
  });
  return r;
};
