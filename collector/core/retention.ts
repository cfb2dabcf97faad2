/**
 * Retention per site (`retentionDays`, docs/api.md "Retention"): the horizon before which a site keeps no visitor
 * details, and the periodic pass that deletes the journeys last active before it, in bounded chunks through the
 * store's `expire` (the deletion path of erasure, without touching the rollups).
 */
import type { SiteConfig } from './stages';
import type { DateRange, Store } from './store';
import { addDays, dayStart, localDay, timezoneOf } from './timezone';

/** One chunk of the pass: one short write transaction (SQLite) or one D1 batch. */
export const RETENTION_CHUNK = { journeys: 5, events: 50 } as const;

/**
 * The start of the first day (local to the site's zone) whose journeys keep their details: the local day
 * `retentionDays` days before today. Journeys last active before it are deleted (so every cohort day before it may
 * have lost some), or null when the site keeps everything. A day start, so the days a report reads from the rollups
 * alone are whole days.
 */
export const retentionHorizon = (site: SiteConfig, now: number): number | null => {
  if (site.retentionDays == null) return null;
  const tz = timezoneOf(site);
  return dayStart(addDays(localDay(now, tz), -site.retentionDays), tz);
};

/**
 * The range a report reads, with `detailsFrom` set when the site has a retention and the range reaches before the
 * horizon into days that hold journeys (the cohort rollups say so, and keep saying so after the pass): there the
 * report is answered from the rollups alone (edges rounded to whole days, quantiles from their buckets), whether
 * the pass has run yet or not, so its numbers do not change when the pass deletes the journeys. A site whose data
 * all starts after its horizon (a new site) is answered exactly, with no note.
 */
export const reportRange = async (
  store: Pick<Store, 'hasCohortsBefore'>,
  site: SiteConfig,
  range: DateRange,
  now: number,
): Promise<DateRange> => {
  const tz = timezoneOf(site);
  const zoned: DateRange = tz === 'UTC' ? range : { ...range, tz };
  const horizon = retentionHorizon(site, now);
  if (horizon === null) return zoned;
  if (range.from !== undefined && range.from >= horizon) return { ...zoned, detailsFrom: horizon };
  return (await store.hasCohortsBefore(site.id, horizon, tz)) ? { ...zoned, detailsFrom: horizon } : zoned;
};

/** Whether a range reaches into the days whose visitor details may be gone. */
export const reachesExpired = (range: DateRange): boolean =>
  range.detailsFrom !== undefined && (range.from === undefined || range.from < range.detailsFrom);

/**
 * The part of a range whose visitor details are kept: for what only per-journey rows can answer (times to convert,
 * conversion windows), which cannot come from the rollups. Starts at `detailsFrom` when the range reaches before it.
 */
export const detailsRange = (range: DateRange): DateRange =>
  reachesExpired(range) ? { ...range, from: range.detailsFrom as number } : range;

/** The answer's note on a range of a site with a retention (absent on a site that keeps everything). */
export interface ExpiryNote {
  /** true: the range reaches before `detailsFrom`: "visitor details expired" there (numbers from the rollups). */
  expired: boolean;
  /** Visitor details are kept from this time (ms) on. */
  detailsFrom: number;
  retentionDays: number;
}

export const expiryNote = (site: SiteConfig, range: DateRange): ExpiryNote | null =>
  range.detailsFrom === undefined || site.retentionDays == null
    ? null
    : { expired: reachesExpired(range), detailsFrom: range.detailsFrom, retentionDays: site.retentionDays };

export interface RetentionRun {
  journeys: number;
  events: number;
  chunks: number;
  /** Nothing older than the horizon is left. */
  done: boolean;
}

/**
 * What the runtimes wait between two chunks: as long as the chunk took (at least a timer turn), so the pass takes at
 * most about half of the database's time and the ingest commits go in between.
 */
export const dutyCycle = (chunkMs: number): Promise<void> =>
  new Promise((ok) => setTimeout(ok, Math.max(1, Math.ceil(chunkMs))));

/**
 * Deletes the site's journeys last active before its horizon, chunk by chunk, at most `maxChunks` chunks, calling
 * `pause` with each chunk's time between chunks (the runtimes pass `dutyCycle`).
 */
export const expireSite = async (
  store: Store,
  site: SiteConfig,
  now: number,
  options: {
    maxChunks?: number;
    chunk?: { journeys: number; events: number };
    pause?: (chunkMs: number) => Promise<void>;
    onChunk?: (r: { journeys: number; events: number }) => void;
  } = {},
): Promise<RetentionRun> => {
  const horizon = retentionHorizon(site, now);
  const run: RetentionRun = { journeys: 0, events: 0, chunks: 0, done: true };
  if (horizon === null) return run;
  const max = options.maxChunks ?? 50;
  for (;;) {
    if (run.chunks >= max) return { ...run, done: false };
    const started = Date.now();
    const r = await store.expire(site.id, horizon, options.chunk ?? RETENTION_CHUNK);
    if (r.done) return run;
    run.chunks++;
    run.journeys += r.journeys;
    run.events += r.events;
    options.onChunk?.(r);
    await options.pause?.(Date.now() - started);
  }
};

/** "1 day", "400 days". */
export const days = (n: number): string => `${n} day${n === 1 ? '' : 's'}`;
