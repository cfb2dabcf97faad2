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
  touches,
  type CountersReport,
  type FunnelReport,
  type JourneyMapReport,
  type TouchesReport,
} from '../reports';
import { reportRange } from '../retention';
import type { SiteConfig } from '../stages';
import type { DateRange, Store } from '../store';

/** Reports that take only a date range (`from`, `to`), by the name of their API route. */
export const RANGE_REPORTS = {
  funnel: (actor: Actor, store: Store, site: SiteConfig, range: DateRange, now: number): Promise<FunnelReport> => {
    authorize(actor, site.id, 'reports.read');
    return funnel(store, site, reportRange(site, range, now));
  },
  touches: (actor: Actor, store: Store, site: SiteConfig, range: DateRange, now: number): Promise<TouchesReport> => {
    authorize(actor, site.id, 'reports.read');
    return touches(store, site, reportRange(site, range, now));
  },
  // Counters are per day and kept whatever the retention.
  counters: (actor: Actor, store: Store, site: SiteConfig, range: DateRange, _now: number): Promise<CountersReport> => {
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
  now: number,
): Promise<JourneyMapReport> => {
  authorize(actor, site.id, 'reports.read');
  return journeyMap(store, site, reportRange(site, range, now), top);
};

/** The funnel and the journey map together (the map tab and the shared map). */
export const readFunnelAndMap = (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  range: DateRange,
  top: number,
  now: number,
): Promise<{ funnel: FunnelReport; map: JourneyMapReport }> => {
  authorize(actor, site.id, 'reports.read');
  return funnelAndMap(store, site, reportRange(site, range, now), top);
};

/** The funnel tab's two reports. */
export const readFunnelAndTouches = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  asked: DateRange,
  now: number,
): Promise<{ funnel: FunnelReport; touches: TouchesReport }> => {
  authorize(actor, site.id, 'reports.read');
  const range = reportRange(site, asked, now);
  const [fun, tch] = await Promise.all([funnel(store, site, range), touches(store, site, range)]);
  return { funnel: fun, touches: tch };
};
