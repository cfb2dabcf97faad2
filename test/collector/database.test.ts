/**
 * A site's `database` through the admin API (services/sites.ts): a new site may name one of the runtime's databases
 * (on Workers its D1 bindings) and its data goes there; a name the runtime does not have is a 400 naming
 * `database`; a PUT cannot change it (move-site moves the data first), but may send it back unchanged.
 */
import { describe, expect, it } from 'vitest';
import type { StorageProbe } from '../../collector/core/services/health';
import { createRoutedStore } from '../../collector/stores/routed';
import { openSqlite, sqliteConnector } from '../../collector/stores/sqlite';
import { makeApp } from '../helpers';

const json = (body: unknown, method = 'POST') => ({
  method,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

const setup = async (names: string[]) => {
  const main = openSqlite(':memory:');
  const shop = openSqlite(':memory:');
  const connectors = Object.fromEntries(names.map((n) => [n, sqliteConnector(n === 'DB' ? main : shop)]));
  const storage: StorageProbe = { main: 'DB', names, stats: async () => [] };
  const t = await makeApp(createRoutedStore(connectors), { storage: () => storage });
  return { t, main, shop };
};

describe('a site’s database', () => {
  it('is given at creation, shown by the API, and receives the site’s data', async () => {
    const { t, main, shop } = await setup(['DB', 'DB_SHOP']);
    const res = await t.api('/api/sites', json({ id: 'shop', database: 'DB_SHOP' }));
    expect(res.status).toBe(201);
    expect(((await res.json()) as { site: { database?: string } }).site.database).toBe('DB_SHOP');
    const got = (await (await t.api('/api/sites/shop')).json()) as { site: { database?: string } };
    expect(got.site.database).toBe('DB_SHOP');
    const sent = await t.collect({
      site: 'shop',
      visitor: 'v1',
      events: [{ id: 'e1', type: 'page', ts: t.clock.now - 1000 }],
    });
    expect(sent.status).toBe(202);
    expect(shop.prepare("SELECT COUNT(*) AS n FROM events WHERE site = 'shop'").get()).toEqual({ n: 1 });
    expect(main.prepare("SELECT COUNT(*) AS n FROM events WHERE site = 'shop'").get()).toEqual({ n: 0 });
    // The main database named explicitly is the same as none.
    const plain = await t.api('/api/sites', json({ id: 'blog', database: 'DB' }));
    expect(((await plain.json()) as { site: { database?: string } }).site).not.toHaveProperty('database');
  });

  it('must be one of the runtime’s databases', async () => {
    const { t } = await setup(['DB', 'DB_SHOP']);
    const res = await t.api('/api/sites', json({ id: 'x', database: 'DB_NOPE' }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error:
        '[cjm] database must be one of this Worker\'s D1 bindings (DB, DB_SHOP); for another, add [[d1_databases]] binding = "DB_NOPE" to wrangler.toml, apply the migrations and deploy',
      path: 'database',
    });
    expect((await t.api('/api/sites', json({ id: 'y', database: 7 }))).status).toBe(400);
    const single = await setup(['DB']);
    const one = await single.t.api('/api/sites', json({ id: 'z', database: 'DB_SHOP' }));
    expect(one.status).toBe(400);
    expect(((await one.json()) as { error: string }).error).toMatch(/^\[cjm\] this collector has one database \(DB\)/);
    expect((await single.t.api('/api/sites/z')).status).toBe(404);
  });

  it('a PUT cannot change it, but may send it back unchanged', async () => {
    const { t } = await setup(['DB', 'DB_SHOP']);
    await t.api('/api/sites', json({ id: 'shop', database: 'DB_SHOP' }));
    const moved = await t.api('/api/sites/shop', json({ database: 'DB' }, 'PUT'));
    expect(moved.status).toBe(400);
    expect(await moved.json()).toEqual({
      error: "[cjm] database is changed by moving the site's data first: npm run move-site -- --site shop --to DB",
      path: 'database',
    });
    const same = await t.api('/api/sites/shop', json({ name: 'Shop', database: 'DB_SHOP' }, 'PUT'));
    expect(same.status).toBe(200);
    expect(await same.json()).toMatchObject({ site: { name: 'Shop', database: 'DB_SHOP' } });
  });
});
