/**
 * The report views — the journey map and the funnel — as data in, page body out, for every place that shows them:
 * the dashboard's tabs (any role from viewer up) and share links (core/routes/dashboard/share.ts). A report added
 * here (issue 19's segments and paths) appears in both, and what a view links to is decided by what the actor may
 * do: the visitors list only for a role that sees visitors, the settings hint only for one that may change them.
 */
import { can, type Actor } from '../../access';
import { day, h, type Html } from '../../dashboard/format';
import { emptyState } from '../../dashboard/layout';
import { funnelPage } from '../../dashboard/pages/funnel';
import { mapPage } from '../../dashboard/pages/map';
import { retentionPage } from '../../dashboard/pages/retention';
import type { Range } from '../../dashboard/range';
import { DEFAULT_RETENTION_WEEKS, type RangeAnswer } from '../../reports';
import { days } from '../../retention';
import { readFunnelAndMap, readFunnelAndTouches, readRetention } from '../../services/reports';
import type { SiteConfig } from '../../stages';
import type { Store } from '../../store';
import { dateRange } from './page';
import { timezoneOf } from '../../timezone';

export interface ViewInput {
  actor: Actor;
  store: Store;
  site: SiteConfig;
  range: Range;
  now: () => number;
}

export interface ReportView {
  title: string;
  /** The line under the title. */
  sub: Html;
  body: Html;
}

/**
 * "Visitor details expired": a range reaching before the site's retention horizon is read from the day totals
 * (edges rounded to whole days, medians and p75 from their histogram bucket).
 */
export const expiredNote = (range: RangeAnswer): Html | string =>
  range.expired && range.detailsFrom !== undefined
    ? h`<p class="expired-note" data-testid="expired-note">Visitor details expired before ${day(range.detailsFrom, range.timezone)} (this site keeps them ${days(range.retentionDays ?? 0)} after a journey's last activity): those days show their daily totals, whole days only, with medians and p75 rounded down to their histogram bucket.</p>`
    : '';

/** The report views by tab, in the order tabs show them. */
export const REPORT_VIEWS = {
  map: async ({ actor, store, site, range, now }: ViewInput): Promise<ReportView> => {
    const { funnel, map } = await readFunnelAndMap(actor, store, site, dateRange(range), 8, now());
    const links = can(actor, site.id, 'visitors.read');
    return {
      title: 'Journey map',
      sub: h`<p class="muted small">Journeys that started in the ${range.label}, and everything they did since · times in ${timezoneOf(site)}</p>${expiredNote(funnel.range)}`,
      body:
        map.journeys === 0
          ? emptyState('No journeys started in this range yet.', site.id, can(actor, site.id, 'settings.read'))
          : mapPage(site.id, funnel, map, range.query, links),
    };
  },
  funnel: async ({ actor, store, site, range, now }: ViewInput): Promise<ReportView> => {
    const { funnel, touches, timeToConvert, byDevice } = await readFunnelAndTouches(
      actor,
      store,
      site,
      dateRange(range),
      now(),
    );
    return {
      title: 'Funnel',
      sub: h`<p class="muted small">Journeys that started in the ${range.label} · times in ${timezoneOf(site)}</p>${expiredNote(funnel.range)}`,
      body:
        funnel.journeys === 0
          ? emptyState('No journeys started in this range yet.', site.id, can(actor, site.id, 'settings.read'))
          : funnelPage(funnel, touches, timeToConvert, byDevice),
    };
  },
  retention: async ({ actor, store, site, range, now }: ViewInput): Promise<ReportView> => {
    const report = await readRetention(actor, store, site, dateRange(range), DEFAULT_RETENTION_WEEKS, now());
    return {
      title: 'Retention',
      sub: h`<p class="muted small">Weekly cohorts by first visit in the ${range.label} · share active each week since · weeks in ${timezoneOf(site)}</p>`,
      body:
        report.cohorts.length === 0
          ? emptyState('No journeys started in this range yet.', site.id, can(actor, site.id, 'settings.read'))
          : retentionPage(report),
    };
  },
} as const satisfies Record<string, (input: ViewInput) => Promise<ReportView>>;

export type ReportTab = keyof typeof REPORT_VIEWS;
export const REPORT_TABS = Object.keys(REPORT_VIEWS) as ReportTab[];
