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
import { comesAfter, compareEvents, foldEvents, type FoldOptions, type Journey, type StoredEvent } from './journey';
import type { WireEvent } from './protocol';
import { compileStages, type SiteConfig, type StageModel } from './stages';
import { ConflictError, type Commit, type JourneyRecord, type Store, type VisitorLink } from './store';

/** Journey key of an identified user. */
export const userJourneyKey = (userId: string) => `u:${userId}`;

/** A wire event plus what only the collector sets: a touchpoint's channel (server-side API), the synthetic flag. */
export type IngestEvent = WireEvent & Pick<StoredEvent, 'channel' | 'synthetic'>;

/** The wire event as stored: only the fields that are set. */
export const toStoredEvent = (e: IngestEvent, visitor: string): StoredEvent => {
  const s: StoredEvent = { id: e.id, visitor, type: e.type, ts: e.ts };
  if (e.url !== undefined) s.url = e.url;
  if (e.referrer !== undefined) s.referrer = e.referrer;
  if (e.title !== undefined) s.title = e.title;
  if (e.name !== undefined) s.name = e.name;
  if (e.stage !== undefined) s.stage = e.stage;
  if (e.props !== undefined) s.props = e.props;
  if (e.userId !== undefined) s.userId = e.userId;
  if (e.value !== undefined) s.value = e.value;
  if (e.channel) s.channel = e.channel;
  if (e.synthetic) s.synthetic = true;
  return s;
};

const models = new WeakMap<SiteConfig, StageModel>();
/** Fold options of a site (the compiled stage model is cached per config object). */
export const foldOptions = (site: SiteConfig): FoldOptions => {
  let model = models.get(site);
  if (!model) models.set(site, (model = compileStages(site)));
  const siteHosts: string[] = [];
  for (const o of site.origins) {
    try {
      siteHosts.push(new URL(o).hostname);
    } catch {
      /* origins are checked when saved */
    }
  }
  return { model, sessionTimeoutMs: site.sessionTimeoutMinutes * 60_000, siteHosts };
};

const locks = new WeakMap<Store, Promise<unknown>>();
/** Runs ingests of one store one after another, so two requests never fold the same journey at once. */
const serialized = <T>(store: Store, fn: () => Promise<T>): Promise<T> => {
  const prev = locks.get(store) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  locks.set(store, next.catch(() => undefined));
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
      best.identifiedAt === null ||
      compareEvents(e, { ts: best.identifiedAt, id: best.identifyEvent ?? '' }) < 0;
    if (earlier) {
      best = { visitor: link.visitor, journey: userJourneyKey(e.userId), userId: e.userId, identifiedAt: e.ts, identifyEvent: e.id };
    }
  }
  return best;
};

export interface IngestResult {
  accepted: number;
  duplicates: number;
}

/**
 * Stores the events of one visitor and updates their journey.
 *
 * @example
 * await ingest(store, site, 'v1', [{ id: 'e1', type: 'page', ts: Date.now(), url: 'https://shop/' }], Date.now())
 */
export const ingest = (
  store: Store,
  site: SiteConfig,
  visitor: string,
  wire: readonly IngestEvent[],
  receivedAt: number,
): Promise<IngestResult> =>
  serialized(store, () => retrying(async () => {
    const byId = new Map<string, StoredEvent>();
    for (const e of wire) if (!byId.has(e.id)) byId.set(e.id, toStoredEvent(e, visitor));
    const existing = await store.existingEventIds(site.id, [...byId.keys()]);
    const fresh = [...byId.values()].filter((e) => !existing.has(e.id));
    const duplicates = wire.length - fresh.length;
    if (fresh.length === 0) return { accepted: 0, duplicates };

    const opts = foldOptions(site);
    const stored = (await store.getLinks(site.id, [visitor])).get(visitor);
    const link: VisitorLink = stored ?? { visitor, journey: visitor, userId: null, identifiedAt: null, identifyEvent: null };
    const next = relink(link, fresh);
    const keys = next.journey === link.journey ? [next.journey] : [next.journey, link.journey];
    const records = await store.getJourneys(site.id, keys);
    const entriesBefore = entriesOf(records); // automation compares them with the entries after the fold

    const refold = async (key: string, include: boolean): Promise<Journey | null> => {
      const members = new Set(await store.visitorsOfJourney(site.id, key));
      if (include) members.add(visitor);
      else members.delete(visitor);
      if (members.size === 0) return null;
      const events = await store.eventsOfVisitors(site.id, [...members]);
      return foldEvents(include ? [...events, ...fresh] : events, opts);
    };
    const record = (key: string, journey: Journey): JourneyRecord => ({
      key,
      version: (records.get(key)?.version ?? 0) + 1,
      journey,
    });

    const write: Commit = { events: fresh, links: [], journeys: [], deleteJourneys: [] };
    if (!stored || next !== link) write.links.push(next);
    const current = records.get(next.journey);
    if (next.journey === link.journey && current && fresh.every((e) => comesAfter(current.journey, e))) {
      write.journeys.push(record(next.journey, foldEvents(fresh, opts, current.journey)));
    } else {
      write.journeys.push(record(next.journey, (await refold(next.journey, true)) as Journey));
      if (next.journey !== link.journey && stored) {
        const old = await refold(link.journey, false);
        if (old) write.journeys.push(record(link.journey, old));
        else write.deleteJourneys.push(link.journey);
      }
    }
    write.automation = await planAutomation(store, site, fresh, entriesBefore, write.journeys, receivedAt);
    await store.commit(site.id, write, receivedAt);
    return { accepted: fresh.length, duplicates };
  }));
