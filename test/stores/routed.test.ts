/**
 * The routing store (stores/routed.ts) over two SQLite databases: the store contract with `shop` in its own
 * database (byte for byte the SQLite transcript), the routing table in main's meta, the pause guard of a move,
 * cross-site passes over both databases, and errors that name the database.
 */
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import { defaultSiteConfig } from '../../collector/core/stages';
import { SiteMovingError, StoreFullError, StoreUnavailableError } from '../../collector/core/store';
import { createRoutedStore, META, type PauseRecord } from '../../collector/stores/routed';
import { createSqliteStore, openSqlite, sqliteConnector } from '../../collector/stores/sqlite';
import { storeContract, T0, transcript } from './contract';
import { teamContract, teamTranscript } from './team-contract';

const count = (db: Database.Database, table: string, site: string) =>
  (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE site = ?`).get(site) as { n: number }).n;

const twoDatabases = () => {
  const main = openSqlite(':memory:');
  const shop = openSqlite(':memory:');
  const connectors = { DB: sqliteConnector(main), DB_SHOP: sqliteConnector(shop) };
  return { main, shop, connectors };
};

storeContract('routed (shop in a second SQLite database)', async () => {
  const { connectors } = twoDatabases();
  const databaseOf = (site: string) => (site === 'shop' ? 'DB_SHOP' : undefined);
  return {
    store: createRoutedStore(connectors, { databaseOf }),
    sibling: () => createRoutedStore(connectors, { databaseOf }),
  };
});

teamContract('routed (shop in a second SQLite database)', async () => {
  const { connectors } = twoDatabases();
  const databaseOf = (site: string) => (site === 'shop' ? 'DB_SHOP' : undefined);
  return {
    store: createRoutedStore(connectors, { databaseOf }),
    sibling: () => createRoutedStore(connectors, { databaseOf }),
  };
});

describe('routing store over two SQLite databases', () => {
  it('keeps teams in main, shop’s members, share links and audit log too; the same results as SQLite', async () => {
    const { main, shop, connectors } = twoDatabases();
    const routed = await teamTranscript(
      createRoutedStore(connectors, { databaseOf: (s) => (s === 'shop' ? 'DB_SHOP' : undefined) }),
    );
    expect(routed).toEqual(await teamTranscript(createSqliteStore(openSqlite(':memory:'))));
    for (const table of ['users', 'memberships', 'sessions', 'api_tokens', 'invites', 'audit_log']) {
      const n = (db: Database.Database) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      expect(n(main), table).toBeGreaterThan(0);
      expect(n(shop), table).toBe(0);
    }
  });

  it('gives the SQLite transcript byte for byte, with shop’s data in DB_SHOP and settings in DB', async () => {
    const { main, shop, connectors } = twoDatabases();
    const routed = await transcript(
      createRoutedStore(connectors, { databaseOf: (s) => (s === 'shop' ? 'DB_SHOP' : undefined) }),
    );
    const plain = await transcript(createSqliteStore(openSqlite(':memory:')));
    expect(routed.length).toBeGreaterThan(60);
    for (let i = 0; i < plain.length; i++) expect(routed[i], `line ${i}`).toBe(plain[i]);
    expect(routed.length).toBe(plain.length);
    // Where the rows are: shop's data in DB_SHOP only, blog's in DB, the sites and meta in DB.
    for (const table of ['events', 'journeys', 'visitors', 'journey_stages', 'cohort_journeys']) {
      expect(count(shop, table, 'shop'), table).toBeGreaterThan(0);
      expect(count(main, table, 'shop'), table).toBe(0);
    }
    expect(count(main, 'events', 'blog')).toBeGreaterThan(0);
    expect(count(shop, 'events', 'blog')).toBe(0);
    expect(shop.prepare('SELECT COUNT(*) AS n FROM sites').get()).toEqual({ n: 0 });
    expect(main.prepare('SELECT COUNT(*) AS n FROM sites').get()).toEqual({ n: 2 });
    expect(shop.prepare("SELECT COUNT(*) AS n FROM meta WHERE key = 'admin_token'").get()).toEqual({ n: 0 });
  });

  it('routes by the routing table in main: a new site’s database, kept through later saves', async () => {
    const { main, shop, connectors } = twoDatabases();
    const store = createRoutedStore(connectors);
    const site = { ...defaultSiteConfig('shop'), database: 'DB_SHOP' };
    await store.putSite(site);
    await store.putSite(defaultSiteConfig('blog'));
    expect(await store.getSite('shop')).toEqual(site);
    expect((await store.listSites()).map((s) => [s.id, s.database])).toEqual([
      ['blog', undefined],
      ['shop', 'DB_SHOP'],
    ]);
    // The config JSON never carries it: the routing table does.
    expect(main.prepare("SELECT config FROM sites WHERE id = 'shop'").get()).toEqual({
      config: JSON.stringify(defaultSiteConfig('shop')),
    });
    // A save (settings form, PUT) cannot move the site: database is move-site's.
    await store.putSite({ ...site, name: 'Shop', database: 'DB' });
    await store.putSite({ ...defaultSiteConfig('shop'), name: 'Shop 2' });
    const fresh = createRoutedStore(connectors);
    expect(await fresh.getSite('shop')).toMatchObject({ name: 'Shop 2', database: 'DB_SHOP' });
    await ingest(fresh, { ...site }, 'v1', [{ id: 'e1', type: 'page', ts: T0, url: 'https://shop.test/' }], T0);
    await ingest(fresh, defaultSiteConfig('blog'), 'v1', [{ id: 'e1', type: 'page', ts: T0 }], T0);
    expect([count(shop, 'events', 'shop'), count(main, 'events', 'shop')]).toEqual([1, 0]);
    expect([count(shop, 'events', 'blog'), count(main, 'events', 'blog')]).toEqual([0, 1]);
    // A store built for another request finds shop's database without being told (one lookup in main's meta).
    expect((await createRoutedStore(connectors).eventsOfVisitors('shop', ['v1'])).map((e) => e.id)).toEqual(['e1']);
    await expect(store.putSite({ ...defaultSiteConfig('x'), database: 'DB_NOPE' })).rejects.toThrow(/DB_NOPE/);
  });

  it('a site paused for a move refuses every write with SiteMovingError, atomically; other sites go on', async () => {
    const { main, connectors } = twoDatabases();
    const store = createRoutedStore(connectors);
    const shop = defaultSiteConfig('shop');
    await store.putSite(shop);
    await ingest(store, shop, 'v1', [{ id: 'e1', type: 'page', ts: T0 }], T0);
    const pause: PauseRecord = { state: 'moving', from: 'DB', to: 'DB_SHOP', at: T0 };
    main.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(META.paused('shop'), JSON.stringify(pause));
    const err = await ingest(store, shop, 'v1', [{ id: 'e2', type: 'page', ts: T0 + 1 }], T0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SiteMovingError);
    expect((err as SiteMovingError).retryAfter).toBe(30);
    expect((err as Error).message).toMatch(/site "shop" is being moved from DB to DB_SHOP/);
    await expect(store.addCounters('shop', [{ day: '2026-11-20', name: 'bots', value: 1 }])).rejects.toBeInstanceOf(
      SiteMovingError,
    );
    await expect(store.erase('shop', 'v1', ['v1'], ['h'], T0)).rejects.toBeInstanceOf(SiteMovingError);
    // Nothing of the refused writes, the first event intact; reads go on.
    expect((await store.eventsOfVisitors('shop', ['v1'])).map((e) => e.id)).toEqual(['e1']);
    expect((await store.getCounters('shop')).filter((c) => c.name === 'bots')).toEqual([]);
    // Another site of the same database is not paused.
    await ingest(store, defaultSiteConfig('blog'), 'v1', [{ id: 'e1', type: 'page', ts: T0 }], T0);
    expect(count(main, 'events', 'blog')).toBe(1);
    // Moved away: still refused, with the new place in the message.
    main
      .prepare('UPDATE meta SET value = ? WHERE key = ?')
      .run(JSON.stringify({ ...pause, state: 'moved' }), META.paused('shop'));
    await expect(ingest(store, shop, 'v1', [{ id: 'e3', type: 'page', ts: T0 + 2 }], T0)).rejects.toThrow(
      /site "shop" moved from DB to DB_SHOP on 2026-11-20T10:00:00.000Z/,
    );
  });

  it('cross-site passes run on every database and merge; a database a move is copying is skipped', async () => {
    const { main, shop, connectors } = twoDatabases();
    const store = createRoutedStore(connectors, { databaseOf: (s) => (s === 'shop' ? 'DB_SHOP' : undefined) });
    const stall = (id: string, dueAt: number) => ({
      id,
      rule: 'r',
      visitor: 'v',
      entryEvent: `x-${id}`,
      entryAt: T0,
      dueAt,
    });
    const delivery = (id: string, createdAt: number) => ({
      id,
      rule: 'r',
      event: id,
      visitor: 'v',
      body: '{}',
      createdAt,
    });
    const write = (ids: Array<[string, number]>) => ({
      events: [],
      links: [],
      journeys: [],
      deleteJourneys: [],
      automation: {
        deliveries: ids.map(([id, t]) => delivery(id, t)),
        stalls: ids.map(([id, t]) => stall(id, t)),
        fired: [],
      },
    });
    await store.commit(
      'shop',
      write([
        ['s1', T0 + 1],
        ['s3', T0 + 3],
        ['s5', T0 + 5],
      ]),
      T0,
    );
    await store.commit(
      'blog',
      write([
        ['b2', T0 + 2],
        ['b4', T0 + 4],
      ]),
      T0,
    );
    expect((await store.dueStalls(T0 + 10, 4)).map((s) => `${s.site}/${s.id}`)).toEqual([
      'shop/s1',
      'blog/b2',
      'shop/s3',
      'blog/b4',
    ]);
    // Claims: never more than asked, both databases served, the unused share passed on.
    const first = await store.claimDeliveries(T0 + 10, 60_000, 3);
    expect(first.map((d) => d.id).sort()).toEqual(['b2', 'b4', 's1']);
    const second = await store.claimDeliveries(T0 + 10, 60_000, 5);
    expect(second.map((d) => d.id)).toEqual(['s3', 's5']);
    // Updates and outcomes go to each site's database.
    await store.updateStalls(
      [
        { site: 'shop', id: 's1', status: 'fired' },
        { site: 'blog', id: 'b2', status: 'cancelled' },
      ],
      T0 + 11,
    );
    const statusOf = (db: Database.Database, id: string) =>
      (db.prepare('SELECT status FROM automation_stalls WHERE id = ?').get(id) as { status: string }).status;
    expect([statusOf(shop, 's1'), statusOf(main, 'b2')]).toEqual(['fired', 'cancelled']);
    for (const d of [...first, ...second])
      await store.finishDelivery(d, {
        status: 'delivered',
        nextAt: T0 + 12,
        attempt: { n: 1, at: T0 + 12, status: 200, error: null, durationMs: 1 },
      });
    expect(shop.prepare("SELECT COUNT(*) AS n FROM automation_deliveries WHERE status = 'delivered'").get()).toEqual({
      n: 3,
    });
    expect(main.prepare("SELECT COUNT(*) AS n FROM automation_deliveries WHERE status = 'delivered'").get()).toEqual({
      n: 2,
    });
    // A move copying into DB_SHOP: its rows are left alone by every cross-site pass.
    shop
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?)')
      .run(META.paused('other'), JSON.stringify({ state: 'moving', from: 'DB', to: 'DB_SHOP', at: T0 }));
    expect((await store.dueStalls(T0 + 10, 10)).map((s) => s.id)).toEqual(['b4']);
    expect(await store.pruneAutomation(T0 + 1e6, 10)).toEqual({ deliveries: 2, stalls: 1 });
    expect(shop.prepare('SELECT COUNT(*) AS n FROM automation_deliveries').get()).toEqual({ n: 3 });
    shop.prepare('DELETE FROM meta WHERE key = ?').run(META.paused('other'));
    expect(await store.pruneAutomation(T0 + 1e6, 2)).toEqual({ deliveries: 2, stalls: 1 });
    expect(await store.pruneAutomation(T0 + 1e6, 10)).toEqual({ deliveries: 1, stalls: 0 });
  });

  it('a full database is a StoreFullError naming it; a missing binding is a 503-kind error, not main', async () => {
    const { shop, connectors } = twoDatabases();
    const store = createRoutedStore(connectors, {
      databaseOf: (s) => (s === 'shop' ? 'DB_SHOP' : s === 'lost' ? 'DB_LOST' : undefined),
    });
    shop.pragma(`max_page_count = ${Number(shop.pragma('page_count', { simple: true }))}`);
    const big = Array.from({ length: 50 }, (_, i) => ({
      id: `e${i}`,
      type: 'page' as const,
      ts: T0 + i,
      title: 'x'.repeat(2000),
    }));
    const err = await ingest(store, defaultSiteConfig('shop'), 'v1', big, T0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreFullError);
    expect((err as StoreFullError).database).toBe('DB_SHOP');
    expect((err as Error).message).toMatch(/database is full \(SQLITE_FULL; database or disk is full\)/);
    expect(await store.existingEventIds('shop', ['e0'])).toEqual(new Set());
    const lost = await store.eventsOfVisitors('lost', ['v1']).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(StoreUnavailableError);
    expect((lost as Error).message).toMatch(
      /site "lost" keeps its data in the D1 database DB_LOST, which this Worker has no binding for/,
    );
  });
});
