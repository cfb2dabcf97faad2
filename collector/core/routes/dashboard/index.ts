/**
 * The dashboard, served by the collector at `/` on Node and Workers: sign-in (e-mail and password, or the admin
 * token), then per site one route module per tab — the journey map, the funnel, the visitors list and a visitor's
 * timeline, the team, the settings — each shown to the roles that may open it; the account page; and, public, invite
 * links and share links.
 *
 * Pages are rendered on the server from the same reports and services the API uses, a few queries per page; the
 * services authorize the signed-in actor (core/access.ts). Security: a server-side session behind a signed,
 * HttpOnly, SameSite=Strict cookie (core/dashboard/auth.ts), Secure over https; hono/csrf on every form post, and
 * form bodies only as form content types, size-limited, with their fields required (formBody); a strict
 * Content-Security-Policy (no inline script or style: the built stylesheet and script come from `/assets/*`,
 * core/dashboard/assets.ts); every browser-originated string escaped by hono/jsx.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { isInstanceOwner } from '../../access';
import { clearSessionCookie, currentSession, sessionActor, SESSION_LIMITS } from '../../dashboard/auth';
import { noSitesPage, sitePath, type Tab } from '../../dashboard/layout';
import { hsts, ownOrigin, type AppEnv, type AppOptions } from '../../http';
import type { SignInLimiter } from '../../limits';
import { visibleSites } from '../../services/sites';
import { accountRoutes } from './account';
import { dashboardAssetRoutes, withAssets } from './assets';
import { funnelRoutes } from './funnel';
import { inviteRoutes } from './invite';
import { mapRoutes } from './map';
import { retentionRoutes } from './retention';
import type { SignedInEnv } from './page';
import { settingsRoutes } from './settings';
import { shareRoutes } from './share';
import { signInRoutes } from './sign-in';
import { teamRoutes } from './team';
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

const TABS: readonly Tab[] = ['map', 'funnel', 'retention', 'visitors', 'team', 'settings'];

export const dashboardRoutes = (
  options: Pick<AppOptions, 'getAdminToken' | 'clientIp' | 'asset' | 'sessions' | 'shareRateLimit'>,
  signIns: SignInLimiter | null = null,
) => {
  const r = new Hono<SignedInEnv>();
  const limits = { ...SESSION_LIMITS, ...options.sessions };

  const headers = secureHeaders({
    contentSecurityPolicy: DASHBOARD_CSP,
    referrerPolicy: 'same-origin',
    xFrameOptions: 'DENY',
    strictTransportSecurity: false, // HSTS only over https (hsts)
  });
  // Invite and share links carry their secret in the URL: no referrer at all leaves their pages.
  const secretHeaders = secureHeaders({
    contentSecurityPolicy: DASHBOARD_CSP,
    referrerPolicy: 'no-referrer',
    xFrameOptions: 'DENY',
    strictTransportSecurity: false,
  });
  const noStore: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
  // The signed-in actor and session on c.var, or a redirect to the sign-in page.
  const auth: MiddlewareHandler<SignedInEnv> = async (c, next) => {
    const session = await currentSession(c, await options.getAdminToken(c), c.var.now(), limits);
    const actor = session ? await sessionActor(c.var.store, session) : null;
    if (session && actor) {
      c.set('session', session);
      c.set('actor', actor);
      return next();
    }
    clearSessionCookie(c);
    const url = new URL(c.req.url);
    return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
  };
  const SIGNED_IN = ['/', '/go', '/sites/*', '/account', '/account/*'];
  const PUBLIC = ['/login', '/logout', '/invite/*'];
  // Middleware first: a route module mounted below inherits what is registered before it.
  for (const path of [...SIGNED_IN, '/login', '/logout', '/assets/*']) r.use(path, headers, hsts);
  for (const path of ['/invite/*', '/share/*']) r.use(path, secretHeaders, hsts);
  // CSRF: a form post must come from the collector's own origin (as the browser sees it: https behind a TLS proxy);
  // formBody refuses any other content type (415), which csrf() would let through unchecked.
  const sameOrigin = csrf({ origin: (origin, c) => origin === ownOrigin(c) });
  for (const path of [...SIGNED_IN, ...PUBLIC, '/share/*']) r.use(path, noStore, sameOrigin);
  for (const path of SIGNED_IN) r.use(path, auth);
  for (const path of [...SIGNED_IN, '/login', '/invite/*', '/share/*']) r.use(path, withAssets(options));

  r.route('/', dashboardAssetRoutes(options));
  r.route('/', signInRoutes(options, signIns, limits));
  r.route('/', inviteRoutes(options, signIns, limits));
  r.route('/', shareRoutes(options, signIns));

  // ----- navigation -----
  r.get('/', async (c) => {
    const first = (await visibleSites(c.var.actor, c.var.store))[0];
    if (!first) return c.html(noSitesPage(isInstanceOwner(c.var.actor)));
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
  r.route('/', retentionRoutes());
  r.route('/', visitorRoutes());
  r.route('/', teamRoutes());
  r.route('/', settingsRoutes());
  r.route('/', accountRoutes());
  return r;
};
