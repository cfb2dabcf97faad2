/**
 * Ingest: stores a validated batch and brings the affected journeys up to date, in one atomic commit.
 *
 * Exactness rests on three rules:
 * - only events whose `(site, id)` is not stored yet are folded (a retry never counts twice);
 * - events are folded in `(ts, id)` order: appended to the stored journey when they all come after its last event,
 *   otherwise the journey is refolded from its stored events (a late event lands in its place);
 * - the new events, the visitor's link and the journeys are written in one `commit`, which the store runs
 *   atomically, and the caller answers 202 only after it returns.
 */
import { entriesOf, planAutomation } from './automation/plan';
import { fieldsFrom, keptValue, type EventField, type SenderFields } from './event-fields';
import {
  comesAfter,
  compareEvents,
  FOLD_VERSION,
  foldEvents,
  JOURNEY_VERSION,
  type FoldOptions,
  type Journey,
  type StoredEvent,
} from './journey';
import { InputError } from './errors';
import { boundCardinality } from './limits';
import { erasedHash } from './privacy';
import { localDay, timezoneOf } from './timezone';
import type { WireEvent } from './protocol';
import { stageModelOf, DEFAULT_LIMITS, type SiteConfig, type StageModel } from './stages';
import { BatchView, type IngestReads } from './ingest-view';
import {
  ConflictError,
  SiteMovingError,
  StoreFullError,
  StoreUnavailableError,
  type Commit,
  type JourneyRecord,
  type Store,
  type VisitorLink,
} from './store';

/** Journey key of an identified user. */
export const userJourneyKey = (userId: string) => `u:${userId}`;

/** A wire event plus what only the collector sets: a touchpoint's channel (server-side API), the synthetic flag. */
export type IngestEvent = WireEvent & SenderFields;

/** The fields an ingested event carries besides the envelope (id, type, ts), in table order (core/event-fields.ts). */
const CARRIED = fieldsFrom('wire', 'sender').filter((f) => f.required !== true);
const CARRIED_KEYS = CARRIED.map((f) => f.key as keyof IngestEvent);

/** The wire event as stored: the visitor, and only the fields that are set (core/event-fields.ts, `keptValue`). */
export const toStoredEvent = (e: IngestEvent, visitor: string): StoredEvent => {
  const s: StoredEvent = { id: e.id, visitor, type: e.type, ts: e.ts };
  for (let i = 0; i < CARRIED_KEYS.length; i++) {
    const key = CARRIED_KEYS[i] as keyof IngestEvent;
    const raw = e[key];
    if (raw === undefined) continue;
    const v = keptValue(CARRIED[i] as EventField, raw);
    if (v !== undefined) (s as Record<string, unknown>)[key] = v;
  }
  return s;
};

const models = new WeakMap<SiteConfig, StageModel>();
/** Fold options of a site (the compiled stage model is cached per config object). */
export const foldOptions = (site: SiteConfig): FoldOptions => {
  let model = models.get(site);
  if (!model) models.set(site, (model = stageModelOf(site)));
  const siteHosts: string[] = [];
  for (const o of site.origins) {
    try {
      siteHosts.push(new URL(o).hostname);
    } catch {
      /* origins are checked when saved */
    }
  }
  return {
    model,
    sessionTimeoutMs: site.sessionTimeoutMinutes * 60_000,
    siteHosts,
    ...(site.timezone !== undefined && site.timezone !== 'UTC' ? { timezone: site.timezone } : {}),
  };
};

const locks = new WeakMap<Store, Promise<unknown>>();
/** Runs ingests of one store one after another, so two requests never fold the same journey at once. */
const serialized = <T>(store: Store, fn: () => Promise<T>): Promise<T> => {
  const prev = locks.get(store) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  locks.set(
    store,
    next.catch(() => undefined),
  );
  return next;
};

/**
 * Runs `fn` again (from its reads) when its commit lost a race: two Worker isolates (or Node processes) folded the
 * same journey at once and the other committed first (the store refuses a stale journey version, writing nothing).
 */
const retrying = async <T>(fn: () => Promise<T>, attempts = 5): Promise<T> => {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ConflictError) || i >= attempts) throw e;
    }
  }
};

/** The earliest identify among `events` that beats the link's current one, as a new link; else the link. */
const relink = (link: VisitorLink, events: readonly StoredEvent[]): VisitorLink => {
  let best = link;
  for (const e of events) {
    if (e.type !== 'identify' || !e.userId) continue;
    const earlier =
      best.identifiedAt === null || compareEvents(e, { ts: best.identifiedAt, id: best.identifyEvent ?? '' }) < 0;
    if (earlier) {
      best = {
        visitor: link.visitor,
        journey: userJourneyKey(e.userId),
        userId: e.userId,
        identifiedAt: e.ts,
        identifyEvent: e.id,
      };
    }
  }
  return best;
};

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** Events dropped because their visitor (or the user of an identify) was erased. */
  deleted?: number;
  /** New events not stored: over the site's daily quota or the address's budget of new visitors. */
  overQuota?: number;
}

/** What the caller knows about the request beyond its events. */
export interface IngestOptions {
  /** Device class of the sender (from its User-Agent), set on every event. */
  device?: string | null;
  /** Events the client reported it had to drop (counted per day). */
  dropped?: number;
  /** Events refused as too old by `correctTimestamps` (counted per day). */
  tooOld?: number;
  /** The quotas' say on this request (core/quota.ts): over them, new events are counted, not stored. */
  admit?: Admission;
  /** Earlier ids of this visitor: erased under one of them, its events are dropped too (core/segment.ts). */
  aliases?: readonly string[];
}

/** Admission of new events beyond validation (core/quota.ts). */
export interface Admission {
  /** Asked once when the visitor has no link yet: may it start? Otherwise its events count as `tooManyVisitors`. */
  newVisitor(): boolean;
  /** How many of `n` new events may be stored (the rest count as `overQuota`). */
  events(n: number): Promise<number>;
}

/** The site's stage-model revision (sites saved before revisions existed count as 1). */
export const siteRevision = (site: SiteConfig): number => site.revision ?? 1;

/** Site revisions one fold version spans in `journeyRevision` (a site would need a million model changes). */
const REVISIONS_PER_FOLD_VERSION = 1_000_000;

/**
 * The revision a journey of the site is folded under and stored with: the fold version and the site's revision in
 * one number, `FOLD_VERSION × 1,000,000 + revision`, growing with either. A journey stored under a smaller one is
 * stale (`Store.staleJourneys`): refolded by `maintenance`, or at once when it receives an event. Journeys written
 * before fold versions existed carry the bare site revision, so a new FOLD_VERSION makes all of them stale.
 */
export const journeyRevision = (site: SiteConfig): number =>
  FOLD_VERSION * REVISIONS_PER_FOLD_VERSION + siteRevision(site);

/** Event names the stage rules use: always admitted, never counted against the cardinality bound. */
const ruleNames = new WeakMap<SiteConfig, Set<string>>();
const exemptNames = (site: SiteConfig): Set<string> => {
  let set = ruleNames.get(site);
  if (!set) ruleNames.set(site, (set = new Set(site.stages.flatMap((s) => s.events ?? []))));
  return set;
};

/** A stored journey can be extended in place only if it has the current shape, fold version and stage model. */
const usable = (r: JourneyRecord | undefined, revision: number): r is JourneyRecord =>
  r !== undefined && r.journey.v === JOURNEY_VERSION && (r.revision ?? 0) === revision;

/** A request planned against the batch's view: its answer, and what it writes. */
interface Planned {
  result: IngestResult;
  write: Commit;
}

/**
 * Plans one visitor's request: reads through `view` (the batch's reads, with the writes of the requests planned
 * before it laid over them), folds, and returns the write, which the batch merges and commits (`ingestBatch`).
 * `store` is only for the keyed hashes of tombstones and the quotas' counters.
 */
const plan = async (
  store: Store,
  view: IngestReads,
  site: SiteConfig,
  visitor: string,
  wire: readonly IngestEvent[],
  receivedAt: number,
  options: IngestOptions,
): Promise<Planned> => {
  if (visitor.startsWith('u:'))
    throw new InputError(400, 'visitor ids starting with "u:" are reserved for users', 'visitor');
  const day = localDay(receivedAt, timezoneOf(site));
  const counters: NonNullable<Commit['counters']> = [];
  if (options.dropped) counters.push({ day, name: 'dropped', value: options.dropped });
  if (options.tooOld) counters.push({ day, name: 'tooOld', value: options.tooOld });
  const countOnly = (result: IngestResult): Planned => ({
    result,
    write: { events: [], links: [], journeys: [], deleteJourneys: [], counters },
  });

  // Erased visitors and users (tombstones): their events are dropped, an identify with an erased user is ignored.
  const userIds = [...new Set(wire.flatMap((e) => (e.type === 'identify' && e.userId ? [e.userId] : [])))];
  const visitorHash = await erasedHash(store, 'visitor', visitor);
  const userHashes = new Map(
    await Promise.all(userIds.map(async (u) => [u, await erasedHash(store, 'user', u)] as const)),
  );
  // Other ids of the same visitor whose tombstones count too (a server-side id of an earlier version).
  const aliasHashes = await Promise.all((options.aliases ?? []).map((a) => erasedHash(store, 'visitor', a)));
  const erased = await view.tombstoned(site.id, [visitorHash, ...aliasHashes, ...userHashes.values()]);
  let deleted = 0;
  let incoming: readonly IngestEvent[] = wire;
  if (erased.has(visitorHash) || aliasHashes.some((h) => erased.has(h))) {
    counters.push({ day, name: 'deleted', value: wire.length });
    return countOnly({ accepted: 0, duplicates: 0, deleted: wire.length });
  }
  if (erased.size > 0) {
    incoming = wire.filter((e) => !(e.type === 'identify' && e.userId && erased.has(userHashes.get(e.userId) ?? '')));
    deleted = wire.length - incoming.length;
    counters.push({ day, name: 'deleted', value: deleted });
  }

  const byId = new Map<string, StoredEvent>();
  for (const e of incoming) {
    if (byId.has(e.id)) continue;
    const s = toStoredEvent(e, visitor);
    if (options.device) s.device = options.device;
    byId.set(e.id, s);
  }
  // The visitor's link and journey are read before the dedup read: a concurrent writer (another isolate) that
  // stores any of these events after this point bumps that journey's version, so this commit's version guard
  // refuses it and the retry sees those events as stored. Read after it, the guard would miss them.
  const stored = (await view.getLinks(site.id, [visitor])).get(visitor);
  const ownKey = stored?.journey ?? visitor;
  const early = await view.getJourneys(site.id, [ownKey]);
  const existing = await view.existingEventIds(site.id, [...byId.keys()]);
  let unbounded = [...byId.values()].filter((e) => !existing.has(e.id)).sort(compareEvents);
  const duplicates = incoming.length - unbounded.length;
  let overQuota = 0;
  const result = (accepted: number): IngestResult => {
    const r: IngestResult = deleted ? { accepted, duplicates, deleted } : { accepted, duplicates };
    if (overQuota) r.overQuota = overQuota;
    return r;
  };
  if (options.admit && unbounded.length > 0) {
    // Quotas (core/quota.ts): a new visitor beyond the address's budget, events beyond the site's day.
    const newcomer = !stored && !options.admit.newVisitor();
    const keep = newcomer ? 0 : await options.admit.events(unbounded.length);
    if (keep < unbounded.length) {
      overQuota = unbounded.length - keep;
      counters.push({ day, name: newcomer ? 'tooManyVisitors' : 'overQuota', value: overQuota });
      unbounded = unbounded.slice(0, keep);
      if (keep === 0) return countOnly(result(0));
    }
  }
  if (unbounded.length === 0) {
    // Every event is stored already: a retry of a batch whose answer was lost. Its client-reported counts
    // (dropped, tooOld) were added with it the first time, so they are not added again.
    if (incoming.length > 0) {
      const resent = counters.filter((c) => c.name !== 'dropped' && c.name !== 'tooOld');
      counters.splice(0, counters.length, ...resent);
    }
    return countOnly(result(0));
  }

  // Cardinality: at most `limits.eventNames` event names and `limits.propKeys` property keys per site.
  const limits = site.limits ?? DEFAULT_LIMITS;
  const names = [...new Set(unbounded.flatMap((e) => (e.type === 'event' && e.name ? [e.name] : [])))];
  const propKeys = [...new Set(unbounded.flatMap((e) => Object.keys(e.props ?? {})))];
  const [knownNames, knownKeys] = await Promise.all([
    names.length ? view.knownNames(site.id, 'event', names) : { known: new Set<string>(), total: 0 },
    propKeys.length ? view.knownNames(site.id, 'prop', propKeys) : { known: new Set<string>(), total: 0 },
  ]);
  const bounded = boundCardinality(
    unbounded,
    { ...knownNames, limit: limits.eventNames, exempt: exemptNames(site) },
    { ...knownKeys, limit: limits.propKeys },
  );
  const fresh = bounded.events;
  if (bounded.otherNames) counters.push({ day, name: 'otherNames', value: bounded.otherNames });
  if (bounded.otherProps) counters.push({ day, name: 'otherProps', value: bounded.otherProps });
  const revision = journeyRevision(site);

  const opts = foldOptions(site);
  const link: VisitorLink = stored ?? {
    visitor,
    journey: visitor,
    userId: null,
    identifiedAt: null,
    identifyEvent: null,
  };
  const next = relink(link, fresh);
  const keys = next.journey === link.journey ? [next.journey] : [next.journey, link.journey];
  const records = new Map(early);
  const other = keys.filter((k) => k !== ownKey);
  if (other.length > 0) for (const [k, r] of await view.getJourneys(site.id, other)) records.set(k, r);
  const entriesBefore = entriesOf(records); // automation compares them with the entries after the fold

  const refold = async (key: string, include: boolean): Promise<Journey | null> => {
    const members = new Set(await view.visitorsOfJourney(site.id, key));
    if (include) members.add(visitor);
    else members.delete(visitor);
    if (members.size === 0) return null;
    const events = await view.eventsOfVisitors(site.id, [...members]);
    return foldEvents(include ? [...events, ...fresh] : events, opts);
  };
  const record = (key: string, journey: Journey): JourneyRecord => {
    const before = records.get(key);
    const r: JourneyRecord = { key, version: (before?.version ?? 0) + 1, journey, revision };
    // Its derived rows are in the database: only the rows that change are written.
    r.previous = before?.journey ?? null;
    return r;
  };

  const write: Commit = {
    events: fresh,
    links: [],
    journeys: [],
    deleteJourneys: [],
    names: bounded.admitted,
    counters,
  };
  if (!stored || next !== link) write.links.push(next);
  const current = records.get(next.journey);
  if (
    next.journey === link.journey &&
    usable(current, revision) &&
    fresh.every((e) => comesAfter(current.journey, e))
  ) {
    write.journeys.push(record(next.journey, foldEvents(fresh, opts, structuredClone(current.journey))));
  } else if (!stored && !current && next.journey === link.journey) {
    // A new visitor (no link yet, so no stored events) starting a journey of its own: nothing to refold.
    write.journeys.push(record(next.journey, foldEvents(fresh, opts)));
  } else {
    write.journeys.push(record(next.journey, (await refold(next.journey, true)) as Journey));
    if (next.journey !== link.journey && stored) {
      const old = await refold(link.journey, false);
      if (old) write.journeys.push(record(link.journey, old));
      else write.deleteJourneys.push(link.journey);
    }
  }
  counters.push({ day, name: 'stored', value: fresh.length }); // the daily quota reads it (core/quota.ts)
  write.automation = await planAutomation(view, site, fresh, entriesBefore, write.journeys, receivedAt);
  return { result: result(fresh.length), write };
};

/**
 * Stores the events of one visitor and updates their journey: a batch of one (`ingestBatch`).
 *
 * @example
 * await ingest(store, site, 'v1', [{ id: 'e1', type: 'page', ts: Date.now(), url: 'https://shop/' }], Date.now())
 */
export const ingest = async (
  store: Store,
  site: SiteConfig,
  visitor: string,
  wire: readonly IngestEvent[],
  receivedAt: number,
  options: IngestOptions = {},
): Promise<IngestResult> =>
  settled((await ingestBatch(store, [{ site, visitor, events: wire, receivedAt, options }]))[0]);

/** One validated request of one visitor (and site), as `ingestBatch` takes many of them. */
export interface IngestRequest {
  site: SiteConfig;
  visitor: string;
  events: readonly IngestEvent[];
  receivedAt: number;
  options?: IngestOptions;
}

/** The answer of one request of a batch: its result, or its own error (the other requests still commit). */
export type IngestOutcome = { ok: true; result: IngestResult } | { ok: false; error: unknown };

/**
 * What the routes hand validated requests to: `ingestBatch` itself (the default), the Node group commit
 * (core/batcher.ts) or the Workers queue producer. One outcome per request, in order.
 */
export type Ingester = (store: Store, requests: readonly IngestRequest[]) => Promise<IngestOutcome[]>;

/** Errors of the database as a whole: every request of the batch gets them (the client retries later). */
const wholeStoreError = (e: unknown) =>
  e instanceof StoreFullError || e instanceof StoreUnavailableError || e instanceof SiteMovingError;

/** One attempt at a batch: one read of each kind for all requests, a plan per request, one commit. */
const attempt = async (store: Store, requests: readonly IngestRequest[]): Promise<IngestOutcome[]> => {
  const view = new BatchView(store);
  const bySite = new Map<string, { visitors: Set<string>; ids: Set<string> }>();
  for (const r of requests) {
    let p = bySite.get(r.site.id);
    if (!p) bySite.set(r.site.id, (p = { visitors: new Set(), ids: new Set() }));
    p.visitors.add(r.visitor);
    for (const e of r.events) p.ids.add(e.id);
  }
  for (const [site, p] of bySite) await view.prefetch(site, [...p.visitors], [...p.ids]);
  const outcomes: IngestOutcome[] = [];
  for (const r of requests) {
    try {
      const planned = await plan(store, view, r.site, r.visitor, r.events, r.receivedAt, r.options ?? {});
      view.apply(r.site.id, planned.write, r.receivedAt);
      outcomes.push({ ok: true, result: planned.result });
    } catch (error) {
      if (error instanceof ConflictError || wholeStoreError(error)) throw error;
      outcomes.push({ ok: false, error }); // its own bad input: nothing of it is in the commit
    }
  }
  const writes = view.merged();
  if (writes.length > 0) await store.commitBatch(writes);
  return outcomes;
};

const runBatch = async (store: Store, requests: readonly IngestRequest[]): Promise<IngestOutcome[]> => {
  try {
    return await retrying(() => attempt(store, requests));
  } catch (error) {
    if (requests.length === 1 || wholeStoreError(error)) return requests.map(() => ({ ok: false, error }));
    // The one commit failed for another reason (a constraint, a row the database refuses): each request alone,
    // so the one at fault gets its error and the others their 202.
    const out: IngestOutcome[] = [];
    for (const r of requests) out.push(...(await runBatch(store, [r])));
    return out;
  }
};

/**
 * Stores the requests of many visitors (and sites) and brings their journeys up to date in one atomic commit per
 * database: one read of the links, the journeys and the stored ids for all of them, each journey folded once and
 * written once. Each request gets its own outcome, in order; one whose input is refused does not fail the others.
 * Exactness as for single requests: dedup by `(site, id)` (within the batch too), refolds for late events, identify
 * merges within and across batches, tombstones, the version guard against a concurrent writer (the batch is
 * retried from fresh reads).
 *
 * @example
 * const [out] = await ingestBatch(store, [{ site, visitor: 'v1', events, receivedAt: Date.now() }])
 */
export const ingestBatch: Ingester = (store, requests) =>
  requests.length === 0 ? Promise.resolve([]) : serialized(store, () => runBatch(store, requests));

/** The result of an outcome, or its error thrown. */
export const settled = (o: IngestOutcome | undefined): IngestResult => {
  if (!o) throw new Error('[cjm] an ingest batch answered fewer outcomes than it had requests');
  if (!o.ok) throw o.error;
  return o.result;
};

/**
 * Refolds journeys from their stored events under the site's current stage model (after a model change), in one
 * atomic commit per call; a journey without visitors any more is deleted. Runs in the same queue as ingest.
 */
export const refoldJourneys = (store: Store, site: SiteConfig, keys: readonly string[]): Promise<number> =>
  serialized(store, () =>
    retrying(async () => {
      const opts = foldOptions(site);
      const revision = journeyRevision(site);
      const records = await store.getJourneys(site.id, keys);
      const write: Commit = { events: [], links: [], journeys: [], deleteJourneys: [] };
      for (const key of keys) {
        const before = records.get(key);
        if (!before) continue;
        const members = await store.visitorsOfJourney(site.id, key);
        if (members.length === 0) {
          write.deleteJourneys.push(key);
          continue;
        }
        const journey = foldEvents(await store.eventsOfVisitors(site.id, members), opts);
        const r: JourneyRecord = { key, version: before.version + 1, journey, revision };
        r.previous = before.journey;
        write.journeys.push(r);
      }
      if (write.journeys.length > 0 || write.deleteJourneys.length > 0) await store.commit(site.id, write, Date.now());
      return write.journeys.length;
    }),
  );
