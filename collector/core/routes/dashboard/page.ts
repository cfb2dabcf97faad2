/**
 * What every per-site dashboard tab shares: the `sitePage` middleware (the site, the sites of the picker — those the
 * signed-in actor has a role on — and the date range on `c.var`; an HTML 404 for a site unknown or not theirs, an
 * HTML 403 when a service refuses the role), the page frame around a tab's body with the tabs the role may open,
 * the flash messages, and the helpers that read form fields.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { actorLabel, can, type Action } from '../../access';
import { h, nothing, qs, type Html } from '../../dashboard/format';
import {
  pageHead,
  rangePicker,
  shell,
  sitePath,
  TABS,
  unknownSitePage,
  type StorageBanner,
  type Tab,
} from '../../dashboard/layout';
import { parseRange, type Range } from '../../dashboard/range';
import { InputError } from '../../errors';
import type { ActorEnv, FormEnv } from '../../http';
import { storageHealth } from '../../services/health';
import { visibleSites } from '../../services/sites';
import type { SiteConfig } from '../../stages';
import type { DateRange, SessionRecord } from '../../store';
import type { DashboardEnv } from './assets';
import { timezoneOf } from '../../timezone';

/** A signed-in dashboard route: who (`actor`) and their session. */
export type SignedInEnv = DashboardEnv & ActorEnv & { Variables: { session: SessionRecord } };
/** A route behind `sitePage` (and, like every dashboard page, `withAssets`; for a form post `formBody`: `form`). */
export type PageEnv = SignedInEnv &
  FormEnv & { Variables: { site: SiteConfig; sites: SiteConfig[]; range: Range; banner: StorageBanner | null } };
export type PageContext = Context<PageEnv>;

/** What a role must be allowed to open a tab (core/access.ts). */
export const TAB_ACTIONS: Record<Tab, Action> = {
  map: 'reports.read',
  funnel: 'reports.read',
  retention: 'reports.read',
  visitors: 'visitors.read',
  team: 'members.invite',
  settings: 'settings.read',
};

/** The page of a refusal, inside the shell (the tabs the role may open): what was refused and why, a way back. */
const forbiddenPage = (c: PageContext, e: InputError) => {
  c.status(403);
  return render(
    c,
    null,
    'Not allowed',
    h`<div class="card"><p role="alert" class="error">${formMessage(e)}</p><p><a href="${sitePath(c.var.site.id, 'map')}">Back to the journey map</a></p></div>`,
    { range: false },
  );
};

/**
 * Loads the `:site` of the path, the sites of the picker and the page's date range; a site unknown, or on which the
 * actor has no role: an HTML 404 (the same page). A service's 403 (a role too low) becomes an HTML 403.
 */
export const sitePage = createMiddleware<PageEnv>(async (c, next) => {
  const id = c.req.param('site') ?? '';
  const sites = await visibleSites(c.var.actor, c.var.store);
  const site = sites.find((s) => s.id === id);
  if (!site) return c.html(unknownSitePage(id, c.var.assets), 404);
  c.set('site', site);
  c.set('sites', sites);
  c.set('range', parseRange(new URL(c.req.url).searchParams, c.var.now(), timezoneOf(site)));
  // The storage's state is the operators' business: shown to those who may change the site's settings.
  c.set('banner', can(c.var.actor, site.id, 'settings.read') ? await banner(c) : null);
  await next();
  const err = c.error;
  if (err instanceof InputError && err.status === 403) {
    c.res = undefined;
    c.res = await forbiddenPage(c, err);
  }
});

/** The storage banner of a page: a full database, one at 80 % of its limit, a move (core/services/health.ts). */
const banner = async (c: Context<PageEnv>): Promise<StorageBanner | null> => {
  const { probe, monitor } = c.var.storage;
  try {
    const health = await storageHealth(c.var.store, probe, monitor, c.var.now());
    if (!health.why) return null;
    return { level: health.status === 'ok' ? 'info' : health.status, text: health.why };
  } catch (e) {
    console.error('[cjm] the storage health could not be read', e);
    return null;
  }
};

/** The tabs the actor may open on the site. */
export const tabsOf = (c: PageContext): Tab[] =>
  TABS.map(([t]) => t).filter((t) => can(c.var.actor, c.var.site.id, TAB_ACTIONS[t]));

/** The export button of a report page, for a role that may export (analyst and up): the page's range as CSV. */
const exportButton = (c: PageContext): Html | null => {
  const { actor, site, range } = c.var;
  if (!can(actor, site.id, 'export')) return null;
  const href = `${sitePath(site.id, 'export')}${qs({ ...range.query, format: 'csv' })}`;
  return h`<a class="btn" href="${href}" data-testid="export" download>Export CSV</a>`;
};

/**
 * A tab's body inside the shell: the heading, a sub line (the range by default), the range picker, and with
 * `exportable` the export button (for the roles that may export).
 */
export const render = (
  c: PageContext,
  tab: Tab | null,
  title: string,
  body: Html,
  opts: { range?: boolean; sub?: Html; exportable?: boolean } = {},
) => {
  const { site, sites, range, assets } = c.var;
  const path = new URL(c.req.url).pathname;
  const withRange = opts.range ?? true;
  return c.html(
    shell({
      title: `${title} · ${site.name}`,
      sites,
      site,
      tab,
      keep: range.query,
      assets,
      tabs: tabsOf(c),
      who: actorLabel(c.var.actor),
      banner: c.var.banner,
      body: h`${pageHead(
        title,
        opts.sub ?? (withRange ? h`<p class="muted small">${range.label} · times in ${timezoneOf(site)}</p>` : nothing),
        withRange ? rangePicker(path, range) : null,
        opts.exportable ? exportButton(c) : null,
      )}${body}`,
    }),
  );
};

/** The store's range of a page's range (open ends left out). */
export const dateRange = (range: Range): DateRange => ({
  ...(range.from === undefined ? {} : { from: range.from }),
  ...(range.to === undefined ? {} : { to: range.to }),
});

/** The status line after a redirect (`?done=saved`, `?erased=12`). */
export const flashOf = (c: Context): Html => {
  const q = c.req.query();
  const msgs: Record<string, string> = {
    saved: 'Saved.',
    stages: 'Stages saved. Journeys are being refolded under the new model.',
    template: 'Template applied: the stages below are its model. Journeys are being refolded under it.',
    revoked: 'The write key is revoked.',
    'rule-deleted': 'The rule is deleted.',
    'rule-toggled': 'The rule is updated.',
    'rule-created': 'The rule is created.',
    'invite-revoked': 'The invite is revoked.',
    'member-updated': 'The role is changed.',
    'member-removed': 'The member is removed.',
    'share-revoked': 'The share link is revoked.',
    'token-revoked': 'The token is revoked.',
    password: 'Your password is changed; every other session of yours is signed out.',
    everywhere: 'Every other session is signed out.',
  };
  if (q.erased !== undefined) {
    const n = Number(q.erased);
    return h`<div class="flash" role="status">The visitor is erased${Number.isFinite(n) ? ` (${n} events)` : ''}.</div>`;
  }
  const m = q.done ? msgs[q.done] : undefined;
  return m ? h`<div class="flash" role="status">${m}</div>` : nothing;
};

/** A refusal as a form shows it: the message without the `[cjm]` origin tag the API answers carry. */
export const formMessage = (e: InputError): string => e.message.replace(/^\[cjm\] /, '');

// ----- form fields (formBody in http.ts: every value of a name, in order) -----

export const str = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
export const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
/** The non-empty, trimmed lines of a textarea. */
export const lines = (s: string) =>
  s
    .split(/\r?\n/)
    .map((x) => x.trim())
    .filter(Boolean);
