import { describe, expect, it } from 'vitest';
import { boundCardinality, createRateLimiter } from '../../collector/core/limits';
import { dayOf, derivedVisitorId, deviceClass, erasedHash, rotateSalts } from '../../collector/core/privacy';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';

describe('deviceClass', () => {
  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
      'desktop',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
      'desktop',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'desktop'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148', 'mobile'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36', 'mobile'],
    ['Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148', 'tablet'],
    ['Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 Chrome/131.0 Safari/537.36', 'tablet'],
    ['curl/8.5.0', 'other'],
    ['', null],
  ])('%s → %s', (ua, cls) => expect(deviceClass(ua)).toBe(cls));
});

describe('salts and derived ids', () => {
  const DAY = 86400_000;
  const T = Date.UTC(2026, 10, 20, 12);
  it('is stable within a day, differs by site, address, browser and day; old salts are deleted', async () => {
    const store = createSqliteStore(openSqlite(':memory:'));
    const a = await derivedVisitorId(store, 'shop', '192.0.2.1', 'UA', T);
    expect(a).toMatch(/^d:[A-Za-z0-9_-]{22}$/);
    expect(await derivedVisitorId(store, 'shop', '192.0.2.1', 'UA', T + 3600_000)).toBe(a);
    expect(await derivedVisitorId(store, 'blog', '192.0.2.1', 'UA', T)).not.toBe(a);
    expect(await derivedVisitorId(store, 'shop', '192.0.2.2', 'UA', T)).not.toBe(a);
    expect(await derivedVisitorId(store, 'shop', '192.0.2.1', 'UA2', T)).not.toBe(a);
    expect(await derivedVisitorId(store, 'shop', '192.0.2.1', 'UA', T + DAY)).not.toBe(a);
    expect((await store.listMeta('salt:')).map((r) => r.key)).toEqual([`salt:${dayOf(T)}`, `salt:${dayOf(T + DAY)}`]);
    // Two days later: yesterday's salt stays (late events), the one before is gone.
    expect(await rotateSalts(store, T + 2 * DAY)).toEqual([`salt:${dayOf(T)}`]);
    expect((await store.listMeta('salt:')).map((r) => r.key)).toEqual([`salt:${dayOf(T + DAY)}`]);
    // The id of day 0 can no longer be recomputed: a new salt for that day gives another id.
    expect(await derivedVisitorId(store, 'shop', '192.0.2.1', 'UA', T)).not.toBe(a);
  });

  it('hashes tombstones by kind, keyed with the deployment secret', async () => {
    const store = createSqliteStore(openSqlite(':memory:'));
    expect(await erasedHash(store, 'visitor', 'x')).toMatch(/^k1:[A-Za-z0-9_-]{43}$/);
    expect(await erasedHash(store, 'visitor', 'x')).not.toBe(await erasedHash(store, 'user', 'x'));
    const other = createSqliteStore(openSqlite(':memory:'));
    expect(await erasedHash(other, 'visitor', 'x')).not.toBe(await erasedHash(store, 'visitor', 'x'));
  });
});

describe('rate limiter', () => {
  it('allows a burst, then refills at the rate, per key, and forgets the least recently seen keys', () => {
    const limit = createRateLimiter({ burst: 3, perSecond: 2, maxKeys: 2 });
    expect([0, 1, 2, 3].map(() => limit('a', 0))).toEqual([0, 0, 0, 1]);
    expect(limit('b', 0)).toBe(0);
    expect(limit('a', 500)).toBe(0); // one token refilled after 0.5 s
    expect(limit('a', 500)).toBe(1);
    limit('c', 600); // evicts b (least recently seen)
    limit('a', 600);
    expect(limit('b', 600)).toBe(0); // b starts afresh
  });
});

describe('cardinality bounds', () => {
  const ev = (i: number, name: string, props?: Record<string, number>) => ({
    id: `e${i}`,
    visitor: 'v',
    type: 'event',
    ts: i,
    name,
    ...(props ? { props } : {}),
  });
  it('admits new names until the limit, then (other); exempt names pass; events are copied', () => {
    const input = [ev(1, 'a', { x: 1 }), ev(2, 'b', { y: 1, x: 2 }), ev(3, 'c', { z: 1 }), ev(4, 'buy'), ev(5, 'a')];
    const r = boundCardinality(
      input,
      { known: new Set(['a']), total: 1, limit: 2, exempt: new Set(['buy']) },
      { known: new Set(), total: 0, limit: 2 },
    );
    expect(r.events.map((e) => e.name)).toEqual(['a', 'b', '(other)', 'buy', 'a']);
    expect(r.events.map((e) => e.props)).toEqual([{ x: 1 }, { y: 1, x: 2 }, { '(other)': 1 }, undefined, undefined]);
    expect(r.admitted).toEqual([
      { kind: 'prop', name: 'x' },
      { kind: 'event', name: 'b' },
      { kind: 'prop', name: 'y' },
    ]);
    expect([r.otherNames, r.otherProps]).toEqual([1, 1]);
    expect(input[2]!.name).toBe('c');
  });
});
