/**
 * The page shell: top bar (site picker, tabs, sign-out), the date-range picker, and the sign-in page.
 */
import type { SiteConfig } from '../stages';
import { CSS_HREF, JS_HREF } from './assets';
import { h, nothing, qs, type Html } from './format';
import type { Range } from './range';

export type Tab = 'map' | 'funnel' | 'visitors' | 'settings';

const TABS: Array<[Tab, string]> = [
  ['map', 'Journey map'],
  ['funnel', 'Funnel'],
  ['visitors', 'Visitors'],
  ['settings', 'Settings'],
];

const logo = h`<svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true"><circle cx="4" cy="17" r="3" fill="#8b93ff"/><circle cx="12" cy="9" r="3" fill="#a5abff"/><circle cx="20" cy="5" r="3" fill="#fff"/><path d="M4 17 L12 9 L20 5" stroke="#8b93ff" stroke-width="2" fill="none"/></svg>`;

export const sitePath = (site: string, tab: Tab | string) => `/sites/${encodeURIComponent(site)}/${tab}`;

const doc = (title: string, body: Html): Html => h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · cjm</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${CSS_HREF}">
<script src="${JS_HREF}" defer></script>
</head>
<body>
${body}
</body>
</html>`;

export interface ShellOptions {
  title: string;
  sites: SiteConfig[];
  site: SiteConfig;
  tab: Tab | null;
  /** Extra query kept by the tabs (the date range). */
  keep?: Record<string, string | undefined>;
  body: Html;
}

export const shell = (o: ShellOptions): Html => {
  const keep = o.keep ?? {};
  const tabs = TABS.map(
    ([tab, label]) =>
      h`<a href="${sitePath(o.site.id, tab)}${tab === 'settings' ? '' : qs(keep)}"${o.tab === tab ? h` aria-current="page"` : nothing}>${label}</a>`,
  );
  const options = o.sites.map(
    (s) =>
      h`<option value="${s.id}"${s.id === o.site.id ? h` selected` : nothing}>${s.name === s.id ? s.id : `${s.name} (${s.id})`}</option>`,
  );
  return doc(
    o.title,
    h`<header class="top"><div class="top-inner">
  <a class="brand" href="/">${logo}cjm</a>
  <form class="site-pick" method="get" action="/go">
    <label class="sr"><select name="site" aria-label="Site" data-autosubmit>${options}</select></label>
    <input type="hidden" name="tab" value="${o.tab ?? 'map'}">
    <button class="btn" type="submit">Go</button>
  </form>
  <nav class="nav" aria-label="Pages">${tabs}</nav>
  <span class="spacer"></span>
  <form class="signout" method="post" action="/logout"><button type="submit">Sign out</button></form>
</div></header>
<main>${o.body}</main>`,
  );
};

/** The date-range chips and the custom from/to form; links keep the other query parameters given in `keep`. */
export const rangePicker = (path: string, range: Range, keep: Record<string, string | undefined> = {}): Html => {
  const chips = (['24h', '7d', '30d', '90d', 'all'] as const).map(
    (p) =>
      h`<a href="${path}${qs({ ...keep, range: p })}"${range.preset === p ? h` aria-current="true"` : nothing}>${p === 'all' ? 'All' : p}</a>`,
  );
  const hidden = Object.entries(keep).map(([k, v]) =>
    v ? h`<input type="hidden" name="${k}" value="${v}">` : nothing,
  );
  return h`<div class="range">
  <span class="chips">${chips}</span>
  <form method="get" action="${path}">${hidden}
    <input type="date" name="from" value="${range.fromDay ?? ''}" aria-label="From">
    <input type="date" name="to" value="${range.toDay ?? ''}" aria-label="To">
    <button class="btn" type="submit">Apply</button>
  </form>
</div>`;
};

export const loginPage = (error: string | null, next: string): Html =>
  doc(
    'Sign in',
    h`<div class="login">
  <div class="brand">cjm</div>
  <div class="card">
    <h1>Sign in</h1>
    <p class="muted">Paste the admin token that <code>npm start</code> printed (or <code>CJM_ADMIN_TOKEN</code>).</p>
    ${error ? h`<div class="error" role="alert">${error}</div>` : nothing}
    <form method="post" action="/login">
      <input type="hidden" name="next" value="${next}">
      <label for="token"><strong>Admin token</strong></label>
      <input id="token" type="password" name="token" autocomplete="current-password" required autofocus>
      <button class="btn primary" type="submit">Sign in</button>
    </form>
  </div>
</div>`,
  );

/** A page for when there is nothing to show yet, with the command that fixes it. */
export const emptyState = (what: string, siteId: string): Html =>
  h`<div class="card empty"><p><strong>${what}</strong></p>
<p>Paste the tag on your site (see <a href="${sitePath(siteId, 'settings')}">Settings</a>), or fill the dashboard with
simulated traffic: <code>npm run simulate -- --visitors 5000 --site ${siteId}</code></p></div>`;
