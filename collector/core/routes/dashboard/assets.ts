/**
 * The dashboard's built stylesheet and script (core/dashboard/assets.ts): served without a session under their
 * content-hashed names, and put on `c.var.assets` for the pages that link them. The icon is served from memory.
 */
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { dashboardAsset, dashboardAssets, FAVICON_SVG, type DashboardAssets } from '../../dashboard/assets';
import type { AppEnv, AppOptions } from '../../http';

/** A dashboard page's route, behind `withAssets`. */
export type DashboardEnv = AppEnv & { Variables: { assets: DashboardAssets } };

/** `c.var.assets`: the URL paths of the built stylesheet and script, from the runtime's static files. */
export const withAssets = (options: Pick<AppOptions, 'asset'>) =>
  createMiddleware<DashboardEnv>(async (c, next) => {
    c.set('assets', await dashboardAssets((path) => options.asset(path, c)));
    await next();
  });

export const dashboardAssetRoutes = (options: Pick<AppOptions, 'asset'>) => {
  const r = new Hono<AppEnv>();
  r.get('/assets/favicon.svg', (c) => {
    c.header('Content-Type', 'image/svg+xml');
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(FAVICON_SVG);
  });
  // `dashboard.<hash>.css|js` cached for a year; the stable names `dashboard.css|js` revalidated.
  r.get('/assets/:file', async (c, next) => {
    const res = await dashboardAsset(c.req.param('file'), (path) => options.asset(path, c));
    return res ?? next();
  });
  return r;
};
