/**
 * The storage interface every driver implements (SQLite on Node, D1 on Workers), composed from one interface per area
 * (events and journeys, reports, privacy, keys, automation, sites and meta). All methods are async; the core never
 * sees SQL. Writes that must be all-or-nothing go through `commit`, which a driver runs atomically.
 */
import type { Role } from './access';
import type { Journey, StoredEvent } from './journey';
import type { SiteConfig } from './stages';
import type { Rule } from './automation/rules';
import type {
  AutomationWrite,
  ClaimedDelivery,
  Delivery,
  DeliveryOutcome,
  DeliveryQuery,
  Stall,
  StallUpdate,
} from './automation/types';

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
  /** The site's `revision` (stage model) the journey was folded under. */
  revision?: number;
  /**
   * On write: the journey as currently stored (its derived rows and rollup sums are in the database), so only changes
   * are written; null when the writer knows none is stored. Left out, the store reads it.
   */
  previous?: Journey | null;
}

/** Per-site per-day counters of what /collect did not store as sent (docs/api.md, "Ingest counters"). */
export type CounterName =
  'dropped' | 'bots' | 'tooOld' | 'deleted' | 'otherNames' | 'otherProps' | 'overQuota' | 'tooManyVisitors' | 'stored';

/** A distinct event name or property key admitted for a site (cardinality bounds). */
export interface NameEntry {
  kind: 'event' | 'prop';
  name: string;
}

/** One atomic write: new events, changed links, journeys to upsert and journeys that ceased to exist. */
export interface Commit {
  events: StoredEvent[];
  links: VisitorLink[];
  journeys: JourneyRecord[];
  deleteJourneys: string[];
  /** Event names / prop keys admitted for the first time. */
  names?: NameEntry[];
  /** Counter increments (added to the day's value). */
  counters?: Array<{ day: string; name: CounterName; value: number }>;
  /** Webhook deliveries and stalls caused by these events (core/automation/plan.ts). */
  automation?: AutomationWrite;
  /** The receive time of each event, parallel to `events` (a batch of requests); absent: the commit's. */
  receivedAt?: number[];
}

/** One site's part of a batch commit (`Store.commitBatch`): its write, at the latest receive time of the batch. */
export interface SiteWrite {
  site: string;
  write: Commit;
  receivedAt: number;
}

/** A cohort of journeys: first seen in [from, to] (ms, inclusive; open when absent). */
export interface DateRange {
  from?: number;
  to?: number;
  /**
   * A site's retention horizon (core/retention.ts, a UTC day start): before it, reports read the rollups alone —
   * edges before it rounded out to whole days, quantiles over a range reaching before it as their bucket's lower
   * bound — since the per-journey rows of those days may be deleted.
   */
  detailsFrom?: number;
  /**
   * The site's time zone (core/timezone.ts; absent: UTC): the whole days of the range, read from the rollups, are its
   * local days, and only the partial first and last local day are read per journey.
   */
  tz?: string;
}

/** Per-stage aggregates over a cohort, from `journey_stages` and `journeys`. */
export interface StageAggregate {
  stage: string;
  reached: number;
  entries: number;
  /** Journeys whose current stage it is. */
  current: number;
  /** Journeys whose furthest stage it is. */
  furthest: number;
  medianToNextMs: number | null;
  toNextSamples: number;
  medianTouches: number | null;
  medianSessions: number | null;
  feedbackSum: number;
  feedbackCount: number;
}

export interface StageAggregates {
  journeys: number;
  converted: number;
  stages: StageAggregate[];
  transitions: Array<{ from: string; to: string; journeys: number; count: number }>;
}

export interface StageDetails {
  channels: Array<{ stage: string; channel: string; journeys: number }>;
  /** At most `top` per stage and kind, most frequent first. */
  items: Array<{ stage: string; kind: 'page' | 'event'; item: string; count: number; journeys: number }>;
  vitals: Array<{ stage: string; name: string; p75: number; samples: number }>;
}

/** A raw event as exported, with its position for paging. */
export interface ExportPage {
  events: TimelineEvent[];
  /** Pass back as `after` for the next page; null when done. */
  next: number | null;
}

export interface VisitorQuery {
  stage?: string;
  /** The first channel (API: `firstChannel`, or `channel` as before). */
  channel?: string;
  /** The channel of the latest session. */
  lastChannel?: string;
  /** The device class of the latest session (`desktop`, `mobile`, `tablet`, `other`). */
  device?: string;
  /** Journeys of an identified user (true) or anonymous ones (false). */
  identified?: boolean;
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
  /** Device class of the latest session. */
  device: string | null;
}

export interface TimelineEvent extends StoredEvent {
  receivedAt: number;
}

/** Events and journeys: what ingest reads and commits, the visitors list, refold bookkeeping and the raw export. */
export interface EventStore {
  /** Ids among `ids` already stored for the site. */
  existingEventIds(site: string, ids: readonly string[]): Promise<Set<string>>;
  /** Links of the given visitors (visitors without a stored link are absent). */
  getLinks(site: string, visitors: readonly string[]): Promise<Map<string, VisitorLink>>;
  /** All visitors linked to a journey. */
  visitorsOfJourney(site: string, journey: string): Promise<string[]>;
  getJourneys(site: string, keys: readonly string[]): Promise<Map<string, JourneyRecord>>;
  /** Events of the given visitors in `(ts, id)` order; with `latest`, only the latest that many (still in order). */
  eventsOfVisitors(site: string, visitors: readonly string[], latest?: number): Promise<TimelineEvent[]>;
  /** Writes everything or nothing. Inserting an event whose `(site, id)` exists is a no-op. */
  commit(site: string, write: Commit, receivedAt: number): Promise<void>;
  /**
   * Commits the writes of many sites of one database in one transaction (core/ingest.ts, `ingestBatch`): all or
   * none; a stale journey of any of them is a ConflictError and nothing is written.
   */
  commitBatch(writes: readonly SiteWrite[]): Promise<void>;

  listVisitors(site: string, query: VisitorQuery): Promise<{ visitors: VisitorSummary[]; cursor: string | null }>;

  /** Refold after a stage-model change: keys of up to `limit` journeys folded under a revision older than `revision`, and how many there are. */
  staleJourneys(site: string, revision: number, limit: number): Promise<{ keys: string[]; pending: number }>;

  /** Raw events in arrival order, `limit` per page, after the position `after` (0 for the first page). */
  exportEvents(site: string, after: number, limit: number, range: DateRange): Promise<ExportPage>;
}

/** Reports: aggregates over the derived tables and rollups only (never the raw events). */
export interface ReportStore {
  stageAggregates(site: string, range: DateRange): Promise<StageAggregates>;
  stageDetails(site: string, range: DateRange, top: number): Promise<StageDetails>;
  /** Converted journeys of the cohort grouped by (first channel, touches, sessions) to conversion. */
  conversionCounts(
    site: string,
    range: DateRange,
    window?: ConversionWindow,
  ): Promise<Array<{ channel: string | null; touches: number; sessions: number; journeys: number }>>;
  /**
   * The cohort's times to convert: each converted journey's ms from its first visit (or from first entering
   * `window.since`, for journeys that entered it no later than they converted) to its conversion, ascending, and how
   * many journeys the cohort holds (that entered `since`). Read from the journeys, not the rollups.
   */
  conversionTimes(
    site: string,
    range: DateRange,
    since?: string,
    segment?: Segment,
  ): Promise<{ journeys: number; times: number[] }>;
  /**
   * `conversionTimes` of every device class at once (the journey's latest device; null: none known), in one pass
   * over the cohort: journeys per device, and the converted ones' times from the first visit, ascending.
   */
  conversionTimesByDevice(
    site: string,
    range: DateRange,
  ): Promise<Array<{ device: string | null; journeys: number; times: number[] }>>;
  /** Whether the site has journeys first seen before `before` (a day start), by its cohort rollups. */
  /** Whether a cohort rollup holds journeys of a local day (in `tz`, default UTC) before the one holding `before`. */
  hasCohortsBefore(site: string, before: number, tz?: string): Promise<boolean>;
  /**
   * Purchases and returns of the cohort's journeys (those folded with purchases counted, FOLD_VERSION 2), from
   * `cohort_lifecycle` and the journeys of partial edge days (migration 0032).
   */
  lifecycleAggregates(site: string, range: DateRange): Promise<LifecycleAggregates>;
  /**
   * Cohort retention rows (migration 0032): per first-visit week (its Monday, `YYYY-MM-DD`, from `fromWeek` to
   * `toWeek` inclusive) and week since (0 … `weeks`), the journeys with a session starting in that week.
   */
  retentionCounts(
    site: string,
    fromWeek: string,
    toWeek: string,
    weeks: number,
  ): Promise<Array<{ week: string; offset: number; journeys: number }>>;
}

/** A segment of journeys by what each journey keeps (its first and last channel, latest device, identified). */
export interface Segment {
  firstChannel?: string;
  lastChannel?: string;
  device?: string;
  identified?: boolean;
}

/** A conversion window: only journeys that converted within `withinMs` of their first visit count. */
export interface ConversionWindow {
  withinMs: number;
}

export interface LifecycleAggregates {
  /** Journeys with at least one purchase. */
  customers: number;
  /** Journeys with at least two purchases. */
  repeatCustomers: number;
  /** Purchases of the customers, in all. */
  purchases: number;
  /** Median (nearest-rank) ms from the first to the second purchase over repeat customers; null when none. */
  medianToSecondPurchaseMs: number | null;
  /** Converted journeys (of those counted here). */
  converted: number;
  /** Converted journeys with a session starting after the conversion. */
  returned: number;
}

/** Privacy and ingest bounds: cardinality of names, counters of what was not stored as sent, tombstones, erasure. */
export interface PrivacyStore {
  /** Which of `names` are admitted for the site, and how many of the kind are admitted in total. */
  knownNames(
    site: string,
    kind: NameEntry['kind'],
    names: readonly string[],
  ): Promise<{ known: Set<string>; total: number }>;
  getCounters(
    site: string,
    fromDay?: string,
    toDay?: string,
  ): Promise<Array<{ day: string; name: CounterName; value: number }>>;
  /** Adds to counters outside an ingest commit (e.g. bots). */
  addCounters(site: string, counters: NonNullable<Commit['counters']>): Promise<void>;
  /** Which of the hashes are tombstoned for the site. */
  tombstoned(site: string, hashes: readonly string[]): Promise<Set<string>>;
  /**
   * Erases a journey everywhere (events of `visitors`, their links, the journey and its derived rows) and writes
   * tombstones for `hashes`, atomically. Returns the number of events erased.
   */
  erase(
    site: string,
    journey: string,
    visitors: readonly string[],
    hashes: readonly string[],
    at: number,
  ): Promise<number>;
  /**
   * Retention, one bounded chunk: deletes journeys of the site whose last activity is before `before` (oldest
   * first), at most `limit.journeys` of them and, but for a single journey, at most `limit.events` events, with their
   * visitors' events and links, automation rows and derived rows, atomically — the path of `erase`, except that the
   * cohort rollups keep the journeys' sums and no tombstone is written. A journey with more events than
   * `limit.events` has them deleted in slices first. A journey active again since it was chosen keeps the whole
   * chunk undone (0 deleted; the next call chooses again without it). `done`: nothing was left to delete.
   */
  expire(
    site: string,
    before: number,
    limit: { journeys: number; events: number },
  ): Promise<{ journeys: number; events: number; done: boolean }>;
  /**
   * After an erasure: make the erased rows unrecoverable from the database files where the driver can (SQLite: a
   * WAL checkpoint that truncates the log; pages are zeroed by `secure_delete`). Absent on D1 (docs/api.md).
   */
  scrub?(): Promise<void>;
}

/**
 * Rewriting what earlier versions stored with unkeyed hashes (core/rekey.ts): tombstones (SHA-256 hex) and
 * server-side visitor ids (`srv:`/`srva:` + 32 hex). Run in place, page by page, on SQLite and D1 alike.
 */
export interface RekeyStore {
  /** Up to `limit` tombstones still in the unkeyed form (64 hex digits). */
  legacyTombstones(limit: number): Promise<Array<{ site: string; hash: string }>>;
  /** Replaces tombstones (same site and `deleted_at`), atomically. */
  rekeyTombstones(rows: ReadonlyArray<{ site: string; from: string; to: string }>): Promise<void>;
  /** Up to `limit` visitors of the site with a server-side id of the unkeyed form. */
  legacyServerVisitors(site: string, limit: number): Promise<string[]>;
  /**
   * Renames visitors everywhere their id is stored (events, links, journeys and their state, derived rows, stalls,
   * deliveries), atomically. The new ids must be unused.
   */
  renameVisitors(site: string, renames: ReadonlyArray<{ from: string; to: string }>): Promise<void>;
}

/** Server-side write keys (docs/server-side.md). */
export interface KeyStore {
  /** A new key; `key` is the secret, shown once and never stored. */
  createWriteKey(site: string, name: string, now?: number): Promise<{ key: string; writeKey: WriteKey }>;
  /** A site's keys, newest first, revoked ones included (with `revokedAt`). */
  listWriteKeys(site: string): Promise<WriteKey[]>;
  /** Revokes a key of the site (idempotent); null when the site has no key with that id. */
  revokeWriteKey(site: string, id: string, now?: number): Promise<WriteKey | null>;
  /** The key whose secret is `key` (revoked or not), or null. Compares SHA-256 hashes only. */
  findWriteKey(key: string): Promise<WriteKey | null>;
  /** Records that a key was used at `at` (written at most once a minute per key). */
  touchWriteKey(id: string, at: number): Promise<void>;
}

/** Journey automation (core/automation, docs/automation.md): rules, armed stalls, the delivery queue and its log. */
export interface AutomationStore {
  /** A site's rules, oldest first. */
  listRules(site: string): Promise<Rule[]>;
  /** Creates or replaces a rule; armed stalls of the rule are rescheduled to its (new) delay. */
  putRule(rule: Rule): Promise<void>;
  /** Deletes a rule, its armed stalls, and gives up its pending deliveries; false when there was none. */
  deleteRule(site: string, id: string, now?: number): Promise<boolean>;
  /** Deliveries of a site (optionally of one rule), newest first, each with its attempts. */
  listDeliveries(site: string, query: DeliveryQuery): Promise<Delivery[]>;
  /** Armed stalls of every site due at `now`, earliest first. */
  dueStalls(now: number, limit: number): Promise<Stall[]>;
  updateStalls(updates: readonly StallUpdate[], now: number): Promise<void>;
  /** Claims up to `limit` due pending deliveries for `leaseMs` (a crashed run's claim expires). */
  claimDeliveries(now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt and the delivery's new state, if the claim is still the caller's. */
  finishDelivery(delivery: ClaimedDelivery, outcome: DeliveryOutcome): Promise<void>;
  /** Deletes up to `limit` finished deliveries (with their attempts) and retired stalls older than `before`. */
  pruneAutomation(before: number, limit: number): Promise<{ deliveries: number; stalls: number }>;
}

/** Sites and meta: site configurations, and values kept in the database (admin token, salts). */
export interface SiteStore {
  /** A value kept in the database. With `ifAbsent`, never overwrites; returns what is stored. */
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string, ifAbsent?: boolean): Promise<string>;
  /** Meta keys starting with `prefix`, with their values. */
  listMeta(prefix: string): Promise<Array<{ key: string; value: string }>>;
  deleteMeta(keys: readonly string[]): Promise<void>;

  getSite(id: string): Promise<SiteConfig | null>;
  listSites(): Promise<SiteConfig[]>;
  putSite(site: SiteConfig): Promise<void>;
}

/** A user account (never its password hash, except through `UserRecord`). */
export interface User {
  id: string;
  /** Lower-cased. */
  email: string;
  /** Made by the bootstrap invite: owner of every site (core/access.ts). */
  instanceOwner: boolean;
  createdAt: number;
  passwordChangedAt: number;
}
export interface UserRecord extends User {
  passwordHash: string;
}

export interface Membership {
  site: string;
  userId: string;
  email: string;
  role: Role;
  createdAt: number;
}

/** A dashboard session (the cookie carries its secret; the table keeps the secret's SHA-256 as `id`). */
export interface SessionRecord {
  id: string;
  /** null: signed in with the admin token. */
  userId: string | null;
  /** Admin-token sessions: a tag of the token they were made with (rotating the token ends them). */
  tokenTag: string | null;
  createdAt: number;
  lastSeenAt: number;
  /** The absolute end, whatever the activity. */
  expiresAt: number;
  revokedAt: number | null;
}

/** A personal API token as listed: never the secret, only its first characters. */
export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  /** `cjm_pat_` and the first characters of the secret. */
  prefix: string;
  /** The most the token may do (never above its user's role). */
  role: Role;
  /** The one site it works on, or null for all of its user's sites. */
  site: string | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** A one-time invite link (the secret is in the link; the table keeps its SHA-256). */
export interface Invite {
  id: string;
  /** null: the bootstrap invite, which makes an instance owner. */
  site: string | null;
  role: Role;
  /** The actor id of who made it (`user:<id>`, `admin-token`, `bootstrap`). */
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  usedBy: string | null;
  revokedAt: number | null;
}

/** A public, read-only link to one site's journey map and funnel. */
export interface ShareLink {
  id: string;
  site: string;
  name: string;
  /** The first characters of the link's secret, to tell links apart. */
  prefix: string;
  hasPassword: boolean;
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  lastViewedAt: number | null;
  revokedAt: number | null;
}
export interface ShareLinkRecord extends ShareLink {
  passwordHash: string | null;
}

/** One entry of a site's audit log: who did what, when. Append-only. */
export interface AuditEntry {
  id: number;
  site: string;
  at: number;
  /** `user:<id>`, `token:<id>`, `admin-token`. */
  actor: string;
  /** The actor's e-mail (or `admin token`) when it acted. */
  actorLabel: string;
  /** `site.update`, `stages.update`, `rule.create`, `key.revoke`, `member.role`, `visitor.erase`, … */
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}
export type AuditInput = Omit<AuditEntry, 'id'>;

/** What accepting an invite does: a new account, or a role for an existing user. */
export type InviteAcceptance = { kind: 'new-user'; user: UserRecord } | { kind: 'existing-user'; userId: string };

/**
 * Teams (core/access.ts, docs/api.md "Users, roles and tokens"): users, their roles per site, dashboard sessions,
 * personal API tokens, invites, share links and the audit log. Instance-wide: on a deployment with a database per
 * site it lives in the main database beside the sites and meta. Secrets are never stored: sessions, tokens, invites
 * and share links are looked up by the SHA-256 of their secret, passwords by a KDF hash (core/passwords.ts).
 */
export interface TeamStore {
  getUser(id: string): Promise<UserRecord | null>;
  findUserByEmail(email: string): Promise<UserRecord | null>;
  listUsers(): Promise<User[]>;
  /** How many users exist (0 before the first one: the start banner then prints a bootstrap invite). */
  countUsers(): Promise<number>;
  /** Replaces a password hash; with `revokeSessionsExcept` (a session id, or null for all) ends the user's sessions. */
  setPasswordHash(userId: string, hash: string, at: number, revokeSessionsExcept?: string | null): Promise<void>;

  /** A user's roles, site → role. */
  rolesOf(userId: string): Promise<Map<string, Role>>;
  listMembers(site: string): Promise<Membership[]>;
  /** Sets a member's role; false when the user is no member of the site. */
  setMemberRole(site: string, userId: string, role: Role): Promise<boolean>;
  /** Removes a member and revokes their tokens scoped to that site; false when there was none. */
  removeMember(site: string, userId: string, at: number): Promise<boolean>;

  createSession(session: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | null>;
  /** Records activity (written at most once a minute per session). */
  touchSession(id: string, at: number): Promise<void>;
  revokeSession(id: string, at: number): Promise<void>;
  /** Revokes every live session of a user (null: of the admin token), except `except`; returns how many. */
  revokeSessions(userId: string | null, at: number, except?: string): Promise<number>;
  /** Deletes sessions that ended before `before` (expired or revoked); returns how many. */
  pruneSessions(before: number, limit: number): Promise<number>;

  createApiToken(token: ApiToken, hash: string): Promise<void>;
  listApiTokens(userId: string): Promise<ApiToken[]>;
  findApiToken(hash: string): Promise<ApiToken | null>;
  touchApiToken(id: string, at: number): Promise<void>;
  /** Revokes a token of the user (idempotent); null when the user has none by that id. */
  revokeApiToken(userId: string, id: string, at: number): Promise<ApiToken | null>;

  createInvite(invite: Invite, hash: string): Promise<void>;
  findInvite(hash: string): Promise<Invite | null>;
  /** Pending and past invites of a site (null: bootstrap invites), newest first. */
  listInvites(site: string | null): Promise<Invite[]>;
  revokeInvite(site: string | null, id: string, at: number): Promise<Invite | null>;
  /**
   * Uses an invite once, atomically: marks it used and creates the user (or gives the existing user the role). Does
   * nothing and returns false when it is used, revoked or expired by then, or (a new user) the e-mail is taken.
   */
  acceptInvite(inviteId: string, at: number, acceptance: InviteAcceptance): Promise<boolean>;

  createShareLink(link: ShareLinkRecord, hash: string): Promise<void>;
  findShareLink(hash: string): Promise<ShareLinkRecord | null>;
  listShareLinks(site: string): Promise<ShareLink[]>;
  revokeShareLink(site: string, id: string, at: number): Promise<ShareLink | null>;
  /** Records a view (written at most once a minute per link). */
  touchShareLink(id: string, at: number): Promise<void>;

  /** Appends to a site's audit log (there is no way to change or delete an entry). */
  appendAudit(entry: AuditInput): Promise<void>;
  /** A site's audit log, newest first: `limit` entries with an id below `before` (all when absent). */
  listAudit(site: string, limit: number, before?: number): Promise<AuditEntry[]>;
}

/** The whole store: one interface per area. A function that needs one area may ask for that area only. */
export interface Store
  extends EventStore, ReportStore, PrivacyStore, KeyStore, AutomationStore, SiteStore, RekeyStore, TeamStore {}

/** A write key as listed: never the secret, only its first characters. */
export interface WriteKey {
  id: string;
  site: string;
  name: string;
  /** The first characters of the secret (`cjm_wk_AbCd`), to tell keys apart. */
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Thrown by `listVisitors` for a cursor it did not hand out (the API answers 400). */
export class BadCursorError extends Error {}

/**
 * Thrown by `commit` when a journey it writes was changed by another writer since it was read (its `version` is not
 * the one before the record's): nothing was written; the caller retries from fresh reads (core/ingest.ts does).
 */
export class ConflictError extends Error {}

/**
 * A write the store cannot take now, through no fault of the request: the client should send it again later (the
 * API answers 503 with `Retry-After`; the tag keeps the events in its outbox and retries). Nothing of the write was
 * stored.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    /** Seconds until a retry is worth it (`Retry-After`). */
    readonly retryAfter = 60,
    /** The database concerned (a D1 binding name), when known. */
    public database?: string,
  ) {
    super(message);
  }
}

/**
 * Thrown by a connector when the disk or the database is full (`SQLITE_FULL` from better-sqlite3, D1's "Exceeded
 * maximum DB size"): nothing of the write was stored (stores/full.ts matches the drivers' errors).
 */
export class StoreFullError extends StoreUnavailableError {}

/**
 * Thrown for a write of a site whose data is being moved to another database (`npm run move-site`), or that moved
 * away from this one: nothing was written; the client retries, and reaches the site's new database.
 */
export class SiteMovingError extends StoreUnavailableError {
  constructor(
    message: string,
    readonly site: string,
  ) {
    super(message, 30);
  }
}
