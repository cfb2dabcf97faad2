/**
 * Retention details on SQLite that the contract suite (contract.ts, both drivers) cannot stage: a journey that
 * becomes active again between being chosen and being deleted, and the range rule the reports apply.
 */
import { describe, expect, it } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import type { WireEvent } from '../../collector/core/protocol';
import { reachesExpired, reportRange, retentionHorizon } from '../../collector/core/retention';
import { defaultSiteConfig } from '../../collector/core/stages';
import { createSqlStore } from '../../collector/stores/sql';
import { splitRange } from '../../collector/stores/sql/rollups';
import type { SqlConnector } from '../../collector/stores/sql/shared';
import { createSqliteStore, openSqlite, sqliteConnector } from '../../collector/stores/sqlite';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const site = { ...defaultSiteConfig('shop'), retentionDays: 30 };
const pageAt = (id: string, ts: number): WireEvent => ({ id, type: 'page', ts, url: 'https://shop.test/' });

describe('retention', () => {
  it('the horizon is a UTC day start; a range reaches it when it starts before it or is open', async () => {
    const h = retentionHorizon(site, T0)!;
    expect(h).toBe(Date.UTC(2026, 9, 21));
    expect(retentionHorizon({ ...site, retentionDays: null }, T0)).toBeNull();
    expect(retentionHorizon(defaultSiteConfig('old'), T0)).toBeNull(); // saved before retention: keeps everything
    const old = { hasCohortsBefore: async () => true }; // journeys first seen before the horizon exist
    expect(reachesExpired(await reportRange(old, site, {}, T0))).toBe(true);
    expect(reachesExpired(await reportRange(old, site, { from: h - 1 }, T0))).toBe(true);
    expect(reachesExpired(await reportRange(old, site, { from: h }, T0))).toBe(false);
    expect(await reportRange(old, defaultSiteConfig('old'), { from: 1 }, T0)).toEqual({ from: 1 });
    // A site whose journeys all start after its horizon (a new site) has nothing that could be expired: exact.
    const young = { hasCohortsBefore: async () => false };
    expect(await reportRange(young, site, {}, T0)).toEqual({});
    expect(await reportRange(young, site, { from: h + 1 }, T0)).toEqual({ from: h + 1, detailsFrom: h });
  });

  it('edges before the horizon are rounded out to whole days; later edges stay per journey', () => {
    const h = Date.UTC(2026, 9, 21);
    const range = { from: h - 3 * DAY + 5_000, to: h + DAY + 7_000, detailsFrom: h };
    expect(splitRange(range)).toEqual({
      days: { from: '2026-10-18', to: '2026-10-21' },
      raw: [{ from: h + DAY, to: h + DAY + 7_000 }],
    });
    // Within one expired day: that whole day.
    expect(splitRange({ from: h - 2 * DAY + 1, to: h - 2 * DAY + 9, detailsFrom: h })).toEqual({
      days: { from: '2026-10-19', to: '2026-10-19' },
      raw: [],
    });
    expect(splitRange({ from: h - 2 * DAY + 1, to: h - 2 * DAY + 9 }).raw).toHaveLength(1); // without a retention
  });

  it('a journey active again between being chosen and being deleted is kept; the chunk is undone', async () => {
    const db = openSqlite(':memory:');
    const store = createSqliteStore(db);
    await store.putSite(site);
    const old = T0 - 60 * DAY;
    for (const v of ['a', 'b', 'c']) await ingest(store, site, v, [pageAt(`${v}1`, old)], old + 1000);
    const conn = sqliteConnector(db);
    let raced = false;
    const racing: SqlConnector = {
      all: (q, p) => conn.all(q, p),
      batch: async (statements) => {
        if (!raced && statements[0]?.sql.includes('cjm:journey-active-again')) {
          raced = true; // "b" gets an event after the pass chose it, before its batch commits
          await ingest(store, site, 'b', [pageAt('b2', T0 - 1000)], T0);
        }
        await conn.batch(statements);
      },
    };
    const pass = createSqlStore(racing);
    const horizon = retentionHorizon(site, T0)!;
    const limit = { journeys: 25, events: 250 };
    expect(await pass.expire('shop', horizon, limit)).toEqual({ journeys: 0, events: 0, done: false });
    expect((await store.getJourneys('shop', ['a', 'b', 'c'])).size).toBe(3); // nothing of the chunk was deleted
    expect(await pass.expire('shop', horizon, limit)).toEqual({ journeys: 2, events: 2, done: false });
    expect(await pass.expire('shop', horizon, limit)).toEqual({ journeys: 0, events: 0, done: true });
    expect([...(await store.getJourneys('shop', ['a', 'b', 'c'])).keys()]).toEqual(['b']);
    expect((await store.eventsOfVisitors('shop', ['b'])).map((e) => e.id)).toEqual(['b1', 'b2']);
  });
});
