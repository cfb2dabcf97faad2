/**
 * The site's time zone (issue 18, item 4): local days (DST-correct), report ranges split at local midnights, the
 * rollups moved to the new zone's days when the zone changes (the refold of the stale journeys), the API's dates with
 * their offset, and the dashboard's presets.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parseRange as pageRange } from '../../collector/core/dashboard/range';
import type { FunnelReport, RetentionReport } from '../../collector/core/reports';
import { maintenance } from '../../collector/core/sites';
import {
  addDays,
  dayStart,
  fromWall,
  isTimeZone,
  localDay,
  localIso,
  weekIndex,
  weekMonday,
} from '../../collector/core/timezone';
import { splitRange } from '../../collector/stores/sql/rollups';
import { batch, makeApp, TOKEN, type TestApp } from '../helpers';

const H = 3_600_000;
const BERLIN = 'Europe/Berlin';

describe('core/timezone', () => {
  it('days last 23, 24 or 25 hours and start at the first local instant of the day', () => {
    const hours = (day: string, tz: string) => (dayStart(addDays(day, 1), tz) - dayStart(day, tz)) / H;
    expect(hours('2026-03-29', BERLIN)).toBe(23);
    expect(hours('2026-10-25', BERLIN)).toBe(25);
    expect(hours('2026-11-20', BERLIN)).toBe(24);
    expect(hours('2026-03-08', 'America/Los_Angeles')).toBe(23);
    expect(hours('2026-11-01', 'America/Los_Angeles')).toBe(25);
    expect(hours('2026-11-20', 'UTC')).toBe(24);
    expect(dayStart('2026-11-20', BERLIN)).toBe(Date.UTC(2026, 10, 19, 23));
    expect(dayStart('2026-11-20', 'Asia/Kathmandu')).toBe(Date.UTC(2026, 10, 19, 18, 15));
    // Santiago skips midnight on 2026-09-06: the day starts at 01:00 local.
    expect(localIso(dayStart('2026-09-06', 'America/Santiago'), 'America/Santiago')).toBe(
      '2026-09-06T01:00:00.000-03:00',
    );
    for (const tz of [BERLIN, 'America/Los_Angeles', 'America/Santiago', 'Asia/Kathmandu', 'UTC']) {
      for (let d = 0; d < 400; d += 7) {
        const day = addDays('2026-01-01', d);
        const s = dayStart(day, tz);
        expect(localDay(s, tz)).toBe(day);
        expect(localDay(s - 1, tz)).toBe(addDays(day, -1));
      }
    }
  });

  it('weeks are local ISO weeks; wall times and offsets', () => {
    // Sunday 23:30 UTC is Monday 00:30 in Berlin: the next week there.
    const t = Date.UTC(2026, 10, 29, 23, 30);
    expect(weekMonday(weekIndex(t, 'UTC'))).toBe('2026-11-23');
    expect(weekMonday(weekIndex(t, BERLIN))).toBe('2026-11-30');
    expect(localIso(Date.UTC(2026, 6, 1, 12), BERLIN)).toBe('2026-07-01T14:00:00.000+02:00');
    expect(localIso(Date.UTC(2026, 6, 1, 12), 'America/Los_Angeles')).toBe('2026-07-01T05:00:00.000-07:00');
    expect(fromWall(Date.UTC(2026, 10, 20, 10), BERLIN)).toBe(Date.UTC(2026, 10, 20, 9));
    // 02:30 on 2026-03-29 does not exist in Berlin (the clocks jump to 03:00): the instant after the gap.
    expect(localIso(fromWall(Date.UTC(2026, 2, 29, 2, 30), BERLIN), BERLIN)).toBe('2026-03-29T03:30:00.000+02:00');
    // 02:30 on 2026-10-25 happens twice: the earlier one (summer time).
    expect(fromWall(Date.UTC(2026, 9, 25, 2, 30), BERLIN)).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('<script>')).toBe(false);
  });

  it('splitRange cuts at local midnights, 25-hour day included', () => {
    const from = dayStart('2026-10-24', BERLIN) + 5 * H;
    const to = dayStart('2026-10-27', BERLIN) + 2 * H;
    expect(splitRange({ from, to }, BERLIN)).toEqual({
      days: { from: '2026-10-25', to: '2026-10-26' },
      raw: [
        { from, to: dayStart('2026-10-25', BERLIN) - 1 },
        { from: dayStart('2026-10-27', BERLIN), to },
      ],
    });
    const whole = { from: dayStart('2026-10-25', BERLIN), to: dayStart('2026-10-26', BERLIN) - 1 };
    expect(splitRange(whole, BERLIN)).toEqual({ days: { from: '2026-10-25', to: '2026-10-25' }, raw: [] });
    // The same instants hold no whole UTC day: all read per journey.
    expect(splitRange(whole, 'UTC')).toEqual({ days: null, raw: [whole] });
  });

  it('the dashboard presets are whole local days', () => {
    const now = Date.UTC(2026, 10, 20, 23, 30); // 00:30 on the 21st in Berlin
    expect(pageRange(new URLSearchParams('range=7d'), now, BERLIN).from).toBe(dayStart('2026-11-15', BERLIN));
    expect(pageRange(new URLSearchParams('range=7d'), now, 'UTC').from).toBe(Date.UTC(2026, 10, 14));
    const custom = pageRange(new URLSearchParams('from=2026-10-25&to=2026-10-25'), now, BERLIN);
    expect([custom.from, custom.to]).toEqual([Date.UTC(2026, 9, 24, 22), Date.UTC(2026, 9, 25, 23) - 1]);
  });
});

describe('a site in a time zone', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
    t.clock.now = Date.UTC(2026, 9, 27, 12);
  });

  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await res).json() as Promise<T>;
  const put = (body: unknown) =>
    t.api('/api/sites/demo', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const funnel = (q: string) => json<FunnelReport>(t.api(`/api/sites/demo/funnel?${q}`));

  /** First visits around Berlin's fall-back night: UTC instants and the Berlin day each belongs to. */
  const VISITS = [
    { v: 'a', ts: Date.UTC(2026, 9, 24, 21, 30), berlin: '2026-10-24' }, // 23:30 +02:00
    { v: 'b', ts: Date.UTC(2026, 9, 24, 22, 30), berlin: '2026-10-25' }, // 00:30 +02:00
    { v: 'c', ts: Date.UTC(2026, 9, 25, 22, 30), berlin: '2026-10-25' }, // 23:30 +01:00 (the 25-hour day)
    { v: 'd', ts: Date.UTC(2026, 9, 25, 23, 30), berlin: '2026-10-26' }, // 00:30 +01:00
  ];
  const seed = async () => {
    for (const { v, ts } of VISITS) {
      const r = await t.collect(batch(v, [{ id: `${v}1`, type: 'page', ts, url: 'https://shop.test/' }]));
      expect(r.status).toBe(202);
    }
  };
  const days = ['2026-10-24', '2026-10-25', '2026-10-26'];
  /** Journeys per local day, read from the rollups (whole days) and per journey (a range cut to the millisecond). */
  const perDay = async (tz: string) =>
    Promise.all(
      days.map(async (d) => {
        const whole = (await funnel(`from=${d}&to=${d}`)).journeys;
        const cut = (await funnel(`from=${dayStart(d, tz) + 1 - 1}&to=${dayStart(addDays(d, 1), tz) - 1}`)).journeys;
        const edges = (await funnel(`from=${dayStart(d, tz) - 1}&to=${dayStart(addDays(d, 1), tz) - 1}`)).journeys; // one ms of the day before: read per journey, the same count
        return { whole, cut, edges };
      }),
    );
  const brute = (key: (ts: number) => string) =>
    days.map((d) => VISITS.filter((x) => key(x.ts) === d).length).map((n) => ({ whole: n, cut: n, edges: n }));

  it('bad zones are a 400 naming timezone; a good one is stored as the runtime names it', async () => {
    for (const bad of ['Mars/Olympus', 42, '', 'Europe/Berlin; drop']) {
      const r = await put({ timezone: bad });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { path: string }).path).toBe('timezone');
    }
    const ok = await json<{ site: { timezone: string } }>(put({ timezone: 'europe/berlin' }));
    expect(ok.site.timezone).toBe(BERLIN);
  });

  it('changing the zone moves every journey to its new local day, exactly', async () => {
    await seed();
    expect(await perDay('UTC')).toEqual(brute((ts) => localDay(ts, 'UTC')));
    const saved = await json<{ site: { timezone: string; revision: number } }>(put({ timezone: BERLIN }));
    expect(saved.site.timezone).toBe(BERLIN);
    await maintenance(t.store, t.clock.now);
    const berlin = brute((ts) => localDay(ts, BERLIN));
    expect(berlin.map((x) => x.whole)).toEqual([1, 2, 1]); // the expected truth, spelled out
    expect(await perDay(BERLIN)).toEqual(berlin);
    // The answer's range says which zone and offset.
    const f = await funnel('from=2026-10-25&to=2026-10-25');
    expect(f.range).toMatchObject({
      timezone: BERLIN,
      fromLocal: '2026-10-25T00:00:00.000+02:00',
      toLocal: '2026-10-25T23:59:59.999+01:00',
    });
    // A wall time without an offset is the site's; one with an offset is that instant.
    expect((await funnel('from=2026-10-25T00:00&to=2026-10-25T00:59')).journeys).toBe(1); // b at 00:30 local
    expect((await funnel('from=2026-10-24T22:00Z&to=2026-10-24T23:00Z')).journeys).toBe(1);
    // Back to UTC: the journeys move back.
    await put({ timezone: 'UTC' });
    await maintenance(t.store, t.clock.now);
    expect(await perDay('UTC')).toEqual(brute((ts) => localDay(ts, 'UTC')));
  });

  it('an unchanged zone does not refold; "UTC" equals no zone', async () => {
    await seed();
    const before = await json<{ site: { revision: number } }>(t.api('/api/sites/demo'));
    const same = await json<{ site: { revision: number } }>(put({ timezone: 'UTC' }));
    expect(same.site.revision).toBe(before.site.revision);
  });

  it('cohort retention weeks are local weeks', async () => {
    // Sunday 2026-10-25 23:30 UTC is Monday 00:30 in Berlin.
    await t.collect(
      batch('w', [{ id: 'w1', type: 'page', ts: Date.UTC(2026, 9, 25, 23, 30), url: 'https://shop.test/' }]),
    );
    const weeks = async () =>
      (await json<RetentionReport>(t.api('/api/sites/demo/retention?weeks=2'))).cohorts.map((c) => c.week);
    expect(await weeks()).toEqual(['2026-10-19']);
    await put({ timezone: BERLIN });
    await maintenance(t.store, t.clock.now);
    expect(await weeks()).toEqual(['2026-10-26']);
  });

  it('the dashboard shows times in the zone', async () => {
    await seed();
    await put({ timezone: BERLIN });
    const login = await t.app.request('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost' },
      body: new URLSearchParams({ token: TOKEN, next: '/' }).toString(),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const res = await t.app.request('/sites/demo/visitors/b', { headers: { Cookie: cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('2026-10-25 00:30 Europe/Berlin');
    expect(html).toContain('times in Europe/Berlin');
  });
});
