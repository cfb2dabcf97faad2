/**
 * The reports of the read API (funnel, journey map, touches, visitor detail, ingest counters): their answer types and
 * the functions that compute them from a Store. The API routes call exactly these functions; the dashboard may too.
 * Documented in docs/api.md. Reports read derived tables only (kept exact at ingest), never raw events.
 */
import { foldOptions } from './ingest';
import { journeyView, type JourneyView } from './journey';
import { localDay, localIso, timezoneOf, weekIndex, weekMonday } from './timezone';
import type { SiteConfig } from './stages';
import type { ConversionWindow, CounterName, DateRange, Segment, Store, TimelineEvent, VisitorSummary } from './store';
import { percentile, sortedHistogram } from './rank';

export type { DateRange } from './store';
export { dayOf } from './privacy';
import { detailsRange, expiryNote } from './retention';

/** The range as answered: null = open end. */
export interface RangeAnswer {
  from: number | null;
  to: number | null;
  /** The site's time zone, whose local days the range's whole days are. */
  timezone: string;
  /** `from` and `to` as ISO 8601 times with the zone's offset (`2026-11-01T00:00:00.000+01:00`), null when open. */
  fromLocal: string | null;
  toLocal: string | null;
  /**
   * On a site with a retention (`retentionDays`): whether the range reaches before `detailsFrom`, where visitor
   * details expired — numbers there come from the day rollups (edges rounded to whole days, quantiles as their
   * bucket's lower bound) and stay as they were (core/retention.ts).
   */
  expired?: boolean;
  detailsFrom?: number;
  retentionDays?: number;
}

const rangeAnswer = (r: DateRange, site: SiteConfig): RangeAnswer => {
  const tz = timezoneOf(site);
  return {
    from: r.from ?? null,
    to: r.to ?? null,
    timezone: tz,
    fromLocal: r.from === undefined ? null : localIso(r.from, tz),
    toLocal: r.to === undefined ? null : localIso(r.to, tz),
    ...expiryNote(site, r),
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Funnel
// ---------------------------------------------------------------------------------------------------------------

export interface FunnelStage {
  stage: string;
  index: number;
  /** Journeys of the cohort that entered the stage at least once. */
  reached: number;
  /** Journeys whose current stage it is. */
  current: number;
  /** Entries including re-entries after a back-step. */
  entries: number;
  /** reached / reached of the previous stage; null for the first stage or when the previous one has 0. */
  conversionFromPrevious: number | null;
  /** reached / reached of the first stage; null when the first has 0. */
  conversionFromFirst: number | null;
  /** Median (nearest-rank) ms from first entering this stage to first entering the next stage in the model. */
  medianToNextMs: number | null;
  toNextSamples: number;
}

export interface FunnelTransition {
  from: string;
  to: string;
  /** Journeys that made the move at least once. */
  journeys: number;
  /** Moves in total. */
  count: number;
  /** True when `to` comes before `from` in the model (a back-step). */
  back: boolean;
}

export interface FunnelReport {
  site: string;
  range: RangeAnswer;
  journeys: number;
  converted: number;
  conversionStage: string;
  stages: FunnelStage[];
  transitions: FunnelTransition[];
  /** With a conversion window (`within`): the journeys of the cohort that converted within it of their first visit. */
  window?: WindowAnswer;
}

/** Journeys that converted within a window of their first visit (or of entering a stage), of a cohort. */
export interface WindowAnswer {
  withinMs: number;
  converted: number;
  /** Of the cohort's journeys (that entered the stage). */
  rate: number | null;
}

const windowAnswer = (w: ConversionWindow, journeys: number, converted: number): WindowAnswer => ({
  withinMs: w.withinMs,
  converted,
  rate: ratio(converted, journeys),
});

/** How many of the ascending `times` are at most the window. */
const countWithin = (times: readonly number[], w: ConversionWindow): number => {
  let n = 0;
  while (n < times.length && (times[n] as number) <= w.withinMs) n++;
  return n;
};

const ratio = (a: number, b: number | undefined): number | null => (b ? a / b : null);

/**
 * The funnel of a site for the cohort of journeys first seen in `range`.
 *
 * @example
 * const report = await funnel(store, site, { from: Date.UTC(2026, 10, 1) })
 */
export const funnel = async (
  store: Store,
  site: SiteConfig,
  range: DateRange = {},
  window?: ConversionWindow,
): Promise<FunnelReport> => {
  const model = foldOptions(site).model;
  const [data, times] = await Promise.all([
    store.stageAggregates(site.id, range),
    window ? store.conversionTimes(site.id, detailsRange(range)) : null,
  ]);
  const by = new Map(data.stages.map((s) => [s.stage, s]));
  const first = by.get(model.names[0] ?? '')?.reached ?? 0;
  const stages = model.names.map((stage, index): FunnelStage => {
    const s = by.get(stage);
    const reached = s?.reached ?? 0;
    const prev = index > 0 ? (by.get(model.names[index - 1] ?? '')?.reached ?? 0) : undefined;
    return {
      stage,
      index,
      reached,
      current: s?.current ?? 0,
      entries: s?.entries ?? 0,
      conversionFromPrevious: index === 0 ? null : ratio(reached, prev),
      conversionFromFirst: ratio(reached, first),
      medianToNextMs: s?.medianToNextMs ?? null,
      toNextSamples: s?.toNextSamples ?? 0,
    };
  });
  const transitions = data.transitions
    .filter((t) => model.index(t.from) >= 0 && model.index(t.to) >= 0)
    .map((t) => ({ ...t, back: model.index(t.to) < model.index(t.from) }))
    .sort((a, b) => model.index(a.from) - model.index(b.from) || model.index(a.to) - model.index(b.to));
  return {
    site: site.id,
    range: rangeAnswer(range, site),
    journeys: data.journeys,
    converted: data.converted,
    conversionStage: site.conversion,
    stages,
    transitions,
    ...(window && times ? { window: windowAnswer(window, times.journeys, countWithin(times.times, window)) } : {}),
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Journey map
// ---------------------------------------------------------------------------------------------------------------

export interface JourneyMapStage {
  stage: string;
  index: number;
  /** Journeys that reached the stage. */
  visitors: number;
  /** Channel of the session in which each journey first entered the stage. */
  entryChannels: Array<{ channel: string; journeys: number }>;
  /** Page views while in the stage, by path. */
  topPages: Array<{ path: string; views: number; journeys: number }>;
  /** Events while in the stage, by name. */
  topEvents: Array<{ name: string; count: number; journeys: number }>;
  feedback: { average: number | null; count: number };
  /** p75 (nearest-rank) over journeys of each one's latest value of the vital in this stage. */
  vitals: Record<string, { p75: number; samples: number }>;
  /** Journeys whose furthest stage is this one; null for the last stage of the model. */
  dropOffs: number | null;
  dropOffRate: number | null;
  /** Touches up to first reaching the stage (the entering touch included). */
  medianTouches: number | null;
  medianSessions: number | null;
}

export interface JourneyMapReport {
  site: string;
  range: RangeAnswer;
  journeys: number;
  stages: JourneyMapStage[];
  /** What the cohort did after converting: the post-purchase columns of the map (docs/api.md, "Lifecycle"). */
  lifecycle: LifecycleReport;
}

/**
 * Lifecycle numbers of a cohort. A purchase is an event of the conversion stage's `events` (its `where` holding), or,
 * when that stage lists none, a page view of its `urls` (docs/api.md); a customer is a journey with ≥ 1 purchase.
 */
export interface LifecycleReport {
  customers: number;
  repeatCustomers: number;
  /** repeatCustomers / customers (Shopify's "returning customer rate" over the cohort); null with no customers. */
  repeatPurchaseRate: number | null;
  /** Median (nearest-rank) time from the first to the second purchase over repeat customers. */
  medianToSecondPurchaseMs: number | null;
  purchases: number;
  /** purchases / customers; null with no customers. */
  purchasesPerCustomer: number | null;
  converted: number;
  /** Converted journeys with a session that started after the conversion. */
  returnedAfterConversion: number;
  /** returnedAfterConversion / converted; null with no conversions. */
  returnRate: number | null;
}

/** The lifecycle numbers of the cohort first seen in `range`. */
export const lifecycle = async (store: Store, site: SiteConfig, range: DateRange = {}): Promise<LifecycleReport> => {
  const a = await store.lifecycleAggregates(site.id, range);
  return {
    customers: a.customers,
    repeatCustomers: a.repeatCustomers,
    repeatPurchaseRate: ratio(a.repeatCustomers, a.customers),
    medianToSecondPurchaseMs: a.medianToSecondPurchaseMs,
    purchases: a.purchases,
    purchasesPerCustomer: ratio(a.purchases, a.customers),
    converted: a.converted,
    returnedAfterConversion: a.returned,
    returnRate: ratio(a.returned, a.converted),
  };
};

/**
 * The journey map: per stage who got there, from where, what they did, how it felt and how fast it was.
 *
 * @example
 * const map = await journeyMap(store, site, {}, 10)
 */
export const journeyMap = async (
  store: Store,
  site: SiteConfig,
  range: DateRange = {},
  top = 10,
): Promise<JourneyMapReport> => {
  const model = foldOptions(site).model;
  const [agg, details, life] = await Promise.all([
    store.stageAggregates(site.id, range),
    store.stageDetails(site.id, range, top),
    lifecycle(store, site, range),
  ]);
  const by = new Map(agg.stages.map((s) => [s.stage, s]));
  const last = model.names.length - 1;
  const stages = model.names.map((stage, index): JourneyMapStage => {
    const s = by.get(stage);
    const visitors = s?.reached ?? 0;
    const dropOffs = index === last ? null : (s?.furthest ?? 0);
    const vitals: JourneyMapStage['vitals'] = {};
    for (const v of details.vitals) if (v.stage === stage) vitals[v.name] = { p75: v.p75, samples: v.samples };
    return {
      stage,
      index,
      visitors,
      entryChannels: details.channels
        .filter((c) => c.stage === stage)
        .map((c) => ({ channel: c.channel, journeys: c.journeys })),
      topPages: details.items
        .filter((i) => i.stage === stage && i.kind === 'page')
        .map((i) => ({ path: i.item, views: i.count, journeys: i.journeys })),
      topEvents: details.items
        .filter((i) => i.stage === stage && i.kind === 'event')
        .map((i) => ({ name: i.item, count: i.count, journeys: i.journeys })),
      feedback: {
        average: s && s.feedbackCount > 0 ? s.feedbackSum / s.feedbackCount : null,
        count: s?.feedbackCount ?? 0,
      },
      vitals,
      dropOffs,
      dropOffRate: dropOffs === null ? null : ratio(dropOffs, visitors),
      medianTouches: s?.medianTouches ?? null,
      medianSessions: s?.medianSessions ?? null,
    };
  });
  return { site: site.id, range: rangeAnswer(range, site), journeys: agg.journeys, stages, lifecycle: life };
};

/** The store, with `stageAggregates` answered once per (site, range) for the lifetime of this wrapper. */
const onceAggregates = (store: Store): Store => {
  const seen = new Map<string, ReturnType<Store['stageAggregates']>>();
  const wrapped = Object.create(store) as Store;
  wrapped.stageAggregates = (site, range) => {
    const key = JSON.stringify([site, range.from ?? null, range.to ?? null]);
    let answer = seen.get(key);
    if (!answer) seen.set(key, (answer = store.stageAggregates(site, range)));
    return answer;
  };
  return wrapped;
};

/**
 * The funnel and the journey map of one cohort, as the dashboard's map page shows them together: both start from
 * the stage aggregates, which are read once for the two.
 */
export const funnelAndMap = async (
  store: Store,
  site: SiteConfig,
  range: DateRange,
  top: number,
): Promise<{ funnel: FunnelReport; map: JourneyMapReport }> => {
  const once = onceAggregates(store);
  const fun = await funnel(once, site, range);
  return { funnel: fun, map: await journeyMap(once, site, range, top) };
};

// ---------------------------------------------------------------------------------------------------------------
// Cohort retention
// ---------------------------------------------------------------------------------------------------------------

/** The most weeks since the first visit a retention report shows (the rollup keeps 0 … 52). */
export const MAX_RETENTION_WEEKS = 52;
export const DEFAULT_RETENTION_WEEKS = 12;

export interface RetentionCohort {
  /** Monday (UTC) of the cohort's first-visit week. */
  week: string;
  /** Journeys whose first session started that week. */
  journeys: number;
  /** Per week since (0 … weeks): journeys with a session starting in it; null for a week that has not begun. */
  active: Array<number | null>;
  /** active / journeys, per week since; null for a week that has not begun. */
  share: Array<number | null>;
}

export interface RetentionReport {
  site: string;
  range: RangeAnswer;
  weeks: number;
  cohorts: RetentionCohort[];
  /** Per week since: Σ active / Σ journeys over the cohorts that have reached it (null: none has). */
  average: Array<number | null>;
}

/**
 * Cohort retention: journeys grouped by the ISO week (local to the site's zone) of their first session, every week that overlaps
 * `range`; column k is the share of a cohort with a session starting k weeks later (week 0 is 100 %).
 *
 * @example
 * const r = await retention(store, site, { from: Date.UTC(2026, 8, 1) }, 12, Date.now())
 */
export const retention = async (
  store: Store,
  site: SiteConfig,
  range: DateRange,
  weeks: number,
  now: number,
): Promise<RetentionReport> => {
  const tz = timezoneOf(site);
  const current = weekIndex(now, tz);
  const toWeek = Math.min(range.to === undefined ? current : weekIndex(range.to, tz), current);
  const fromWeek = range.from === undefined ? null : weekIndex(range.from, tz);
  const rows =
    fromWeek !== null && fromWeek > toWeek
      ? []
      : await store.retentionCounts(
          site.id,
          fromWeek === null ? '0000-00-00' : weekMonday(fromWeek),
          weekMonday(toWeek),
          weeks,
        );
  const byWeek = new Map<string, number[]>();
  for (const r of rows) {
    let a = byWeek.get(r.week);
    if (!a) byWeek.set(r.week, (a = new Array<number>(weeks + 1).fill(0)));
    a[r.offset] = r.journeys;
  }
  const sums = new Array<number>(weeks + 1).fill(0);
  const bases = new Array<number>(weeks + 1).fill(0);
  const cohorts: RetentionCohort[] = [];
  for (const [week, counts] of [...byWeek].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const journeys = counts[0] ?? 0;
    if (journeys <= 0) continue;
    const started = current - weekIndex(Date.parse(`${week}T00:00:00Z`), 'UTC'); // weeks since that have begun (`week` is a local day)
    const active = counts.map((n, k) => (k <= started ? n : null));
    active.forEach((n, k) => {
      if (n === null) return;
      sums[k]! += n;
      bases[k]! += journeys;
    });
    cohorts.push({ week, journeys, active, share: active.map((n) => (n === null ? null : n / journeys)) });
  }
  return {
    site: site.id,
    range: rangeAnswer(range, site),
    weeks,
    cohorts,
    average: sums.map((s, k) => ratio(s, bases[k])),
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Touches to conversion
// ---------------------------------------------------------------------------------------------------------------

export interface Bucket {
  label: string;
  min: number;
  /** Inclusive; null = no upper bound. */
  max: number | null;
  count: number;
}

export interface Distribution {
  count: number;
  median: number | null;
  mean: number | null;
  p75: number | null;
  min: number | null;
  max: number | null;
  buckets: Bucket[];
}

export interface TouchesReport {
  site: string;
  range: RangeAnswer;
  /** With a conversion window: only journeys that converted within it of their first visit. */
  withinMs?: number;
  converted: number;
  /** Touches (page views and events) up to and including the converting one. */
  touches: Distribution;
  /** Sessions up to the conversion. */
  sessions: Distribution;
  byFirstChannel: Array<{ channel: string; converted: number; touches: Distribution; sessions: Distribution }>;
}

export const TOUCH_BUCKETS: ReadonlyArray<readonly [number, number | null]> = [
  [1, 1],
  [2, 2],
  [3, 3],
  [4, 4],
  [5, 5],
  [6, 7],
  [8, 10],
  [11, 15],
  [16, 20],
  [21, 30],
  [31, null],
];
export const SESSION_BUCKETS: ReadonlyArray<readonly [number, number | null]> = [
  [1, 1],
  [2, 2],
  [3, 3],
  [4, 4],
  [5, 5],
  [6, 10],
  [11, null],
];

/** Summarises a histogram of (value, count) pairs into a Distribution. */
export const distribution = (
  pairs: ReadonlyArray<readonly [number, number]>,
  bucketBounds: ReadonlyArray<readonly [number, number | null]>,
): Distribution => {
  const hist = new Map<number, number>();
  for (const [v, c] of pairs) hist.set(v, (hist.get(v) ?? 0) + c);
  const sorted = sortedHistogram(hist);
  const count = sorted.reduce((n, [, c]) => n + c, 0);
  const sum = sorted.reduce((n, [v, c]) => n + v * c, 0);
  const buckets = bucketBounds.map(([min, max]) => ({
    label: max === null ? `${min}+` : min === max ? `${min}` : `${min}–${max}`,
    min,
    max,
    count: sorted.filter(([v]) => v >= min && (max === null || v <= max)).reduce((n, [, c]) => n + c, 0),
  }));
  return {
    count,
    median: percentile(sorted, 0.5),
    mean: count ? sum / count : null,
    p75: percentile(sorted, 0.75),
    min: sorted[0]?.[0] ?? null,
    max: sorted[sorted.length - 1]?.[0] ?? null,
    buckets,
  };
};

/**
 * Touches and sessions to conversion, overall and per first-touch channel, for the cohort first seen in `range`.
 *
 * @example
 * const { touches: t } = await touches(store, site)   // t.median: the site's own "touches to conversion"
 */
export const touches = async (
  store: Store,
  site: SiteConfig,
  range: DateRange = {},
  window?: ConversionWindow,
): Promise<TouchesReport> => {
  // Within a window the counts are per journey: over the kept part of the range only (core/retention.ts).
  const rows = await store.conversionCounts(site.id, window ? detailsRange(range) : range, window);
  const channels = new Map<string, typeof rows>();
  for (const r of rows) {
    const ch = r.channel ?? 'direct';
    const list = channels.get(ch) ?? [];
    list.push(r);
    channels.set(ch, list);
  }
  const dist = (rs: typeof rows) => ({
    touches: distribution(
      rs.map((r) => [r.touches, r.journeys] as const),
      TOUCH_BUCKETS,
    ),
    sessions: distribution(
      rs.map((r) => [r.sessions, r.journeys] as const),
      SESSION_BUCKETS,
    ),
  });
  const all = dist(rows);
  return {
    site: site.id,
    range: rangeAnswer(range, site),
    ...(window ? { withinMs: window.withinMs } : {}),
    converted: all.touches.count,
    ...all,
    byFirstChannel: [...channels.entries()]
      .map(([channel, rs]) => {
        const d = dist(rs);
        return { channel, converted: d.touches.count, ...d };
      })
      .sort((a, b) => b.converted - a.converted || (a.channel < b.channel ? -1 : 1)),
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Time to convert
// ---------------------------------------------------------------------------------------------------------------

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The time-to-convert histogram's buckets: [from, to) in ms, the last open. */
export const CONVERT_BUCKETS: ReadonlyArray<readonly [number, number | null]> = [
  [0, HOUR],
  [HOUR, DAY],
  [DAY, 3 * DAY],
  [3 * DAY, 7 * DAY],
  [7 * DAY, 14 * DAY],
  [14 * DAY, 30 * DAY],
  [30 * DAY, null],
];

/** The windows the report always answers (converted within a day, a week, a month), besides the one asked. */
export const STANDARD_WINDOWS: readonly number[] = [DAY, 7 * DAY, 30 * DAY];

export interface TimeToConvertReport {
  site: string;
  range: RangeAnswer;
  /**
   * Set when the range reaches past the site's retention horizon: the report counts the journeys first seen from
   * this time on (times to convert are kept per journey only, and expired journeys are gone).
   */
  countedFrom: number | null;
  /** The stage the clock starts at; null: the journey's first visit. */
  since: string | null;
  /** The journeys counted: those of the segment asked (`{}`: all). */
  segment: Segment;
  /** Journeys of the cohort (that entered `since`). */
  journeys: number;
  /** Of them, converted (after entering `since`). */
  converted: number;
  /** Nearest-rank median and p90 of the times, in ms; null without conversions. */
  medianMs: number | null;
  p90Ms: number | null;
  buckets: Array<{ fromMs: number; toMs: number | null; journeys: number }>;
  /** Converted within each window (1, 7 and 30 days, and the one asked with `within`), ascending. */
  windows: WindowAnswer[];
}

/**
 * How long converting journeys took: from the first visit (or from first entering the stage `since`) to the
 * conversion, for the cohort of journeys first seen in `range`; exact (each journey's own time, not buckets).
 *
 * @example
 * const r = await timeToConvert(store, site, {}, { since: 'cart', window: { withinMs: 86_400_000 } })
 */
export const timeToConvert = async (
  store: Store,
  site: SiteConfig,
  range: DateRange = {},
  options: { since?: string; window?: ConversionWindow; segment?: Segment } = {},
): Promise<TimeToConvertReport> => {
  // Per journey only: over a range reaching past the retention horizon, the journeys from it on (`countedFrom`).
  const counted = detailsRange(range);
  const data = await store.conversionTimes(site.id, counted, options.since, options.segment);
  return timeToConvertOf(site, range, counted, options, data);
};

/**
 * The time to convert of the whole cohort and of each device class with journeys in it (the funnel tab), from one
 * pass over the cohort (`conversionTimesByDevice`).
 *
 * @example
 * const { all, byDevice } = await timeToConvertByDevice(store, site, {})
 */
export const timeToConvertByDevice = async (
  store: Store,
  site: SiteConfig,
  range: DateRange = {},
): Promise<{ all: TimeToConvertReport; byDevice: TimeToConvertReport[] }> => {
  const counted = detailsRange(range);
  const groups = await store.conversionTimesByDevice(site.id, counted);
  const all = {
    journeys: groups.reduce((n, g) => n + g.journeys, 0),
    times: groups.flatMap((g) => g.times).sort((a, b) => a - b),
  };
  return {
    all: timeToConvertOf(site, range, counted, {}, all),
    byDevice: groups
      .filter((g): g is (typeof groups)[number] & { device: string } => g.device !== null)
      .sort((a, b) => (a.device < b.device ? -1 : 1))
      .map((g) => timeToConvertOf(site, range, counted, { segment: { device: g.device } }, g)),
  };
};

/** The report from the cohort's count and its ascending times to convert. */
const timeToConvertOf = (
  site: SiteConfig,
  range: DateRange,
  counted: DateRange,
  options: { since?: string; window?: ConversionWindow; segment?: Segment },
  { journeys, times }: { journeys: number; times: readonly number[] },
): TimeToConvertReport => {
  const hist = sortedHistogram(times.reduce((m, t) => m.set(t, (m.get(t) ?? 0) + 1), new Map<number, number>()));
  const windows = [...new Set([...STANDARD_WINDOWS, ...(options.window ? [options.window.withinMs] : [])])]
    .sort((a, b) => a - b)
    .map((withinMs) => windowAnswer({ withinMs }, journeys, countWithin(times, { withinMs })));
  return {
    site: site.id,
    range: rangeAnswer(range, site),
    countedFrom: counted === range ? null : (counted.from as number),
    since: options.since ?? null,
    segment: options.segment ?? {},
    journeys,
    converted: times.length,
    medianMs: percentile(hist, 0.5),
    p90Ms: percentile(hist, 0.9),
    buckets: CONVERT_BUCKETS.map(([fromMs, toMs]) => ({
      fromMs,
      toMs,
      journeys: times.filter((t) => t >= fromMs && (toMs === null || t < toMs)).length,
    })),
    windows,
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Visitors
// ---------------------------------------------------------------------------------------------------------------

export interface VisitorsPage {
  visitors: VisitorSummary[];
  cursor: string | null;
  /**
   * On a site with a retention: whether the range reaches before `detailsFrom` — journeys inactive since then are
   * deleted and so not listed ("visitor details expired").
   */
  expired?: boolean;
  detailsFrom?: number;
  retentionDays?: number;
}

/** The most timeline events a visitor detail returns (the latest ones). */
export const TIMELINE_LIMIT = 2000;

export interface VisitorDetail {
  visitor: { id: string; journey: string; userId: string | null; visitors: string[] };
  journey: JourneyView;
  timeline: TimelineEvent[];
  /** True when the journey has more than TIMELINE_LIMIT events and only the latest are in `timeline`. */
  truncated: boolean;
  /** The site's time zone (the times are ms since the epoch; the dashboard shows them in this zone). */
  timezone: string;
}

/**
 * One visitor's journey and timeline, or null when the site has no such visitor. `id` is a visitor id or a journey key.
 * Cost depends only on the size of this journey (index lookups), never on the size of the database.
 */
export const visitorDetail = async (store: Store, site: SiteConfig, id: string): Promise<VisitorDetail | null> => {
  const key = (await store.getLinks(site.id, [id])).get(id)?.journey ?? id;
  const record = (await store.getJourneys(site.id, [key])).get(key);
  if (!record) return null;
  const members = await store.visitorsOfJourney(site.id, key);
  const timeline = await store.eventsOfVisitors(site.id, members, TIMELINE_LIMIT + 1);
  const truncated = timeline.length > TIMELINE_LIMIT;
  return {
    visitor: { id, journey: key, userId: record.journey.userId, visitors: members },
    journey: journeyView(key, record.journey, foldOptions(site).model),
    timeline: truncated ? timeline.slice(timeline.length - TIMELINE_LIMIT) : timeline,
    truncated,
    timezone: timezoneOf(site),
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Sites and counters
// ---------------------------------------------------------------------------------------------------------------

export interface SiteAnswer {
  site: SiteConfig;
  refold: { pending: number };
}

export type CounterValues = Record<CounterName, number>;

export interface CountersReport {
  site: string;
  days: Array<{ day: string } & CounterValues>;
  totals: CounterValues;
}

export const COUNTER_NAMES: readonly CounterName[] = [
  'dropped',
  'bots',
  'tooOld',
  'deleted',
  'otherNames',
  'otherProps',
  'overQuota',
  'tooManyVisitors',
  'stored',
];

const zeroCounters = (): CounterValues => ({
  dropped: 0,
  bots: 0,
  tooOld: 0,
  deleted: 0,
  otherNames: 0,
  otherProps: 0,
  overQuota: 0,
  tooManyVisitors: 0,
  stored: 0,
});

/**
 * What /collect did not store as sent, per day (local to the site's zone at the time it was counted).
 *
 * @example
 * const { totals } = await counters(store, site, { from: Date.UTC(2026, 10, 1) })
 */
export const counters = async (store: Store, site: SiteConfig, range: DateRange = {}): Promise<CountersReport> => {
  const rows = await store.getCounters(
    site.id,
    range.from === undefined ? undefined : localDay(range.from, timezoneOf(site)),
    range.to === undefined ? undefined : localDay(range.to, timezoneOf(site)),
  );
  const days = new Map<string, { day: string } & CounterValues>();
  const totals = zeroCounters();
  for (const r of rows) {
    let d = days.get(r.day);
    if (!d) days.set(r.day, (d = { day: r.day, ...zeroCounters() }));
    d[r.name] += r.value;
    totals[r.name] += r.value;
  }
  return { site: site.id, days: [...days.values()].sort((a, b) => (a.day < b.day ? -1 : 1)), totals };
};
