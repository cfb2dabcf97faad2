/**
 * The routing store: one Store over several databases (docs/scaling.md, "One database per large site"). A site's
 * data (events, journeys, reports, privacy, automation) goes to the database its settings name; settings, write
 * keys, meta and teams (users, roles, sessions, tokens, invites, share links, each site's audit log) stay in the
 * main database (`DB`); cross-site work (due stalls, delivery claims, automation pruning)
 * runs on every database and merges. The SQL is the same (stores/sql/); only the connector changes.
 *
 * The routing table is in the main database's `meta`: `site-database:<site>` → the binding name (`DB_SHOP`), absent
 * for sites kept in main. It is read with the site (one query) and shown as the site's `database` field; it is set
 * when a site is created with one, and afterwards only by `npm run move-site`, which moves the data first. A
 * `putSite` never changes it, so a settings form saved during a move cannot undo the switch.
 *
 * Every write of a site's data carries a guard statement that fails the whole batch while the database holds a
 * `site-paused:<site>` row (written by move-site into the source and the target while it copies, and kept in the
 * source afterwards): such a write is `SiteMovingError` (503, retried by the client), never a write into a database
 * the site is leaving. Cross-site passes skip a database while a move involving it is under way.
 *
 * One routing store per request on Workers (collector/worker.ts builds it from `env`): the site → database lookups
 * are kept for the store's lifetime.
 *
 * @example
 * const store = createRoutedStore({ DB: d1Connector(env.DB), DB_SHOP: d1Connector(env.DB_SHOP) })
 */
import type { Rule } from '../core/automation/rules';
import type { ClaimedDelivery, Stall, StallUpdate } from '../core/automation/types';
import type { SiteConfig } from '../core/stages';
import type { StorageEvents } from '../core/services/health';
import { SiteMovingError, StoreFullError, StoreUnavailableError, type SiteWrite, type Store } from '../core/store';
import { createSqlStore, type SqlConnector, type SqlStatement } from './sql';
import { query, sql } from './sql/shared';

/** The main database's binding name (wrangler.toml). */
export const MAIN_DATABASE = 'DB';

/** Meta keys of the routing table and of moves (kept in `meta`, which every database has). */
export const META = {
  /** main: the database of a site kept elsewhere than main. */
  database: (site: string) => `site-database:${site}`,
  /** any database: writes of the site's data are refused here (a move is under way, or the site moved away). */
  paused: (site: string) => `site-paused:${site}`,
  pausedPrefix: 'site-paused:',
  /** main: the progress of a move (stores/move.ts). */
  move: (site: string) => `site-move:${site}`,
  movePrefix: 'site-move:',
} as const;

/** The value of a `site-paused:<site>` row. */
export interface PauseRecord {
  /** `moving`: the copy is under way (the site's writes wait, cross-site passes skip this database); `moved`: gone. */
  state: 'moving' | 'moved';
  from: string;
  to: string;
  at: number;
}

export interface RoutedStoreOptions {
  /** The main database's name among `databases` (default `DB`). */
  main?: string;
  /** Where a site's data lives (default: the routing table in main's meta). Tests route by a fixed table. */
  databaseOf?: (site: string) => string | undefined | Promise<string | undefined>;
  /** Told of every full error and every write that went through, per database (core/services/health.ts). */
  monitor?: StorageEvents;
  /** The store's `scrub` after an erasure (stores/sqlite.ts: a checkpoint that truncates the log). */
  scrub?: () => Promise<void>;
}

/** The guard of a site's writes: a NOT NULL violation (meta.value) exactly when the site is paused here. */
const pauseGuard = (site: string): SqlStatement =>
  sql`INSERT INTO meta (key, value) SELECT 'cjm:site-paused', NULL WHERE EXISTS (SELECT 1 FROM meta WHERE key = ${META.paused(site)})`;

/** The pause row of a site in one database, or null. */
export const readPause = async (db: SqlConnector, site: string): Promise<PauseRecord | null> => {
  const [row] = await query<{ value: string }>(db, sql`SELECT value FROM meta WHERE key = ${META.paused(site)}`);
  return row ? (JSON.parse(row.value) as PauseRecord) : null;
};

const movingError = (site: string, p: PauseRecord): SiteMovingError =>
  new SiteMovingError(
    p.state === 'moving'
      ? `[cjm] site "${site}" is being moved from ${p.from} to ${p.to} (npm run move-site): nothing was written; its writes resume when the copy is done, retry later`
      : `[cjm] site "${site}" moved from ${p.from} to ${p.to} on ${new Date(p.at).toISOString()}: nothing was written here; retry (the next request reaches ${p.to})`,
    site,
  );

/** Marks a StoreFullError (or any unavailability) with the database it came from, and tells the monitor. */
const named = (db: SqlConnector, name: string, monitor: StorageEvents | undefined): SqlConnector => {
  const mark = (e: unknown) => {
    if (e instanceof StoreUnavailableError && e.database === undefined) e.database = name;
    if (e instanceof StoreFullError) monitor?.full(name, e, Date.now());
    return e;
  };
  return {
    all: async (text, params) => {
      try {
        return await db.all(text, params);
      } catch (e) {
        throw mark(e);
      }
    },
    batch: async (statements) => {
      try {
        await db.batch(statements);
      } catch (e) {
        throw mark(e);
      }
    },
  };
};

/**
 * A connector whose batches refuse to commit while the site is paused in this database. A batch that went through
 * tells the monitor the database takes the site's writes again (settings and meta writes do not count: a small
 * write can fit in a full database's last free page while an ingest does not).
 */
const guarded = (
  db: SqlConnector,
  sites: string | readonly string[],
  name: string,
  monitor: StorageEvents | undefined,
): SqlConnector => {
  const all = typeof sites === 'string' ? [sites] : sites;
  return {
    all: (text, params) => db.all(text, params),
    batch: async (statements) => {
      if (statements.length === 0) return;
      try {
        await db.batch([...all.map(pauseGuard), ...statements]);
      } catch (e) {
        for (const site of all) {
          const paused = await readPause(db, site).catch(() => null);
          if (paused) throw movingError(site, paused);
        }
        throw e;
      }
      monitor?.written(name, Date.now());
    },
  };
};

/** Sorts by `(key, site, id)`: merged results of several databases in one deterministic order. */
const byKey =
  <T extends { site: string; id: string }>(key: (x: T) => number) =>
  (a: T, b: T): number =>
    key(a) - key(b) || (a.site < b.site ? -1 : a.site > b.site ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The Store over `databases` (name → connector; the main one named `options.main`, default `DB`).
 */
export const createRoutedStore = (
  databases: Readonly<Record<string, SqlConnector>>,
  options: RoutedStoreOptions = {},
): Store => {
  const mainName = options.main ?? MAIN_DATABASE;
  const names = Object.keys(databases);
  const raw = new Map(names.map((n) => [n, named(databases[n] as SqlConnector, n, options.monitor)]));
  const mainDb = raw.get(mainName);
  if (!mainDb)
    throw new Error(`[cjm] the routing store has no main database "${mainName}" (it has ${names.join(', ')})`);
  const main = createSqlStore(mainDb);
  const whole = new Map(names.map((n) => [n, createSqlStore(raw.get(n) as SqlConnector)]));

  // site → its database's name, for the store's lifetime (undefined: main).
  const placed = new Map<string, Promise<string | undefined>>();
  const place = (site: string, database: string | undefined) => {
    if (!options.databaseOf) placed.set(site, Promise.resolve(database));
  };
  const lookup = async (site: string): Promise<string | undefined> => {
    if (options.databaseOf) return options.databaseOf(site);
    const [row] = await query<{ value: string }>(
      mainDb,
      sql`SELECT value FROM meta WHERE key = ${META.database(site)}`,
    );
    return row?.value;
  };
  const databaseOf = async (site: string): Promise<string> => {
    let p = placed.get(site);
    if (!p) placed.set(site, (p = lookup(site)));
    return (await p) ?? mainName;
  };

  const stores = new Map<string, Store>();
  /** The store of one site's data: its database, with the pause guard on every write. */
  const of = async (site: string): Promise<Store> => {
    const name = await databaseOf(site);
    const db = raw.get(name);
    if (!db) {
      throw new StoreUnavailableError(
        `[cjm] site "${site}" keeps its data in the D1 database ${name}, which this Worker has no binding for: add it to wrangler.toml ([[d1_databases]] binding = "${name}") and deploy`,
        60,
        name,
      );
    }
    const k = `${name}\u0000${site}`;
    let s = stores.get(k);
    if (!s) stores.set(k, (s = createSqlStore(guarded(db, site, name, options.monitor))));
    return s;
  };

  /** The databases cross-site passes run on: those no move is copying into or out of, main first. */
  const active = async (): Promise<Array<[string, Store]>> => {
    const out: Array<[string, Store]> = [];
    for (const [n, db] of raw) {
      const [moving] = await query<{ n: number }>(
        db,
        sql`SELECT 1 AS n FROM meta WHERE key >= ${META.pausedPrefix} AND key < ${'site-paused;'}
            AND json_extract(value, '$.state') = 'moving' LIMIT 1`,
      );
      if (!moving) out.push([n, whole.get(n) as Store]);
    }
    return out.sort(([a], [b]) => (a === mainName ? -1 : b === mainName ? 1 : a < b ? -1 : a > b ? 1 : 0));
  };

  const fromRow = (r: { id: string; config: string; db: string | null }): SiteConfig => {
    const config = JSON.parse(r.config) as SiteConfig;
    delete config.database;
    if (r.db) config.database = r.db;
    place(r.id, r.db ?? undefined);
    return config;
  };

  return {
    ...(options.scrub ? { scrub: options.scrub } : {}),

    // ----- site data: the site's database -----
    existingEventIds: async (site, ids) => (await of(site)).existingEventIds(site, ids),
    getLinks: async (site, visitors) => (await of(site)).getLinks(site, visitors),
    visitorsOfJourney: async (site, journey) => (await of(site)).visitorsOfJourney(site, journey),
    getJourneys: async (site, keys) => (await of(site)).getJourneys(site, keys),
    eventsOfVisitors: async (site, visitors, latest) => (await of(site)).eventsOfVisitors(site, visitors, latest),
    commit: async (site, write, receivedAt) => (await of(site)).commit(site, write, receivedAt),
    // One transaction per database, guarded against a move of any of its sites (a batch over sites in two
    // databases is two commits: each atomic, not both together).
    async commitBatch(writes) {
      const byDb = new Map<string, SiteWrite[]>();
      for (const w of writes) {
        await of(w.site); // refuses a site whose database this runtime has no binding for
        const name = await databaseOf(w.site);
        const group = byDb.get(name) ?? [];
        group.push(w);
        byDb.set(name, group);
      }
      for (const [name, group] of byDb) {
        const sites = [...new Set(group.map((w) => w.site))];
        const db = raw.get(name) as SqlConnector;
        await createSqlStore(guarded(db, sites, name, options.monitor)).commitBatch(group);
      }
    },
    listVisitors: async (site, q) => (await of(site)).listVisitors(site, q),
    staleJourneys: async (site, revision, limit) => (await of(site)).staleJourneys(site, revision, limit),
    exportEvents: async (site, after, limit, range) => (await of(site)).exportEvents(site, after, limit, range),
    stageAggregates: async (site, range) => (await of(site)).stageAggregates(site, range),
    stageDetails: async (site, range, top) => (await of(site)).stageDetails(site, range, top),
    conversionCounts: async (site, range, window) => (await of(site)).conversionCounts(site, range, window),
    conversionTimes: async (site, range, since, segment) =>
      (await of(site)).conversionTimes(site, range, since, segment),
    hasCohortsBefore: async (site, before, tz) => (await of(site)).hasCohortsBefore(site, before, tz),
    conversionTimesByDevice: async (site, range) => (await of(site)).conversionTimesByDevice(site, range),
    lifecycleAggregates: async (site, range) => (await of(site)).lifecycleAggregates(site, range),
    retentionCounts: async (site, fromWeek, toWeek, weeks) =>
      (await of(site)).retentionCounts(site, fromWeek, toWeek, weeks),
    knownNames: async (site, kind, list) => (await of(site)).knownNames(site, kind, list),
    getCounters: async (site, fromDay, toDay) => (await of(site)).getCounters(site, fromDay, toDay),
    addCounters: async (site, counters) => (await of(site)).addCounters(site, counters),
    tombstoned: async (site, hashes) => (await of(site)).tombstoned(site, hashes),
    erase: async (site, journey, visitors, hashes, at) => (await of(site)).erase(site, journey, visitors, hashes, at),
    expire: async (site, before, limit) => (await of(site)).expire(site, before, limit),
    listRules: async (site) => (await of(site)).listRules(site),
    putRule: async (rule: Rule) => (await of(rule.site)).putRule(rule),
    deleteRule: async (site, id, now) => (await of(site)).deleteRule(site, id, now),
    listDeliveries: async (site, q) => (await of(site)).listDeliveries(site, q),
    finishDelivery: async (d, outcome) => (await of(d.site)).finishDelivery(d, outcome),
    legacyServerVisitors: async (site, limit) => (await of(site)).legacyServerVisitors(site, limit),
    renameVisitors: async (site, renames) => (await of(site)).renameVisitors(site, renames),
    async rekeyTombstones(rows) {
      const bySite = new Map<string, Array<(typeof rows)[number]>>();
      for (const r of rows) {
        let list = bySite.get(r.site);
        if (!list) bySite.set(r.site, (list = []));
        list.push(r);
      }
      for (const [site, list] of bySite) await (await of(site)).rekeyTombstones(list);
    },
    async updateStalls(updates, now) {
      const bySite = new Map<string, StallUpdate[]>();
      for (const u of updates) {
        let list = bySite.get(u.site);
        if (!list) bySite.set(u.site, (list = []));
        list.push(u);
      }
      for (const [site, list] of bySite) await (await of(site)).updateStalls(list, now);
    },

    // ----- cross-site: every database that no move is copying, merged -----
    async legacyTombstones(limit) {
      const all: Array<{ site: string; hash: string }> = [];
      for (const [, s] of await active()) {
        if (all.length >= limit) break;
        all.push(...(await s.legacyTombstones(limit - all.length)));
      }
      return all;
    },
    async dueStalls(now, limit) {
      const all: Stall[] = [];
      for (const [, s] of await active()) all.push(...(await s.dueStalls(now, limit)));
      return all.sort(byKey((s) => s.dueAt)).slice(0, limit);
    },
    async claimDeliveries(now, leaseMs, limit) {
      // Shares of `limit`, then what a database left unused to those that filled theirs: never more than `limit`
      // claimed (a claim cannot be given back before its lease ends).
      const dbs = await active();
      const claimed: ClaimedDelivery[] = [];
      let full = dbs;
      for (let round = 0; round < 2 && full.length > 0 && claimed.length < limit; round++) {
        const left = limit - claimed.length;
        const next: typeof dbs = [];
        for (let i = 0; i < full.length; i++) {
          const share = Math.floor(left / full.length) + (i < left % full.length ? 1 : 0);
          if (share === 0) continue;
          const got = await (full[i] as [string, Store])[1].claimDeliveries(now, leaseMs, share);
          claimed.push(...got);
          if (got.length === share) next.push(full[i] as [string, Store]);
        }
        full = next;
      }
      return claimed.sort(byKey((d) => d.createdAt));
    },
    async pruneAutomation(before, limit) {
      const total = { deliveries: 0, stalls: 0 };
      for (const [, s] of await active()) {
        const left = limit - Math.max(total.deliveries, total.stalls);
        if (left <= 0) break;
        const r = await s.pruneAutomation(before, left);
        total.deliveries += r.deliveries;
        total.stalls += r.stalls;
      }
      return total;
    },

    // ----- settings, keys and meta: the main database -----
    getMeta: (key) => main.getMeta(key),
    setMeta: (key, value, ifAbsent) => main.setMeta(key, value, ifAbsent),
    listMeta: (prefix) => main.listMeta(prefix),
    deleteMeta: (keys) => main.deleteMeta(keys),
    createWriteKey: (site, name, now) => main.createWriteKey(site, name, now),
    listWriteKeys: (site) => main.listWriteKeys(site),
    revokeWriteKey: (site, id, now) => main.revokeWriteKey(site, id, now),
    findWriteKey: (key) => main.findWriteKey(key),
    touchWriteKey: (id, at) => main.touchWriteKey(id, at),

    // ----- teams (instance-wide, and each site's audit log): the main database -----
    getUser: (id) => main.getUser(id),
    findUserByEmail: (email) => main.findUserByEmail(email),
    listUsers: () => main.listUsers(),
    countUsers: () => main.countUsers(),
    setPasswordHash: (userId, hash, at, except) => main.setPasswordHash(userId, hash, at, except),
    rolesOf: (userId) => main.rolesOf(userId),
    listMembers: (site) => main.listMembers(site),
    setMemberRole: (site, userId, role) => main.setMemberRole(site, userId, role),
    removeMember: (site, userId, at) => main.removeMember(site, userId, at),
    createSession: (x) => main.createSession(x),
    getSession: (id) => main.getSession(id),
    touchSession: (id, at) => main.touchSession(id, at),
    revokeSession: (id, at) => main.revokeSession(id, at),
    revokeSessions: (userId, at, except) => main.revokeSessions(userId, at, except),
    pruneSessions: (before, limit) => main.pruneSessions(before, limit),
    createApiToken: (t, hash) => main.createApiToken(t, hash),
    listApiTokens: (userId) => main.listApiTokens(userId),
    findApiToken: (hash) => main.findApiToken(hash),
    touchApiToken: (id, at) => main.touchApiToken(id, at),
    revokeApiToken: (userId, id, at) => main.revokeApiToken(userId, id, at),
    createInvite: (i, hash) => main.createInvite(i, hash),
    findInvite: (hash) => main.findInvite(hash),
    listInvites: (site) => main.listInvites(site),
    revokeInvite: (site, id, at) => main.revokeInvite(site, id, at),
    acceptInvite: (id, at, acceptance) => main.acceptInvite(id, at, acceptance),
    createShareLink: (l, hash) => main.createShareLink(l, hash),
    findShareLink: (hash) => main.findShareLink(hash),
    listShareLinks: (site) => main.listShareLinks(site),
    revokeShareLink: (site, id, at) => main.revokeShareLink(site, id, at),
    touchShareLink: (id, at) => main.touchShareLink(id, at),
    appendAudit: (entry) => main.appendAudit(entry),
    listAudit: (site, limit, before) => main.listAudit(site, limit, before),

    async getSite(id) {
      const [row] = await query<{ id: string; config: string; db: string | null }>(
        mainDb,
        sql`SELECT id, config, (SELECT value FROM meta WHERE key = ${META.database(id)}) AS db FROM sites WHERE id = ${id}`,
      );
      return row ? fromRow(row) : null;
    },
    async listSites() {
      const rows = await query<{ id: string; config: string; db: string | null }>(
        mainDb,
        sql`SELECT s.id, s.config, m.value AS db FROM sites s LEFT JOIN meta m ON m.key = ${'site-database:'} || s.id ORDER BY s.id`,
      );
      return rows.map(fromRow);
    },
    async putSite(site) {
      const { database, ...config } = site;
      const statements: SqlStatement[] = [];
      if (database !== undefined && database !== mainName) {
        if (!raw.has(database))
          throw new Error(
            `[cjm] site "${site.id}" names database ${database}, which is not one of ${names.join(', ')}`,
          );
        // Only for a new site: an existing site's database is changed by move-site alone.
        statements.push(
          sql`INSERT OR IGNORE INTO meta (key, value) SELECT ${META.database(site.id)}, ${database}
              WHERE NOT EXISTS (SELECT 1 FROM sites WHERE id = ${site.id})`,
        );
      }
      // The statement of stores/sql/sites.ts, with the configuration minus its `database`.
      statements.push(
        sql`INSERT INTO sites (id, config, created_at) VALUES (${site.id}, ${JSON.stringify(config)}, ${Date.now()})
            ON CONFLICT (id) DO UPDATE SET config = excluded.config`,
      );
      await mainDb.batch(statements);
      placed.delete(site.id);
    },
  };
};
