/**
 * What every per-site dashboard tab shares: the `sitePage` middleware (the site, the site list of the picker and the
 * date range on `c.var`; an HTML 404 for an unknown site), the page frame around a tab's body, the flash messages,
 * and the helpers that read form fields.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { h, nothing, type Html } from '../../dashboard/format';
import { pageHead, rangePicker, shell, unknownSitePage, type StorageBanner, type Tab } from '../../dashboard/layout';
import { parseRange, type Range } from '../../dashboard/range';
import type { InputError } from '../../errors';
import type { FormEnv } from '../../http';
import { storageHealth } from '../../services/health';
import type { SiteConfig } from '../../stages';
import type { DateRange } from '../../store';
import type { DashboardEnv } from './assets';

/** A route behind `sitePage` (and, like every dashboard page, `withAssets`; for a form post `formBody`: `form`). */
export type PageEnv = DashboardEnv &
  FormEnv & { Variables: { site: SiteConfig; sites: SiteConfig[]; range: Range; banner: StorageBanner | null } };
export type PageContext = Context<PageEnv>;

/** Loads the `:site` of the path, the sites of the picker and the page's date range; unknown site: an HTML 404. */
export const sitePage = createMiddleware<PageEnv>(async (c, next) => {
  const id = c.req.param('site') ?? '';
  const sites = await c.var.store.listSites();
  const site = sites.find((s) => s.id === id);
  if (!site) return c.html(unknownSitePage(id, c.var.assets), 404);
  c.set('site', site);
  c.set('sites', sites);
  c.set('range', parseRange(new URL(c.req.url).searchParams, c.var.now()));
  c.set('banner', await banner(c));
  await next();
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

/** A tab's body inside the shell: the heading, a sub line (the range by default) and the range picker. */
export const render = (
  c: PageContext,
  tab: Tab | null,
  title: string,
  body: Html,
  opts: { range?: boolean; sub?: Html } = {},
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
      banner: c.var.banner,
      body: h`${pageHead(
        title,
        opts.sub ?? (withRange ? h`<p class="muted small">${range.label} · times in UTC</p>` : nothing),
        withRange ? rangePicker(path, range) : null,
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
