/**
 * The date range of a dashboard page: a preset (`?range=7d`) or custom days (`?from=2026-11-01&to=2026-11-22`,
 * whole days of the site's time zone, both included). Default: the last 30 days. Bad values fall back to the default rather than erroring
 * (a dashboard link should never dead-end).
 *
 * `7d`, `30d` and `90d` are whole local days (the site's `timezone`; 23–25 hours around a DST change), today included (as Umami counts them): "last 7 days" starts at midnight
 * six days ago, so the same link shows the same cohort all day and the reports read whole days from the rollups.
 * `24h` is the rolling last 24 hours.
 */
import { addDays, dayStart, localDay } from '../timezone';

export type Preset = '24h' | '7d' | '30d' | '90d' | 'all';

export interface Range {
  preset: Preset | null;
  /** Inclusive bounds in ms; undefined = open. */
  from: number | undefined;
  to: number | undefined;
  fromDay: string | undefined;
  toDay: string | undefined;
  label: string;
  /** The query parameters that reproduce this range in links. */
  query: Record<string, string | undefined>;
}

const DAY = 86_400_000;
/** Rolling milliseconds (`24h`), whole days including today, or all time. */
const PRESETS: Record<Preset, { ms: number } | { days: number } | null> = {
  '24h': { ms: DAY },
  '7d': { days: 7 },
  '30d': { days: 30 },
  '90d': { days: 90 },
  all: null,
};
const LABELS: Record<Preset, string> = {
  '24h': 'last 24 hours',
  '7d': 'last 7 days',
  '30d': 'last 30 days',
  '90d': 'last 90 days',
  all: 'all time',
};

/** A valid `YYYY-MM-DD`, or undefined. */
const dayParam = (s: string | null): string | undefined => {
  if (!s || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s ? s : undefined;
};

/** The page's range in the site's zone `tz` (default UTC). */
export const parseRange = (params: URLSearchParams, now: number, tz = 'UTC'): Range => {
  const fromParam = dayParam(params.get('from'));
  const toParam = dayParam(params.get('to'));
  const from = fromParam === undefined ? undefined : dayStart(fromParam, tz);
  const toStart = toParam === undefined ? undefined : dayStart(toParam, tz);
  if (from !== undefined || toStart !== undefined) {
    const to = toParam === undefined ? undefined : dayStart(addDays(toParam, 1), tz) - 1;
    const fromDay = params.get('from') || undefined;
    const toDay = params.get('to') || undefined;
    return {
      preset: null,
      from,
      to,
      fromDay: from === undefined ? undefined : fromDay,
      toDay: to === undefined ? undefined : toDay,
      label: `${fromDay ?? 'the beginning'} – ${toDay ?? 'now'}`,
      query: { from: from === undefined ? undefined : fromDay, to: to === undefined ? undefined : toDay },
    };
  }
  const p = params.get('range');
  const preset: Preset = p !== null && p in PRESETS ? (p as Preset) : '30d';
  const span = PRESETS[preset];
  return {
    preset,
    from:
      span === null
        ? undefined
        : 'ms' in span
          ? now - span.ms
          : dayStart(addDays(localDay(now, tz), -(span.days - 1)), tz),
    to: undefined,
    fromDay: undefined,
    toDay: undefined,
    label: LABELS[preset],
    query: { range: preset === '30d' ? undefined : preset },
  };
};
