/**
 * The reports as the API, the dashboard and share links read them: authorized first (`reports.read`, viewer and
 * up, and share links), then computed by core/reports.ts from aggregates only.
 */
import { authorize, type Actor } from '../access';
import {
  counters,
  funnel,
  funnelAndMap,
  journeyMap,
  retention,
  touches,
  type CountersReport,
  type FunnelReport,
  type JourneyMapReport,
  type RetentionReport,
  type TouchesReport,
} from '../reports';
import type { SiteConfig } from '../stages';
import type { DateRange, Store } from '../store';

/** Reports that take only a date range (`from`, `to`), by the name of their API route. */
export const RANGE_REPORTS = {
  funnel: (actor: Actor, store: Store, site: SiteConfig, range: DateRange): Promise<FunnelReport> => {
    authorize(actor, site.id, 'reports.read');
    return funnel(store, site, range);
  },
  touches: (actor: Actor, store: Store, site: SiteConfig, range: DateRange): Promise<TouchesReport> => {
    authorize(actor, site.id, 'reports.read');
    return touches(store, site, range);
  },
  counters: (actor: Actor, store: Store, site: SiteConfig, range: DateRange): Promise<CountersReport> => {
    authorize(actor, site.id, 'reports.read');
    return counters(store, site, range);
  },
} as const;

export const readJourneyMap = (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  range: DateRange,
  top: number,
): Promise<JourneyMapReport> => {
  authorize(actor, site.id, 'reports.read');
  return journeyMap(store, site, range, top);
};

/** Cohort retention by first-visit week (the API's `retention` and the dashboard's retention tab). */
export const readRetention = (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  range: DateRange,
  weeks: number,
  now: number,
): Promise<RetentionReport> => {
  authorize(actor, site.id, 'reports.read');
  return retention(store, site, range, weeks, now);
};

/** The funnel and the journey map together (the map tab and the shared map). */
export const readFunnelAndMap = (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  range: DateRange,
  top: number,
): Promise<{ funnel: FunnelReport; map: JourneyMapReport }> => {
  authorize(actor, site.id, 'reports.read');
  return funnelAndMap(store, site, range, top);
};

/** The funnel tab's two reports. */
export const readFunnelAndTouches = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  range: DateRange,
): Promise<{ funnel: FunnelReport; touches: TouchesReport }> => {
  authorize(actor, site.id, 'reports.read');
  const [fun, tch] = await Promise.all([funnel(store, site, range), touches(store, site, range)]);
  return { funnel: fun, touches: tch };
};
