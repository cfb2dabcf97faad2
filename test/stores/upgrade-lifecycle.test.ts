/**
 * Migration 0032 (lifecycle) in place, on SQLite: a database on the schema before it, holding the journeys the
 * collector of test/fixtures/fold-v0.json wrote, is migrated; every row stays, the new journeys columns are NULL (not
 * yet counted), the new rollups are empty and the lifecycle and retention reports count nothing yet. Maintenance
 * refolds the journeys (FOLD_VERSION 2), after which both reports equal those of ingesting the same events today.
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import type { WireEvent } from '../../collector/core/protocol';
import { lifecycle, retention } from '../../collector/core/reports';
import { maintenance } from '../../collector/core/sites';
import type { SiteConfig } from '../../collector/core/stages';
import { readMigrations, runMigrations } from '../../collector/stores/migrate';
import { createSqliteStore, openSqlite, sqliteMigrationDb } from '../../collector/stores/sqlite';

interface Fixture {
  receivedAt: number;
  batches: Array<{ site: string; visitor: string; events: WireEvent[] }>;
  tables: Record<string, Array<Record<string, unknown>>>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/fold-v0.json', import.meta.url), 'utf8')) as Fixture;
const NOW = fixture.receivedAt + 60_000;
const sites = (): SiteConfig[] => fixture.tables.sites!.map((r) => JSON.parse(r.config as string) as SiteConfig);

const reports = async (store: ReturnType<typeof createSqliteStore>) =>
  Promise.all(
    sites().map(async (s) => ({
      life: await lifecycle(store, s, {}),
      retention: await retention(store, s, {}, 12, NOW),
    })),
  );

describe('migration 0032 on a database of the previous version (SQLite)', () => {
  it('runs in place, keeps every row, counts nothing until maintenance refolds, then equals a fresh ingest', async () => {
    const db = new Database(':memory:');
    const all = readMigrations();
    const before = all.filter((f) => f.name < '0032');
    runMigrations(sqliteMigrationDb(db), before);
    for (const [table, rows] of Object.entries(fixture.tables)) {
      for (const row of rows) {
        const cols = Object.keys(row);
        db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(
          ...Object.values(row),
        );
      }
    }
    const journeys = fixture.tables.journeys!.length;
    expect(runMigrations(sqliteMigrationDb(db), all)).toEqual(['0032_lifecycle.sql']);
    for (const [table, rows] of Object.entries(fixture.tables))
      expect((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n, table).toBe(rows.length);
    expect(db.prepare('SELECT COUNT(*) AS n FROM journeys WHERE purchases IS NULL').get()).toEqual({ n: journeys });
    expect(db.prepare('SELECT COUNT(*) AS n FROM cohort_retention').get()).toEqual({ n: 0 });
    const store = createSqliteStore(db);
    for (const r of await reports(store)) {
      expect(r.life.customers).toBe(0);
      expect(r.retention.cohorts).toEqual([]);
    }

    for (let i = 0; i < 10 && (await maintenance(store, NOW, 5)).refolded > 0; i++);
    expect(db.prepare('SELECT COUNT(*) AS n FROM journeys WHERE purchases IS NULL').get()).toEqual({ n: 0 });

    const fresh = createSqliteStore(openSqlite(':memory:'));
    for (const s of sites()) await fresh.putSite(s);
    for (const b of fixture.batches)
      await ingest(
        fresh,
        sites().find((s) => s.id === b.site)!,
        b.visitor,
        b.events,
        fixture.receivedAt,
      );
    const want = await reports(fresh);
    expect(want.some((r) => r.life.customers > 0)).toBe(true);
    expect(await reports(store)).toEqual(want);
  });
});
