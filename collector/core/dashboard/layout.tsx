/**
 * The page shell: the document (its head links the built stylesheet and script by their hashed names), the top bar
 * (site picker, tabs, sign-out), the date-range picker, the sign-in page, and the pages shown when there is nothing
 * to show.
 */
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { SiteConfig } from '../stages';
import type { DashboardAssets } from './assets';
import { qs, type Html } from './format';
import type { Range } from './range';

export type Tab = 'map' | 'funnel' | 'retention' | 'visitors' | 'team' | 'settings';

export const TABS: Array<[Tab, string]> = [
  ['map', 'Journey map'],
  ['funnel', 'Funnel'],
  ['retention', 'Retention'],
  ['visitors', 'Visitors'],
  ['team', 'Team'],
  ['settings', 'Settings'],
];

export const sitePath = (site: string, tab: Tab | string) => `/sites/${encodeURIComponent(site)}/${tab}`;

const Logo = () => (
  <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
    <circle cx="4" cy="17" r="3" fill="#8b93ff" />
    <circle cx="12" cy="9" r="3" fill="#a5abff" />
    <circle cx="20" cy="5" r="3" fill="#fff" />
    <path d="M4 17 L12 9 L20 5" stroke="#8b93ff" stroke-width="2" fill="none" />
  </svg>
);

/**
 * The whole document. Nothing inline: the stylesheet and the script come from /assets/ (the CSP allows only that).
 * `shared`: a share link's page — no referrer at all, and not to be indexed.
 */
export const Document = ({
  title,
  assets,
  children,
  shared = false,
}: {
  title: string;
  assets: DashboardAssets;
  children: Child;
  shared?: boolean;
}) => (
  <>
    {raw('<!doctype html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content={shared ? 'no-referrer' : 'same-origin'} />
        {shared ? <meta name="robots" content="noindex, nofollow" /> : null}
        <title>{title} · cjm</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        {assets.css ? <link rel="stylesheet" href={assets.css} /> : null}
        {assets.js ? <script src={assets.js} defer /> : null}
      </head>
      <body>{children}</body>
    </html>
  </>
);

export interface ShellOptions {
  title: string;
  sites: SiteConfig[];
  site: SiteConfig;
  tab: Tab | null;
  /** Extra query kept by the tabs (the date range). */
  keep?: Record<string, string | undefined>;
  /** The built stylesheet and script (`dashboardAssets`). */
  assets: DashboardAssets;
  body: Html;
  /** The tabs the signed-in role may open (core/access.ts); the others are not shown. */
  tabs: readonly Tab[];
  /** Who is signed in (an e-mail, or `admin token`), linked to the account page. */
  who: string;
  /** The storage banner (a full database, one near its limit, a site being moved), above every page. */
  banner?: StorageBanner | null;
}

/** What the banner says: `full` (writes are refused), `warning` (near the limit) or `info` (a move). */
export interface StorageBanner {
  level: 'full' | 'warning' | 'info';
  text: string;
}

/** The storage banner (core/services/health.ts says why); links to the health endpoint's JSON. */
const Banner = ({ banner }: { banner: StorageBanner }) => (
  <div class={`banner banner-${banner.level}`} role={banner.level === 'info' ? 'status' : 'alert'}>
    <div class="top-inner">
      <strong>
        {banner.level === 'full' ? 'Storage full. ' : banner.level === 'warning' ? 'Storage. ' : 'Moving. '}
      </strong>
      {banner.text} <span class="muted small">Details: GET /api/health</span>
    </div>
  </div>
);

/** A signed-in page: the top bar over `body`. */
const Shell = ({ title, sites, site, tab, keep = {}, assets, body, tabs, who, banner }: ShellOptions) => (
  <Document title={title} assets={assets}>
    <header class="top">
      <div class="top-inner">
        <a class="brand" href="/">
          <Logo />
          cjm
        </a>
        <form class="site-pick" method="get" action="/go">
          <label class="sr">
            <select name="site" aria-label="Site" data-autosubmit="">
              {sites.map((s) => (
                <option value={s.id} selected={s.id === site.id}>
                  {s.name === s.id ? s.id : `${s.name} (${s.id})`}
                </option>
              ))}
            </select>
          </label>{' '}
          <input type="hidden" name="tab" value={tab ?? 'map'} />{' '}
          <button class="btn" type="submit">
            Go
          </button>
        </form>
        <nav class="nav" aria-label="Pages">
          {TABS.filter(([t]) => tabs.includes(t)).map(([t, label]) => (
            <a
              href={`${sitePath(site.id, t)}${t === 'settings' || t === 'team' ? '' : qs(keep)}`}
              aria-current={tab === t ? 'page' : undefined}
            >
              {label}
            </a>
          ))}
        </nav>
        <span class="spacer"></span>
        <a class="account-link" href="/account" data-testid="account-link">
          {who}
        </a>
        <form class="signout" method="post" action="/logout">
          <button type="submit">Sign out</button>
        </form>
      </div>
    </header>
    {banner ? <Banner banner={banner} /> : null}
    <main>{body}</main>
  </Document>
);

export const shell = (o: ShellOptions): Html => <Shell {...o} />;

/**
 * The top of a page: its title, a line under it, and on the right the date-range picker of pages that have one and
 * the page's actions (the export button, for a role that may export).
 */
export const pageHead = (title: string, sub: Html, picker: Html | null = null, actions: Html | null = null): Html => (
  <div class="page-head">
    <div>
      <h1>{title}</h1>
      {sub}
    </div>
    {picker || actions ? (
      <div class="page-tools">
        {picker}
        {actions}
      </div>
    ) : null}
  </div>
);

/** The date-range chips and the custom from/to form; links keep the other query parameters given in `keep`. */
const RangePicker = ({
  path,
  range,
  keep,
}: {
  path: string;
  range: Range;
  keep: Record<string, string | undefined>;
}) => (
  <div class="range">
    <span class="chips">
      {(['24h', '7d', '30d', '90d', 'all'] as const).map((p) => (
        <a href={`${path}${qs({ ...keep, range: p })}`} aria-current={range.preset === p ? 'true' : undefined}>
          {p === 'all' ? 'All' : p}
        </a>
      ))}
    </span>
    <form method="get" action={path}>
      {Object.entries(keep).map(([k, v]) => (v ? <input type="hidden" name={k} value={v} /> : null))}
      <input type="date" name="from" value={range.fromDay ?? ''} aria-label="From" />
      <input type="date" name="to" value={range.toDay ?? ''} aria-label="To" />
      <button class="btn" type="submit">
        Apply
      </button>
    </form>
  </div>
);

export const rangePicker = (path: string, range: Range, keep: Record<string, string | undefined> = {}): Html => (
  <RangePicker path={path} range={range} keep={keep} />
);

/**
 * The sign-in page: e-mail and password, and (folded away) the admin token, which stays the instance owner's key;
 * `error` says why the last attempt failed, `token` keeps the admin-token form open after a failure of it.
 */
const LoginPage = ({
  error,
  next,
  assets,
  token,
  email,
}: {
  error: string | null;
  next: string;
  assets: DashboardAssets;
  token: boolean;
  email: string;
}) => (
  <Document title="Sign in" assets={assets}>
    <div class="login">
      <div class="brand">cjm</div>
      <div class="card">
        <h1>Sign in</h1>
        {error ? (
          <div class="error" role="alert">
            {error}
          </div>
        ) : null}
        <form method="post" action="/login" data-testid="password-sign-in">
          <input type="hidden" name="next" value={next} />
          <div class="form-row">
            <label for="email">E-mail</label>
            <input id="email" type="email" name="email" value={email} autocomplete="username" required autofocus />
          </div>
          <div class="form-row">
            <label for="password">Password</label>
            <input id="password" type="password" name="password" autocomplete="current-password" required />
          </div>
          <button class="btn primary" type="submit">
            Sign in
          </button>
        </form>
        <details class="token-sign-in" open={token}>
          <summary class="muted small">Sign in with the admin token</summary>
          <p class="muted small">
            The token that <code>npm start</code> printed (or <code>CJM_ADMIN_TOKEN</code>): the instance owner's key.
          </p>
          <form method="post" action="/login" data-testid="token-sign-in">
            <input type="hidden" name="next" value={next} />
            <label for="token">
              <strong>Admin token</strong>
            </label>{' '}
            <input id="token" type="password" name="token" autocomplete="off" required />{' '}
            <button class="btn" type="submit">
              Sign in with the token
            </button>
          </form>
        </details>
      </div>
    </div>
  </Document>
);

export const loginPage = (
  error: string | null,
  next: string,
  assets: DashboardAssets,
  opts: { token?: boolean; email?: string } = {},
): Html => <LoginPage error={error} next={next} assets={assets} token={opts.token ?? false} email={opts.email ?? ''} />;

/** A small page outside the signed-in shell (an invite, a refusal): the brand over one card. */
export const plainPage = (title: string, assets: DashboardAssets, body: Html): Html => (
  <Document title={title} assets={assets}>
    <div class="login">
      <div class="brand">cjm</div>
      <div class="card">{body}</div>
    </div>
  </Document>
);

/** The 404 page of a site that does not exist. */
export const unknownSitePage = (id: string, assets: DashboardAssets): Html => (
  <Document title="Unknown site" assets={assets}>
    <main>
      <div class="card empty">
        <h1>No site “{id}”</h1>
        <p>
          <a href="/">Back to the dashboard</a>
        </p>
      </div>
    </main>
  </Document>
);

/** `/` before any site exists (the instance owner), or before the user has a role on one. */
export const noSitesPage = (owner = true): Html => (
  <>
    {raw('<!doctype html>')}
    <p>
      {owner ? (
        <>
          No sites yet. Create one with <code>POST /api/sites</code> (docs/api.md).
        </>
      ) : (
        <>
          You have no role on any site yet: ask a site's owner or admin for an invite link.{' '}
          <a href="/account">Account</a>
        </>
      )}
    </p>
  </>
);

/**
 * A page for when there is nothing to show yet; with `hint` (someone who may change the settings) the command that
 * fixes it.
 */
export const emptyState = (what: string, siteId: string, hint = true): Html => (
  <div class="card empty">
    <p>
      <strong>{what}</strong>
    </p>
    {hint ? (
      <p>
        Paste the tag on your site (see <a href={sitePath(siteId, 'settings')}>Settings</a>), or fill the dashboard with
        simulated traffic: <code>npm run simulate -- --visitors 5000 --site {siteId}</code>
      </p>
    ) : null}
  </div>
);
