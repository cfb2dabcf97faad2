/**
 * Keyed hashes on D1 (issue 14, item 12): the database written by the previous version (the fixture) rekeyed in
 * place on a real workerd-backed D1, with the same result as on SQLite under the same secret, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useHashSecret } from '../../collector/core/privacy';
import { rekeyLegacyHashes } from '../../collector/core/rekey';
import { createD1Store } from '../../collector/stores/d1';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { openLocalD1, type LocalD1 } from '../../scripts/worker';
import { checkRekeyed, fixtureStatements, SECRET_HASH_COLUMNS, sqliteDump } from './rekey';

const SECRET = 'the-deployment-secret-0123456789';
let d1: LocalD1;
beforeAll(async () => {
  d1 = await openLocalD1();
  await d1.db.batch(fixtureStatements().map((sql) => d1.db.prepare(sql)));
});
afterAll(async () => {
  await d1?.dispose();
});

const dump = async () => {
  const { results } = await d1.db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    )
    .all<{ name: string }>();
  const rows: unknown[] = [];
  for (const { name } of results) {
    for (const row of (await d1.db.prepare(`SELECT * FROM "${name}"`).all<Record<string, unknown>>()).results) {
      if (SECRET_HASH_COLUMNS[name]) delete row[SECRET_HASH_COLUMNS[name]];
      rows.push(row);
    }
  }
  return JSON.stringify(rows);
};

describe('rekeying a database written before keyed hashes (D1)', () => {
  it('rewrites every tombstone and server-side id in place, as SQLite does', async () => {
    const store = useHashSecret(createD1Store(d1.db), SECRET);
    const result = await rekeyLegacyHashes(store, Date.UTC(2026, 10, 20, 12));
    expect(result).toEqual({ tombstones: 4, visitors: 2, done: true });
    const onD1 = await checkRekeyed(store, dump);

    const db = openSqlite(':memory:');
    for (const sql of fixtureStatements()) db.exec(sql);
    const sqlite = useHashSecret(createSqliteStore(db), SECRET);
    expect(await rekeyLegacyHashes(sqlite, Date.UTC(2026, 10, 20, 12))).toEqual(result);
    expect(onD1).toEqual(await checkRekeyed(sqlite, sqliteDump(db)));
    const tombstones = async (all: () => Promise<string[]>) => (await all()).sort();
    expect(
      await tombstones(async () =>
        (await d1.db.prepare('SELECT hash FROM tombstones').all<{ hash: string }>()).results.map((r) => r.hash),
      ),
    ).toEqual(
      await tombstones(async () =>
        (db.prepare('SELECT hash FROM tombstones').all() as { hash: string }[]).map((r) => r.hash),
      ),
    );
    // A second run finds nothing left.
    expect(await rekeyLegacyHashes(store, Date.UTC(2026, 10, 20, 12, 1))).toEqual({
      tombstones: 0,
      visitors: 0,
      done: true,
    });
  }, 180_000);
});
