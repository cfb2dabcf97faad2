/**
 * A database written before fold version 1 (test/fixtures/fold-v0.json, made by the collector of commit 145f653):
 * its journeys were classified under the old channel model (Reddit as social, `utm_medium=retargeting` as paid social,
 * Google Maps as organic search …) and folded with the old precedence of overlapping stage rules. Under the current
 * code every one of them is stale; maintenance refolds them in bounded chunks, after which the journeys, their derived
 * rows and the rollups the reports read are exactly those of ingesting the same events today. A stale journey that
 * receives an event is refolded at once.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ingest, journeyRevision } from '../../collector/core/ingest';
import { FOLD_VERSION } from '../../collector/core/journey';
import type { WireEvent } from '../../collector/core/protocol';
import { maintenance, pendingRefolds } from '../../collector/core/sites';
import type { SiteConfig } from '../../collector/core/stages';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';

interface Fixture {
  commit: string;
  receivedAt: number;
  batches: Array<{ site: string; visitor: string; events: WireEvent[] }>;
  tables: Record<string, Array<Record<string, unknown>>>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/fold-v0.json', import.meta.url), 'utf8')) as Fixture;
const NOW = fixture.receivedAt + 60_000;

/** The fixture's database: the current schema (the same migrations), the rows as the old collector wrote them. */
const oldDatabase = () => {
  const db = openSqlite(':memory:');
  for (const [table, rows] of Object.entries(fixture.tables)) {
    for (const row of rows) {
      const cols = Object.keys(row);
      db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(
        ...Object.values(row),
      );
    }
  }
  return { db, store: createSqliteStore(db) };
};

const sitesOf = (): SiteConfig[] => fixture.tables.sites!.map((r) => JSON.parse(r.config as string) as SiteConfig);

/** The same events ingested by the current code. */
const freshDatabase = async () => {
  const db = openSqlite(':memory:');
  const store = createSqliteStore(db);
  const sites = sitesOf();
  for (const s of sites) await store.putSite(s);
  for (const b of fixture.batches)
    await ingest(
      store,
      sites.find((s) => s.id === b.site)!,
      b.visitor,
      b.events,
      fixture.receivedAt,
    );
  return { db, store };
};

/** Everything the reports read, without write counters (`version`) and the sites' creation time. */
const dump = (db: ReturnType<typeof openSqlite>) =>
  Object.fromEntries(
    // With the rollups the fixture predates (migration 0032): journeys of the old fold count there only once refolded.
    [...Object.keys(fixture.tables), 'cohort_lifecycle', 'cohort_retention'].map((t) => [
      t,
      (db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all() as Array<Record<string, unknown>>)
        .map(({ version: _v, created_at: _c, ...r }) => r)
        // Rollup rows whose counts went to zero are kept by the store; they count nothing.
        .filter(
          (r) =>
            !t.startsWith('cohort_') || Object.entries(r).some(([k, v]) => ['n', 'journeys'].includes(k) && v !== 0),
        )
        // The count of events stored per day (the daily quota's, core/quota.ts) is written by ingest since a version
        // after the fixture's; a refold does not write it for days past.
        .filter((r) => !(t === 'site_counters' && r.name === 'stored')),
    ]),
  );

const channels = async (store: ReturnType<typeof createSqliteStore>, site: string) =>
  Object.fromEntries((await store.listVisitors(site, { limit: 100 })).visitors.map((v) => [v.journey, v.firstChannel]));

describe('a database written before fold version 1', () => {
  it('was written by the old collector', () => {
    expect(fixture.commit).toBe('145f653');
    const revisions = new Set(fixture.tables.journeys!.map((r) => r.revision));
    expect(revisions).toEqual(new Set([1, 3])); // the bare site revisions (demo 1, overlap 3)
    expect(FOLD_VERSION).toBeGreaterThanOrEqual(1);
  });

  it('is refolded by maintenance in bounded chunks to exactly what ingesting it today gives', async () => {
    const old = oldDatabase();
    const demo = sitesOf().find((s) => s.id === 'demo')!;
    const overlap = sitesOf().find((s) => s.id === 'overlap')!;
    const journeys = (site: string) => fixture.tables.journeys!.filter((r) => r.site === site).length;
    expect(await pendingRefolds(old.store, demo)).toBe(journeys('demo'));
    expect(await pendingRefolds(old.store, overlap)).toBe(journeys('overlap'));

    // Before: the old classification and precedence, as the reports show them.
    expect(await channels(old.store, 'demo')).toEqual({
      'u:ada': 'social', // Hacker News
      'v-adct': 'direct',
      'v-criteo': 'display',
      'v-google': 'organic_search',
      'v-habr': 'social',
      'v-maps': 'organic_search',
      'v-reddit': 'social',
      'v-remarket': 'other',
      'v-retarget': 'paid_social',
      'v-so': 'referral',
    });
    const before = await old.store.stageAggregates('overlap', {});
    expect(before.stages.find((s) => s.stage === 'cart')?.reached ?? 0).toBe(0);

    // Maintenance with a budget of 4 journeys per run: several runs, never more than the budget.
    const runs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { refolded } = await maintenance(old.store, NOW, 4);
      if (refolded === 0) break;
      runs.push(refolded);
    }
    expect(runs.length).toBeGreaterThan(2);
    expect(Math.max(...runs)).toBeLessThanOrEqual(4);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(fixture.tables.journeys!.length);
    expect(await pendingRefolds(old.store, demo)).toBe(0);
    expect(await pendingRefolds(old.store, overlap)).toBe(0);

    // After: the new channels and precedence; every table the reports read equals a fresh ingest.
    expect(await channels(old.store, 'demo')).toEqual({
      'u:ada': 'forum',
      'v-adct': 'retargeting',
      'v-criteo': 'retargeting',
      'v-google': 'organic_search',
      'v-habr': 'forum',
      'v-maps': 'maps',
      'v-reddit': 'forum',
      'v-remarket': 'retargeting',
      'v-retarget': 'retargeting',
      'v-so': 'forum',
    });
    const fresh = await freshDatabase();
    expect(dump(old.db)).toEqual(dump(fresh.db));
    for (const site of ['demo', 'overlap']) {
      expect(await old.store.stageAggregates(site, {})).toEqual(await fresh.store.stageAggregates(site, {}));
      expect(await old.store.stageDetails(site, {}, 50)).toEqual(await fresh.store.stageDetails(site, {}, 50));
    }
    const after = await old.store.stageAggregates('overlap', {});
    expect(after.stages.find((s) => s.stage === 'cart')?.reached).toBe(2);
    const stored = await old.store.getJourneys('demo', ['v-reddit']);
    expect(stored.get('v-reddit')?.revision).toBe(journeyRevision(demo));
  });

  it('refolds a stale journey at once when it receives an event', async () => {
    const old = oldDatabase();
    const demo = sitesOf().find((s) => s.id === 'demo')!;
    const late: WireEvent = { id: 'late1', type: 'page', ts: fixture.receivedAt, url: 'https://shop.example/faq' };
    await ingest(old.store, demo, 'v-reddit', [late], NOW);
    const fresh = await freshDatabase();
    await ingest(fresh.store, demo, 'v-reddit', [late], NOW);
    const a = (await old.store.getJourneys('demo', ['v-reddit'])).get('v-reddit')!;
    const b = (await fresh.store.getJourneys('demo', ['v-reddit'])).get('v-reddit')!;
    expect(a.journey).toEqual(b.journey);
    expect(a.journey.firstChannel).toBe('forum');
    expect(a.revision).toBe(journeyRevision(demo));
    // Its rollup contribution moved from the old state to the new one: the reports agree with a fresh ingest.
    await maintenance(old.store, NOW);
    expect(dump(old.db)).toEqual(dump(fresh.db));
  });
});
