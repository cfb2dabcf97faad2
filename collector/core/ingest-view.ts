/**
 * The store as one ingest batch sees it (core/ingest.ts, `ingestBatch`): the reads of the batch's requests, each made
 * once and kept, with the writes of the requests planned before laid over them. So the tenth request of a batch sees
 * the events, links and journeys the first nine will commit (a duplicate across two requests is a duplicate, an
 * identify merge across two visitors of one batch folds once), and at the end the writes of all requests merge into
 * one `Commit` per site: each journey written once, from the state before the batch to the state after it.
 */
import type { AutomationWrite } from './automation/types';
import { compareEvents, type Journey, type StoredEvent } from './journey';
import type { Commit, JourneyRecord, NameEntry, SiteWrite, Store, TimelineEvent, VisitorLink } from './store';

/** The reads an ingest plan makes (core/ingest.ts). */
export type IngestReads = Pick<
  Store,
  | 'existingEventIds'
  | 'getLinks'
  | 'getJourneys'
  | 'visitorsOfJourney'
  | 'eventsOfVisitors'
  | 'knownNames'
  | 'tombstoned'
  | 'listRules'
>;

interface SiteState {
  /** Event ids read: stored (true) or absent (null); and the pending events by id. */
  ids: Map<string, true | null>;
  events: Map<string, { event: StoredEvent; receivedAt: number }>;
  /** Links read from the store (null: none), pending links. */
  readLinks: Map<string, VisitorLink | null>;
  links: Map<string, VisitorLink>;
  /** Journeys as read from the store (null: none) — the base each merged write starts from — and pending ones. */
  base: Map<string, JourneyRecord | null>;
  journeys: Map<string, JourneyRecord | null>;
  members: Map<string, string[]>;
  names: Map<string, NameEntry>;
  counters: Map<string, { day: string; name: NonNullable<Commit['counters']>[number]['name']; value: number }>;
  automation: AutomationWrite;
  tombstones: Map<string, true | null>;
  /** The latest receive time of the requests applied. */
  receivedAt: number;
  rules?: ReturnType<Store['listRules']>;
}

/**
 * Reads, in one call, the keys `cache` has not seen yet, and keeps what it found for each (null: absent), so a batch
 * reads each link, journey, event id or tombstone once however many of its requests ask.
 */
const readThrough = async <V>(
  cache: Map<string, V | null>,
  keys: readonly string[],
  read: (missing: string[]) => Promise<ReadonlyMap<string, V>>,
): Promise<void> => {
  const missing = [...new Set(keys.filter((k) => !cache.has(k)))];
  if (missing.length === 0) return;
  const found = await read(missing);
  for (const k of missing) cache.set(k, found.get(k) ?? null);
};

/** A set of found keys as read-through values. */
const asMap = (found: ReadonlySet<string>): Map<string, true> => new Map([...found].map((k) => [k, true]));

const nameKey = (kind: string, name: string) => `${kind}\u0000${name}`;

export class BatchView implements IngestReads {
  private readonly sites = new Map<string, SiteState>();

  constructor(private readonly store: Store) {}

  private of(site: string): SiteState {
    let s = this.sites.get(site);
    if (!s) {
      s = {
        ids: new Map(),
        events: new Map(),
        readLinks: new Map(),
        links: new Map(),
        base: new Map(),
        journeys: new Map(),
        members: new Map(),
        names: new Map(),
        counters: new Map(),
        automation: { deliveries: [], stalls: [], fired: [] },
        tombstones: new Map(),
        receivedAt: 0,
      };
      this.sites.set(site, s);
    }
    return s;
  }

  /**
   * Reads the links, then the journeys, then the stored event ids of a whole batch at once, in that order: a
   * concurrent writer that stores any of these events after the first read bumps a journey version read here, so
   * the batch's version guard refuses the commit and the retry sees those events (read in the other order, the
   * guard would miss them).
   */
  async prefetch(site: string, visitors: readonly string[], ids: readonly string[]): Promise<void> {
    const links = await this.getLinks(site, visitors);
    await this.getJourneys(site, [...new Set(visitors.map((v) => links.get(v)?.journey ?? v))]);
    await this.existingEventIds(site, ids);
  }

  async existingEventIds(site: string, ids: readonly string[]): Promise<Set<string>> {
    const s = this.of(site);
    await readThrough(
      s.ids,
      ids.filter((id) => !s.events.has(id)),
      async (missing) => asMap(await this.store.existingEventIds(site, missing)),
    );
    return new Set(ids.filter((id) => s.ids.get(id) || s.events.has(id)));
  }

  async getLinks(site: string, visitors: readonly string[]): Promise<Map<string, VisitorLink>> {
    const s = this.of(site);
    await readThrough(s.readLinks, visitors, (missing) => this.store.getLinks(site, missing));
    const out = new Map<string, VisitorLink>();
    for (const v of visitors) {
      const l = s.links.get(v) ?? s.readLinks.get(v);
      if (l) out.set(v, l);
    }
    return out;
  }

  async getJourneys(site: string, keys: readonly string[]): Promise<Map<string, JourneyRecord>> {
    const s = this.of(site);
    await readThrough(s.base, keys, (missing) => this.store.getJourneys(site, missing));
    const out = new Map<string, JourneyRecord>();
    for (const k of keys) {
      const r = s.journeys.has(k) ? s.journeys.get(k) : s.base.get(k);
      // Not copied: a plan clones a journey before it extends it (core/ingest.ts), and never changes one it read.
      if (r) out.set(k, r);
    }
    return out;
  }

  async visitorsOfJourney(site: string, journey: string): Promise<string[]> {
    const s = this.of(site);
    let stored = s.members.get(journey);
    if (!stored) s.members.set(journey, (stored = await this.store.visitorsOfJourney(site, journey)));
    const out = new Set(stored.filter((v) => (s.links.get(v)?.journey ?? journey) === journey));
    for (const [v, l] of s.links) if (l.journey === journey) out.add(v);
    return [...out].sort();
  }

  async eventsOfVisitors(site: string, visitors: readonly string[], latest?: number): Promise<TimelineEvent[]> {
    if (latest !== undefined) throw new Error('[cjm] an ingest batch reads whole journeys');
    const s = this.of(site);
    const wanted = new Set(visitors);
    const out = await this.store.eventsOfVisitors(site, visitors);
    for (const { event, receivedAt } of s.events.values())
      if (wanted.has(event.visitor)) out.push({ ...event, receivedAt });
    return out.sort(compareEvents);
  }

  async knownNames(
    site: string,
    kind: 'event' | 'prop',
    names: readonly string[],
  ): Promise<{ known: Set<string>; total: number }> {
    const s = this.of(site);
    const r = await this.store.knownNames(site, kind, names);
    let pending = 0;
    for (const n of s.names.values()) {
      if (n.kind !== kind || r.known.has(n.name)) continue;
      pending++;
      if (names.includes(n.name)) r.known.add(n.name);
    }
    return { known: r.known, total: r.total + pending };
  }

  async tombstoned(site: string, hashes: readonly string[]): Promise<Set<string>> {
    const s = this.of(site);
    await readThrough(s.tombstones, hashes, async (missing) => asMap(await this.store.tombstoned(site, missing)));
    return new Set(hashes.filter((h) => s.tombstones.get(h)));
  }

  listRules(site: string): ReturnType<Store['listRules']> {
    const s = this.of(site);
    return (s.rules ??= this.store.listRules(site));
  }

  /** Lays one planned request's write over the view: what the next plans of the batch read. */
  apply(site: string, write: Commit, receivedAt: number): void {
    const s = this.of(site);
    if (receivedAt > s.receivedAt) s.receivedAt = receivedAt;
    for (const e of write.events) s.events.set(e.id, { event: e, receivedAt });
    for (const l of write.links) s.links.set(l.visitor, l);
    for (const r of write.journeys) {
      if (!s.base.has(r.key)) throw new Error(`[cjm] journey ${r.key} written by a batch that never read it`);
      s.journeys.set(r.key, r);
    }
    for (const k of write.deleteJourneys) s.journeys.set(k, null);
    for (const n of write.names ?? []) s.names.set(nameKey(n.kind, n.name), n);
    for (const c of write.counters ?? []) {
      const k = `${c.day}\u0000${c.name}`;
      const prev = s.counters.get(k);
      s.counters.set(k, { day: c.day, name: c.name, value: (prev?.value ?? 0) + c.value });
    }
    if (write.automation) {
      s.automation.deliveries.push(...write.automation.deliveries);
      s.automation.stalls.push(...write.automation.stalls);
      s.automation.fired.push(...write.automation.fired);
    }
  }

  /**
   * The batch's writes, one `Commit` per site: each journey once, as a new version of the one read (its derived
   * rows and rollups go from the state before the batch to the state after it); events with their own receive times.
   */
  merged(): SiteWrite[] {
    const out: SiteWrite[] = [];
    for (const [site, s] of this.sites) {
      const write: Commit = { events: [], links: [], journeys: [], deleteJourneys: [], receivedAt: [] };
      for (const { event, receivedAt } of s.events.values()) {
        write.events.push(event);
        write.receivedAt?.push(receivedAt);
      }
      write.links = [...s.links.values()];
      for (const [key, r] of s.journeys) {
        const before = s.base.get(key) ?? null;
        if (r === null) {
          if (before) write.deleteJourneys.push(key);
          continue;
        }
        const record: JourneyRecord = { key, version: (before?.version ?? 0) + 1, journey: r.journey };
        if (r.revision !== undefined) record.revision = r.revision;
        record.previous = before ? (before.journey as Journey) : null;
        write.journeys.push(record);
      }
      if (s.names.size) write.names = [...s.names.values()];
      const counters = [...s.counters.values()].filter((c) => c.value !== 0);
      if (counters.length) write.counters = counters;
      const a = s.automation;
      if (a.deliveries.length + a.stalls.length + a.fired.length > 0) write.automation = a;
      const empty =
        write.events.length + write.links.length + write.journeys.length + write.deleteJourneys.length === 0 &&
        !write.names &&
        !write.counters &&
        !write.automation;
      if (!empty) out.push({ site, write, receivedAt: s.receivedAt });
    }
    return out;
  }
}
