import { InputError } from './errors';
import { fieldsFrom, keptValue, type EventField, type FieldKind } from './event-fields';
import { EVENT_TYPES, LIMITS, type EventType, type Props, type WireBatch, type WireEvent } from './protocol';

const ID_RE = /^[A-Za-z0-9_.:-]+$/;

/** A validation failure: a 400 whose message says what is wrong and whose path names the field (`events[3].ts`). */
const fail = (path: string, message: string): never => {
  throw new InputError(400, message, path);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const str = (v: unknown, path: string, max: number, required: boolean): string | undefined => {
  if (v === undefined || v === null) return required ? fail(path, `${path} is required`) : undefined;
  if (typeof v !== 'string') return fail(path, `${path} must be a string`);
  if (required && v.length === 0) return fail(path, `${path} must not be empty`);
  if (v.length > max) return fail(path, `${path} is longer than ${max} characters`);
  return v;
};

const ident = (v: unknown, path: string, max: number, required: boolean): string | undefined => {
  const s = str(v, path, max, required);
  if (s !== undefined && !ID_RE.test(s)) fail(path, `${path} may only contain letters, digits and _ . : -`);
  return s;
};

const num = (v: unknown, path: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(path, `${path} must be a finite number`);
  return v;
};

const props = (v: unknown, path: string, f: EventField): Props | undefined => {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) return fail(path, `${path} must be an object`);
  const maxKeys = limit(f, 'keys');
  const keyLength = limit(f, 'keyLength');
  const valueLength = limit(f, 'length');
  const keys = Object.keys(v);
  if (keys.length > maxKeys) fail(path, `${path} has more than ${maxKeys} properties`);
  const out: Props = {};
  for (const k of keys) {
    const p = `${path}.${k.length > 40 ? k.slice(0, 40) + '…' : k}`;
    if (k.length === 0 || k.length > keyLength) fail(p, `property keys must be 1–${keyLength} characters`);
    const val = v[k];
    if (typeof val === 'string') {
      if (val.length > valueLength) fail(p, `${p} is longer than ${valueLength} characters`);
    } else if (typeof val === 'number') {
      if (!Number.isFinite(val)) fail(p, `${p} must be a finite number`);
    } else if (typeof val !== 'boolean' && val !== null) {
      fail(p, `${p} must be a string, number, boolean or null`);
    }
    out[k] = val as Props[string];
  }
  return out;
};

/** A limit of a field (event-fields.ts); a field of a kind that needs it always has it. */
const limit = (f: EventField, which: 'length' | 'keys' | 'keyLength'): number => f.limits?.[which]?.[1] ?? Infinity;

/** The check of each kind of wire field: its value, or undefined when absent (an error names the field). */
const CHECKS: Record<FieldKind, (v: unknown, path: string, f: EventField) => unknown> = {
  id: (v, path, f) => ident(v, path, limit(f, 'length'), f.required === true),
  type: (v, path) => {
    if (typeof v !== 'string' || !EVENT_TYPES.includes(v as EventType))
      fail(path, `${path} must be one of ${EVENT_TYPES.join(', ')}`);
    return v;
  },
  time: (v, path) => {
    const ts = num(v, path);
    if (ts === undefined) return fail(path, `${path} is required (milliseconds since the epoch)`);
    if (!Number.isInteger(ts) || ts < 0) fail(path, `${path} must be a non-negative integer (milliseconds)`);
    return ts;
  },
  text: (v, path, f) => str(v, path, limit(f, 'length'), false),
  number: (v, path) => num(v, path),
  props,
  flag: (v, path) =>
    v === undefined || v === null || typeof v === 'boolean' ? v : fail(path, `${path} must be true or false`),
};

const WIRE_FIELDS = fieldsFrom('wire');
const KEYS = WIRE_FIELDS.map((f) => f.key);
/** Checked first, in this order, as always: the type (it decides what else is required), the time, the id. */
const ENVELOPE = ['type', 'ts', 'id'].map((key) => WIRE_FIELDS.find((f) => f.key === key) as EventField);
/** Each wire field in check order, with its check and its place in table order. */
const PLAN = [...ENVELOPE, ...WIRE_FIELDS.filter((f) => !ENVELOPE.includes(f))].map((f) => ({
  f,
  key: f.key,
  check: CHECKS[f.kind],
  slot: WIRE_FIELDS.indexOf(f),
  always: f.required === true,
}));
/** The fields each type requires (`required: [types]`), in table order. */
const REQUIRED_BY = new Map(
  EVENT_TYPES.map((t) => [t, WIRE_FIELDS.filter((f) => Array.isArray(f.required) && f.required.includes(t))]),
);

const missing = (v: unknown) => v === undefined || v === '';

const event = (v: unknown, i: number): WireEvent => {
  const path = `events[${i}]`;
  if (!isObject(v)) return fail(path, `${path} must be an object`);
  const values: unknown[] = new Array(KEYS.length);
  for (const p of PLAN) {
    const raw = v[p.key];
    if ((raw === undefined || raw === null) && !p.always) continue; // an optional field not sent
    values[p.slot] = keptValue(p.f, p.check(raw, `${path}.${p.key}`, p.f));
  }
  // Keys in table order (the order of every event object).
  const e: Record<string, unknown> = {};
  for (let k = 0; k < KEYS.length; k++) if (values[k] !== undefined) e[KEYS[k] as string] = values[k];
  const type = e.type as EventType;
  for (const f of REQUIRED_BY.get(type) ?? []) {
    const p = `${path}.${f.key}`;
    const value = e[f.key];
    const score = f.score?.[type];
    if (score) {
      const [min, max] = score;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
        fail(p, `${p} must be an integer score from ${min} to ${max}`);
    } else if (missing(value)) fail(p, `${p} is required for type "${type}"`);
  }
  return e as unknown as WireEvent;
};

/**
 * Checks an untrusted request body and returns it typed, or throws a 400 InputError naming the field.
 *
 * @example
 * validateBatch(JSON.parse(body)) // → WireBatch, or throws { message, path: 'events[3].ts' }
 */
export const validateBatch = (body: unknown): WireBatch => {
  if (!isObject(body)) return fail('', 'the body must be a JSON object');
  const site = ident(body.site, 'site', LIMITS.siteLength, true) as string;
  const visitor = ident(body.visitor, 'visitor', LIMITS.idLength, false);
  if (visitor?.startsWith('u:')) fail('visitor', 'visitor ids starting with "u:" are reserved for identified users');
  const session = ident(body.session, 'session', LIMITS.idLength, false);
  const sent = num(body.sent, 'sent');
  const dropped = num(body.dropped, 'dropped');
  if (dropped !== undefined && (!Number.isInteger(dropped) || dropped < 0))
    fail('dropped', 'dropped must be a non-negative integer');
  if (!Array.isArray(body.events)) return fail('events', 'events must be an array');
  if (body.events.length === 0) fail('events', 'events must not be empty');
  if (body.events.length > LIMITS.eventsPerBatch)
    fail('events', `events may hold at most ${LIMITS.eventsPerBatch} events`);
  const events = body.events.map(event);
  const batch: WireBatch = { site, events };
  if (visitor) batch.visitor = visitor;
  if (session) batch.session = session;
  if (sent !== undefined) batch.sent = sent;
  if (dropped) batch.dropped = dropped;
  return batch;
};

/**
 * Corrects client timestamps (the rule documented in docs/protocol.md):
 * 1. If the batch says when it was `sent` and the client clock is off by more than a minute, every `ts` is shifted
 *    by the difference (server time − sent), so a device with a wrong clock still lands in the right place.
 * 2. A `ts` still in the future (after correction) is clamped to the time of receipt.
 * 3. An event older than `LIMITS.pastMs` (31 days, longer than an outbox keeps events) is rejected on its own:
 *    it is not stored, and counted as `rejected` in the answer; the rest of the batch is stored.
 */
export const correctTimestamps = (batch: WireBatch, now: number): { events: WireEvent[]; rejected: number } => {
  const skew = batch.sent !== undefined && Math.abs(now - batch.sent) > 60_000 ? now - batch.sent : 0;
  const events: WireEvent[] = [];
  let rejected = 0;
  for (const e of batch.events) {
    let ts = e.ts + skew;
    if (ts > now) ts = now;
    if (ts < now - LIMITS.pastMs) {
      rejected++;
      continue;
    }
    events.push(ts === e.ts ? e : { ...e, ts });
  }
  return { events, rejected };
};
