/**
 * The storage interface every driver implements (SQLite on Node, D1 on Workers). All methods are async; the core
 * never sees SQL. Writes that must be all-or-nothing go through `commit`, which a driver runs atomically.
 */
import type { Journey, StoredEvent } from './journey';
import type { SiteConfig } from './stages';

/** Which journey a visitor belongs to: their own (key = visitor id) or an identified user's (key = `u:<userId>`). */
export interface VisitorLink {
  visitor: string;
  journey: string;
  userId: string | null;
  /** `(ts, id)` of the identify event that set `userId`: the earliest one wins, whatever the arrival order. */
  identifiedAt: number | null;
  identifyEvent: string | null;
}

export interface JourneyRecord {
  key: string;
  /** Incremented on every write; lets a driver detect concurrent writers. */
  version: number;
  journey: Journey;
}

/** One atomic write: new events, changed links, journeys to upsert and journeys that ceased to exist. */
export interface Commit {
  events: StoredEvent[];
  links: VisitorLink[];
  journeys: JourneyRecord[];
  deleteJourneys: string[];
}

export interface VisitorQuery {
  stage?: string;
  channel?: string;
  converted?: boolean;
  /** Search by visitor id or user id (prefix). */
  q?: string;
  /** Active in the range: last seen ≥ from and first seen ≤ to (ms). */
  from?: number;
  to?: number;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** One row of the visitors list. */
export interface VisitorSummary {
  visitor: string;
  journey: string;
  userId: string | null;
  visitors: number;
  currentStage: string | null;
  furthestStage: string | null;
  converted: boolean;
  firstSeen: number;
  lastSeen: number;
  firstChannel: string | null;
  lastChannel: string | null;
  touches: number;
  sessions: number;
}

export interface TimelineEvent extends StoredEvent {
  receivedAt: number;
}

export interface Store {
  /** A value kept in the database (admin token, salts). With `ifAbsent`, never overwrites; returns what is stored. */
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string, ifAbsent?: boolean): Promise<string>;

  getSite(id: string): Promise<SiteConfig | null>;
  listSites(): Promise<SiteConfig[]>;
  putSite(site: SiteConfig): Promise<void>;

  /** Ids among `ids` already stored for the site. */
  existingEventIds(site: string, ids: readonly string[]): Promise<Set<string>>;
  /** Links of the given visitors (visitors without a stored link are absent). */
  getLinks(site: string, visitors: readonly string[]): Promise<Map<string, VisitorLink>>;
  /** All visitors linked to a journey. */
  visitorsOfJourney(site: string, journey: string): Promise<string[]>;
  getJourneys(site: string, keys: readonly string[]): Promise<Map<string, JourneyRecord>>;
  /** Events of the given visitors in `(ts, id)` order. */
  eventsOfVisitors(site: string, visitors: readonly string[]): Promise<TimelineEvent[]>;
  /** Writes everything or nothing. Inserting an event whose `(site, id)` exists is a no-op. */
  commit(site: string, write: Commit, receivedAt: number): Promise<void>;

  listVisitors(site: string, query: VisitorQuery): Promise<{ visitors: VisitorSummary[]; cursor: string | null }>;
}

/** Thrown by `listVisitors` for a cursor it did not hand out (the API answers 400). */
export class BadCursorError extends Error {}
