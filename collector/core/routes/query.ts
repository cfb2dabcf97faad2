/**
 * Parsing of read-API query strings: every bad parameter is a 400 naming it.
 */
import type { DateRange, VisitorQuery } from '../store';

export class BadQueryError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

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
  if (!Number.isFinite(n)) throw new BadQueryError(`${name} must be milliseconds since the epoch or an ISO date`, name);
  return dateOnly && name === 'to' ? n + 86_400_000 - 1 : n;
};

/** `from` and `to` of a report: the cohort of journeys first seen in [from, to]. */
export const parseRange = (params: URLSearchParams): DateRange => {
  const from = parseTime(params, 'from');
  const to = parseTime(params, 'to');
  if (from !== undefined && to !== undefined && from > to) throw new BadQueryError('from must not be after to', 'from');
  const r: DateRange = {};
  if (from !== undefined) r.from = from;
  if (to !== undefined) r.to = to;
  return r;
};

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
  if (!Number.isInteger(n) || n < min || n > max)
    throw new BadQueryError(`${name} must be an integer from ${min} to ${max}`, name);
  return n;
};

export const parseLimit = (params: URLSearchParams, fallback = 50, max = 500): number => {
  const v = params.get('limit');
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new BadQueryError(`limit must be an integer from 1 to ${max}`, 'limit');
  return n;
};

const parseBool = (params: URLSearchParams, name: string): boolean | undefined => {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new BadQueryError(`${name} must be true or false`, name);
};

const text = (params: URLSearchParams, name: string, max = 200): string | undefined => {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  if (v.length > max) throw new BadQueryError(`${name} is longer than ${max} characters`, name);
  return v;
};

export const parseVisitorQuery = (params: URLSearchParams): VisitorQuery => {
  const q: VisitorQuery = { limit: parseLimit(params) };
  const stage = text(params, 'stage');
  const channel = text(params, 'channel');
  const converted = parseBool(params, 'converted');
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
