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

export type Tab = 'map' | 'funnel' | 'visitors' | 'settings';

const TABS: Array<[Tab, string]> = [
  ['map', 'Journey map'],
  ['funnel', 'Funnel'],
  ['visitors', 'Visitors'],
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

/** The whole document. Nothing inline: the stylesheet and the script come from /assets/ (the CSP allows only that). */
const Document = ({ title, assets, children }: { title: string; assets: DashboardAssets; children: Child }) => (
  <>
    {raw('<!doctype html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
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
const Shell = ({ title, sites, site, tab, keep = {}, assets, body, banner }: ShellOptions) => (
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
          {TABS.map(([t, label]) => (
            <a
              href={`${sitePath(site.id, t)}${t === 'settings' ? '' : qs(keep)}`}
              aria-current={tab === t ? 'page' : undefined}
            >
              {label}
            </a>
          ))}
        </nav>
        <span class="spacer"></span>
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

/** The top of a page: its title, a line under it, and on the right the date-range picker of pages that have one. */
export const pageHead = (title: string, sub: Html, picker: Html | null = null): Html => (
  <div class="page-head">
    <div>
      <h1>{title}</h1>
      {sub}
    </div>
    {picker}
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

/** The sign-in page; `error` says why the last attempt failed. */
const LoginPage = ({ error, next, assets }: { error: string | null; next: string; assets: DashboardAssets }) => (
  <Document title="Sign in" assets={assets}>
    <div class="login">
      <div class="brand">cjm</div>
      <div class="card">
        <h1>Sign in</h1>
        <p class="muted">
          Paste the admin token that <code>npm start</code> printed (or <code>CJM_ADMIN_TOKEN</code>).
        </p>
        {error ? (
          <div class="error" role="alert">
            {error}
          </div>
        ) : null}
        <form method="post" action="/login">
          <input type="hidden" name="next" value={next} />
          <label for="token">
            <strong>Admin token</strong>
          </label>{' '}
          <input id="token" type="password" name="token" autocomplete="current-password" required autofocus />{' '}
          <button class="btn primary" type="submit">
            Sign in
          </button>
        </form>
      </div>
    </div>
  </Document>
);

export const loginPage = (error: string | null, next: string, assets: DashboardAssets): Html => (
  <LoginPage error={error} next={next} assets={assets} />
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

/** `/` before any site exists. */
export const noSitesPage = (): Html => (
  <>
    {raw('<!doctype html>')}
    <p>
      No sites yet. Create one with <code>POST /api/sites</code> (docs/api.md).
    </p>
  </>
);

/** A page for when there is nothing to show yet, with the command that fixes it. */
export const emptyState = (what: string, siteId: string): Html => (
  <div class="card empty">
    <p>
      <strong>{what}</strong>
    </p>
    <p>
      Paste the tag on your site (see <a href={sitePath(siteId, 'settings')}>Settings</a>), or fill the dashboard with
      simulated traffic: <code>npm run simulate -- --visitors 5000 --site {siteId}</code>
    </p>
  </div>
);
