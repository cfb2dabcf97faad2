/**
 * Parsing of the API's query strings: every bad parameter is a 400 InputError naming it.
 */
import type { DeliveryQuery, DeliveryStatus } from '../automation/types';
import { InputError } from '../errors';
import type { ReportOptions } from '../services/reports';
import { parseDuration } from '../stages';
import type { DateRange, Segment, VisitorQuery } from '../store';

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];

/** A bad query parameter: a 400 naming it. */
const bad = (message: string, path: string) => new InputError(400, message, path);

/**
 * A time bound: milliseconds since the epoch, or an ISO date (`2026-11-23` or a full timestamp). A date-only `to`
 * means the end of that UTC day (inclusive).
 */
export const parseTime = (params: URLSearchParams, name: string): number | undefined => {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const n = /^\d{1,15}$/.test(v)
    ? Number(v)
    : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)
      ? Date.parse(v)
      : NaN;
  if (!Number.isFinite(n)) throw bad(`${name} must be milliseconds since the epoch or an ISO date`, name);
  return dateOnly && name === 'to' ? n + 86_400_000 - 1 : n;
};

/** `from` and `to` of a report: the cohort of journeys first seen in [from, to]. */
export const parseRange = (params: URLSearchParams): DateRange => {
  const from = parseTime(params, 'from');
  const to = parseTime(params, 'to');
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

export const parseVisitorQuery = (params: URLSearchParams): VisitorQuery => {
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
  const { from, to } = parseRange(params);
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
export const parseExport = (params: URLSearchParams): { format: 'csv' | 'ndjson'; range: DateRange } => {
  const format = params.get('format') || 'ndjson';
  if (format !== 'csv' && format !== 'ndjson') throw bad('format must be csv or ndjson', 'format');
  return { format, range: parseRange(params) };
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
