/**
 * The store contract through the routing store over two local D1 databases (workerd, getPlatformProxy): `shop` in
 * `DB_SHOP`, everything else in `DB`. Byte for byte the SQLite transcript, and the rows where they belong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { d1Connector } from '../../collector/stores/d1';
import { createRoutedStore } from '../../collector/stores/routed';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { openLocalD1, type LocalD1 } from '../../scripts/worker';
import { storeContract, transcript } from './contract';

let d1: LocalD1;
beforeAll(async () => {
  d1 = await openLocalD1(undefined, { databases: ['DB_SHOP'] });
}, 60_000);
afterAll(async () => {
  await d1?.dispose();
});

/** Empties every table of both local databases (the migrations record stays). */
const reset = async () => {
  for (const db of Object.values(d1.databases)) {
    const { results } = await db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
      )
      .all<{ name: string }>();
    if (results.length) await db.batch(results.map((r) => db.prepare(`DELETE FROM "${r.name}"`)));
  }
};

const routed = () =>
  createRoutedStore(
    { DB: d1Connector(d1.databases.DB as D1Database), DB_SHOP: d1Connector(d1.databases.DB_SHOP as D1Database) },
    { databaseOf: (site) => (site === 'shop' ? 'DB_SHOP' : undefined) },
  );

storeContract('routed over two D1 databases (workerd)', async () => {
  await reset();
  return { store: routed(), sibling: routed };
});

describe('the routing store over two D1 databases and SQLite give the same results', () => {
  it('byte for byte, with shop’s rows in DB_SHOP and the rest in DB', async () => {
    await reset();
    const fromRouted = await transcript(routed());
    const fromSqlite = await transcript(createSqliteStore(openSqlite(':memory:')));
    expect(fromRouted.length).toBeGreaterThan(60);
    for (let i = 0; i < fromSqlite.length; i++) expect(fromRouted[i], `line ${i}`).toBe(fromSqlite[i]);
    expect(fromRouted.length).toBe(fromSqlite.length);
    const count = async (name: string, table: string, site: string) =>
      (
        await (d1.databases[name] as D1Database)
          .prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE site = ?`)
          .bind(site)
          .all<{ n: number }>()
      ).results[0]?.n;
    for (const table of ['events', 'journeys', 'visitors', 'cohort_journeys']) {
      expect(await count('DB_SHOP', table, 'shop'), table).toBeGreaterThan(0);
      expect(await count('DB', table, 'shop'), table).toBe(0);
    }
    expect(await count('DB', 'events', 'blog')).toBeGreaterThan(0);
    expect(await count('DB_SHOP', 'events', 'blog')).toBe(0);
  }, 240_000);
});
