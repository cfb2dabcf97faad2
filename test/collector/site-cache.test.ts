/**
 * The ingest routes' site cache (core/site-cache.ts): a /collect reads no site from the store while it is kept; a
 * change through the app's API or dashboard takes effect at once; a change made elsewhere (another isolate, another
 * process) within the TTL of the injected clock.
 */
import { describe, expect, it } from 'vitest';
import { createSiteCache, siteOfWrite } from '../../collector/core/site-cache';
import type { Store } from '../../collector/core/store';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { batch, makeApp, page } from '../helpers';

const counting = () => {
  const base = createSqliteStore(openSqlite(':memory:'));
  const reads = { n: 0 };
  const store: Store = {
    ...base,
    getSite: async (id) => {
      reads.n++;
      return base.getSite(id);
    },
  };
  return { store, reads };
};

describe('site cache', () => {
  it('keeps a site (and an unknown one) for the TTL, not a failed read; invalidates one or all', async () => {
    const { store, reads } = counting();
    const cache = createSiteCache({ ttlMs: 1000 });
    await store.putSite({ ...(await import('../../collector/core/stages')).defaultSiteConfig('shop') });
    expect((await cache.get(store, 'shop', 0))?.id).toBe('shop');
    expect((await cache.get(store, 'shop', 999))?.id).toBe('shop');
    expect(await cache.get(store, 'nope', 0)).toBeNull();
    expect(await cache.get(store, 'nope', 500)).toBeNull();
    expect(reads.n).toBe(2);
    await cache.get(store, 'shop', 1000); // expired
    expect(reads.n).toBe(3);
    cache.invalidate('shop');
    await cache.get(store, 'shop', 1001);
    expect(reads.n).toBe(4);
    cache.invalidate();
    await cache.get(store, 'nope', 1002);
    expect(reads.n).toBe(5);
    const failing: Store = { ...store, getSite: async () => Promise.reject(new Error('D1 down')) };
    await expect(cache.get(failing, 'x', 0)).rejects.toThrow('D1 down');
    expect(await cache.get(store, 'x', 1)).toBeNull(); // the failure was not kept
  });

  it('names the site a write request changes', () => {
    expect(siteOfWrite('PUT', '/api/sites/shop')).toBe('shop');
    expect(siteOfWrite('PUT', '/api/sites/shop/template')).toBe('shop');
    expect(siteOfWrite('POST', '/sites/sh%20op/settings')).toBe('sh op');
    expect(siteOfWrite('POST', '/api/sites')).toBe('');
    expect(siteOfWrite('GET', '/api/sites/shop')).toBeNull();
    expect(siteOfWrite('POST', '/collect')).toBeNull();
  });

  it('through the app: no site read per /collect; an API change applies at once, one made elsewhere after the TTL', async () => {
    const { store, reads } = counting();
    const t = await makeApp(store, { siteCacheMs: 10_000 });
    const send = (v: string, origin?: string) =>
      t.collect(batch(v, [page('/')]), origin ? { headers: { 'Content-Type': 'text/plain', Origin: origin } } : {});
    expect((await send('a')).status).toBe(202);
    const before = reads.n;
    for (const v of ['b', 'c', 'd']) expect((await send(v)).status).toBe(202);
    expect(reads.n).toBe(before); // kept
    // Through the API: at once.
    const put = await t.api('/api/sites/demo', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ origins: ['https://shop.test'] }),
    });
    expect(put.status).toBe(200);
    expect((await send('e', 'https://evil.test')).status).toBe(403);
    // Elsewhere (straight into the store, as another isolate would): after the TTL of the injected clock.
    const site = (await store.getSite('demo'))!;
    await store.putSite({ ...site, origins: [] });
    expect((await send('f', 'https://evil.test')).status).toBe(403);
    t.clock.now += 10_000;
    expect((await send('g', 'https://evil.test')).status).toBe(202);
  });
});
