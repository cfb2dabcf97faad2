/**
 * Share links, public and read-only: `/share/<secret>` shows the site's journey map, `/share/<secret>/funnel` its
 * funnel — the same report views the dashboard's tabs render (views.ts), for an actor that may read reports and
 * nothing else (core/access.ts), so no visitor-level data and no link into the dashboard can appear. Every answer is
 * `noindex` (X-Robots-Tag and a meta tag), `Referrer-Policy: no-referrer` (the secret is in the URL), `no-store`,
 * rate-limited per address; a link unknown, revoked or expired answers the same 404 page, and an unknown secret
 * counts as a failed guess on the sign-in limiter.
 *
 * A password-protected link asks for its password (limited per address and per link, like a sign-in) and then
 * remembers it for SHARE_COOKIE_HOURS in a signed cookie scoped to the link's path.
 */
import { Hono, type Context } from 'hono';
import { getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { Actor } from '../../access';
import { sessionSecret } from '../../dashboard/auth';
import { parseRange } from '../../dashboard/range';
import { sharePage, shareGonePage, sharePasswordPage } from '../../dashboard/pages/share';
import { formBody, SIGN_IN_BODY_BYTES, type AppOptions, type FormEnv } from '../../http';
import { createRateLimiter, type SignInLimiter } from '../../limits';
import { openShareLink, sharePath } from '../../services/shares';
import type { ShareLinkRecord } from '../../store';
import type { DashboardEnv } from './assets';
import { str } from './page';
import { REPORT_TABS, REPORT_VIEWS, type ReportTab } from './views';
import { timezoneOf } from '../../timezone';

/** How long a share link's password is remembered. */
export const SHARE_COOKIE_HOURS = 12;
const COOKIE = 'cjm_share';

/** Labels of the shared tabs. */
const LABELS: Record<ReportTab, string> = { map: 'Journey map', funnel: 'Funnel', retention: 'Retention' };

type ShareEnv = DashboardEnv & FormEnv;

export const shareRoutes = (
  options: Pick<AppOptions, 'clientIp' | 'shareRateLimit'>,
  signIns: SignInLimiter | null,
) => {
  const r = new Hono<ShareEnv>();
  const limit =
    options.shareRateLimit === false ? null : createRateLimiter(options.shareRateLimit ?? { burst: 60, perSecond: 1 });

  // Every share answer: not to be indexed, no referrer, never cached; rate-limited per address.
  r.use('/share/*', async (c, next) => {
    const ip = options.clientIp?.(c);
    const wait = limit && ip ? limit(ip, c.var.now()) : 0;
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      c.header('X-Robots-Tag', 'noindex, nofollow');
      return c.text('[cjm] too many requests for shared views from this address; retry later', 429);
    }
    await next();
    c.header('X-Robots-Tag', 'noindex, nofollow');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-store');
  });

  /** The link of the path while it works; otherwise the 404 page (and a failed guess for an unknown secret). */
  const linkOf = async (c: Context<ShareEnv>): Promise<ShareLinkRecord | Response> => {
    const link = await openShareLink(c.var.store, c.req.param('secret') ?? '', c.var.now());
    if (link) return link;
    signIns?.failed(options.clientIp?.(c), c.var.now());
    return c.html(shareGonePage(c.var.assets), 404);
  };

  /** The cookie that remembers a link's password: `<link id>.<until>`, signed, scoped to the link's path. */
  const unlocked = async (c: Context<ShareEnv>, link: ShareLinkRecord): Promise<boolean> => {
    if (!link.hasPassword) return true;
    const value = await getSignedCookie(c, await sessionSecret(c.var.store), COOKIE);
    const m = typeof value === 'string' ? /^([A-Za-z0-9_-]{1,40})\.(\d{1,16})$/.exec(value) : null;
    if (!m || m[1] !== link.id) return false;
    const until = Number(m[2]);
    return until > c.var.now() && until <= c.var.now() + SHARE_COOKIE_HOURS * 3_600_000;
  };

  const view = (tab: ReportTab) => async (c: Context<ShareEnv>) => {
    const link = await linkOf(c);
    if (link instanceof Response) return link;
    const base = sharePath(c.req.param('secret') ?? '');
    if (!(await unlocked(c, link))) return c.html(sharePasswordPage(base, null, c.var.assets), 401);
    const site = await c.var.store.getSite(link.site);
    if (!site) return c.html(shareGonePage(c.var.assets), 404);
    await c.var.store.touchShareLink(link.id, c.var.now());
    const actor: Actor = { kind: 'share', site: site.id, link: link.id };
    const range = parseRange(new URL(c.req.url).searchParams, c.var.now(), timezoneOf(site));
    const v = await REPORT_VIEWS[tab]({ actor, store: c.var.store, site, range, now: c.var.now });
    const path = tab === 'map' ? base : `${base}/${tab}`;
    return c.html(
      sharePage({
        title: v.title,
        siteName: site.name,
        base,
        tabs: REPORT_TABS.map((t) => ({
          path: (t === 'map' ? base : `${base}/${t}`) + (new URL(c.req.url).search || ''),
          label: LABELS[t],
          current: t === tab,
        })),
        range,
        path,
        sub: v.sub,
        body: v.body,
        assets: c.var.assets,
      }),
    );
  };

  for (const tab of REPORT_TABS) r.get(tab === 'map' ? '/share/:secret' : `/share/:secret/${tab}`, view(tab));

  // The password of a protected link: limited per address and per link, like a sign-in.
  r.post(
    '/share/:secret',
    async (c, next) => {
      const wait = signIns ? signIns.wait(options.clientIp?.(c), c.var.now()) : 0;
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        const message = `Too many attempts; try again in ${wait} s.`;
        return c.html(sharePasswordPage(c.req.path, message, c.var.assets, { tooMany: true }), 429);
      }
      await next();
    },
    formBody({ maxBytes: SIGN_IN_BODY_BYTES, required: ['password'] }),
    async (c) => {
      const link = await linkOf(c);
      if (link instanceof Response) return link;
      const base = sharePath(c.req.param('secret'));
      if (!link.hasPassword || !link.passwordHash) return c.redirect(base, 303);
      const ip = options.clientIp?.(c);
      const now = c.var.now();
      const account = `share:${link.id}`;
      const wait = signIns ? signIns.wait(ip, now, account) : 0;
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        const message = `Too many attempts for this link; try again in ${wait} s.`;
        return c.html(sharePasswordPage(base, message, c.var.assets, { tooMany: true }), 429);
      }
      if (!(await c.var.kdf.verify(str(c.var.form.password), link.passwordHash))) {
        signIns?.failed(ip, now, account);
        return c.html(sharePasswordPage(base, 'That is not the password of this link.', c.var.assets), 401);
      }
      signIns?.succeeded(ip, now, account);
      const until = now + SHARE_COOKIE_HOURS * 3_600_000;
      await setSignedCookie(c, COOKIE, `${link.id}.${until}`, await sessionSecret(c.var.store), {
        path: base,
        httpOnly: true,
        sameSite: 'Lax',
        secure: c.var.https,
        maxAge: SHARE_COOKIE_HOURS * 3600,
      });
      return c.redirect(base, 303);
    },
  );
  return r;
};
