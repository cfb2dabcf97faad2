/**
 * What both runtimes must show after rekeying a database written before keyed hashes (issue 14, item 12): the
 * fixture test/fixtures/before-keyed-hashes.sql was written by that version (make-before-keyed-hashes.ts).
 */
import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { expect } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import { erasedHash } from '../../collector/core/privacy';
import type { Store } from '../../collector/core/store';

export const FIXTURE = readFileSync(new URL('../fixtures/before-keyed-hashes.sql', import.meta.url), 'utf8');
/** The fixture's INSERT statements, one per line. */
export const fixtureStatements = (): string[] => FIXTURE.split('\n').filter((l) => l.startsWith('INSERT'));

/** The unkeyed ids and hashes of the fixture (what must be gone after the rekey). */
export const LEGACY = {
  srv: 'srv:e0d47ca1bc1eb62e650fc1fd660a9bfb', // carol@example.com, live
  srva: 'srva:405340cd9ac94b08b93800aee3f0db2d', // anonymousId erin@example.com, live
  tombstones: 4, // ada (visitor, user), dave (srv visitor, user)
};

/**
 * The columns that hold a SHA-256 of a random secret (a write key, a session, a personal API token, an invite, a
 * share link): hex like an unkeyed visitor hash, but no visitor's. A dump leaves them out.
 */
export const SECRET_HASH_COLUMNS: Record<string, string> = {
  write_keys: 'hash',
  sessions: 'id',
  api_tokens: 'hash',
  invites: 'hash',
  share_links: 'hash',
};

/** Every value of every row of every table but the secrets' hashes, as one string (to search for leftovers). */
export type Dump = () => Promise<string>;

/** The Dump of a SQLite database. */
export const sqliteDump =
  (db: Database.Database): Dump =>
  async () => {
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    const rows: unknown[] = [];
    for (const t of tables) {
      for (const row of db.prepare(`SELECT * FROM "${t}"`).all() as Record<string, unknown>[]) {
        if (SECRET_HASH_COLUMNS[t]) delete row[SECRET_HASH_COLUMNS[t]];
        rows.push(row);
      }
    }
    return JSON.stringify(rows);
  };

export const checkRekeyed = async (store: Store, dump: Dump) => {
  const all = await dump();
  // No unkeyed tombstone and no unkeyed server-side id is left anywhere.
  expect(all).not.toMatch(/\b[0-9a-f]{64}\b/); // the dump leaves out SECRET_HASH_COLUMNS
  expect(all).not.toContain(LEGACY.srv);
  expect(all).not.toContain(LEGACY.srva);
  expect(all).not.toMatch(/srva?:[0-9a-f]{32}\b/);
  const tombstones = all.match(/k1:[A-Za-z0-9_-]{43}/g) ?? [];
  expect(new Set(tombstones).size).toBe(LEGACY.tombstones);

  // Erased before the upgrade, still erased: the tag visitor ada, her user id, the srv visitor of dave.
  const site = (await store.getSite('demo'))!;
  const hashes = await Promise.all([
    erasedHash(store, 'visitor', 'tag-ada-0001'),
    erasedHash(store, 'user', 'ada@example.com'),
    erasedHash(store, 'user', 'dave@example.com'),
  ]);
  expect((await store.tombstoned('demo', hashes)).size).toBe(3);
  const T = Date.UTC(2026, 10, 20, 12, 0, 0);
  const again = await ingest(
    store,
    site,
    'tag-ada-0001',
    [{ id: 'ada-9', type: 'page', ts: T, url: 'https://shop.test/' }],
    T,
  );
  expect(again).toMatchObject({ accepted: 0, deleted: 1 });

  // The live server-side visitors were renamed to their keyed ids, their journeys intact.
  const { visitors } = await store.listVisitors('demo', { limit: 50 });
  const carol = visitors.find((v) => v.userId === 'carol@example.com')!;
  const srvIds = await store.visitorsOfJourney('demo', carol.journey);
  expect(srvIds).toHaveLength(1);
  expect(srvIds[0]).toMatch(/^srv:[A-Za-z0-9_-]{22}$/);
  const events = await store.eventsOfVisitors('demo', srvIds);
  expect(events.slice(0, 2).map((e) => e.name ?? e.type)).toEqual(['paid', 'identify']); // those of the fixture
  expect(events.filter((e) => e.type === 'identify')).toHaveLength(1); // one synthetic link, however many messages
  const erin = visitors.find((v) => v.visitor.startsWith('srva:'))!;
  expect(erin.visitor).toMatch(/^srva:[A-Za-z0-9_-]{22}$/);
  expect(erin.journey).toBe(erin.visitor);
  const journey = (await store.getJourneys('demo', [erin.journey])).get(erin.journey)!;
  expect(journey.journey.visitors).toEqual([erin.visitor]);
  const deliveries = await store.listDeliveries('demo', { limit: 10 });
  expect(deliveries.length).toBeGreaterThan(0);
  for (const d of deliveries) expect(d.visitor).toBe(srvIds[0]); // the fixture's, and any of carol's since
  return { carol: srvIds[0]!, erin: erin.visitor };
};
