/**
 * The store contract: what every Store driver must do, run against each driver (sqlite.test.ts, d1.test.ts).
 *
 * Two parts:
 * - `storeContract(driver, open)`: readable tests of every Store method with expected values;
 * - `transcript(store)`: one scripted sequence (ingest with refolds and identify merges, chunked reads over more
 *   than 100 ids, every listVisitors filter, pagination cursors, errors) whose results are serialized as JSON, so
 *   two drivers can be compared byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { foldOptions, ingest, toStoredEvent } from '../../collector/core/ingest';
import { foldEvents, type StoredEvent } from '../../collector/core/journey';
import type { WireEvent } from '../../collector/core/protocol';
import { funnel, journeyMap, lifecycle, retention, touches } from '../../collector/core/reports';
import { expireSite, reportRange, retentionHorizon } from '../../collector/core/retention';
import { applyTemplate, defaultSiteConfig, type SiteConfig } from '../../collector/core/stages';
import {
  BadCursorError,
  ConflictError,
  type Commit,
  type DateRange,
  type ExportPage,
  type JourneyRecord,
  type Store,
} from '../../collector/core/store';

export interface StoreHandle {
  store: Store;
  /** Another Store over the same database, as a second Worker isolate (or Node process) would have. */
  sibling: () => Store;
}

/** Opens an empty, migrated database and returns a store on it. Called once per test. */
export type StoreFactory = () => Promise<StoreHandle>;

export const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const SITE = defaultSiteConfig('shop', { name: 'Shop', origins: ['https://shop.test'] });

/** A deterministic event builder: ids `<prefix>-<n>`, `ts` = T0 + minutes. */
const events = (prefix: string) => {
  let n = 0;
  return (type: WireEvent['type'], minute: number, fields: Partial<WireEvent> = {}): WireEvent => ({
    id: `${prefix}-${String(++n).padStart(3, '0')}`,
    type,
    ts: T0 + minute * 60_000,
    ...fields,
  });
};
const url = (path: string) => `https://shop.test${path}`;

/** A stored event with every column set. */
const fullEvent = (id: string, visitor: string, ts: number): StoredEvent => ({
  id,
  visitor,
  type: 'event',
  ts,
  url: url('/cart?utm_source=news&q=%25'),
  referrer: 'https://www.google.com/',
  title: 'Cart — “quotes” & ünïcode',
  name: 'add_to_cart',
  stage: 'cart',
  props: { sku: 'mug-1', qty: 2, gift: true, note: null },
  userId: 'ada@example.com',
  value: 12.5,
  channel: 'email',
  synthetic: true,
  device: 'mobile',
});

const emptyCommit = (): Commit => ({ events: [], links: [], journeys: [], deleteJourneys: [] });

/** Sorted, so a Map or Set serializes the same whatever the row order a driver returned. */
const sortedEntries = <V>(m: Map<string, V>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * Runs one fixed sequence through a store and returns every result as a line of JSON. Two drivers must return the
 * same lines.
 */
export const transcript = async (store: Store): Promise<string[]> => {
  const out: string[] = [];
  // Maps and Sets at any depth as sorted entries / values.
  const plain = (_: string, v: unknown) =>
    v instanceof Map ? sortedEntries(v as Map<string, unknown>) : v instanceof Set ? [...(v as Set<string>)].sort() : v;
  const log = (label: string, value: unknown) => out.push(`${label} ${JSON.stringify(value, plain)}`);
  let clock = T0 + 3600_000;
  const put = async (site: SiteConfig, visitor: string, wire: WireEvent[]) =>
    log(
      `ingest ${visitor} [${wire.map((e) => e.id).join(',')}]`,
      await ingest(store, site, visitor, wire, (clock += 1000)),
    );

  log('meta missing', await store.getMeta('admin_token'));
  log('meta ifAbsent', await store.setMeta('admin_token', 'first', true));
  log('meta ifAbsent again', await store.setMeta('admin_token', 'second', true));
  log('meta overwrite', await store.setMeta('salt', 'a'));
  log('meta overwrite again', await store.setMeta('salt', 'b'));
  log('meta read', [await store.getMeta('admin_token'), await store.getMeta('salt')]);

  await store.putSite(SITE);
  await store.putSite(defaultSiteConfig('blog'));
  await store.putSite({ ...defaultSiteConfig('blog'), name: 'The blog', sessionTimeoutMinutes: 10 });
  log('sites', await store.listSites());
  log('site', await store.getSite('shop'));
  log('site missing', await store.getSite('nope'));

  // v1: an ordinary walk, then a retry (duplicates), then a late event that forces a refold.
  const a = events('a');
  const a1 = a('page', 0, {
    url: url('/?utm_source=news&utm_medium=email'),
    referrer: 'https://mail.test/',
    title: 'Home',
  });
  const a2 = a('page', 2, { url: url('/signup') });
  const a3 = a('event', 3, { name: 'signup_completed', props: { plan: 'pro', seats: 3, trial: true } });
  const a4 = a('page', 5, { url: url('/cart') });
  const a5 = a('event', 6, { name: 'add_to_cart', value: 19.99, props: { sku: 'mug' } });
  const a6 = a('vital', 6, { name: 'LCP', value: 1234.5, stage: 'cart' });
  await put(SITE, 'v1', [a1, a2]);
  await put(SITE, 'v1', [a1, a2, a3]);
  await put(SITE, 'v1', [a4, a6, a5]);
  const late = a('page', 1, { url: url('/pricing') });
  await put(SITE, 'v1', [late]);
  const a7 = a('page', 9, { url: url('/checkout') });
  const a8 = a('feedback', 10, { value: 4, stage: 'checkout' });
  await put(SITE, 'v1', [a7, a8]);

  // v2 and v3 identify as the same user (journeys merge), v2 then turns out to have identified earlier as someone
  // else (its link moves, the user's journey is refolded without it).
  const b = events('b');
  await put(SITE, 'v2', [b('page', 20, { url: url('/') }), b('page', 21, { url: url('/cart') })]);
  await put(SITE, 'v2', [b('identify', 22, { userId: 'u1' })]);
  const c = events('c');
  await put(SITE, 'v3', [c('page', 30, { url: url('/?gclid=abc') }), c('identify', 31, { userId: 'u1' })]);
  await put(SITE, 'v3', [c('page', 32, { url: url('/checkout') }), c('page', 33, { url: url('/thank-you') })]);
  await put(SITE, 'v2', [b('identify', 19, { userId: 'u2' })]);
  await put(SITE, 'v3', [c('event', 34, { name: 'purchase', value: 42 })]);

  // 96 one-page visitors, committed 12 at a time: every chunked read (more than 100 bound parameters) is exercised.
  const many: string[] = [];
  let manyWrite: Commit = emptyCommit();
  for (let i = 0; i < 96; i++) {
    const v = `m${String(i).padStart(3, '0')}`;
    many.push(v);
    const path = ['/', '/signup', '/cart', '/checkout', '/thank-you'][i % 5] as string;
    const ev = events(v);
    const e = toStoredEvent(ev('page', 40 + (i % 17), { url: url(`${path}?utm_source=s${i % 3}`) }), v);
    // Vitals with many equal and near values per stage: the exact p75 reads (bucket histograms, then a range with
    // an OFFSET inside one bucket) must agree on both stores.
    const vital = toStoredEvent(
      ev('vital', 40 + (i % 17), { name: 'CLS', value: ((i * 37) % 50) / 1000 + (i % 2) * 1e-9 }),
      v,
    );
    manyWrite.events.push(e, vital);
    manyWrite.links.push({ visitor: v, journey: v, userId: null, identifiedAt: null, identifyEvent: null });
    manyWrite.journeys.push({ key: v, version: 1, journey: foldEvents([e, vital], foldOptions(SITE)) });
    if (manyWrite.journeys.length === 12) {
      await store.commit('shop', manyWrite, (clock += 1000));
      manyWrite = emptyCommit();
    }
  }
  // Another site with colliding ids: sites never see each other's events.
  await put(defaultSiteConfig('blog'), 'v1', [a1, a2]);

  const everyone = ['v1', 'v2', 'v3', ...many, 'nobody'];
  const ids = [a1, a2, a3, a4, a5, a6, a7, a8, late].map((e) => e.id);
  for (let i = 0; i < 96; i++) ids.push(`${many[i]}-001`, `${many[i]}-999`);
  log('existingEventIds', await store.existingEventIds('shop', ids));
  log('existingEventIds blog', await store.existingEventIds('blog', ids));
  log('getLinks', await store.getLinks('shop', everyone));
  for (const key of ['u1', 'u:u1', 'u:u2', 'v1', 'v2', 'v3'])
    log(`visitorsOfJourney ${key}`, await store.visitorsOfJourney('shop', key));
  log('getJourneys', await store.getJourneys('shop', ['v1', 'v2', 'v3', 'u:u1', 'u:u2', ...many, 'nope']));
  log('eventsOfVisitors', await store.eventsOfVisitors('shop', everyone));
  log('eventsOfVisitors v1 blog', await store.eventsOfVisitors('blog', ['v1']));

  const queries: Array<Record<string, unknown>> = [
    {},
    { stage: 'cart' },
    { stage: 'post-purchase' },
    { channel: 'paid_search' },
    { channel: 'email' },
    { converted: true },
    { converted: false },
    { lastChannel: 'direct' },
    { lastChannel: 'paid_search', converted: true },
    { device: 'desktop' },
    { device: 'mobile' },
    { identified: true },
    { identified: false, channel: 'direct' },
    { from: T0 + 45 * 60_000 },
    { to: T0 + 20 * 60_000 },
    { from: T0 + 30 * 60_000, to: T0 + 50 * 60_000 },
    { q: 'm01' },
    { q: 'u' },
    { q: 'v' },
    { q: '%' },
    { q: '_1' },
    { q: 'nobody' },
  ];
  for (const query of queries)
    log(`listVisitors ${JSON.stringify(query)}`, await store.listVisitors('shop', { limit: 50, ...query }));

  // Pagination: every journey exactly once, in (last_seen desc, key desc) order, then no cursor.
  const pages: unknown[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 40; i++) {
    const page = await store.listVisitors('shop', { limit: 7, ...(cursor ? { cursor } : {}) });
    pages.push(page);
    if (!page.cursor) break;
    cursor = page.cursor;
  }
  log('pages', pages);
  // Reports over cohorts (funnel, journey map, touches to conversion).
  for (const range of [
    {},
    { from: T0 + 20 * 60_000 },
    { to: T0 + 35 * 60_000 },
    { from: T0 + 30 * 60_000, to: T0 + 50 * 60_000 },
  ]) {
    const r = JSON.stringify(range);
    log(`stageAggregates ${r}`, await store.stageAggregates('shop', range));
    log(`stageDetails ${r}`, await store.stageDetails('shop', range, 3));
    log(`conversionCounts ${r}`, await store.conversionCounts('shop', range));
    log(`conversionCounts within 20 min ${r}`, await store.conversionCounts('shop', range, { withinMs: 20 * 60_000 }));
    // Times to convert, against a brute force over the stored journeys' states.
    const keys = (await store.listVisitors('shop', { limit: 500 })).visitors.map((v) => v.journey);
    const states = [...(await store.getJourneys('shop', keys)).values()].map((j) => j.journey);
    const cohort = states.filter(
      (j) => j.firstSeen >= (range.from ?? -Infinity) && j.firstSeen <= (range.to ?? Infinity),
    );
    for (const since of [undefined, ...SITE.stages.map((st) => st.name)]) {
      const got = await store.conversionTimes('shop', range, since);
      const entered = since === undefined ? cohort : cohort.filter((j) => j.stages[since] !== undefined);
      const start = (j: (typeof cohort)[number]) => (since === undefined ? j.firstSeen : j.stages[since]!.firstAt);
      const want = {
        journeys: entered.length,
        times: entered
          .filter((j) => j.converted !== null && j.converted.at >= start(j))
          .map((j) => j.converted!.at - start(j))
          .sort((a, b) => a - b),
      };
      if (JSON.stringify(got) !== JSON.stringify(want))
        throw new Error(
          `conversionTimes ${r} since ${since}: ${JSON.stringify(got)} ≠ brute force ${JSON.stringify(want)}`,
        );
      log(`conversionTimes ${r} since ${since ?? '(first visit)'}`, got);
    }
    // Every device class in one pass, against the same brute force (the device of the latest session).
    const byDevice = new Map<string | null, { device: string | null; journeys: number; times: number[] }>();
    for (const j of cohort) {
      const device = j.sessions[j.sessions.length - 1]?.device ?? null;
      const g = byDevice.get(device) ?? { device, journeys: 0, times: [] };
      g.journeys++;
      if (j.converted !== null) g.times.push(j.converted.at - j.firstSeen);
      byDevice.set(device, g);
    }
    const order = (gs: Array<{ device: string | null }>) =>
      [...gs].sort((a, b) => String(a.device).localeCompare(String(b.device)));
    const gotDevices = await store.conversionTimesByDevice('shop', range);
    const wantDevices = [...byDevice.values()].map((g) => ({ ...g, times: g.times.sort((a, b) => a - b) }));
    if (JSON.stringify(order(gotDevices)) !== JSON.stringify(order(wantDevices)))
      throw new Error(`conversionTimesByDevice ${r}: ${JSON.stringify(gotDevices)} ≠ ${JSON.stringify(wantDevices)}`);
    log(`conversionTimesByDevice ${r}`, order(gotDevices));
    // Of a segment: identified journeys only (and anonymous ones), against the same brute force.
    for (const identified of [true, false]) {
      const got = await store.conversionTimes('shop', range, undefined, { identified });
      const seg = cohort.filter((j) => (j.userId !== null) === identified);
      const want = {
        journeys: seg.length,
        times: seg
          .filter((j) => j.converted !== null)
          .map((j) => j.converted!.at - j.firstSeen)
          .sort((a, b) => a - b),
      };
      if (JSON.stringify(got) !== JSON.stringify(want))
        throw new Error(
          `conversionTimes ${r} identified ${identified}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`,
        );
      log(`conversionTimes ${r} identified ${identified}`, got);
    }
  }
  log('eventsOfVisitors latest 4', await store.eventsOfVisitors('shop', ['v1', 'v2', 'v3'], 4));
  log('knownNames event', await store.knownNames('shop', 'event', ['add_to_cart', 'signup_completed', 'nope']));
  log('knownNames prop', await store.knownNames('shop', 'prop', ['plan', 'sku', 'nope']));

  // Counters add up; meta by prefix; journeys under an older stage model.
  await store.addCounters('shop', [
    { day: '2026-11-20', name: 'bots', value: 3 },
    { day: '2026-11-21', name: 'dropped', value: 2 },
  ]);
  await store.addCounters('shop', [{ day: '2026-11-20', name: 'bots', value: 1 }]);
  log('getCounters', await store.getCounters('shop'));
  log('getCounters range', await store.getCounters('shop', '2026-11-21', '2026-11-30'));
  await store.setMeta('salt:2026-11-20', 's1');
  await store.setMeta('salt:2026-11-21', 's2');
  log('listMeta', await store.listMeta('salt:'));
  await store.deleteMeta(['salt:2026-11-20', 'salt:none']);
  log('listMeta after delete', await store.listMeta('salt:'));
  log('staleJourneys', await store.staleJourneys('shop', 1, 5));

  // The raw export, paged.
  const exported: unknown[] = [];
  let after: number | null = 0;
  for (let i = 0; i < 20 && after !== null; i++) {
    const pageOf: ExportPage = await store.exportEvents('shop', after, 40, {});
    exported.push(pageOf);
    after = pageOf.next;
  }
  log('exportEvents', exported);
  log('exportEvents range', await store.exportEvents('shop', 0, 10, { from: T0 + 30 * 60_000, to: T0 + 33 * 60_000 }));

  // Erasing a merged journey: events, links, journey, derived rows, and tombstones.
  log('erase', await store.erase('shop', 'u:u1', ['v3'], ['hash-v3', 'hash-u1'], (clock += 1000)));
  log('tombstoned', await store.tombstoned('shop', ['hash-v3', 'hash-u1', 'hash-other']));
  log('after erase: links', await store.getLinks('shop', ['v2', 'v3']));
  log('after erase: journeys', await store.getJourneys('shop', ['u:u1', 'u:u2']));
  log('after erase: events', await store.eventsOfVisitors('shop', ['v3']));
  log('after erase: list', await store.listVisitors('shop', { limit: 5 }));
  log('after erase: stageAggregates', await store.stageAggregates('shop', {}));

  try {
    await store.listVisitors('shop', { limit: 5, cursor: 'not-a-cursor' });
    log('bad cursor', 'accepted');
  } catch (e) {
    log('bad cursor', [e instanceof BadCursorError, (e as Error).message]);
  }
  return out;
};

/** A journey record that no driver can store (a NOT NULL column left null): its commit must fail as a whole. */
const brokenRecord = (key: string): JourneyRecord => {
  const j = foldEvents([fullEvent('x1', key, T0)], foldOptions(SITE));
  return { key, version: 1, journey: { ...j, firstSeen: null as unknown as number } };
};

export const storeContract = (driver: string, open: StoreFactory) => {
  describe(`Store contract: ${driver}`, () => {
    it('meta: get, set, set-if-absent', async () => {
      const { store } = await open();
      expect(await store.getMeta('k')).toBeNull();
      expect(await store.setMeta('k', 'one', true)).toBe('one');
      expect(await store.setMeta('k', 'two', true)).toBe('one');
      expect(await store.getMeta('k')).toBe('one');
      expect(await store.setMeta('k', 'three')).toBe('three');
      expect(await store.getMeta('k')).toBe('three');
    });

    it('sites: put (insert and update), get, list by id', async () => {
      const { store } = await open();
      expect(await store.getSite('shop')).toBeNull();
      await store.putSite(SITE);
      await store.putSite(defaultSiteConfig('blog'));
      await store.putSite({ ...SITE, name: 'Renamed' });
      expect(await store.getSite('shop')).toEqual({ ...SITE, name: 'Renamed' });
      expect((await store.listSites()).map((s) => s.id)).toEqual(['blog', 'shop']);
    });

    it('commit stores every field of an event and reads it back; absent fields stay absent', async () => {
      const { store } = await open();
      const full = fullEvent('e1', 'v1', T0);
      const bare: StoredEvent = { id: 'e2', visitor: 'v1', type: 'page', ts: T0 + 1 };
      await store.commit('shop', { ...emptyCommit(), events: [bare, full] }, T0 + 5);
      expect(await store.eventsOfVisitors('shop', ['v1'])).toEqual([
        { ...full, receivedAt: T0 + 5 },
        { ...bare, receivedAt: T0 + 5 },
      ]);
    });

    it('the export reads every field back too (the same row mapping), in arrival order', async () => {
      const { store } = await open();
      const full = fullEvent('e1', 'v1', T0);
      const bare: StoredEvent = { id: 'e2', visitor: 'v1', type: 'page', ts: T0 - 1 };
      await store.commit('shop', { ...emptyCommit(), events: [full, bare] }, T0 + 5);
      const page = await store.exportEvents('shop', 0, 10, {});
      expect(page.events).toEqual([
        { ...full, receivedAt: T0 + 5 },
        { ...bare, receivedAt: T0 + 5 },
      ]);
      expect(JSON.stringify(page.events[0])).toBe(JSON.stringify((await store.eventsOfVisitors('shop', ['v1']))[1]));
    });

    it('commit is idempotent: the same commit repeated (its answer lost) changes nothing, keeps the first receivedAt', async () => {
      const { store } = await open();
      const e: StoredEvent = { id: 'e1', visitor: 'v1', type: 'page', ts: T0, url: url('/') };
      const j = foldEvents([e], foldOptions(SITE));
      const write: Commit = {
        events: [e],
        links: [{ visitor: 'v1', journey: 'v1', userId: null, identifiedAt: null, identifyEvent: null }],
        journeys: [{ key: 'v1', version: 1, journey: j }],
        deleteJourneys: [],
      };
      await store.commit('shop', write, T0 + 1);
      const before = JSON.stringify([
        await store.eventsOfVisitors('shop', ['v1']),
        [...(await store.getJourneys('shop', ['v1']))],
      ]);
      await store.commit('shop', write, T0 + 2);
      const after = JSON.stringify([
        await store.eventsOfVisitors('shop', ['v1']),
        [...(await store.getJourneys('shop', ['v1']))],
      ]);
      expect(after).toBe(before);
      expect((await store.eventsOfVisitors('shop', ['v1']))[0]?.receivedAt).toBe(T0 + 1);
    });

    it('commit is atomic: when one statement fails, nothing of it is written', async () => {
      const { store } = await open();
      const e: StoredEvent = { id: 'e1', visitor: 'v1', type: 'page', ts: T0 };
      const write: Commit = {
        events: [e],
        links: [{ visitor: 'v1', journey: 'v1', userId: null, identifiedAt: null, identifyEvent: null }],
        journeys: [brokenRecord('v1')],
        deleteJourneys: [],
      };
      await expect(store.commit('shop', write, T0)).rejects.toThrow();
      expect(await store.existingEventIds('shop', ['e1'])).toEqual(new Set());
      expect(await store.getLinks('shop', ['v1'])).toEqual(new Map());
      expect(await store.getJourneys('shop', ['v1'])).toEqual(new Map());
    });

    it('commit refuses a stale journey version with ConflictError and writes nothing of it', async () => {
      const { store } = await open();
      const e1: StoredEvent = { id: 'e1', visitor: 'v1', type: 'page', ts: T0, url: url('/') };
      const e2: StoredEvent = { id: 'e2', visitor: 'v1', type: 'page', ts: T0 + 1, url: url('/cart') };
      const opts = foldOptions(SITE);
      await store.commit(
        'shop',
        { ...emptyCommit(), events: [e1], journeys: [{ key: 'v1', version: 1, journey: foldEvents([e1], opts) }] },
        T0,
      );
      // A writer that read the journey before the first commit (no journey yet: it writes version 1 again).
      const stale: Commit = {
        ...emptyCommit(),
        events: [e2],
        journeys: [{ key: 'v1', version: 1, journey: foldEvents([e2], opts) }],
      };
      const err = await store.commit('shop', stale, T0).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as Error).message).toMatch(/journey v1 of site "shop" changed since it was read/);
      expect(await store.existingEventIds('shop', ['e2'])).toEqual(new Set());
      // A writer that read version 1 succeeds.
      await store.commit(
        'shop',
        { ...stale, journeys: [{ key: 'v1', version: 2, journey: foldEvents([e1, e2], opts) }] },
        T0,
      );
      expect((await store.getJourneys('shop', ['v1'])).get('v1')?.version).toBe(2);
    });

    it('links, journey members, journeys and deletions', async () => {
      const { store } = await open();
      const j = foldEvents([{ id: 'e1', visitor: 'v1', type: 'page', ts: T0 }], foldOptions(SITE));
      const link = (visitor: string, journey: string, userId: string | null = null) => ({
        visitor,
        journey,
        userId,
        identifiedAt: userId ? T0 : null,
        identifyEvent: userId ? 'e9' : null,
      });
      await store.commit(
        'shop',
        {
          events: [],
          links: [link('v1', 'v1'), link('v2', 'v2')],
          journeys: [
            { key: 'v1', version: 1, journey: j },
            { key: 'v2', version: 1, journey: j },
          ],
          deleteJourneys: [],
        },
        T0,
      );
      await store.commit(
        'shop',
        {
          events: [],
          links: [link('v1', 'u:ada', 'ada'), link('v2', 'u:ada', 'ada')],
          journeys: [{ key: 'u:ada', version: 1, journey: j }],
          deleteJourneys: ['v1', 'v2'],
        },
        T0,
      );
      expect(await store.getLinks('shop', ['v1', 'v2', 'v3'])).toEqual(
        new Map([
          ['v1', link('v1', 'u:ada', 'ada')],
          ['v2', link('v2', 'u:ada', 'ada')],
        ]),
      );
      expect(await store.visitorsOfJourney('shop', 'u:ada')).toEqual(['v1', 'v2']);
      expect(await store.visitorsOfJourney('shop', 'v1')).toEqual([]);
      const journeys = await store.getJourneys('shop', ['v1', 'v2', 'u:ada']);
      expect([...journeys.keys()]).toEqual(['u:ada']);
      expect(journeys.get('u:ada')).toMatchObject({ key: 'u:ada', version: 1, journey: j });
      expect((await store.listVisitors('shop', { limit: 10 })).visitors.map((v) => v.journey)).toEqual(['u:ada']);
      expect(await store.getLinks('other', ['v1'])).toEqual(new Map());
    });

    it('reads more than 100 ids at once (D1 binds at most 100 parameters), events in (ts, id) order', async () => {
      const { store } = await open();
      const visitors = Array.from({ length: 150 }, (_, i) => `v${String(i).padStart(3, '0')}`);
      // Timestamps run against the visitor order, and ties are broken by id.
      const evs: StoredEvent[] = visitors.map((v, i) => ({
        id: `e-${v}`,
        visitor: v,
        type: 'page',
        ts: T0 - (i % 50) * 1000,
      }));
      await store.commit('shop', { ...emptyCommit(), events: evs }, T0);
      const found = await store.existingEventIds('shop', [...evs.map((e) => e.id), 'e-missing']);
      expect(found.size).toBe(150);
      const read = await store.eventsOfVisitors('shop', visitors);
      expect(read).toHaveLength(150);
      const sorted = [...evs].sort((x, y) => x.ts - y.ts || (x.id < y.id ? -1 : 1));
      expect(read.map((e) => e.id)).toEqual(sorted.map((e) => e.id));
    });

    it('listVisitors filters, searches with LIKE wildcards taken literally, and pages with a cursor', async () => {
      const { store } = await open();
      const e = events('x');
      await ingest(store, SITE, 'a_1', [e('page', 0, { url: url('/cart?utm_medium=cpc&utm_source=google') })], T0);
      await ingest(store, SITE, 'ab1', [e('page', 1, { url: url('/thank-you') })], T0);
      await ingest(store, SITE, 'c%2', [e('page', 2, { url: url('/') }), e('identify', 3, { userId: 'zed' })], T0);
      const keys = async (q: Record<string, unknown>) =>
        (await store.listVisitors('shop', { limit: 10, ...q })).visitors.map((v) => v.journey);
      expect(await keys({})).toEqual(['u:zed', 'ab1', 'a_1']);
      expect(await keys({ stage: 'cart' })).toEqual(['a_1']);
      expect(await keys({ channel: 'paid_search' })).toEqual(['a_1']);
      expect(await keys({ converted: true })).toEqual(['ab1']);
      expect(await keys({ converted: false })).toEqual(['u:zed', 'a_1']);
      expect(await keys({ from: T0 + 60_000 })).toEqual(['u:zed', 'ab1']);
      expect(await keys({ to: T0 + 30_000 })).toEqual(['a_1']);
      expect(await keys({ q: 'a_' })).toEqual(['a_1']);
      expect(await keys({ q: 'c%' })).toEqual(['u:zed']);
      expect(await keys({ q: 'ze' })).toEqual(['u:zed']);
      expect(await keys({ q: '%' })).toEqual([]);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listVisitors('shop', { limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.visitors.map((v) => v.journey));
        cursor = page.cursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(['u:zed', 'ab1', 'a_1']);
      await expect(store.listVisitors('shop', { limit: 2, cursor: 'bogus' })).rejects.toBeInstanceOf(BadCursorError);
    });

    it('lifecycle numbers and cohort retention equal a brute force over the generated journeys, through late events and erasure', async () => {
      const { store } = await open();
      const site = applyTemplate(defaultSiteConfig('life'), 'post-purchase');
      await store.putSite(site);
      const H = 3600_000;
      const DAY = 24 * H;
      const NOW = T0 + 60 * DAY;
      // Visitors arriving every 18 hours over 15 days: browsers, buyers, repeat buyers, returners.
      const gen = new Map<string, WireEvent[]>();
      for (let v = 0; v < 20; v++) {
        const s0 = T0 + v * 18 * H + v * 1000;
        const list: WireEvent[] = [];
        const ev = (dt: number, fields: Partial<WireEvent>) =>
          list.push({ id: `l${v}-${list.length}`, type: 'page', ts: s0 + dt, ...fields });
        ev(0, { url: url('/') });
        if (v % 5 !== 0) ev(2 * 60_000, { url: url('/products/mug') });
        if (v % 5 >= 2) ev(4 * 60_000, { type: 'event', name: 'purchase' });
        if (v % 5 >= 3) ev((1 + (v % 7)) * DAY + v * 60_000, { type: 'event', name: 'order_completed' });
        if (v % 5 === 4) {
          ev(9 * DAY, { url: url('/orders/1') });
          ev(10 * DAY, { type: 'event', name: 'purchase' });
        }
        if (v % 4 === 1) ev(7 * DAY + 3 * H, { url: url('/') });
        if (v % 6 === 1) ev(21 * DAY, { url: url('/') });
        if (v % 7 === 3) ev(2 * 60_000 + 30_000, { type: 'event', name: 'purchase' }); // same session, before the other
        gen.set(`l${v}`, list);
      }
      // Late events: each journey arrives newest half first, then the older half (a refold each).
      for (const [visitor, list] of gen) {
        const half = Math.ceil(list.length / 2);
        const sorted = [...list].sort((a, b) => a.ts - b.ts);
        await ingest(store, site, visitor, sorted.slice(half), NOW);
        if (half > 0) await ingest(store, site, visitor, sorted.slice(0, half), NOW);
      }

      /** The numbers straight from the generated events: sessions split at 30 minutes of inactivity. */
      const truth = (range: { from?: number; to?: number }) => {
        let customers = 0;
        let repeat = 0;
        let purchases = 0;
        let converted = 0;
        let returned = 0;
        const seconds: number[] = [];
        for (const list of gen.values()) {
          const sorted = [...list].sort((a, b) => a.ts - b.ts);
          const first = sorted[0]!.ts;
          if ((range.from !== undefined && first < range.from) || (range.to !== undefined && first > range.to))
            continue;
          const buys = sorted.filter((e) => e.type === 'event').map((e) => e.ts);
          const starts = sorted.filter((e, i) => i === 0 || e.ts - sorted[i - 1]!.ts > 30 * 60_000).map((e) => e.ts);
          if (buys.length > 0) {
            customers++;
            converted++;
            purchases += buys.length;
            if (starts.some((t) => t > buys[0]!)) returned++;
          }
          if (buys.length > 1) {
            repeat++;
            seconds.push(buys[1]! - buys[0]!);
          }
        }
        seconds.sort((a, b) => a - b);
        return {
          customers,
          repeatCustomers: repeat,
          repeatPurchaseRate: customers ? repeat / customers : null,
          medianToSecondPurchaseMs: seconds.length ? seconds[Math.ceil(seconds.length / 2) - 1]! : null,
          purchases,
          purchasesPerCustomer: customers ? purchases / customers : null,
          converted,
          returnedAfterConversion: returned,
          returnRate: converted ? returned / converted : null,
        };
      };
      const week = (t: number) => Math.floor((Math.floor(t / DAY) + 3) / 7);
      const retentionTruth = () => {
        const cohorts = new Map<number, { journeys: number; active: number[] }>();
        for (const list of gen.values()) {
          const sorted = [...list].sort((a, b) => a.ts - b.ts);
          const w0 = week(sorted[0]!.ts);
          const c = cohorts.get(w0) ?? { journeys: 0, active: new Array<number>(13).fill(0) };
          cohorts.set(w0, c);
          c.journeys++;
          const ks = new Set(
            sorted.filter((e, i) => i === 0 || e.ts - sorted[i - 1]!.ts > 30 * 60_000).map((e) => week(e.ts) - w0),
          );
          for (const k of ks) if (k <= 12) c.active[k]!++;
        }
        return [...cohorts]
          .sort(([a], [b]) => a - b)
          .map(([w, c]) => ({
            week: new Date((w * 7 - 3) * DAY).toISOString().slice(0, 10),
            journeys: c.journeys,
            active: c.active.map((n, k) => (w + k <= week(NOW) ? n : null)),
          }));
      };
      const check = async (label: string) => {
        for (const r of [
          {},
          { from: T0 + 3 * H, to: T0 + 53 * H },
          { from: T0 + 24 * H, to: T0 + 7 * DAY - 1 },
          { from: T0 + 5 * DAY + 13 * H },
          { to: T0 + 9 * DAY + 7 * H },
        ]) {
          expect(await lifecycle(store, site, r), `${label} ${JSON.stringify(r)}`).toEqual(truth(r));
        }
        const got = await retention(store, site, {}, 12, NOW);
        expect(
          got.cohorts.map((c) => ({ week: c.week, journeys: c.journeys, active: c.active })),
          label,
        ).toEqual(retentionTruth());
        // A range selects the ISO weeks it overlaps.
        const one = await retention(store, site, { from: T0 + 4 * DAY, to: T0 + 4 * DAY + H }, 12, NOW);
        expect(one.cohorts.map((c) => c.week)).toEqual(['2026-11-23']);
      };
      const sample = truth({});
      expect(sample.repeatCustomers).toBeGreaterThan(5);
      expect(sample.returnedAfterConversion).toBeGreaterThan(5);
      await check('after late events');

      // Erasure takes a journey out of both rollups.
      for (const v of ['l4', 'l9', 'l13']) {
        await store.erase('life', v, [v], [`hash-${v}`], NOW);
        gen.delete(v);
      }
      await check('after erasure');
    }, 120_000); // about 50 commits and 24 report reads: seconds on SQLite, longer on a busy local D1

    it('retention: expire deletes journeys last active before the horizon in bounded chunks; the rollups stay', async () => {
      const { store } = await open();
      const DAY = 86_400_000;
      const site: SiteConfig = { ...SITE, retentionDays: 30 };
      await store.putSite(site);
      const OLD = T0 - 100 * DAY; // 10:00 UTC, 100 days before T0
      const walk = (p: string, at: number, n: number): WireEvent[] => {
        const out: WireEvent[] = [
          { id: `${p}-1`, type: 'page', ts: at, url: url('/?utm_source=news') },
          { id: `${p}-2`, type: 'page', ts: at + 60_000, url: url('/cart') },
          { id: `${p}-3`, type: 'vital', ts: at + 61_000, name: 'LCP', value: 1000 + n * 37, stage: 'cart' },
          { id: `${p}-4`, type: 'page', ts: at + (2 + n) * 60_000, url: url('/checkout') },
        ];
        if (n % 2 === 0)
          out.push({ id: `${p}-5`, type: 'event', ts: at + (3 + n) * 60_000, name: 'purchase', value: n });
        return out;
      };
      // 8 old journeys (one an identified user of two visitors), one with 30 events, two recent ones, and one of the
      // old cohort still active 1 day before T0 (it stays).
      for (let i = 0; i < 8; i++) await ingest(store, site, `o${i}`, walk(`o${i}`, OLD + i * 3_600_000, i), OLD + DAY);
      await ingest(
        store,
        site,
        'o1',
        [{ id: 'o1-id', type: 'identify', ts: OLD + 4_000_000, userId: 'old-user' }],
        OLD + DAY,
      );
      await ingest(
        store,
        site,
        'o2',
        [{ id: 'o2-id', type: 'identify', ts: OLD + 8_000_000, userId: 'old-user' }],
        OLD + DAY,
      );
      const big = Array.from({ length: 30 }, (_, k): WireEvent => ({
        id: `big-${k}`,
        type: 'page',
        ts: OLD + k * 1000,
        url: url('/'),
      }));
      await ingest(store, site, 'big', big, OLD + DAY);
      await ingest(store, site, 'keep', walk('keep', OLD + 5_000_000, 3), OLD + DAY);
      await ingest(store, site, 'keep', [{ id: 'keep-late', type: 'page', ts: T0 - DAY, url: url('/') }], T0 - DAY);
      for (let i = 0; i < 2; i++) await ingest(store, site, `r${i}`, walk(`r${i}`, T0 - 3_600_000 * (i + 1), i), T0);

      const ranges: DateRange[] = [
        {}, // open: reaches into the expired days
        { from: OLD - DAY, to: OLD + DAY }, // whole and partial old days
        { from: OLD + 3 * 3_600_000 + 1, to: OLD + 6 * 3_600_000 }, // within one old day
        { from: T0 - 2 * DAY }, // recent only
      ];
      const reports = async () =>
        Promise.all(
          ranges.map(async (r) => {
            const range = await reportRange(store, site, r, T0);
            return JSON.stringify([
              await funnel(store, site, range),
              await journeyMap(store, site, range, 10),
              await touches(store, site, range),
            ]);
          }),
        );
      const before = await reports();
      expect(JSON.parse(before[1]!)[0].range).toMatchObject({ expired: true, retentionDays: 30 });
      expect(JSON.parse(before[3]!)[0].range).toMatchObject({ expired: false });
      expect(JSON.parse(before[1]!)[0].journeys).toBe(9); // 7 old journeys (o1 + o2 merged), big, keep

      const chunks: Array<{ journeys: number; events: number }> = [];
      const chunk = { journeys: 3, events: 10 };
      let run;
      do run = await expireSite(store, site, T0, { chunk, maxChunks: 2, onChunk: (c) => chunks.push(c) });
      while (!run.done);
      for (const c of chunks) {
        expect(c.journeys).toBeLessThanOrEqual(chunk.journeys);
        if (c.journeys !== 1) expect(c.events).toBeLessThanOrEqual(chunk.events);
      }
      expect(chunks.reduce((n, c) => n + c.journeys, 0)).toBe(8); // o0, u:old-user, o3…o7, big
      expect(chunks.reduce((n, c) => n + c.events, 0)).toBe(30 + 8 * 4 + 4 + 2); // big, 4 per walk, 4 purchases, 2 identify
      // Nothing older than the horizon is left; "keep" (its cohort old, its last activity recent) stays.
      expect(await store.expire('shop', retentionHorizon(site, T0)!, chunk)).toEqual({
        journeys: 0,
        events: 0,
        done: true,
      });
      const gone = ['o0', 'o1', 'o2', 'o3', 'o7', 'big'];
      expect(await store.eventsOfVisitors('shop', gone)).toEqual([]);
      expect((await store.getLinks('shop', gone)).size).toBe(0);
      expect((await store.getJourneys('shop', [...gone, 'u:old-user'])).size).toBe(0);
      expect([...(await store.getJourneys('shop', ['keep', 'r0', 'r1'])).keys()].sort()).toEqual(['keep', 'r0', 'r1']);
      expect((await store.eventsOfVisitors('shop', ['keep'])).length).toBe(5);
      // The funnel, the journey map and touches over every range give the numbers they gave before the pass.
      expect(await reports()).toEqual(before);
      // Erasure, on the same deletion path, does subtract: the recent cohort loses r0.
      await store.erase('shop', 'r0', ['r0'], [], T0);
      const after = await funnel(store, site, await reportRange(store, site, ranges[3]!, T0));
      expect(after.journeys).toBe(JSON.parse(before[3]!)[0].journeys - 1);
    });

    it('two isolates folding the same journey at once lose no event', async () => {
      const handle = await open();
      const other = handle.sibling();
      await handle.store.putSite(SITE);
      const e = events('r');
      const first = [e('page', 0, { url: url('/') })];
      await ingest(handle.store, SITE, 'v1', first, T0);
      const left = [e('page', 1, { url: url('/signup') }), e('page', 2, { url: url('/cart') })];
      const right = [e('page', 3, { url: url('/checkout') }), e('page', 4, { url: url('/thank-you') })];
      const both = [e('page', 5, { url: url('/') })];
      const results = await Promise.all([
        ingest(handle.store, SITE, 'v1', [...left, ...both], T0 + 1),
        ingest(other, SITE, 'v1', [...right, ...both], T0 + 1),
      ]);
      expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(5);
      const stored = await handle.store.eventsOfVisitors('shop', ['v1']);
      expect(stored.map((x) => x.id)).toEqual([...first, ...left, ...right, ...both].map((x) => x.id));
      const record = (await handle.store.getJourneys('shop', ['v1'])).get('v1');
      expect(record?.journey).toEqual(foldEvents(stored, foldOptions(SITE)));
      expect(record?.journey.events).toBe(6);
    });
  });
};
