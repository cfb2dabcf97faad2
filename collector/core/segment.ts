/**
 * Segment's HTTP tracking API mapped onto cjm events (docs/server-side.md). Pure apart from Web Crypto (hashing):
 * an untrusted body in, events grouped per visitor out, or a 400/413 InputError naming the field.
 *
 * Mapping, in short:
 * - track → `event` (name = `event`; value from `properties.value`, `revenue` or `total`); page and screen →
 *   `page`; on all three `stage`, `context.stage` or `properties.stage` is an explicit stage (else the site's
 *   stage rules apply); identify → `identify` (userId + traits);
 *   alias → an `identify` of the visitor `previousId` as `userId`; group → accepted and ignored.
 * - visitor: `anonymousId` as is when it is a valid cjm id (the tag's `cjm.visitorId()` is), else `srva:<hash>`;
 *   with only a `userId`, the synthetic visitor `srv:<hash(userId)>`. Both hashes are keyed with the deployment's
 *   secret (an HMAC, core/privacy.ts keyedServerVisitor, of the unkeyed `srv:`/`srva:` id earlier versions used). A message with a `userId` also links its
 *   visitor to the user (`u:<userId>`) by a synthetic `identify` event (id `segl:<hash>`), so it joins the journey
 *   the tag's `cjm.identify(userId)` started.
 * - event id: `seg:<messageId>`, or `segh:<hash>` when the messageId does not fit cjm's id charset or length, so a
 *   retry is deduplicated by (site, id) and cannot collide with the tag's ids (UUIDs).
 * - `properties`/`traits`: nested objects are flattened to dotted keys (`address.city`), arrays are dropped; then
 *   the limits of /collect apply (30 properties, keys ≤ 100, strings ≤ 1000 characters).
 * - `channel` / `context.channel` naming email, sms, push or offline make the event a touchpoint of that channel;
 *   `context.campaign` (UTM) is added to the event's URL, or, without a URL, classified into a stored channel.
 */
import { channelFromName, classifyChannel } from './channels';
import { InputError } from './errors';
import type { IngestEvent } from './ingest';
import { LIMITS, type Props, type WireEvent } from './protocol';
import { correctTimestamps, validateBatch } from './validate';

export const SEGMENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

/** Limits of the server-side API (see docs/server-side.md); per-field limits are those of /collect. */
export const SEGMENT_LIMITS = {
  /** One message, alone (`/v1/track` …) or inside a batch: Segment's own limit. */
  messageBytes: 32 * 1024,
  /** One `/v1/batch` request: Segment's own limit. */
  batchBytes: 500 * 1024,
  /** Messages per `/v1/batch`: the /collect limit (analytics-node sends 15 by default). */
  messagesPerBatch: LIMITS.eventsPerBatch,
  /** messageId, anonymousId, previousId. */
  idLength: 200,
  /** Nesting levels of properties/traits that are flattened; deeper values are dropped. */
  flattenDepth: 3,
} as const;

export interface MappedBatch {
  /** Events to ingest, per visitor, in message order (ingest sorts them by time). */
  visitors: Map<string, IngestEvent[]>;
  /** The unkeyed id earlier versions gave a visitor (its tombstone, if it was erased then, is under that id). */
  aliases: Map<string, string>;
  /** Messages accepted without an effect (group, identify without userId). */
  ignored: number;
  /** Messages older than /collect accepts (31 days): not stored, counted. */
  rejected: number;
}

const ID_RE = /^[A-Za-z0-9_.:-]+$/;
const enc = new TextEncoder();

/** A refused payload: 400 (invalid) or 413 (too large), `path` naming the field (`batch[3].event`). */
const fail = (path: string, message: string, status: 400 | 413 = 400): never => {
  throw new InputError(status, message, path);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const hex = async (s: string, chars: number): Promise<string> => {
  const digest = await crypto.subtle.digest('SHA-256', enc.encode(s));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0'))
    .join('')
    .slice(0, chars);
};

const randomHex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

/** An id field: a non-empty string (numbers are accepted and turned into strings, as Segment does). */
const idField = (v: unknown, path: string, max: number): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof s !== 'string') return fail(path, `${path} must be a string`);
  if (s.length > max) return fail(path, `${path} is longer than ${max} characters`);
  return s;
};

const optString = (v: unknown, path: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') return fail(path, `${path} must be a string`);
  return v;
};

const optObject = (v: unknown, path: string): Record<string, unknown> | undefined => {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) return fail(path, `${path} must be an object`);
  return v;
};

const time = (v: unknown, path: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) return fail(path, `${path} must be an ISO-8601 date string`);
  return ms;
};

/**
 * Flattens nested objects into dotted keys (`{ address: { city } }` → `address.city`); arrays and values nested
 * deeper than `SEGMENT_LIMITS.flattenDepth` are dropped. Limits are checked afterwards, by /collect's validation.
 */
export const flattenProps = (
  v: Record<string, unknown>,
  out: Record<string, unknown> = {},
  prefix = '',
  depth = 1,
): Record<string, unknown> => {
  for (const [k, val] of Object.entries(v)) {
    const key = prefix + k;
    if (isObject(val)) {
      if (depth < SEGMENT_LIMITS.flattenDepth) flattenProps(val, out, `${key}.`, depth + 1);
    } else if (!Array.isArray(val) && val !== undefined) {
      out[key] = val;
    }
  }
  return out;
};

/**
 * The keyed server-side visitor id of the unkeyed one earlier versions used (`srv:`/`srva:` + 32 hex of SHA-256):
 * core/privacy.ts keyedServerVisitor bound to the store.
 */
export type ServerIds = (legacy: string) => Promise<string>;

/** A server-side visitor: its id, and the unkeyed id earlier versions gave it (when it is a hash). */
export interface ServerVisitor {
  visitor: string;
  legacy?: string;
}

/** The cjm visitor id of an anonymousId: itself when it is a valid cjm id (the tag's ids are), else a keyed hash. */
export const visitorOfAnonymousId = async (anonymousId: string, ids: ServerIds): Promise<ServerVisitor> => {
  if (anonymousId.length <= LIMITS.idLength && ID_RE.test(anonymousId)) return { visitor: anonymousId };
  const legacy = `srva:${await hex(anonymousId, 32)}`;
  return { visitor: await ids(legacy), legacy };
};

/** The synthetic visitor of messages that carry only a userId: a keyed hash of it. */
export const visitorOfUserId = async (userId: string, ids: ServerIds): Promise<ServerVisitor> => {
  const legacy = `srv:${await hex(userId, 32)}`;
  return { visitor: await ids(legacy), legacy };
};

/** The cjm event id of a messageId: `seg:<messageId>` when it fits, else `segh:<hash>`. */
export const eventIdOfMessageId = async (messageId: string): Promise<string> => {
  const raw = `seg:${messageId}`;
  return raw.length <= LIMITS.idLength && ID_RE.test(messageId) ? raw : `segh:${await hex(messageId, 40)}`;
};

/** A URL with the campaign's UTM parameters added (those it does not carry yet); undefined if it is not absolute. */
const withCampaign = (url: string, utm: Array<[string, string]>): string | undefined => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  let changed = false;
  for (const [k, v] of utm) {
    if (!u.searchParams.has(k)) {
      u.searchParams.set(k, v);
      changed = true;
    }
  }
  const out = changed ? u.toString() : url;
  return out.length <= LIMITS.urlLength ? out : undefined;
};

const CAMPAIGN_FIELDS = [
  ['source', 'utm_source'],
  ['medium', 'utm_medium'],
  ['name', 'utm_campaign'],
  ['term', 'utm_term'],
  ['content', 'utm_content'],
] as const;

/** Where each wire field came from, to name the Segment field in an error. */
type Origins = Partial<Record<keyof WireEvent, string>>;

interface Mapped {
  visitor: string;
  /** The unkeyed id earlier versions gave the visitor. */
  legacy?: string;
  event: IngestEvent;
  origins: Origins;
  /** Link the visitor to this user with a synthetic identify. */
  linkUser?: string;
}

const firstNumber = (p: Record<string, unknown>, keys: readonly string[]): number | undefined => {
  for (const k of keys) {
    const v = p[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
};

/**
 * Maps one message. Returns null for a message accepted but ignored (group, identify without userId).
 */
const mapMessage = async (
  msg: Record<string, unknown>,
  type: SegmentType,
  p: string,
  shared: { context: Record<string, unknown> | undefined; sentAt: number | undefined },
  now: number,
  ids: ServerIds,
): Promise<{ mapped: Mapped | null; sentAt: number | undefined }> => {
  const at = (field: string) => (p ? `${p}.${field}` : field);
  const ctxOwn = optObject(msg.context, at('context'));
  const context: Record<string, unknown> = { ...(shared.context ?? {}), ...(ctxOwn ?? {}) };
  const userId = idField(msg.userId, at('userId'), LIMITS.userIdLength);
  const anonymousId = idField(msg.anonymousId, at('anonymousId'), SEGMENT_LIMITS.idLength);
  const messageId = idField(msg.messageId, at('messageId'), SEGMENT_LIMITS.idLength);
  const timestamp = time(
    msg.timestamp ?? msg.originalTimestamp,
    at(msg.timestamp === undefined && msg.originalTimestamp !== undefined ? 'originalTimestamp' : 'timestamp'),
  );
  const sentAt = time(msg.sentAt, at('sentAt')) ?? shared.sentAt;
  const properties = optObject(msg.properties, at('properties'));
  const traits = optObject(msg.traits, at('traits')) ?? optObject(context.traits, at('context.traits'));
  const page = optObject(context.page, at('context.page'));
  const campaign = optObject(context.campaign, at('context.campaign'));
  const channelName = optString(msg.channel, at('channel')) ?? optString(context.channel, at('context.channel'));
  optObject(msg.integrations, at('integrations'));

  if (type === 'alias') {
    if (!userId) fail(at('userId'), `${at('userId')} is required for alias`);
  } else if (!userId && !anonymousId) {
    fail(at('userId'), `${at('userId')} or ${at('anonymousId')} is required`);
  }
  if (type === 'group' || (type === 'identify' && !userId)) return { mapped: null, sentAt };

  let server: ServerVisitor;
  if (type === 'alias') {
    const previousId = idField(msg.previousId, at('previousId'), SEGMENT_LIMITS.idLength);
    if (!previousId) return fail(at('previousId'), `${at('previousId')} is required for alias`);
    server = await visitorOfAnonymousId(previousId, ids);
  } else {
    server = anonymousId ? await visitorOfAnonymousId(anonymousId, ids) : await visitorOfUserId(userId as string, ids);
  }

  const ts = timestamp ?? now;
  const id = messageId
    ? await eventIdOfMessageId(messageId)
    : timestamp !== undefined
      ? `segh:${await hex(`${type}\n${JSON.stringify({ ...msg, sentAt: undefined })}`, 40)}`
      : `segr:${randomHex(16)}`;

  const origins: Origins = { id: at('messageId'), ts: at('timestamp'), userId: at('userId') };
  const e: IngestEvent = { id, type: 'event', ts };
  const pageUrl = optString(page?.url, at('context.page.url'));
  const pageReferrer = optString(page?.referrer, at('context.page.referrer'));
  const setUrl = (url: unknown, urlPath: string, referrer: unknown, refPath: string) => {
    const u = optString(url, urlPath);
    const r = optString(referrer, refPath);
    if (u !== undefined) {
      e.url = u;
      origins.url = urlPath;
    }
    if (r) {
      e.referrer = r;
      origins.referrer = refPath;
    }
  };
  let props: Record<string, unknown> | undefined;
  let propsPath = at('properties');

  switch (type) {
    case 'track': {
      const name = optString(msg.event, at('event'));
      if (!name) return fail(at('event'), `${at('event')} is required for track`);
      e.type = 'event';
      e.name = name;
      origins.name = at('event');
      props = properties ? { ...properties } : undefined;
      const value = props ? firstNumber(props, ['value', 'revenue', 'total']) : undefined;
      if (value !== undefined) e.value = value;
      setUrl(pageUrl, at('context.page.url'), pageReferrer, at('context.page.referrer'));
      break;
    }
    case 'page':
    case 'screen': {
      e.type = 'page';
      const name = optString(msg.name, at('name'));
      const pr = properties ?? {};
      const url = pr.url ?? (type === 'page' ? (pageUrl ?? pr.path ?? page?.path) : undefined);
      const urlPath =
        pr.url !== undefined
          ? 'properties.url'
          : pageUrl !== undefined
            ? 'context.page.url'
            : pr.path !== undefined
              ? 'properties.path'
              : 'context.page.path';
      setUrl(
        url,
        at(urlPath),
        pr.referrer ?? (type === 'page' ? pageReferrer : undefined),
        at(pr.referrer !== undefined ? 'properties.referrer' : 'context.page.referrer'),
      );
      const title = pr.title ?? (type === 'page' ? page?.title : undefined) ?? name;
      const titlePath =
        pr.title !== undefined
          ? 'properties.title'
          : type === 'page' && page?.title !== undefined
            ? 'context.page.title'
            : 'name';
      const t = optString(title, at(titlePath));
      if (t !== undefined) {
        e.title = t;
        origins.title = at(titlePath);
      }
      props = { ...pr };
      for (const k of ['url', 'path', 'referrer', 'title', 'search']) delete props[k];
      if (name !== undefined && props.name === undefined && t !== name) props.name = name;
      break;
    }
    case 'identify':
    case 'alias': {
      e.type = 'identify';
      e.userId = userId as string;
      if (type === 'alias') e.name = 'alias';
      props = type === 'identify' ? traits : undefined;
      propsPath = msg.traits !== undefined ? at('traits') : at('context.traits');
      setUrl(pageUrl, at('context.page.url'), pageReferrer, at('context.page.referrer'));
      break;
    }
  }
  // An explicit stage (track, page, screen): top-level `stage` (raw HTTP), `context.stage` (what analytics-node can
  // send besides properties) or `properties.stage` (taken out of the properties).
  if (e.type !== 'identify') {
    const own = optString(msg.stage, at('stage'));
    const fromContext = optString(context.stage, at('context.stage'));
    if (own) {
      e.stage = own;
      origins.stage = at('stage');
    } else if (fromContext) {
      e.stage = fromContext;
      origins.stage = at('context.stage');
    } else if (props && typeof props.stage === 'string' && props.stage) {
      e.stage = props.stage;
      origins.stage = `${propsPath}.stage`;
    }
    if (props && e.stage !== undefined && props.stage === e.stage) delete props.stage;
  }
  if (props && Object.keys(props).length === 0) props = undefined;
  if (props) {
    e.props = flattenProps(props) as Props;
    origins.props = propsPath;
  }

  // Campaign (UTM) and an explicit touchpoint channel.
  const explicit = channelFromName(channelName);
  const utm: Array<[string, string]> = [];
  for (const [field, param] of CAMPAIGN_FIELDS) {
    const v = campaign?.[field];
    if (typeof v === 'string' && v) utm.push([param, v]);
    else if (v !== undefined && v !== null)
      fail(at(`context.campaign.${field}`), `${at(`context.campaign.${field}`)} must be a string`);
  }
  if (explicit) e.channel = explicit;
  else if (utm.length > 0) {
    const url = e.url !== undefined ? withCampaign(e.url, utm) : undefined;
    if (url !== undefined) e.url = url;
    else {
      const t = classifyChannel({ url: `https://campaign.invalid/?${new URLSearchParams(utm).toString()}` });
      if (t.channel !== 'direct') e.channel = t.channel;
    }
  }

  return {
    mapped: {
      visitor: server.visitor,
      ...(server.legacy ? { legacy: server.legacy } : {}),
      event: e,
      origins,
      ...(userId && type !== 'identify' && type !== 'alias' ? { linkUser: userId } : {}),
    },
    sentAt,
  };
};

/** Runs /collect's validation on one mapped event; its errors are renamed to the Segment field. */
const checkLikeCollect = (m: Mapped, p: string): IngestEvent => {
  const { channel, ...wire } = m.event;
  try {
    const checked: IngestEvent = validateBatch({ site: 'segment', visitor: m.visitor, events: [wire] })
      .events[0] as WireEvent;
    if (channel) checked.channel = channel;
    return checked;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const rename = (f: string) => m.origins[f as keyof WireEvent] ?? f;
    const match = /^events\[0\]\.(\w+)(.*)$/.exec(err.path ?? '');
    const path = match?.[1] ? rename(match[1]) + (match[2] ?? '') : p || err.path;
    throw new InputError(
      400,
      err.message.replace(/events\[0\]\.(\w+)/g, (_, f: string) => rename(f)),
      path,
    );
  }
};

const bytes = (v: unknown) => enc.encode(JSON.stringify(v)).length;

/**
 * Maps the body of `POST /v1/<endpoint>` onto cjm events grouped per visitor, or throws an InputError (nothing is
 * stored from a refused body: the caller ingests only after the whole body mapped).
 *
 * @example
 * const { visitors } = await mapSegment({ userId: 'u1', event: 'order_completed' }, 'track', Date.now())
 */
export const mapSegment = async (
  body: unknown,
  endpoint: SegmentType | 'batch',
  now: number,
  ids: ServerIds,
): Promise<MappedBatch> => {
  if (!isObject(body)) return fail('', 'the body must be a JSON object');
  let messages: Array<{ msg: unknown; type: SegmentType | undefined; path: string }>;
  let shared: { context: Record<string, unknown> | undefined; sentAt: number | undefined };
  if (endpoint === 'batch') {
    if (!Array.isArray(body.batch)) return fail('batch', 'batch must be an array of messages');
    if (body.batch.length === 0) fail('batch', 'batch must not be empty');
    if (body.batch.length > SEGMENT_LIMITS.messagesPerBatch) {
      fail(
        'batch',
        `batch may hold at most ${SEGMENT_LIMITS.messagesPerBatch} messages; send smaller batches (flushAt)`,
      );
    }
    shared = { context: optObject(body.context, 'context'), sentAt: time(body.sentAt, 'sentAt') };
    messages = body.batch.map((msg: unknown, i: number) => ({ msg, type: undefined, path: `batch[${i}]` }));
  } else {
    shared = { context: undefined, sentAt: undefined };
    messages = [{ msg: body, type: endpoint, path: '' }];
  }

  const out: MappedBatch = { visitors: new Map(), aliases: new Map(), ignored: 0, rejected: 0 };
  const events: Array<{ visitor: string; event: IngestEvent }> = [];
  for (const { msg, type: given, path } of messages) {
    if (!isObject(msg)) return fail(path, `${path} must be an object`);
    if (path && bytes(msg) > SEGMENT_LIMITS.messageBytes) {
      fail(path, `${path} is larger than ${SEGMENT_LIMITS.messageBytes} bytes`, 413);
    }
    const typePath = path ? `${path}.type` : 'type';
    const type = given ?? (msg.type as SegmentType);
    if (!SEGMENT_TYPES.includes(type)) fail(typePath, `${typePath} must be one of ${SEGMENT_TYPES.join(', ')}`);
    const { mapped, sentAt } = await mapMessage(msg, type, path, shared, now, ids);
    if (!mapped) {
      out.ignored++;
      continue;
    }
    const checked = checkLikeCollect(mapped, path);
    const { events: kept } = correctTimestamps(
      { site: 'segment', events: [checked], ...(sentAt !== undefined ? { sent: sentAt } : {}) },
      now,
    );
    const e = kept[0] as IngestEvent | undefined;
    if (!e) {
      out.rejected++;
      continue;
    }
    if (checked.channel) e.channel = checked.channel;
    events.push({ visitor: mapped.visitor, event: e });
    if (mapped.legacy) out.aliases.set(mapped.visitor, mapped.legacy);
    if (mapped.linkUser) {
      const link: IngestEvent = {
        // From the unkeyed id when there is one: the same id as earlier versions gave it, so a retry is a duplicate.
        id: `segl:${await hex(`${mapped.legacy ?? mapped.visitor}\u0000${mapped.linkUser}`, 40)}`,
        type: 'identify',
        ts: e.ts,
        userId: mapped.linkUser,
        synthetic: true,
      };
      // Same time as the message: whichever of the two sorts first may open a session, so both carry what
      // classifies its channel.
      if (e.channel) link.channel = e.channel;
      if (e.url !== undefined) link.url = e.url;
      if (e.referrer !== undefined) link.referrer = e.referrer;
      events.push({ visitor: mapped.visitor, event: link });
    }
  }
  for (const { visitor, event } of events) {
    const list = out.visitors.get(visitor);
    if (list) list.push(event);
    else out.visitors.set(visitor, [event]);
  }
  return out;
};
