/**
 * Parsing of the API's query strings: every bad parameter is a 400 InputError naming it.
 */
import type { DeliveryQuery, DeliveryStatus } from '../automation/types';
import { InputError } from '../errors';
import type { ReportOptions } from '../services/reports';
import { parseDuration } from '../stages';
import type { DateRange, Segment, VisitorQuery } from '../store';
import { addDays, dayStart, fromWall } from '../timezone';

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];

/** A bad query parameter: a 400 naming it. */
const bad = (message: string, path: string) => new InputError(400, message, path);

/**
 * A time bound: milliseconds since the epoch, or an ISO date or time in the site's zone `tz`: `2026-11-23` is that
 * local day (a date-only `to` means its end, inclusive), `2026-11-23T10:00` a local wall time, and a time with an
 * offset (`…Z`, `…+01:00`) that instant.
 */
export const parseTime = (params: URLSearchParams, name: string, tz = 'UTC'): number | undefined => {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(v);
  let n = /^\d{1,15}$/.test(v) ? Number(v) : NaN;
  if (m) {
    const [, y, mo, d, h, mi, sec, frac, zone] = m;
    const wall = Date.UTC(
      Number(y),
      Number(mo) - 1,
      Number(d),
      Number(h ?? 0),
      Number(mi ?? 0),
      Number(sec ?? 0),
      frac ? Math.round(Number(frac) * 1000) : 0,
    );
    const valid =
      new Date(wall).toISOString().slice(0, 10) === `${y}-${mo}-${d}` &&
      Number(h ?? 0) < 24 &&
      Number(mi ?? 0) < 60 &&
      Number(sec ?? 0) < 60;
    if (!valid) n = NaN;
    else if (h === undefined) {
      const day = `${y}-${mo}-${d}`;
      n = name === 'to' ? dayStart(addDays(day, 1), tz) - 1 : dayStart(day, tz);
    } else if (zone !== undefined)
      n = Date.parse(
        `${y}-${mo}-${d}T${h}:${mi}:${sec ?? '00'}${frac ?? ''}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`,
      );
    else n = fromWall(wall, tz);
  }
  if (!Number.isFinite(n)) throw bad(`${name} must be milliseconds since the epoch or an ISO date`, name);
  return n;
};

/** `from` and `to` of a report, in the site's zone `tz`: the cohort of journeys first seen in [from, to]. */
export const parseRange = (params: URLSearchParams, tz = 'UTC'): DateRange => {
  const from = parseTime(params, 'from', tz);
  const to = parseTime(params, 'to', tz);
  if (from !== undefined && to !== undefined && from > to) throw bad('from must not be after to', 'from');
  const r: DateRange = {};
  if (from !== undefined) r.from = from;
  if (to !== undefined) r.to = to;
  return r;
};

/** The longest conversion window: a year. */
const MAX_WINDOW_MS = 366 * 86_400_000;

/**
 * The report options of a query (core/services/reports.ts): `within` (a duration: `30m`, `24h`, `7d`, up to a year)
 * and `since` (a stage of the site's model); 400 naming the parameter otherwise.
 */
export const parseReportOptions = (params: URLSearchParams, stages: readonly string[]): ReportOptions => {
  const o: ReportOptions = {};
  const within = params.get('within');
  if (within !== null && within !== '') {
    const ms = parseDuration(within);
    if (ms === undefined || ms <= 0 || ms > MAX_WINDOW_MS)
      throw bad('within must be a duration such as 30m, 24h or 7d (at most 366d)', 'within');
    o.window = { withinMs: ms };
  }
  const segment = parseSegment(params);
  if (segment) o.segment = segment;
  const since = params.get('since');
  if (since !== null && since !== '') {
    if (!stages.includes(since)) throw bad(`since must be a stage of the site's model (${stages.join(', ')})`, 'since');
    o.since = since;
  }
  return o;
};

/** The segment parameters of a report (`firstChannel`, `lastChannel`, `device`, `identified`), or undefined. */
export const parseSegment = (params: URLSearchParams): Segment | undefined => {
  const s: Segment = {};
  const first = text(params, 'firstChannel');
  const last = text(params, 'lastChannel');
  const device = text(params, 'device');
  if (device !== undefined && !DEVICES.includes(device))
    throw bad(`device must be one of ${DEVICES.join(', ')}`, 'device');
  const identified = parseBool(params, 'identified');
  if (first !== undefined) s.firstChannel = first;
  if (last !== undefined) s.lastChannel = last;
  if (device !== undefined) s.device = device;
  if (identified !== undefined) s.identified = identified;
  return Object.keys(s).length ? s : undefined;
};

/** The first of a segment's parameters given (for the 400 of a report that takes none). */
export const SEGMENT_PARAMS = ['firstChannel', 'lastChannel', 'device', 'identified'] as const;

/** An integer parameter within bounds, or the fallback. */
export const parseIntParam = (
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number => {
  const v = params.get(name);
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw bad(`${name} must be an integer from ${min} to ${max}`, name);
  return n;
};

export const parseLimit = (params: URLSearchParams, fallback = 50, max = 500): number => {
  const v = params.get('limit');
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw bad(`limit must be an integer from 1 to ${max}`, 'limit');
  return n;
};

const parseBool = (params: URLSearchParams, name: string): boolean | undefined => {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw bad(`${name} must be true or false`, name);
};

const text = (params: URLSearchParams, name: string, max = 200): string | undefined => {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  if (v.length > max) throw bad(`${name} is longer than ${max} characters`, name);
  return v;
};

/** The device classes a visitors filter may name (core/privacy.ts `deviceClass`). */
const DEVICES: readonly string[] = ['desktop', 'mobile', 'tablet', 'other'];

export const parseVisitorQuery = (params: URLSearchParams, tz = 'UTC'): VisitorQuery => {
  const q: VisitorQuery = { limit: parseLimit(params) };
  const stage = text(params, 'stage');
  const channel = text(params, 'firstChannel') ?? text(params, 'channel');
  const lastChannel = text(params, 'lastChannel');
  const device = text(params, 'device');
  if (device !== undefined && !DEVICES.includes(device))
    throw bad(`device must be one of ${DEVICES.join(', ')}`, 'device');
  const identified = parseBool(params, 'identified');
  const converted = parseBool(params, 'converted');
  if (lastChannel !== undefined) q.lastChannel = lastChannel;
  if (device !== undefined) q.device = device;
  if (identified !== undefined) q.identified = identified;
  const search = text(params, 'q');
  const { from, to } = parseRange(params, tz);
  const cursor = text(params, 'cursor', 1000);
  if (stage !== undefined) q.stage = stage;
  if (channel !== undefined) q.channel = channel;
  if (converted !== undefined) q.converted = converted;
  if (search !== undefined) q.q = search;
  if (from !== undefined) q.from = from;
  if (to !== undefined) q.to = to;
  if (cursor !== undefined) q.cursor = cursor;
  return q;
};

/** `format` (csv or ndjson, default ndjson) and the range of `GET /api/sites/:site/export`. */
export const parseExport = (params: URLSearchParams, tz = 'UTC'): { format: 'csv' | 'ndjson'; range: DateRange } => {
  const format = params.get('format') || 'ndjson';
  if (format !== 'csv' && format !== 'ndjson') throw bad('format must be csv or ndjson', 'format');
  return { format, range: parseRange(params, tz) };
};

/** `limit` (1–500, default 50), `status` and `rule` of the delivery log; `rule` from the path wins over the query. */
export const parseDeliveryQuery = (params: URLSearchParams, rule?: string): DeliveryQuery => {
  const limitRaw = params.get('limit');
  const limit = limitRaw === null ? 50 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw bad('[cjm] limit must be an integer from 1 to 500', 'limit');
  const status = params.get('status');
  if (status !== null && !DELIVERY_STATUSES.includes(status as DeliveryStatus)) {
    throw bad('[cjm] status must be pending, delivered or failed', 'status');
  }
  const q: DeliveryQuery = { limit };
  const r = rule ?? params.get('rule');
  if (r !== null) q.rule = r;
  if (status !== null) q.status = status as DeliveryStatus;
  return q;
};
