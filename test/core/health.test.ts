/**
 * The storage health (core/services/health.ts): the monitor's full records, when "full" ends, what is kept in meta
 * for other isolates, the 80 % warning, and the sentence the banner shows.
 */
import { describe, expect, it } from 'vitest';
import {
  createStorageMonitor,
  FULL_FRESH_MS,
  storageHealth,
  type DatabaseStats,
  type StorageProbe,
} from '../../collector/core/services/health';
import { StoreFullError } from '../../collector/core/store';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';

const T = Date.UTC(2026, 10, 20, 10, 0, 0);
const stats = (name: string, sizeBytes: number, limitBytes: number | null): DatabaseStats => ({
  name,
  runtime: 'd1',
  sizeBytes,
  limitBytes,
  pageSize: null,
  pageCount: null,
  freePages: null,
  maxPageCount: null,
  diskFreeBytes: null,
});
const probe = (list: DatabaseStats[]): StorageProbe => ({
  main: 'DB',
  names: list.map((d) => d.name),
  stats: async () => list,
});
const full = new StoreFullError('[cjm] the database is full (Exceeded maximum DB size): …');

describe('storage health', () => {
  it('ok, then a warning at 80 % of a limit, naming the database and the sizes', async () => {
    const store = createSqliteStore(openSqlite(':memory:'));
    const ok = await storageHealth(store, probe([stats('DB', 7.9e9, 1e10), stats('DB_SHOP', 1e6, 1e10)]), undefined, T);
    expect(ok).toMatchObject({ status: 'ok', why: null });
    expect(ok.databases.map((d) => d.usedRatio)).toEqual([0.79, 0.0001]);
    const warn = await storageHealth(store, probe([stats('DB', 8e9, 1e10), stats('DB_SHOP', 1e6, null)]), undefined, T);
    expect(warn.status).toBe('warning');
    expect(warn.databases.map((d) => d.warning)).toEqual([true, false]);
    expect(warn.why).toBe(
      'Database DB is at 80 % of its limit (8.00 GB of 10.00 GB): move large sites to their own database (npm run move-site) or keep events for less time.',
    );
  });

  it('full from a full error until a site write goes through; kept in meta for other isolates, at most once a minute', async () => {
    const store = createSqliteStore(openSqlite(':memory:'));
    const m = createStorageMonitor();
    const dbs = probe([stats('DB', 1e6, 1e10), stats('DB_SHOP', 9.99e9, 1e10)]);
    m.full('DB_SHOP', full, T);
    const h = await storageHealth(store, dbs, m, T + 1000);
    expect(h.status).toBe('full');
    expect(h.databases.map((d) => d.full)).toEqual([false, true]);
    expect(h.why).toMatch(/^Database DB_SHOP is full since 2026-11-20 10:00 UTC: writes to it are refused \(503\)/);
    const kept = JSON.parse((await store.getMeta('storage:full:DB_SHOP')) ?? '{}') as { at: number; since: number };
    expect(kept).toMatchObject({ database: 'DB_SHOP', at: T, since: T, resolvedAt: null });
    // Another failure 30 s later: memory moves on, meta waits for the minute.
    m.full('DB_SHOP', full, T + 30_000);
    await m.persist(store, T + 30_000);
    expect(JSON.parse((await store.getMeta('storage:full:DB_SHOP')) ?? '{}')).toMatchObject({ at: T });
    await m.persist(store, T + 61_000);
    expect(JSON.parse((await store.getMeta('storage:full:DB_SHOP')) ?? '{}')).toMatchObject({
      at: T + 30_000,
      since: T,
    });
    // Another isolate (no memory of it) sees the record while fresh, then takes it as over.
    expect((await storageHealth(store, dbs, createStorageMonitor(), T + 60_000)).status).toBe('full');
    expect((await storageHealth(store, dbs, createStorageMonitor(), T + 30_000 + FULL_FRESH_MS)).status).toBe(
      'warning',
    );
    // A write of the site's data went through: resolved here at once, and in meta.
    m.written('DB', T + 62_000); // another database: no change
    expect((await storageHealth(store, dbs, m, T + 62_000)).status).toBe('full');
    m.written('DB_SHOP', T + 63_000);
    const after = await storageHealth(store, dbs, m, T + 63_000);
    expect(after.status).toBe('warning');
    expect(after.fullErrors[0]).toMatchObject({ database: 'DB_SHOP', resolvedAt: T + 63_000 });
    expect(JSON.parse((await store.getMeta('storage:full:DB_SHOP')) ?? '{}')).toMatchObject({ resolvedAt: T + 63_000 });
    // A new episode starts a new `since`.
    m.full('DB_SHOP', full, T + 100_000);
    expect((await storageHealth(store, dbs, m, T + 100_000)).fullErrors[0]).toMatchObject({ since: T + 100_000 });
  });

  it('a full error is still reported when the sizes cannot be read, or meta cannot be written', async () => {
    const store = createSqliteStore(openSqlite(':memory:'));
    const m = createStorageMonitor();
    m.full('DB', full, T);
    const broken: StorageProbe = { main: 'DB', names: ['DB'], stats: async () => Promise.reject(new Error('down')) };
    const failing = { ...store, setMeta: async () => Promise.reject(full) };
    const h = await storageHealth(failing, broken, m, T);
    expect(h.status).toBe('full');
    expect(h.statsError).toBe('[cjm] the database sizes could not be read: down');
    expect(h.why).toMatch(/^Database DB is full since/);
  });
});
