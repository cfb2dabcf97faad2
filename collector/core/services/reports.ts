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
  timeToConvert,
  timeToConvertByDevice,
  retention,
  touches,
  type CountersReport,
  type FunnelReport,
  type JourneyMapReport,
  type TimeToConvertReport,
  type RetentionReport,
  type TouchesReport,
} from '../reports';
import { reportRange } from '../retention';
import type { SiteConfig } from '../stages';
import type { ConversionWindow, DateRange, Segment, Store } from '../store';

/** What a report takes besides its range: a conversion window (`within`), the stage its clock starts at (`since`). */
export interface ReportOptions {
  window?: ConversionWindow;
  since?: string;
  /** Journeys of a segment only (`time-to-convert` so far: `SEGMENTED_REPORTS`). */
  segment?: Segment;
}

/** The range reports that take a segment; the others refuse its parameters (their rollups are not per segment). */
export const SEGMENTED_REPORTS: ReadonlySet<string> = new Set(['time-to-convert']);

/** A report of the API's range routes: authorized, then over the range as the site's retention leaves it. */
type RangeReport<T> = (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  range: DateRange,
  now: number,
  o?: ReportOptions,
) => Promise<T>;

/** `reports.read`, then the report over `reportRange` (core/retention.ts: expired days from the rollups alone). */
const overKeptRange =
  <T>(read: (store: Store, site: SiteConfig, range: DateRange, o: ReportOptions) => Promise<T>): RangeReport<T> =>
  async (actor, store, site, range, now, o = {}) => {
    authorize(actor, site.id, 'reports.read');
    return read(store, site, await reportRange(store, site, range, now), o);
  };

/** Reports that take a date range (`from`, `to`) and report options, by the name of their API route. */
export const RANGE_REPORTS = {
  funnel: overKeptRange((store, site, range, o) => funnel(store, site, range, o.window)),
  touches: overKeptRange((store, site, range, o) => touches(store, site, range, o.window)),
  'time-to-convert': overKeptRange((store, site, range, o) => timeToConvert(store, site, range, o)),
  // Counters are per day and kept whatever the retention.
  counters: (actor: Actor, store: Store, site: SiteConfig, range: DateRange): Promise<CountersReport> => {
    authorize(actor, site.id, 'reports.read');
    return counters(store, site, range);
  },
} as const satisfies Record<string, RangeReport<unknown>>;

export const readJourneyMap = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  range: DateRange,
  top: number,
  now: number,
): Promise<JourneyMapReport> => {
  authorize(actor, site.id, 'reports.read');
  return journeyMap(store, site, await reportRange(store, site, range, now), top);
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
export const readFunnelAndMap = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  range: DateRange,
  top: number,
  now: number,
): Promise<{ funnel: FunnelReport; map: JourneyMapReport }> => {
  authorize(actor, site.id, 'reports.read');
  return funnelAndMap(store, site, await reportRange(store, site, range, now), top);
};

/** The funnel tab's two reports. */
export const readFunnelAndTouches = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  asked: DateRange,
  now: number,
): Promise<{
  funnel: FunnelReport;
  touches: TouchesReport;
  timeToConvert: TimeToConvertReport;
  /** The time to convert of each device class with journeys in the range (the funnel tab's segment table). */
  byDevice: TimeToConvertReport[];
}> => {
  authorize(actor, site.id, 'reports.read');
  const range = await reportRange(store, site, asked, now);
  const [fun, tch, ttc] = await Promise.all([
    funnel(store, site, range),
    touches(store, site, range),
    timeToConvertByDevice(store, site, range),
  ]);
  return { funnel: fun, touches: tch, timeToConvert: ttc.all, byDevice: ttc.byDevice };
};
