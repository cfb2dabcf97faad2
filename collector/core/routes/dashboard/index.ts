/**
 * The dashboard, served by the collector at `/` on Node and Workers: sign-in with the admin token, then per site one
 * route module per tab — the journey map, the funnel, the visitors list and a visitor's timeline, the settings.
 *
 * Pages are rendered on the server from the same reports and services the API uses, a few queries per page.
 * Security: a signed, HttpOnly, SameSite=Strict session cookie (core/dashboard/auth.ts), Secure over https; hono/csrf
 * on every form post, and form bodies only as form content types, size-limited, with their fields required
 * (formBody); a strict Content-Security-Policy (no inline script or style: the built stylesheet and script come from
 * `/assets/*`, core/dashboard/assets.ts); every browser-originated string escaped by hono/jsx.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { hasSession } from '../../dashboard/auth';
import { noSitesPage, sitePath, type Tab } from '../../dashboard/layout';
import { hsts, ownOrigin, type AppEnv, type AppOptions } from '../../http';
import type { SignInLimiter } from '../../limits';
import { dashboardAssetRoutes, withAssets } from './assets';
import { funnelRoutes } from './funnel';
import { mapRoutes } from './map';
import { settingsRoutes } from './settings';
import { signInRoutes } from './sign-in';
import { visitorRoutes } from './visitors';

/** The Content-Security-Policy of every dashboard response: nothing inline, nothing from elsewhere. */
export const DASHBOARD_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

const TABS: readonly Tab[] = ['map', 'funnel', 'visitors', 'settings'];

export const dashboardRoutes = (
  options: Pick<AppOptions, 'getAdminToken' | 'clientIp' | 'asset'>,
  signIns: SignInLimiter | null = null,
) => {
  const r = new Hono<AppEnv>();

  const headers = secureHeaders({
    contentSecurityPolicy: DASHBOARD_CSP,
    referrerPolicy: 'same-origin',
    xFrameOptions: 'DENY',
    strictTransportSecurity: false, // HSTS only over https (hsts)
  });
  const noStore: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
  const auth: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (await hasSession(c, await options.getAdminToken(c), c.var.now())) return next();
    const url = new URL(c.req.url);
    return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
  };
  // Middleware first: a route module mounted below inherits what is registered before it.
  for (const path of ['/', '/login', '/logout', '/go', '/sites/*', '/assets/*']) r.use(path, headers, hsts);
  // CSRF: a form post must come from the collector's own origin (as the browser sees it: https behind a TLS proxy);
  // formBody refuses any other content type (415), which csrf() would let through unchecked.
  const sameOrigin = csrf({ origin: (origin, c) => origin === ownOrigin(c) });
  for (const path of ['/', '/login', '/logout', '/go', '/sites/*']) r.use(path, noStore, sameOrigin);
  for (const path of ['/', '/go', '/sites/*']) r.use(path, auth);
  for (const path of ['/', '/login', '/sites/*']) r.use(path, withAssets(options));

  r.route('/', dashboardAssetRoutes(options));
  r.route('/', signInRoutes(options, signIns));

  // ----- navigation -----
  r.get('/', async (c) => {
    const first = (await c.var.store.listSites())[0];
    if (!first) return c.html(noSitesPage());
    return c.redirect(sitePath(first.id, 'map'), 303);
  });
  r.get('/go', (c) => {
    const site = c.req.query('site') ?? '';
    const tab = TABS.find((t) => t === c.req.query('tab')) ?? 'map';
    return c.redirect(sitePath(site, tab), 303);
  });
  r.get('/sites/:site', (c) => c.redirect(sitePath(c.req.param('site'), 'map'), 303));

  // ----- one module per tab -----
  r.route('/', mapRoutes());
  r.route('/', funnelRoutes());
  r.route('/', visitorRoutes());
  r.route('/', settingsRoutes());
  return r;
};
