/**
 * Storage health (`GET /api/health`, the dashboard's banner): how big each database is against its limit, whether a
 * write failed because one was full, and which sites are being moved to another database.
 *
 * - The runtime says what its databases are and how big (`StorageProbe`, given to createApp): Node from SQLite's
 *   pragmas and the free disk space, Workers from D1's `meta.size_after` against the D1 size limit (10 GB, or
 *   `CJM_D1_LIMIT_BYTES`).
 * - The store tells a `StorageMonitor` of every full error and every write that went through, per database
 *   (stores/routed.ts), so "full" ends with the first write that succeeds again. On Workers each isolate has its own
 *   monitor: a full error is also kept in the main database's meta (`storage:full:<database>`, at most once a minute),
 *   where every isolate sees it; a record no isolate refreshed for `FULL_FRESH_MS` is taken as over.
 *
 * Thresholds: a warning at `WARN_RATIO` (80 %) of a database's limit; "full" after a full error not yet followed by a
 * successful write.
 */
import type { SiteStore, StoreFullError } from '../store';

/** Sizes of one database. Unknown values are null (D1 refuses the page pragmas: `SQLITE_AUTH`). */
export interface DatabaseStats {
  /** The D1 binding (`DB`, `DB_SHOP`), or `DB` for Node's SQLite file. */
  name: string;
  runtime: 'sqlite' | 'd1';
  /** Bytes the database takes: SQLite `page_count × page_size`; D1 `meta.size_after`. */
  sizeBytes: number;
  /**
   * The most it can grow to: D1's size limit; SQLite `max_page_count × page_size` or the file plus the disk's free
   * space, whichever is less.
   */
  limitBytes: number | null;
  pageSize: number | null;
  pageCount: number | null;
  /** Pages free inside the file (reused before the file grows). */
  freePages: number | null;
  maxPageCount: number | null;
  diskFreeBytes: number | null;
}

/** What a runtime tells of its databases. */
export interface StorageProbe {
  /** The main database's name (`DB`): settings, keys, meta, and every site that names no other database. */
  main: string;
  /** The databases a site's `database` may name, main first (on Workers: the D1 bindings of the Worker). */
  names: readonly string[];
  stats(): Promise<DatabaseStats[]>;
}

/** Warn at this share of a database's limit. */
export const WARN_RATIO = 0.8;
/** D1's size limit per database on Workers Paid (developers.cloudflare.com/d1/platform/limits); Free: 500 MB. */
export const D1_LIMIT_BYTES = 10_000_000_000;
/** A persisted full error not refreshed for this long is over (a failing client retries within a minute). */
export const FULL_FRESH_MS = 10 * 60_000;
/** A full error is written to meta at most this often per database and isolate. */
export const PERSIST_EVERY_MS = 60_000;
/** Meta keys of persisted full errors. */
export const FULL_META_PREFIX = 'storage:full:';
/** Meta keys of moves in progress (written by stores/move.ts into the main database). */
export const MOVE_META_PREFIX = 'site-move:';

export interface FullRecord {
  database: string;
  /** When a write last failed for it. */
  at: number;
  /** When it first failed in this episode. */
  since: number;
  message: string;
  /** When a write went through again (null: still full, as far as known). */
  resolvedAt: number | null;
}

/** What the store reports (stores/routed.ts `monitor`). */
export interface StorageEvents {
  full(database: string, error: StoreFullError, at: number): void;
  written(database: string, at: number): void;
}

export interface StorageMonitor extends StorageEvents {
  /** The records this process knows, newest first. */
  known(): FullRecord[];
  /** Writes this process's records to meta when due (best effort: a full main database keeps them in memory). */
  persist(store: SiteStore, now: number): Promise<void>;
}

/**
 * @example
 * const monitor = createStorageMonitor()
 * const store = createRoutedStore(connectors, { monitor })
 */
export const createStorageMonitor = (): StorageMonitor => {
  const records = new Map<string, FullRecord>();
  const persisted = new Map<string, { at: number; resolvedAt: number | null }>();
  return {
    full(database, error, at) {
      const r = records.get(database);
      const fresh = !r || r.resolvedAt !== null;
      records.set(database, { database, at, since: fresh ? at : r.since, message: error.message, resolvedAt: null });
    },
    written(database, at) {
      const r = records.get(database);
      if (r && r.resolvedAt === null && at >= r.at) r.resolvedAt = at;
    },
    known: () => [...records.values()].sort((a, b) => b.at - a.at),
    async persist(store, now) {
      for (const r of records.values()) {
        const p = persisted.get(r.database);
        // An unresolved record at most once a minute (even when the write fails: the main database may be the full
        // one, and a failing write per request would only add to its load); a resolution once.
        const due = r.resolvedAt === null ? !p || now - p.at >= PERSIST_EVERY_MS : p?.resolvedAt !== r.resolvedAt;
        if (!due) continue;
        persisted.set(r.database, { at: now, resolvedAt: r.resolvedAt === null ? null : (p?.resolvedAt ?? null) });
        try {
          await store.setMeta(FULL_META_PREFIX + r.database, JSON.stringify(r));
          persisted.set(r.database, { at: now, resolvedAt: r.resolvedAt });
        } catch {
          // The record stays in memory, and is written once there is room.
        }
      }
    },
  };
};

/** The full records of this process and of meta, one per database (the newer one wins). */
const fullRecords = async (store: SiteStore, monitor: StorageMonitor | undefined): Promise<FullRecord[]> => {
  const out = new Map<string, FullRecord>();
  try {
    for (const { value } of await store.listMeta(FULL_META_PREFIX)) {
      const r = JSON.parse(value) as FullRecord;
      out.set(r.database, r);
    }
  } catch {
    /* meta unreadable: what this process knows */
  }
  for (const r of monitor?.known() ?? []) {
    const other = out.get(r.database);
    if (!other || r.at >= other.at) out.set(r.database, r);
  }
  return [...out.values()].sort((a, b) => b.at - a.at);
};

export interface DatabaseHealth extends DatabaseStats {
  /** sizeBytes ÷ limitBytes, when the limit is known. */
  usedRatio: number | null;
  /** At or above WARN_RATIO of the limit. */
  warning: boolean;
  /** The database is full: a write failed and none went through since. */
  full: boolean;
}

export interface MoveInProgress {
  site: string;
  from: string;
  to: string;
  state: string;
  startedAt: number;
}

export interface HealthReport {
  status: 'ok' | 'warning' | 'full';
  /** One sentence saying why, when the status is not ok (the dashboard's banner). */
  why: string | null;
  databases: DatabaseHealth[];
  /** Why the sizes are missing, when the runtime could not tell. */
  statsError?: string;
  /** The latest full error of each database (resolved ones too), newest first. */
  fullErrors: FullRecord[];
  /** Sites being moved to another database (their writes answer 503 until the copy is done). */
  moves: MoveInProgress[];
  warnAt: number;
}

const mb = (bytes: number) =>
  bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(bytes >= 1e7 ? 0 : 1)} MB`;

/** Whether a full record still stands at `now`. */
const standing = (r: FullRecord, mine: boolean, now: number) =>
  r.resolvedAt === null && (mine || now - r.at < FULL_FRESH_MS);

/**
 * The health of the storage: sizes against limits, full errors, moves.
 *
 * @example
 * const report = await storageHealth(store, probe, monitor, Date.now())
 * if (report.status !== 'ok') console.warn(report.why)
 */
export const storageHealth = async (
  store: SiteStore,
  probe: StorageProbe | undefined,
  monitor: StorageMonitor | undefined,
  now: number,
): Promise<HealthReport> => {
  await monitor?.persist(store, now);
  let stats: DatabaseStats[] = [];
  let statsError: string | undefined;
  try {
    stats = probe ? await probe.stats() : [];
  } catch (e) {
    statsError = `[cjm] the database sizes could not be read: ${(e as Error).message}`;
  }
  const fullErrors = await fullRecords(store, monitor);
  const mine = new Set(monitor?.known() ?? []);
  const isFull = (name: string) => fullErrors.some((r) => r.database === name && standing(r, mine.has(r), now));
  const databases: DatabaseHealth[] = stats.map((s) => {
    const usedRatio = s.limitBytes ? s.sizeBytes / s.limitBytes : null;
    return { ...s, usedRatio, warning: usedRatio !== null && usedRatio >= WARN_RATIO, full: isFull(s.name) };
  });
  // A full error of a database the probe did not list (none given, or its stats failed) still counts.
  const fullNames = new Set([
    ...databases.filter((d) => d.full).map((d) => d.name),
    ...fullErrors.filter((r) => standing(r, mine.has(r), now)).map((r) => r.database),
  ]);
  let moves: MoveInProgress[] = [];
  try {
    moves = (await store.listMeta(MOVE_META_PREFIX)).map(({ key, value }) => ({
      site: key.slice(MOVE_META_PREFIX.length),
      ...(JSON.parse(value) as Omit<MoveInProgress, 'site'>),
    }));
  } catch {
    /* meta unreadable */
  }
  const whys: string[] = [];
  for (const name of fullNames) {
    const r = fullErrors.find((x) => x.database === name);
    whys.push(
      `Database ${name} is full${r ? ` since ${new Date(r.since).toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''}: writes to it are refused (503) and the tags keep their events to send again; free space, raise the limit or move large sites to their own database (npm run move-site).`,
    );
  }
  for (const d of databases) {
    if (!d.warning || fullNames.has(d.name) || d.limitBytes === null) continue;
    whys.push(
      `Database ${d.name} is at ${Math.floor((d.usedRatio ?? 0) * 100)} % of its limit (${mb(d.sizeBytes)} of ${mb(d.limitBytes)}): move large sites to their own database (npm run move-site) or keep events for less time.`,
    );
  }
  for (const m of moves) {
    whys.push(
      `Site ${m.site} is being moved from ${m.from} to ${m.to} (since ${new Date(m.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC): its events are answered 503 and sent again once the copy is done.`,
    );
  }
  const status = fullNames.size > 0 ? 'full' : databases.some((d) => d.warning) ? 'warning' : 'ok';
  return {
    status,
    why: whys.length ? whys.join(' ') : null,
    databases,
    ...(statsError ? { statsError } : {}),
    fullErrors,
    moves,
    warnAt: WARN_RATIO,
  };
};
