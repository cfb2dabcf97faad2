/**
 * Moving a site between databases (stores/move.ts, stores/copy.ts) on SQLite connectors, fast enough to crash the
 * move at every one of its steps and run it again: whatever step it stopped at, the second run ends with the same
 * answers for the site as before the move, its rows in the target only, and the source refusing its writes.
 * (test/worker/move-site.test.ts moves sites on local D1 and out of a Node file, end to end.)
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import { defaultSiteConfig } from '../../collector/core/stages';
import { SiteMovingError, type Store } from '../../collector/core/store';
import { planTables } from '../../collector/stores/copy';
import { moveSite, type MoveDatabases, type MoveOptions } from '../../collector/stores/move';
import { createRoutedStore, META } from '../../collector/stores/routed';
import { openSqlite, sqliteConnector } from '../../collector/stores/sqlite';
import { T0, transcript } from './contract';

/** Every answer a site's reads give, export included (its contents, not its opaque positions). */
const answers = async (store: Store, site: string): Promise<string> => {
  const out: unknown[] = [];
  const pages: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listVisitors(site, { limit: 7, ...(cursor ? { cursor } : {}) });
    pages.push(page);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  out.push(pages);
  const keys = (pages as Array<{ visitors: Array<{ journey: string; visitor: string }> }>).flatMap((p) =>
    p.visitors.map((v) => v.journey),
  );
  out.push([...(await store.getJourneys(site, keys))].sort());
  for (const k of keys) out.push(await store.eventsOfVisitors(site, await store.visitorsOfJourney(site, k)));
  for (const range of [{}, { from: T0 + 30 * 60_000 }]) {
    out.push(await store.stageAggregates(site, range), await store.stageDetails(site, range, 5));
    out.push(await store.conversionCounts(site, range));
  }
  const exported: unknown[] = [];
  for (let after: number | null = 0; after !== null;) {
    const p = await store.exportEvents(site, after, 25, {});
    exported.push(...p.events);
    after = p.next;
  }
  out.push(exported, await store.getCounters(site), await store.knownNames(site, 'event', ['add_to_cart', 'x']));
  out.push(await store.tombstoned(site, ['hash-v3', 'hash-u1']), await store.listRules(site));
  out.push(await store.listDeliveries(site, { limit: 50 }), await store.staleJourneys(site, 99, 5));
  return JSON.stringify(out);
};

/** `main` (DB) with shop and blog written through the routing store (the contract's transcript), `DB_SHOP` empty. */
const seeded = (() => {
  let image: Promise<Buffer> | null = null;
  return async () => {
    image ??= (async () => {
      const main = openSqlite(':memory:');
      await transcript(
        createRoutedStore({ DB: sqliteConnector(main), DB_SHOP: sqliteConnector(openSqlite(':memory:')) }),
      );
      return main.serialize();
    })();
    const main = new Database(await image);
    const shop = openSqlite(':memory:');
    const dbs: MoveDatabases = { databases: { DB: sqliteConnector(main), DB_SHOP: sqliteConnector(shop) } };
    return { main, shop, dbs, store: () => createRoutedStore(dbs.databases) };
  };
})();

const count = (db: Database.Database, table: string, site: string) =>
  (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE site = ?`).get(site) as { n: number }).n;
const meta = (db: Database.Database, key: string) =>
  (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;

const move = (dbs: MoveDatabases, extra: Partial<MoveOptions> = {}) =>
  moveSite(dbs, { site: 'shop', to: 'DB_SHOP', chunk: 40, ...extra });

describe('move-site between databases', () => {
  it('moves every row of the site, answers the same after, and leaves the other site alone', async () => {
    const { main, shop, dbs, store } = await seeded();
    const before = await answers(store(), 'shop');
    const blog = await answers(store(), 'blog');
    const inMain = count(main, 'events', 'shop');
    expect(inMain).toBeGreaterThan(100);
    const r = await move(dbs);
    expect(r).toMatchObject({ outcome: 'moved', from: 'DB', to: 'DB_SHOP' });
    expect(r.rows.events).toBe(inMain);
    expect(await answers(store(), 'shop')).toBe(before);
    expect(await answers(store(), 'blog')).toBe(blog);
    for (const t of await planTables(dbs.databases.DB!)) {
      if (t.rule !== 'site') continue;
      expect(count(main, t.name, 'shop'), t.name).toBe(0);
    }
    expect(count(shop, 'events', 'shop')).toBe(inMain);
    expect(count(main, 'events', 'blog')).toBeGreaterThan(0);
    // Settings stay in main: the site, and the routing table now names DB_SHOP.
    expect(shop.prepare('SELECT COUNT(*) AS n FROM sites').get()).toEqual({ n: 0 });
    expect(meta(main, META.database('shop'))).toBe('DB_SHOP');
    expect((await store().getSite('shop'))?.database).toBe('DB_SHOP');
    expect(meta(main, META.move('shop'))).toBeNull();
    expect(JSON.parse(meta(main, META.paused('shop')) ?? 'null')).toMatchObject({
      state: 'moved',
      from: 'DB',
      to: 'DB_SHOP',
    });
    expect(meta(shop, META.paused('shop'))).toBeNull();
    // Writes go to DB_SHOP now; run again, nothing to do.
    await ingest(store(), defaultSiteConfig('shop'), 'v9', [{ id: 'late-1', type: 'page', ts: T0 }], T0);
    expect(shop.prepare("SELECT COUNT(*) AS n FROM events WHERE id = 'late-1'").get()).toEqual({ n: 1 });
    expect((await move(dbs)).outcome).toBe('already');
    // And back into main: the old pause row goes, writes are taken there again.
    expect((await move(dbs, { to: 'DB' })).outcome).toBe('moved');
    expect(meta(main, META.database('shop'))).toBeNull();
    expect(meta(main, META.paused('shop'))).toBeNull();
    await ingest(store(), defaultSiteConfig('shop'), 'v9', [{ id: 'late-2', type: 'page', ts: T0 + 1 }], T0);
    expect(count(main, 'events', 'shop')).toBe(inMain + 2);
    expect(count(shop, 'events', 'shop')).toBe(0);
  });

  it('refuses the site’s writes while it copies (SiteMovingError), in the source and the target', async () => {
    const { dbs, store } = await seeded();
    const tries: unknown[] = [];
    await move(dbs, {
      onStep: async (step) => {
        if (step === 'paused' || step === 'verified') {
          tries.push(
            await ingest(
              store(),
              defaultSiteConfig('shop'),
              'v1',
              [{ id: `w-${step}`, type: 'page', ts: T0 }],
              T0,
            ).catch((e: unknown) => e),
          );
        }
      },
    });
    expect(tries).toHaveLength(2);
    for (const e of tries) {
      expect(e).toBeInstanceOf(SiteMovingError);
      expect((e as Error).message).toMatch(/site "shop" is being moved from DB to DB_SHOP/);
    }
    expect(await store().existingEventIds('shop', ['w-paused', 'w-verified'])).toEqual(new Set());
  });

  it('a move crashed at any step ends the same when run again', async () => {
    const clean = await seeded();
    const before = await answers(clean.store(), 'shop');
    const steps: string[] = [];
    await move(clean.dbs, { onStep: (s) => void steps.push(s) });
    expect(steps.filter((s) => s.startsWith('copy:events')).length).toBeGreaterThan(2);
    expect(steps.filter((s) => s.startsWith('delete:events')).length).toBeGreaterThan(2);
    const expected = { shopEvents: count(clean.shop, 'events', 'shop') };
    for (const [i, crashAt] of steps.entries()) {
      const { main, shop, dbs, store } = await seeded();
      await expect(
        move(dbs, {
          onStep: (s) => {
            if (s === crashAt) throw new Error(`crash at ${s}`);
          },
        }),
        `step ${i} ${crashAt}`,
      ).rejects.toThrow(`crash at ${crashAt}`);
      // From the pause to the switch the site takes no write, whichever database it routes to. Before the pause (a
      // crash right after the move was recorded) and once writes resumed in the target, writes go through and stay.
      const during = await ingest(
        store(),
        defaultSiteConfig('shop'),
        'vx',
        [{ id: 'x1', type: 'page', ts: T0 }],
        T0,
      ).catch((e: unknown) => e);
      const refused = during instanceof SiteMovingError;
      expect(refused, crashAt).toBe(i >= steps.indexOf('paused') && i < steps.indexOf('resumed'));
      const again = await move(dbs);
      expect(again.outcome, crashAt).toBe(crashAt === 'done' ? 'already' : 'moved');
      if (refused) expect(await answers(store(), 'shop'), crashAt).toBe(before);
      expect([...(await store().existingEventIds('shop', ['x1']))], crashAt).toEqual(refused ? [] : ['x1']);
      expect(count(shop, 'events', 'shop'), crashAt).toBe(expected.shopEvents + (refused ? 0 : 1));
      expect(count(main, 'events', 'shop'), crashAt).toBe(0);
      expect(meta(main, META.move('shop')), crashAt).toBeNull();
      expect(meta(shop, META.paused('shop')), crashAt).toBeNull();
    }
  }, 120_000);

  it('verifies counts before switching; --abort gives a move up and the site resumes where it was', async () => {
    const { main, shop, dbs, store } = await seeded();
    const before = await answers(store(), 'shop');
    await expect(
      move(dbs, {
        onStep: (s) => {
          // Something writes a row of the site into the target behind the move's back.
          if (s === 'copied')
            shop
              .prepare("INSERT INTO site_counters (site, day, name, value) VALUES ('shop', '2020-01-01', 'bots', 1)")
              .run();
        },
      }),
    ).rejects.toThrow(/the copy differs \(site_counters: \d+ in DB, \d+ in DB_SHOP\); nothing was switched/);
    expect(meta(main, META.database('shop'))).toBeNull();
    await expect(move(dbs, { to: 'DB' })).rejects.toThrow(/a move of site "shop" from DB to DB_SHOP is under way/);
    const r = await move(dbs, { abort: true });
    expect(r.outcome).toBe('aborted');
    expect(count(shop, 'events', 'shop')).toBe(0);
    expect(meta(main, META.paused('shop'))).toBeNull();
    expect(await answers(store(), 'shop')).toBe(before);
    await ingest(store(), defaultSiteConfig('shop'), 'v9', [{ id: 'after-abort', type: 'page', ts: T0 }], T0);
    expect(main.prepare("SELECT COUNT(*) AS n FROM events WHERE id = 'after-abort'").get()).toEqual({ n: 1 });
  });

  it('refuses a fresh move into a database that holds rows of the site, unless --replace-target', async () => {
    const { shop, dbs } = await seeded();
    shop.prepare("INSERT INTO site_counters (site, day, name, value) VALUES ('shop', '2020-01-01', 'bots', 1)").run();
    await expect(move(dbs)).rejects.toThrow(/DB_SHOP holds rows of site "shop" already \(site_counters: 1\)/);
    expect((await move(dbs, { replaceTarget: true })).outcome).toBe('moved');
    expect(shop.prepare("SELECT COUNT(*) AS n FROM site_counters WHERE day = '2020-01-01'").get()).toEqual({ n: 0 });
  });

  it('names what it cannot do: an unknown target, an unknown site, a table without a site column', async () => {
    const { main, dbs } = await seeded();
    await expect(move(dbs, { to: 'DB_NOPE' })).rejects.toThrow(
      /there is no D1 database DB_NOPE: add \[\[d1_databases\]\] binding = "DB_NOPE" to wrangler.toml/,
    );
    await expect(move(dbs, { site: 'nope' })).rejects.toThrow(/there is no site "nope" in DB/);
    main.exec('CREATE TABLE strings (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    await expect(move(dbs)).rejects.toThrow(
      /table strings has no site column and collector\/stores\/copy.ts TABLE_RULES does not say how to move it/,
    );
  });

  it('out of a Node file: the site with its settings, keys and salts; refused under another hashing secret', async () => {
    const file = new Database((await seeded()).main.serialize());
    file.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('hash_secret_check', 'check-of-the-file')").run();
    file.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('automation.secret:shop', 'whsec-file')").run();
    file.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('salt:2026-11-20', 'salt-file')").run();
    const fileStore = createRoutedStore({ DB: sqliteConnector(file) });
    const { key } = await fileStore.createWriteKey('shop', 'backend');
    const before = await answers(fileStore, 'shop');
    const main = openSqlite(':memory:');
    const own = openSqlite(':memory:');
    main.prepare("INSERT INTO meta (key, value) VALUES ('salt:2026-11-20', 'salt-worker')").run();
    const databases = { DB: sqliteConnector(main), DB_SHOP: sqliteConnector(own) };
    const sqlite = { db: sqliteConnector(file), label: '/srv/cjm.db' };
    // A Worker database that hashes with another secret: refused before anything is paused.
    main.prepare("INSERT INTO meta (key, value) VALUES ('hash_secret_check', 'check-of-the-worker')").run();
    await expect(moveSite({ databases, sqlite }, { site: 'shop', to: 'DB_SHOP' })).rejects.toThrow(
      /the Worker's DB hashes with another secret than \/srv\/cjm.db/,
    );
    expect(meta(file, META.paused('shop'))).toBeNull();
    main.prepare("DELETE FROM meta WHERE key = 'hash_secret_check'").run();
    const r = await moveSite({ databases, sqlite }, { site: 'shop', to: 'DB_SHOP', chunk: 50 });
    expect(r).toMatchObject({ outcome: 'moved', from: 'sqlite:/srv/cjm.db', to: 'DB_SHOP' });
    const worker = createRoutedStore(databases);
    expect(await answers(worker, 'shop')).toBe(before);
    expect(await worker.getSite('shop')).toEqual({ ...(await fileStore.getSite('shop')), database: 'DB_SHOP' });
    expect((await worker.findWriteKey(key))?.site).toBe('shop');
    expect(meta(main, 'automation.secret:shop')).toBe('whsec-file');
    expect(meta(main, 'hash_secret_check')).toBe('check-of-the-file');
    expect(meta(main, 'salt:2026-11-20')).toBe('salt-worker'); // the Worker's own salt of a day stays
    // The file keeps the site's settings (so a running Node answers 503, not 404) and none of its data.
    expect(await fileStore.getSite('shop')).not.toBeNull();
    expect(count(file, 'events', 'shop')).toBe(0);
    expect(count(file, 'events', 'blog')).toBeGreaterThan(0);
    const write = {
      events: [{ id: 'n1', visitor: 'v1', type: 'page' as const, ts: T0 }],
      links: [],
      journeys: [],
      deleteJourneys: [],
    };
    await expect(fileStore.commit('shop', write, T0)).rejects.toThrow(
      /site "shop" moved from sqlite:\/srv\/cjm.db to DB_SHOP/,
    );
  });
});
