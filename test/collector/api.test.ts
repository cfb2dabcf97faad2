/**
 * Every read/admin endpoint through `app.request()`: sites admin, visitors, visitor, delete (tombstones), funnel,
 * journey map, touches, export, counters — with exact numbers on a small hand-made data set.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import type {
  FunnelReport,
  JourneyMapReport,
  TimeToConvertReport,
  RetentionReport,
  TouchesReport,
  VisitorDetail,
  CountersReport,
  SiteAnswer,
} from '../../collector/core/reports';
import type { WireEvent } from '../../collector/core/protocol';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { batch, makeApp, T0, type TestApp } from '../helpers';

let t: TestApp;
beforeEach(async () => {
  t = await makeApp();
});

const MIN = 60_000;
let n = 0;
const at = (minute: number, type: WireEvent['type'], fields: Partial<WireEvent> = {}): WireEvent => ({
  id: `x${++n}`,
  type,
  ts: T0 + minute * MIN,
  ...fields,
});
const pg = (minute: number, path: string, fields: Partial<WireEvent> = {}) =>
  at(minute, 'page', { url: `https://shop.test${path}`, ...fields });

const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await res).json() as Promise<T>;

/**
 * a: google → landing → signup → cart → checkout → cart (back) → checkout → thank-you (converted, 7 touches, 1 session)
 * b: email → landing → cart (skips signup), feedback 2 in cart, LCP 3000 in cart, leaves
 * c: direct → landing; next day (new session) landing → signup
 */
const seed = async () => {
  await t.collect(
    batch('a', [
      pg(0, '/', { referrer: 'https://www.google.com/' }),
      pg(1, '/signup'),
      at(2, 'event', { name: 'add_to_cart' }),
      pg(4, '/checkout'),
      pg(5, '/cart'),
      pg(6, '/checkout'),
      pg(7, '/thank-you'),
      at(8, 'feedback', { value: 5 }),
    ]),
  );
  await t.collect(
    batch('b', [
      pg(0, '/?utm_source=newsletter&utm_medium=email'),
      pg(3, '/cart'),
      at(4, 'feedback', { value: 2 }),
      at(5, 'vital', { name: 'LCP', value: 3000 }),
    ]),
  );
  await t.collect(batch('c', [pg(0, '/'), pg(24 * 60, '/'), pg(24 * 60 + 1, '/signup')]));
};

describe('sites admin', () => {
  it('creates, reads, lists and changes sites; refuses bad fields naming them', async () => {
    const created = await t.api('/api/sites', {
      method: 'POST',
      body: JSON.stringify({ id: 'blog', name: 'Blog', origins: ['https://blog.example'] }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(created.status).toBe(201);
    const body = await json<SiteAnswer>(created);
    expect(body.site).toMatchObject({
      id: 'blog',
      name: 'Blog',
      origins: ['https://blog.example'],
      conversion: 'post-purchase',
      revision: 1,
    });
    expect(body.refold).toEqual({ pending: 0 });
    expect((await t.api('/api/sites', { method: 'POST', body: JSON.stringify({ id: 'blog' }) })).status).toBe(409);
    const list = await json<{ sites: { id: string }[] }>(t.api('/api/sites'));
    expect(list.sites.map((s) => s.id)).toEqual(['blog', 'demo']);
    expect((await json<SiteAnswer>(t.api('/api/sites/blog'))).site.name).toBe('Blog');
    expect((await t.api('/api/sites/nope')).status).toBe(404);

    const bad = async (method: string, path: string, b: unknown, field: string) => {
      const res = await t.api(path, { method, body: typeof b === 'string' ? b : JSON.stringify(b) });
      expect(res.status, JSON.stringify(b)).toBe(400);
      expect((await json<{ path: string }>(res)).path).toBe(field);
    };
    await bad('POST', '/api/sites', { id: 'a b' }, 'id');
    await bad('POST', '/api/sites', { id: 'x', origins: ['https://x.example/path'] }, 'origins[0]');
    await bad('POST', '/api/sites', { id: 'x', origins: 'https://x.example' }, 'origins');
    await bad('POST', '/api/sites', { id: 'x', stages: [] }, 'stages');
    await bad(
      'POST',
      '/api/sites',
      { id: 'x', stages: [{ name: 'a' }, { name: 'a' }], conversion: 'a' },
      'stages[1].name',
    );
    await bad('POST', '/api/sites', { id: 'x', conversion: 'nope' }, 'conversion');
    await bad('POST', '/api/sites', { id: 'x', sessionTimeoutMinutes: 0 }, 'sessionTimeoutMinutes');
    await bad('POST', '/api/sites', { id: 'x', limits: { eventNames: -1 } }, 'limits.eventNames');
    await bad('POST', '/api/sites', { id: 'x', colour: 'red' }, 'colour');
    await bad('PUT', '/api/sites/blog', { id: 'other' }, 'id');
    await bad('PUT', '/api/sites/blog', { revision: 99 }, 'revision');
    await bad('PUT', '/api/sites/blog', { conversion: 'nope' }, 'conversion');
    expect((await t.api('/api/sites', { method: 'POST', body: '{nope' })).status).toBe(400);

    const put = await json<SiteAnswer>(
      t.api('/api/sites/blog', { method: 'PUT', body: JSON.stringify({ name: 'The blog' }) }),
    );
    expect(put.site).toMatchObject({ name: 'The blog', origins: ['https://blog.example'], revision: 1 });
  });

  it('enforces allowed origins at /collect once set', async () => {
    await t.api('/api/sites/demo', { method: 'PUT', body: JSON.stringify({ origins: ['https://shop.test'] }) });
    const evil = await t.collect(batch('v', [pg(0, '/')]), { headers: { Origin: 'https://evil.test' } });
    expect(evil.status).toBe(403);
    expect((await json<{ error: string }>(evil)).error).toBe(
      '[cjm] site "demo" does not allow origin https://evil.test',
    );
    expect((await t.collect(batch('v', [pg(0, '/')]), { headers: { Origin: 'https://shop.test' } })).status).toBe(202);
  });

  it('works with any stage model: awareness → … → advocacy', async () => {
    const stages = [
      { name: 'awareness' },
      { name: 'consideration', urls: ['/product/**'] },
      { name: 'purchase', events: ['order_completed'] },
      { name: 'retention', urls: ['/account/**'] },
      { name: 'advocacy', events: ['review_written', 'referral_sent'] },
    ];
    const res = await t.api('/api/sites', {
      method: 'POST',
      body: JSON.stringify({ id: 'aw', stages, conversion: 'purchase' }),
    });
    expect(res.status).toBe(201);
    await t.collect(
      batch(
        'p',
        [
          pg(0, '/'),
          pg(1, '/product/42'),
          at(2, 'event', { name: 'order_completed' }),
          pg(3, '/account/orders'),
          at(4, 'event', { name: 'review_written' }),
        ],
        'aw',
      ),
    );
    await t.collect(batch('q', [pg(0, '/'), pg(1, '/product/7')], 'aw'));
    const f = await json<FunnelReport>(t.api('/api/sites/aw/funnel'));
    expect(f.stages.map((s) => [s.stage, s.reached, s.current])).toEqual([
      ['awareness', 2, 0],
      ['consideration', 2, 1],
      ['purchase', 1, 0],
      ['retention', 1, 0],
      ['advocacy', 1, 1],
    ]);
    expect(f.converted).toBe(1);
    expect(f.conversionStage).toBe('purchase');
    const v = await json<VisitorDetail>(t.api('/api/sites/aw/visitors/p'));
    expect(v.journey.converted).toMatchObject({ at: T0 + 2 * MIN, touches: 3, sessions: 1 });
  });

  it('works with need → search → comparison → purchase → result → repeat, and refolds journeys when the model changes', async () => {
    await t.collect(
      batch('r', [pg(0, '/'), pg(1, '/search?q=x'), pg(2, '/compare'), pg(3, '/checkout'), pg(4, '/thank-you')]),
    );
    let v = await json<VisitorDetail>(t.api('/api/sites/demo/visitors/r'));
    expect(v.journey.currentStage).toBe('post-purchase');
    const stages = [
      { name: 'need' },
      { name: 'search', urls: ['/search*'] },
      { name: 'comparison', urls: ['/compare*'] },
      { name: 'purchase', urls: ['/checkout*', '/thank-you*'] },
      { name: 'result', events: ['delivered'] },
      { name: 'repeat', events: ['reorder'] },
    ];
    const put = await json<SiteAnswer>(
      t.api('/api/sites/demo', { method: 'PUT', body: JSON.stringify({ stages, conversion: 'purchase' }) }),
    );
    expect(put.site.revision).toBe(2);
    expect(put.refold.pending).toBe(0); // small site: refolded before the answer
    v = await json<VisitorDetail>(t.api('/api/sites/demo/visitors/r'));
    expect(v.journey.entries.map((e) => e.stage)).toEqual(['need', 'search', 'comparison', 'purchase']);
    expect(v.journey.converted).toMatchObject({ at: T0 + 3 * MIN });
    await t.collect(batch('r', [at(10, 'event', { name: 'delivered' }), at(20, 'event', { name: 'reorder' })]));
    const f = await json<FunnelReport>(t.api('/api/sites/demo/funnel'));
    expect(f.stages.map((s) => [s.stage, s.reached])).toEqual([
      ['need', 1],
      ['search', 1],
      ['comparison', 1],
      ['purchase', 1],
      ['result', 1],
      ['repeat', 1],
    ]);
    // Changing only the name does not bump the revision.
    const named = await json<SiteAnswer>(
      t.api('/api/sites/demo', { method: 'PUT', body: JSON.stringify({ name: 'Shop' }) }),
    );
    expect(named.site.revision).toBe(2);
  });

  it('refolds in the background what the PUT did not (maintenance), and at once on a new event', async () => {
    const { saveSite, maintenance, pendingRefolds } = await import('../../collector/core/sites');
    for (let i = 0; i < 5; i++) await t.collect(batch(`m${i}`, [pg(0, '/'), pg(1, '/cart')]));
    const site = (await t.store.getSite('demo'))!;
    const stages = [{ name: 'browse' }, { name: 'basket', urls: ['/cart*'] }];
    const saved = await saveSite(t.store, site, { stages, conversion: 'basket' }, T0, 2);
    expect(saved.refold.pending).toBe(3);
    await t.collect(batch('m4', [pg(5, '/')])); // m4 refolded at ingest if it was stale
    const left = await pendingRefolds(t.store, saved.site);
    expect(left).toBeLessThanOrEqual(3);
    await maintenance(t.store, T0);
    expect(await pendingRefolds(t.store, saved.site)).toBe(0);
    const f = await json<FunnelReport>(t.api('/api/sites/demo/funnel'));
    // '/' maps to no stage of the new model, so m4 stays in basket.
    expect(f.stages.map((s) => [s.stage, s.reached, s.current])).toEqual([
      ['browse', 5, 0],
      ['basket', 5, 5],
    ]);
  });
});

describe('retention (retentionDays)', () => {
  it('defaults to 400 on a new site, keeps everything with null or on a site saved before; refuses bad values naming it', async () => {
    const created = await json<SiteAnswer>(
      t.api('/api/sites', { method: 'POST', body: JSON.stringify({ id: 'blog' }) }),
    );
    expect(created.site.retentionDays).toBe(400);
    // The demo site was saved without the field (as every site before this version): it keeps everything.
    expect((await json<SiteAnswer>(t.api('/api/sites/demo'))).site.retentionDays).toBeUndefined();
    const put = (body: unknown) => t.api('/api/sites/blog', { method: 'PUT', body: JSON.stringify(body) });
    expect((await json<SiteAnswer>(put({ retentionDays: null }))).site.retentionDays).toBeNull();
    expect((await json<SiteAnswer>(put({ retentionDays: 30 }))).site.retentionDays).toBe(30);
    expect((await json<SiteAnswer>(put({ name: 'Blog' }))).site.retentionDays).toBe(30); // left out: kept
    for (const v of [0, -1, 1.5, 36_501, '30', true]) {
      const res = await put({ retentionDays: v });
      expect(res.status, String(v)).toBe(400);
      const err = await json<{ error: string; path: string }>(res);
      expect(err.path).toBe('retentionDays');
      expect(err.error).toContain('retentionDays must be an integer from 1 to 36500');
    }
    const bad = await t.api('/api/sites', { method: 'POST', body: JSON.stringify({ id: 'x', retentionDays: 0 }) });
    expect(bad.status).toBe(400);
    expect((await t.api('/api/sites/x')).status).toBe(404); // nothing written
    expect((await json<SiteAnswer>(t.api('/api/sites/blog'))).site.retentionDays).toBe(30);
  });

  it('the pass deletes old visitors; the funnel and map keep their numbers, marked expired; list and 404 say so', async () => {
    await seed();
    await t.api('/api/sites/demo', { method: 'PUT', body: JSON.stringify({ retentionDays: 1 }) });
    t.clock.now = T0 + 60 * 3_600_000; // the horizon: the start of T0's next day (a and b expire, c stays)
    const reports = async () =>
      Promise.all([
        json<FunnelReport>(t.api('/api/sites/demo/funnel')),
        json<JourneyMapReport>(t.api('/api/sites/demo/journey-map')),
        json<TouchesReport>(t.api('/api/sites/demo/touches')),
      ]);
    const ttc = () => json<TimeToConvertReport>(t.api('/api/sites/demo/time-to-convert?within=1d'));
    const ttcBefore = await ttc();
    // Times to convert are per journey: past the horizon they count the journeys first seen from it on, and say so.
    expect(ttcBefore).toMatchObject({ countedFrom: Date.UTC(2026, 10, 21), journeys: 0, converted: 0 });
    expect(ttcBefore.range.expired).toBe(true);
    const before = await reports();
    expect(before[0].range).toEqual({
      from: null,
      to: null,
      timezone: 'UTC',
      fromLocal: null,
      toLocal: null,
      expired: true,
      detailsFrom: Date.UTC(2026, 10, 21),
      retentionDays: 1,
    });
    expect(before[0].journeys).toBe(3);
    const { maintenance } = await import('../../collector/core/sites');
    expect((await maintenance(t.store, t.clock.now)).expired).toBe(2);
    expect(await reports()).toEqual(before);
    expect(await ttc()).toEqual(ttcBefore);
    const recent = await json<FunnelReport>(t.api(`/api/sites/demo/funnel?from=${Date.UTC(2026, 10, 21)}`));
    expect(recent.range.expired).toBe(false);
    const list = await json<{ visitors: { visitor: string }[]; expired: boolean; retentionDays: number }>(
      t.api('/api/sites/demo/visitors'),
    );
    expect(list.visitors.map((v) => v.visitor)).toEqual(['c']);
    expect(list).toMatchObject({ expired: true, retentionDays: 1 });
    const gone = await t.api('/api/sites/demo/visitors/a');
    expect(gone.status).toBe(404);
    expect(await json<{ error: string; path: string }>(gone)).toEqual({
      error: `[cjm] no visitor "a" on site "demo" (erased, never seen, or expired: this site keeps visitor details 1 day after a journey's last activity, retentionDays)`,
      path: 'visitor',
    });
    expect((await t.api('/api/sites/demo/visitors/c')).status).toBe(200);
  });
});

describe('visitors', () => {
  it('lists with every filter, shows one journey, answers 404 for unknown ones', async () => {
    await seed();
    const ids = async (qs: string) =>
      (await json<{ visitors: { visitor: string }[] }>(t.api(`/api/sites/demo/visitors${qs}`))).visitors.map(
        (v) => v.visitor,
      );
    expect((await ids('')).sort()).toEqual(['a', 'b', 'c']);
    expect(await ids('?converted=true')).toEqual(['a']);
    expect((await ids('?converted=false')).sort()).toEqual(['b', 'c']);
    expect(await ids('?stage=cart')).toEqual(['b']);
    expect(await ids('?channel=organic_search')).toEqual(['a']);
    expect(await ids('?channel=email')).toEqual(['b']);
    expect(await ids('?q=b')).toEqual(['b']);
    expect(await ids(`?from=${T0 + 60 * MIN}`)).toEqual(['c']); // only c is active after the first hour
    expect((await ids(`?to=${T0 + 60 * MIN}`)).sort()).toEqual(['a', 'b', 'c']);
    expect((await t.api('/api/sites/demo/visitors?from=yesterday')).status).toBe(400);
    const v = await json<VisitorDetail>(t.api('/api/sites/demo/visitors/a'));
    expect(v.visitor).toEqual({ id: 'a', journey: 'a', userId: null, visitors: ['a'] });
    expect(v.journey.firstChannel).toBe('organic_search');
    expect(v.journey.transitions).toContainEqual({ from: 'checkout', to: 'cart', count: 1 });
    expect(v.timeline).toHaveLength(8);
    expect(v.truncated).toBe(false);
    expect((await t.api('/api/sites/demo/visitors/zzz')).status).toBe(404);
  });

  it('segments the list by first and last channel, device, identified and converted, as a brute force over it', async () => {
    const phone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148';
    const desk = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36';
    const send = (visitor: string, ua: string, events: WireEvent[]) =>
      t.collect(batch(visitor, events), { headers: { 'Content-Type': 'text/plain', 'User-Agent': ua } });
    await send('m1', phone, [pg(0, '/', { referrer: 'https://www.google.com/' }), pg(1, '/thank-you')]);
    await send('m2', phone, [
      pg(0, '/?utm_source=news&utm_medium=email'),
      pg(90, '/', { referrer: 'https://www.google.com/' }),
    ]);
    await send('d1', desk, [pg(0, '/'), at(1, 'identify', { userId: 'dee' })]);
    await send('d2', desk, [pg(0, '/?utm_source=news&utm_medium=email')]);
    type Row = {
      visitor: string;
      firstChannel: string;
      lastChannel: string;
      device: string;
      userId: string | null;
      converted: boolean;
    };
    const list = async (qs: string) =>
      (await json<{ visitors: Row[] }>(t.api(`/api/sites/demo/visitors?limit=500${qs}`))).visitors;
    const all = await list('');
    expect(all).toHaveLength(4);
    expect(all.find((v) => v.visitor === 'm2')).toMatchObject({
      firstChannel: 'email',
      lastChannel: 'organic_search',
      device: 'mobile',
    });
    const filters: Array<[string, (v: Row) => boolean]> = [
      ['&firstChannel=email', (v) => v.firstChannel === 'email'],
      ['&channel=email', (v) => v.firstChannel === 'email'],
      ['&lastChannel=organic_search', (v) => v.lastChannel === 'organic_search'],
      ['&device=mobile', (v) => v.device === 'mobile'],
      ['&device=desktop&identified=true', (v) => v.device === 'desktop' && v.userId !== null],
      ['&identified=false', (v) => v.userId === null],
      ['&device=mobile&converted=true', (v) => v.device === 'mobile' && v.converted],
      [
        '&firstChannel=email&lastChannel=organic_search',
        (v) => v.firstChannel === 'email' && v.lastChannel === 'organic_search',
      ],
    ];
    for (const [qs, keep] of filters) {
      const want = all.filter(keep).map((v) => v.visitor);
      expect(want.length, qs).toBeGreaterThan(0);
      expect(
        (await list(qs)).map((v) => v.visitor),
        qs,
      ).toEqual(want);
    }
    const bad = await t.api('/api/sites/demo/visitors?device=fridge');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { path: string }).path).toBe('device');
    expect((await t.api('/api/sites/demo/visitors?identified=maybe')).status).toBe(400);
  });

  it('merges identified visitors (cross-device) into one journey, found by any of their ids', async () => {
    await t.collect(batch('phone', [pg(0, '/', { referrer: 'https://t.me/x' }), at(1, 'identify', { userId: 'ada' })]));
    await t.collect(batch('laptop', [pg(100, '/cart'), at(101, 'identify', { userId: 'ada' }), pg(102, '/thank-you')]));
    const v = await json<VisitorDetail>(t.api('/api/sites/demo/visitors/laptop'));
    expect(v.visitor).toMatchObject({ journey: 'u:ada', userId: 'ada', visitors: ['laptop', 'phone'] });
    expect(v.journey.firstChannel).toBe('social');
    expect(v.journey.converted).toMatchObject({ touches: 3, sessions: 2 });
    const list = await json<{ visitors: { journey: string; visitors: number }[] }>(t.api('/api/sites/demo/visitors'));
    expect(list.visitors).toHaveLength(1);
    expect(list.visitors[0]).toMatchObject({ journey: 'u:ada', visitors: 2 });
    expect((await json<{ visitors: unknown[] }>(t.api('/api/sites/demo/visitors?q=ada'))).visitors).toHaveLength(1);
  });

  it('erases a journey everywhere and drops later events of its visitors and user (tombstones)', async () => {
    await seed();
    await t.collect(batch('phone', [pg(0, '/'), at(1, 'identify', { userId: 'ada' })]));
    await t.collect(batch('laptop', [pg(2, '/cart'), at(3, 'identify', { userId: 'ada' })]));
    const before = await json<FunnelReport>(t.api('/api/sites/demo/funnel'));
    expect(before.journeys).toBe(4);
    const del = await t.api('/api/sites/demo/visitors/phone', { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await json(del)).toEqual({ deleted: { journey: 'u:ada', visitors: ['laptop', 'phone'], events: 4 } });
    expect((await t.api('/api/sites/demo/visitors/laptop')).status).toBe(404);
    expect(await t.store.eventsOfVisitors('demo', ['phone', 'laptop'])).toEqual([]);
    const after = await json<FunnelReport>(t.api('/api/sites/demo/funnel'));
    expect(after.journeys).toBe(3);
    // Later events (an outbox flushing) are dropped and counted.
    const late = await t.collect(batch('laptop', [pg(50, '/')]));
    expect(late.status).toBe(202);
    expect(late.headers.get('X-Cjm-Dropped')).toBe('deleted');
    expect(await json(late)).toEqual({ accepted: 0, duplicates: 0, deleted: 1 });
    // A new device identifying as the erased user stays anonymous.
    const newDevice = await json<{ accepted: number; deleted: number }>(
      t.collect(batch('tablet', [pg(60, '/'), at(61, 'identify', { userId: 'ada' })])),
    );
    expect(newDevice).toEqual({ accepted: 1, duplicates: 0, deleted: 1 });
    expect((await json<VisitorDetail>(t.api('/api/sites/demo/visitors/tablet'))).visitor.journey).toBe('tablet');
    // Only hashes are kept.
    const c = await json<CountersReport>(t.api('/api/sites/demo/counters'));
    expect(c.totals.deleted).toBe(2);
    // Deleting an unknown id is idempotent.
    expect(await json(t.api('/api/sites/demo/visitors/ghost', { method: 'DELETE' }))).toEqual({
      deleted: { journey: 'ghost', visitors: ['ghost'], events: 0 },
    });
  });
});

describe('erase reaches automation', () => {
  it('deletes the stalls and webhook deliveries (with attempts) of the erased visitors', async () => {
    const db = openSqlite(':memory:');
    const app = await makeApp(createSqliteStore(db));
    await app.collect(batch('phone', [pg(0, '/'), at(1, 'identify', { userId: 'ada' })]));
    await app.collect(batch('other', [pg(0, '/')]));
    for (const v of ['phone', 'other']) {
      db.prepare(
        `INSERT INTO automation_stalls (site, id, rule, visitor, entry_event, entry_at, due_at, status, updated_at)
        VALUES ('demo', ?, 'r1', ?, 'e', 0, 0, 'armed', 0)`,
      ).run(`s-${v}`, v);
      db.prepare(
        `INSERT INTO automation_deliveries (id, site, rule, event, visitor, status, body, created_at, next_at)
        VALUES (?, 'demo', 'r1', 'e', ?, 'pending', '{}', 0, 0)`,
      ).run(`d-${v}`, v);
      db.prepare(`INSERT INTO automation_attempts (delivery, n, at, duration_ms) VALUES (?, 1, 0, 5)`).run(`d-${v}`);
    }
    expect((await app.api('/api/sites/demo/visitors/phone', { method: 'DELETE' })).status).toBe(200);
    const left = (table: string, col: string) =>
      db
        .prepare(`SELECT ${col} AS x FROM ${table} ORDER BY 1`)
        .all()
        .map((r) => (r as { x: string }).x);
    expect(left('automation_stalls', 'visitor')).toEqual(['other']);
    expect(left('automation_deliveries', 'visitor')).toEqual(['other']);
    expect(left('automation_attempts', 'delivery')).toEqual(['d-other']);
  });
});

describe('reports', () => {
  it('funnel: reached, current, conversion from previous, median time to next, transitions with back-steps', async () => {
    await seed();
    const f = await json<FunnelReport>(t.api('/api/sites/demo/funnel'));
    expect(f.journeys).toBe(3);
    expect(f.converted).toBe(1);
    const row = (name: string) => f.stages.find((s) => s.stage === name)!;
    expect(f.stages.map((s) => [s.stage, s.reached, s.current])).toEqual([
      ['landing', 3, 0],
      ['signup', 2, 1],
      ['cart', 2, 1],
      ['checkout', 1, 0],
      ['post-purchase', 1, 1],
    ]);
    expect(row('landing').conversionFromPrevious).toBeNull();
    expect(row('signup').conversionFromPrevious).toBeCloseTo(2 / 3);
    expect(row('cart').conversionFromPrevious).toBe(1);
    expect(row('checkout').conversionFromPrevious).toBe(0.5);
    expect(row('cart').entries).toBe(3);
    // landing → signup: a 1 min, c 1 day + 1 min (b skipped signup) → nearest-rank median of [1, 1441] = 1 min
    expect(row('landing').medianToNextMs).toBe(1 * MIN);
    expect(row('landing').toNextSamples).toBe(2);
    expect(row('cart').medianToNextMs).toBe(2 * MIN); // a: cart at 2, checkout at 4
    expect(f.transitions).toContainEqual({ from: 'checkout', to: 'cart', journeys: 1, count: 1, back: true });
    expect(f.transitions).toContainEqual({ from: 'cart', to: 'checkout', journeys: 1, count: 2, back: false });
    expect(f.transitions).toContainEqual({ from: 'landing', to: 'cart', journeys: 1, count: 1, back: false });
  });

  it('funnel and map are cohorts: journeys first seen in [from, to]', async () => {
    await seed();
    t.clock.now = T0 + 5 * 86400_000;
    await t.collect(batch('late', [pg(3 * 24 * 60, '/'), pg(3 * 24 * 60 + 1, '/cart')]));
    const day = (d: number) => new Date(T0 + d * 86400_000).toISOString().slice(0, 10);
    const f0 = await json<FunnelReport>(t.api(`/api/sites/demo/funnel?from=${day(0)}&to=${day(0)}`));
    expect(f0.journeys).toBe(3);
    expect(f0.range).toEqual({
      from: Date.parse(day(0)),
      to: Date.parse(day(0)) + 86400_000 - 1,
      timezone: 'UTC',
      fromLocal: `${day(0)}T00:00:00.000Z`,
      toLocal: `${day(0)}T23:59:59.999Z`,
    });
    const f3 = await json<FunnelReport>(t.api(`/api/sites/demo/funnel?from=${day(3)}`));
    expect(f3.journeys).toBe(1);
    expect(f3.stages.map((s) => s.reached)).toEqual([1, 0, 1, 0, 0]);
    expect((await t.api('/api/sites/demo/funnel?from=2026-12-01&to=2026-11-01')).status).toBe(400);
    expect((await t.api('/api/sites/demo/funnel?to=soon')).status).toBe(400);
  });

  it('journey map: visitors, entry channels, top pages and events, feedback, vitals p75, drop-offs, median touches', async () => {
    await seed();
    const m = await json<JourneyMapReport>(t.api('/api/sites/demo/journey-map'));
    expect(m.journeys).toBe(3);
    const st = (name: string) => m.stages.find((s) => s.stage === name)!;
    expect(st('landing').visitors).toBe(3);
    expect(st('landing').entryChannels).toEqual([
      { channel: 'direct', journeys: 1 },
      { channel: 'email', journeys: 1 },
      { channel: 'organic_search', journeys: 1 },
    ]);
    expect(st('landing').topPages).toEqual([{ path: '/', views: 4, journeys: 3 }]);
    expect(st('cart').topPages).toEqual([{ path: '/cart', views: 2, journeys: 2 }]);
    expect(st('cart').topEvents).toEqual([{ name: 'add_to_cart', count: 1, journeys: 1 }]);
    expect(st('cart').feedback).toEqual({ average: 2, count: 1 });
    expect(st('post-purchase').feedback).toEqual({ average: 5, count: 1 });
    expect(st('cart').vitals).toEqual({ LCP: { p75: 3000, samples: 1 } });
    expect(st('signup').dropOffs).toBe(1); // c
    expect(st('cart').dropOffs).toBe(1); // b
    expect(st('cart').dropOffRate).toBe(0.5);
    expect(st('post-purchase').dropOffs).toBeNull();
    // touches to first reach cart: a 3 (/, /signup, add_to_cart), b 2 → nearest-rank median 2
    expect(st('cart').medianTouches).toBe(2);
    expect(st('signup').medianSessions).toBe(1); // a: 1, c: 2 → 1
    expect((await t.api('/api/sites/demo/journey-map?top=0')).status).toBe(400);
    const top1 = await json<JourneyMapReport>(t.api('/api/sites/demo/journey-map?top=1'));
    expect(top1.stages[0]!.entryChannels).toHaveLength(1);
  });

  it('journey map lifecycle numbers and cohort retention: purchases, repeat rate, time to the second purchase, returns', async () => {
    t.clock.now = T0 + 10 * 24 * 60 * MIN;
    const DAYM = 24 * 60;
    // x buys twice (the second 8 days later, in a new session); y converts by the thank-you page only (no purchase
    // event: not a customer, but converted); z only looks, and comes back a week later.
    await t.collect(
      batch('x', [
        pg(0, '/'),
        at(1, 'event', { name: 'purchase', url: 'https://shop.test/checkout' }),
        pg(8 * DAYM, '/'),
        at(8 * DAYM + 2, 'event', { name: 'order_completed', url: 'https://shop.test/checkout' }),
      ]),
    );
    await t.collect(batch('y', [pg(0, '/'), pg(2, '/thank-you')]));
    await t.collect(batch('z', [pg(0, '/'), pg(7 * DAYM, '/')]));
    const m = await json<JourneyMapReport>(t.api('/api/sites/demo/journey-map'));
    expect(m.lifecycle).toEqual({
      customers: 1,
      repeatCustomers: 1,
      repeatPurchaseRate: 1,
      medianToSecondPurchaseMs: (8 * DAYM + 1) * MIN,
      purchases: 2,
      purchasesPerCustomer: 2,
      converted: 2,
      returnedAfterConversion: 1,
      returnRate: 0.5,
    });
    // T0 is Friday 2026-11-20: its ISO week starts Monday 2026-11-16; x and z come back in the next week (Nov 27/28);
    // the clock (Monday Nov 30) is in week 2, so week 3 has not begun.
    const r = await json<RetentionReport>(t.api('/api/sites/demo/retention?weeks=3'));
    expect(r.weeks).toBe(3);
    expect(r.cohorts).toEqual([
      { week: '2026-11-16', journeys: 3, active: [3, 2, 0, null], share: [1, 2 / 3, 0, null] },
    ]);
    expect(r.average).toEqual([1, 2 / 3, 0, null]);
    const later = await json<RetentionReport>(t.api('/api/sites/demo/retention?from=2026-11-23'));
    expect(later.cohorts).toEqual([]);
    expect(later.weeks).toBe(12);
    expect((await t.api('/api/sites/demo/retention?weeks=0')).status).toBe(400);
    expect((await t.api('/api/sites/demo/retention?weeks=53')).status).toBe(400);
    expect((await t.api('/api/sites/demo/retention?from=soon')).status).toBe(400);
  });

  it('touches: distribution of touches and sessions to conversion, overall and per first channel', async () => {
    await seed();
    await t.collect(batch('d', [pg(0, '/'), pg(40, '/checkout'), pg(41, '/thank-you')]));
    const r = await json<TouchesReport>(t.api('/api/sites/demo/touches'));
    expect(r.converted).toBe(2);
    expect(r.touches).toMatchObject({ count: 2, min: 3, max: 7, median: 3, mean: 5, p75: 7 });
    expect(r.touches.buckets.find((b) => b.label === '3')!.count).toBe(1);
    expect(r.touches.buckets.find((b) => b.label === '6–7')!.count).toBe(1);
    expect(r.sessions).toMatchObject({ count: 2, min: 1, max: 2, median: 1 });
    expect(r.byFirstChannel.map((c) => [c.channel, c.converted, c.touches.median])).toEqual([
      ['direct', 1, 3],
      ['organic_search', 1, 7],
    ]);
  });
});

describe('conversion windows and time to convert', () => {
  const H = 60 * MIN;
  const D = 24 * H;
  const journeysWithTimes = async () => {
    t.clock.now = T0 + 20 * D;
    const p = (ms: number, path: string) => ({ ...pg(0, path), ts: T0 + ms });
    await t.collect(batch('p', [p(0, '/'), p(30 * MIN, '/thank-you')])); // 30 min
    await t.collect(batch('q', [p(H, '/'), p(H + 2 * D, '/thank-you')])); // 2 days
    await t.collect(batch('r', [p(2 * H, '/'), p(2 * H + D, '/cart'), p(2 * H + 10 * D, '/thank-you')])); // 10 days
    await t.collect(batch('s', [p(3 * H, '/'), p(3 * H + MIN, '/signup')])); // not converted
  };

  it('time to convert: exact median and p90, histogram, and windows of 1, 7, 30 days and the one asked', async () => {
    await journeysWithTimes();
    const r = await json<TimeToConvertReport>(t.api('/api/sites/demo/time-to-convert?within=3d'));
    expect(r).toMatchObject({ since: null, journeys: 4, converted: 3, medianMs: 2 * D, p90Ms: 10 * D });
    expect(r.buckets.map((b) => b.journeys)).toEqual([1, 0, 1, 0, 1, 0, 0]);
    expect(r.windows).toEqual([
      { withinMs: D, converted: 1, rate: 0.25 },
      { withinMs: 3 * D, converted: 2, rate: 0.5 },
      { withinMs: 7 * D, converted: 2, rate: 0.5 },
      { withinMs: 30 * D, converted: 3, rate: 0.75 },
    ]);
    // From entering a stage: only journeys that entered it, timed from their first entry.
    const cart = await json<TimeToConvertReport>(t.api('/api/sites/demo/time-to-convert?since=cart'));
    expect(cart).toMatchObject({ since: 'cart', journeys: 1, converted: 1, medianMs: 9 * D });
    // A cohort: journeys first seen from the second hour on.
    const later = await json<TimeToConvertReport>(t.api(`/api/sites/demo/time-to-convert?from=${T0 + H}`));
    expect(later).toMatchObject({ journeys: 3, converted: 2, medianMs: 2 * D, p90Ms: 10 * D });
  });

  it('funnel and touches within a window of the first visit', async () => {
    await journeysWithTimes();
    const f = await json<FunnelReport>(t.api('/api/sites/demo/funnel?within=1d'));
    expect(f.converted).toBe(3);
    expect(f.window).toEqual({ withinMs: D, converted: 1, rate: 0.25 });
    expect((await json<FunnelReport>(t.api('/api/sites/demo/funnel'))).window).toBeUndefined();
    const tw = await json<TouchesReport>(t.api('/api/sites/demo/touches?within=7d'));
    expect(tw).toMatchObject({ withinMs: 7 * D, converted: 2 });
    expect((await json<TouchesReport>(t.api('/api/sites/demo/touches'))).converted).toBe(3);
  });

  it('time to convert of a segment: device, first and last channel, identified', async () => {
    t.clock.now = T0 + 20 * D;
    const phone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148';
    const desk = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36';
    const p = (ms: number, path: string, fields: Partial<WireEvent> = {}) => ({ ...pg(0, path, fields), ts: T0 + ms });
    const send = (v: string, ua: string, events: WireEvent[]) =>
      t.collect(batch(v, events), { headers: { 'Content-Type': 'text/plain', 'User-Agent': ua } });
    await send('p', phone, [p(0, '/?utm_source=news&utm_medium=email'), p(30 * MIN, '/thank-you')]); // 30 min
    await send('q', desk, [p(H, '/', { referrer: 'https://www.google.com/' }), p(H + 2 * D, '/thank-you')]); // 2 d
    await send('r', desk, [
      p(2 * H, '/'),
      at(0, 'identify', { userId: 'rae', ts: T0 + 2 * H + MIN } as Partial<WireEvent>),
      p(2 * H + 10 * D, '/thank-you'),
    ]); // 10 d
    await send('s', phone, [p(3 * H, '/?utm_source=news&utm_medium=email')]); // not converted
    const ttc = (qs: string) => json<TimeToConvertReport>(t.api(`/api/sites/demo/time-to-convert?${qs}`));
    expect(await ttc('device=desktop')).toMatchObject({
      segment: { device: 'desktop' },
      journeys: 2,
      converted: 2,
      medianMs: 2 * D,
    });
    expect(await ttc('device=mobile')).toMatchObject({ journeys: 2, converted: 1, medianMs: 30 * MIN });
    expect(await ttc('firstChannel=email')).toMatchObject({ journeys: 2, converted: 1, medianMs: 30 * MIN });
    expect(await ttc('identified=true')).toMatchObject({ journeys: 1, converted: 1, medianMs: 10 * D });
    expect(await ttc('identified=false&device=desktop')).toMatchObject({ journeys: 1, converted: 1, medianMs: 2 * D });
    expect(await ttc('lastChannel=organic_search')).toMatchObject({ journeys: 1, converted: 1 });
    expect(await ttc('')).toMatchObject({ segment: {}, journeys: 4, converted: 3 });
    // The rollup reports do not take segments yet: a 400 naming the parameter, not numbers for everyone.
    for (const report of ['funnel', 'touches', 'counters']) {
      const res = await t.api(`/api/sites/demo/${report}?device=mobile`);
      expect(res.status, report).toBe(400);
      expect(((await res.json()) as { path: string }).path, report).toBe('device');
    }
  });

  it('refuses a window or a stage it cannot use, naming the parameter', async () => {
    for (const [q, path] of [
      ['within=abc', 'within'],
      ['within=0d', 'within'],
      ['within=400d', 'within'],
      ['since=nope', 'since'],
    ] as const) {
      const res = await t.api(`/api/sites/demo/time-to-convert?${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { path: string }).path, q).toBe(path);
    }
  });
});

describe('export', () => {
  it('streams CSV with formula cells neutralised, and NDJSON', async () => {
    await t.collect(
      batch('v1', [
        pg(0, '/', { title: '=HYPERLINK("http://evil.test","x")' }),
        at(1, 'event', { name: '+cmd', props: { note: '@SUM(1)', n: -3, q: 'a,"b"' } }),
        at(2, 'event', { name: '-2+3' }),
      ]),
    );
    const csv = await t.api('/api/sites/demo/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('Content-Type')).toMatch(/text\/csv/);
    expect(csv.headers.get('Content-Disposition')).toMatch(/attachment/);
    const text = await csv.text();
    const lines = text.trim().split('\r\n');
    // The columns documented in docs/protocol.md ("CSV export columns"; test/core/event-fields.test.ts checks that
    // list against the field table), in their order.
    const documented = /CSV export columns[^\n]*in order:\s*`([a-z_,]+)`/.exec(
      readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8'),
    )?.[1];
    expect(documented).toMatch(/^id,visitor,type,ts,time,received_at,/);
    expect(lines[0]).toBe(documented);
    expect(lines).toHaveLength(4);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.test"",""x"")"`);
    expect(text).toContain(",'+cmd,");
    expect(text).toContain(",'-2+3,");
    for (const line of lines) for (const cell of line.split(',')) expect(cell).not.toMatch(/^[=+\-@]/);
    const nd = await t.api('/api/sites/demo/export');
    expect(nd.headers.get('Content-Type')).toMatch(/ndjson/);
    const rows = (await nd.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; props?: unknown });
    expect(rows.map((r) => r.id)).toHaveLength(3);
    expect(rows[1]!.props).toEqual({ note: '@SUM(1)', n: -3, q: 'a,"b"' });
    expect((await t.api('/api/sites/demo/export?format=xml')).status).toBe(400);
  });

  it('pages through more events than one page, in arrival order, filtered by ts', async () => {
    const { EXPORT_PAGE } = await import('../../collector/core/services/export');
    const total = EXPORT_PAGE + 150;
    for (let i = 0; i < total; i += 100) {
      const events = Array.from({ length: Math.min(100, total - i) }, (_, k) =>
        at((i + k) / 100, 'page', { url: `https://shop.test/p${i + k}` }),
      );
      expect((await t.collect(batch(`v${i}`, events))).status).toBe(202);
    }
    const rows = (await (await t.api('/api/sites/demo/export')).text()).trim().split('\n');
    expect(rows).toHaveLength(total);
    const from = T0 + 5 * MIN;
    const some = (await (await t.api(`/api/sites/demo/export?from=${from}`)).text()).trim().split('\n');
    expect(some.length).toBeGreaterThan(0);
    expect(some.every((l) => (JSON.parse(l) as { ts: number }).ts >= from)).toBe(true);
  });
});

describe('auth and errors', () => {
  it('every endpoint needs the token and answers 404 for unknown sites', async () => {
    const paths = ['visitors', 'visitors/x', 'funnel', 'journey-map', 'retention', 'touches', 'export', 'counters'];
    for (const p of paths) {
      expect((await t.app.request(`/api/sites/demo/${p}`)).status, p).toBe(401);
      expect((await t.api(`/api/sites/nope/${p}`)).status, p).toBe(404);
    }
    expect((await t.app.request('/api/sites')).status).toBe(401);
    expect((await t.app.request('/api/sites/demo/visitors/x', { method: 'DELETE' })).status).toBe(401);
  });

  it('reads one JSON body of at most 1 MiB: a 413 above, a 400 for text that is not JSON, nothing stored', async () => {
    const huge = JSON.stringify({ id: 'big', name: 'x'.repeat(1024 * 1024) });
    const big = await t.api('/api/sites', { method: 'POST', body: huge });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: '[cjm] the body is larger than 1048576 bytes' });
    const streamed = await t.api('/api/sites', {
      method: 'POST',
      body: new Blob([huge]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    const notJson = await t.api('/api/sites/demo', { method: 'PUT', body: 'name=Shop' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: '[cjm] the body must be JSON (the fields of the site to change)' });
    const empty = await t.api('/api/sites', { method: 'POST' });
    expect(empty.status).toBe(400);
    expect((await json<{ sites: unknown[] }>(t.api('/api/sites'))).sites).toHaveLength(1);
  });
});
