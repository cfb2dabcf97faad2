/**
 * Checks a store against its own events: every stored journey equals the journey refolded from scratch from the
 * events of its visitors, every visitor with events belongs to a stored journey, and no event is counted twice.
 * The fault tests run it after crashes and after fuzzing.
 */
import type Database from 'better-sqlite3';
import { foldOptions } from '../../collector/core/ingest';
import { foldEvents, type Journey, type StoredEvent } from '../../collector/core/journey';
import type { Store } from '../../collector/core/store';

export interface ConsistencyReport {
  events: number;
  journeys: number;
  visitors: number;
  /** Journeys whose stored state differs from the refold, with the first difference. */
  mismatches: string[];
}

/** Journey keys of a site, read straight from SQLite (the Store interface lists them only page by page). */
export const journeyKeys = (db: Database.Database, site: string): string[] =>
  (db.prepare('SELECT key FROM journeys WHERE site = ? ORDER BY key').all(site) as { key: string }[]).map((r) => r.key);

const firstDifference = (a: unknown, b: unknown, path = ''): string | null => {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return `${path || '.'}: stored ${JSON.stringify(a)?.slice(0, 120)} ≠ refold ${JSON.stringify(b)?.slice(0, 120)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return `${path}: key order differs`;
};

export const checkConsistency = async (
  store: Store,
  db: Database.Database,
  siteId: string,
): Promise<ConsistencyReport> => {
  const site = await store.getSite(siteId);
  if (!site) throw new Error(`[cjm faults] no site "${siteId}"`);
  const opts = foldOptions(site);
  const keys = journeyKeys(db, siteId);
  const records = new Map<string, { journey: Journey }>();
  for (let i = 0; i < keys.length; i += 90) {
    for (const [k, r] of await store.getJourneys(siteId, keys.slice(i, i + 90))) records.set(k, r);
  }
  const mismatches: string[] = [];
  let folded = 0;
  // Everything in a few queries (the store chunks its IN lists), then grouped in memory: journey → visitors → events.
  const links = db.prepare('SELECT visitor, journey FROM visitors WHERE site = ?').all(siteId) as {
    visitor: string;
    journey: string;
  }[];
  const members = new Map<string, string[]>();
  for (const l of links) members.set(l.journey, [...(members.get(l.journey) ?? []), l.visitor]);
  const seenVisitors = new Set(links.map((l) => l.visitor));
  const byVisitor = new Map<string, StoredEvent[]>();
  for (const e of await store.eventsOfVisitors(siteId, [...seenVisitors])) {
    // The refold sees the events as the fold saw them at ingest: without the read-side receivedAt.
    const { receivedAt: _r, ...plain } = e;
    byVisitor.set(e.visitor, [...(byVisitor.get(e.visitor) ?? []), plain]);
  }
  for (const key of keys) {
    const events = (members.get(key) ?? []).flatMap((v) => byVisitor.get(v) ?? []);
    const refold = foldEvents(events, opts);
    folded += refold.events;
    const stored = records.get(key)!.journey;
    const d = firstDifference(stored, refold);
    if (d) mismatches.push(`journey ${key}: ${d}`);
  }
  const total = (db.prepare('SELECT count(*) AS n FROM events WHERE site = ?').get(siteId) as { n: number }).n;
  const distinct = (
    db.prepare('SELECT count(DISTINCT id) AS n FROM events WHERE site = ?').get(siteId) as { n: number }
  ).n;
  if (total !== distinct) mismatches.push(`events: ${total} rows but ${distinct} distinct ids`);
  if (folded !== total) mismatches.push(`events: ${total} stored but ${folded} folded into journeys`);
  const withEvents = db.prepare('SELECT DISTINCT visitor FROM events WHERE site = ?').all(siteId) as {
    visitor: string;
  }[];
  for (const { visitor } of withEvents) {
    if (!seenVisitors.has(visitor)) mismatches.push(`visitor ${visitor} has events but belongs to no journey`);
  }
  return { events: total, journeys: keys.length, visitors: withEvents.length, mismatches };
};
