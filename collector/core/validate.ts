import { InputError } from './errors';
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

const props = (v: unknown, path: string): Props | undefined => {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) return fail(path, `${path} must be an object`);
  const keys = Object.keys(v);
  if (keys.length > LIMITS.props) fail(path, `${path} has more than ${LIMITS.props} properties`);
  const out: Props = {};
  for (const k of keys) {
    const p = `${path}.${k.length > 40 ? k.slice(0, 40) + '…' : k}`;
    if (k.length === 0 || k.length > LIMITS.propKeyLength)
      fail(p, `property keys must be 1–${LIMITS.propKeyLength} characters`);
    const val = v[k];
    if (typeof val === 'string') {
      if (val.length > LIMITS.propValueLength) fail(p, `${p} is longer than ${LIMITS.propValueLength} characters`);
    } else if (typeof val === 'number') {
      if (!Number.isFinite(val)) fail(p, `${p} must be a finite number`);
    } else if (typeof val !== 'boolean' && val !== null) {
      fail(p, `${p} must be a string, number, boolean or null`);
    }
    out[k] = val as Props[string];
  }
  return out;
};

const event = (v: unknown, i: number): WireEvent => {
  const path = `events[${i}]`;
  if (!isObject(v)) return fail(path, `${path} must be an object`);
  const type = v.type;
  if (typeof type !== 'string' || !EVENT_TYPES.includes(type as EventType)) {
    fail(`${path}.type`, `${path}.type must be one of ${EVENT_TYPES.join(', ')}`);
  }
  const ts = num(v.ts, `${path}.ts`);
  if (ts === undefined) fail(`${path}.ts`, `${path}.ts is required (milliseconds since the epoch)`);
  if (!Number.isInteger(ts) || (ts as number) < 0)
    fail(`${path}.ts`, `${path}.ts must be a non-negative integer (milliseconds)`);
  const e: WireEvent = {
    id: ident(v.id, `${path}.id`, LIMITS.idLength, true) as string,
    type: type as EventType,
    ts: ts as number,
  };
  const url = str(v.url, `${path}.url`, LIMITS.urlLength, false);
  const referrer = str(v.referrer, `${path}.referrer`, LIMITS.urlLength, false);
  const title = str(v.title, `${path}.title`, LIMITS.titleLength, false);
  const name = str(v.name, `${path}.name`, LIMITS.nameLength, false);
  const stage = str(v.stage, `${path}.stage`, LIMITS.stageLength, false);
  const userId = str(v.userId, `${path}.userId`, LIMITS.userIdLength, false);
  const value = num(v.value, `${path}.value`);
  const p = props(v.props, `${path}.props`);
  if (url !== undefined) e.url = url;
  if (referrer) e.referrer = referrer;
  if (title !== undefined) e.title = title;
  if (name !== undefined) e.name = name;
  if (stage) e.stage = stage;
  if (userId !== undefined) e.userId = userId;
  if (value !== undefined) e.value = value;
  if (p !== undefined) e.props = p;
  switch (e.type) {
    case 'event':
      if (!e.name) fail(`${path}.name`, `${path}.name is required for type "event"`);
      break;
    case 'stage':
      if (!e.stage) fail(`${path}.stage`, `${path}.stage is required for type "stage"`);
      break;
    case 'identify':
      if (!e.userId) fail(`${path}.userId`, `${path}.userId is required for type "identify"`);
      break;
    case 'vital':
      if (!e.name) fail(`${path}.name`, `${path}.name is required for type "vital"`);
      if (e.value === undefined) fail(`${path}.value`, `${path}.value is required for type "vital"`);
      break;
    case 'feedback':
      if (e.value === undefined || !Number.isInteger(e.value) || e.value < 1 || e.value > 5) {
        fail(`${path}.value`, `${path}.value must be an integer score from 1 to 5`);
      }
      break;
    case 'page':
      break;
  }
  return e;
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
