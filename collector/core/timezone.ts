/**
 * The site's time zone (`timezone`, an IANA name, default `UTC`; issue 18, item 4): local days, day starts, ISO weeks
 * and times with their offset, DST-correct (a local day lasts 23, 24 or 25 hours, and starts at the first instant whose
 * local date is that day — 01:00 where a zone skips midnight). Built on `Intl.DateTimeFormat`, which Node and workerd
 * both carry with the full time-zone database; UTC takes a fast path.
 */

export const DEFAULT_TIMEZONE = 'UTC';

const DAY = 86_400_000;
/** Offsets of modern zones change on quarter-hour boundaries, so an offset holds for a whole aligned quarter hour. */
const QUARTER = 900_000;
const CACHE_LIMIT = 50_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const formatter = (tz: string): Intl.DateTimeFormat => {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
};

/** Whether `name` is a time zone this runtime knows (an IANA name such as `Europe/Berlin`, or `UTC`). */
export const isTimeZone = (name: unknown): name is string => {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64) return false;
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
};

/** The runtime's name for a zone `isTimeZone` accepts (`utc` → `UTC`, `europe/berlin` → `Europe/Berlin`). */
export const canonicalTimeZone = (name: string): string => formatter(name).resolvedOptions().timeZone;

let names: string[] | undefined;
/** The zones the runtime knows, UTC first (for the settings page's picker). */
export const timeZoneNames = (): string[] =>
  (names ??= [
    DEFAULT_TIMEZONE,
    ...(typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []).filter(
      (z) => z !== DEFAULT_TIMEZONE,
    ),
  ]);

/** The zone of a site: its `timezone`, or UTC. */
export const timezoneOf = (site: { timezone?: string | undefined }): string => site.timezone ?? DEFAULT_TIMEZONE;

const offsets = new Map<string, number>();

/** Local time minus UTC at `ms` in `tz`, in milliseconds (+3,600,000 for Berlin in winter). */
export const offsetMs = (ms: number, tz: string): number => {
  if (tz === 'UTC') return 0;
  const q = Math.floor(ms / QUARTER);
  const key = `${tz}|${q}`;
  const hit = offsets.get(key);
  if (hit !== undefined) return hit;
  const at = q * QUARTER;
  const p: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(at)) p[part.type] = part.value;
  const year = p.era === 'BC' || p.era === 'B' ? 1 - Number(p.year) : Number(p.year);
  const wall = Date.UTC(year, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  const off = wall - at;
  if (offsets.size >= CACHE_LIMIT) offsets.clear();
  offsets.set(key, off);
  return off;
};

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The local day (`YYYY-MM-DD`) of `ms` in `tz`. */
export const localDay = (ms: number, tz: string): string => isoDay(ms + offsetMs(ms, tz));

/** `day` plus `n` days (calendar arithmetic on `YYYY-MM-DD`, no zone involved). */
export const addDays = (day: string, n: number): string => isoDay(Date.parse(`${day}T00:00:00Z`) + n * DAY);

const starts = new Map<string, number>();

/**
 * The first instant (ms) of the local day `day` (`YYYY-MM-DD`) in `tz`: local midnight, or the first instant after a
 * transition that skipped it.
 */
export const dayStart = (day: string, tz: string): number => {
  const base = Date.parse(`${day}T00:00:00Z`);
  if (tz === 'UTC' || !Number.isFinite(base)) return base;
  const key = `${tz}|${day}`;
  const hit = starts.get(key);
  if (hit !== undefined) return hit;
  // Offsets lie within ±26 h: the day starts in [base − 26 h, base + 26 h]. Bisect for the first instant whose local
  // day is not before `day` (local days only grow with time, but for the rare zones that once fell back across
  // midnight, where this finds one of the two starts).
  let lo = base - 26 * 3_600_000; // local day before `day`
  let hi = base + 26 * 3_600_000; // local day after or equal
  while (hi - lo > 1) {
    const mid = Math.floor(lo + (hi - lo) / 2);
    if (localDay(mid, tz) >= day) hi = mid;
    else lo = mid;
  }
  if (starts.size >= CACHE_LIMIT) starts.clear();
  starts.set(key, hi);
  return hi;
};

/** The start of the local day holding `ms`. */
export const startOfDay = (ms: number, tz: string): number => dayStart(localDay(ms, tz), tz);

/** The start of the local day after the one holding `ms`. */
export const startOfNextDay = (ms: number, tz: string): number => dayStart(addDays(localDay(ms, tz), 1), tz);

/** The days since 1970-01-01 of a local day. */
const dayNumber = (day: string): number => Math.round(Date.parse(`${day}T00:00:00Z`) / DAY);

/** The local ISO week of `ms`: whole weeks since the Monday 1969-12-29 (Monday to Sunday, local days). */
export const weekIndex = (ms: number, tz: string): number => Math.floor((dayNumber(localDay(ms, tz)) + 3) / 7);

/** The Monday (`YYYY-MM-DD`, a local day) starting week `week`. */
export const weekMonday = (week: number): string => isoDay((week * 7 - 3) * DAY);

/** `+01:00`, `-08:00`, `+05:45`, or `Z` for zero. */
export const offsetText = (off: number): string => {
  if (off === 0) return 'Z';
  const m = Math.round(Math.abs(off) / 60_000);
  return `${off < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/** `ms` as an ISO 8601 time with the zone's offset: `2026-11-23T10:15:00.000+01:00` (`…Z` in UTC). */
export const localIso = (ms: number, tz: string): string => {
  const off = offsetMs(ms, tz);
  return new Date(ms + off).toISOString().slice(0, -1) + offsetText(off);
};

/**
 * The instant of a local wall time given as if it were UTC (`Date.UTC(y, m, d, h, …)`): in a gap (spring forward)
 * the instant after it, in an overlap (fall back) the earlier one.
 */
export const fromWall = (wall: number, tz: string): number => {
  if (tz === 'UTC') return wall;
  const first = wall - offsetMs(wall, tz);
  const second = wall - offsetMs(first, tz);
  if (second + offsetMs(second, tz) === wall) {
    // The earlier of two instants with this wall time (an overlap), if there is one.
    const earlier = wall - offsetMs(second - 3 * 3_600_000, tz);
    return earlier < second && earlier + offsetMs(earlier, tz) === wall ? earlier : second;
  }
  // A wall time in a gap: the instant the clocks jumped to after it.
  return Math.max(first, second);
};
