/**
 * Hostile input at POST /collect: limits, bots, rate limit, unknown sites and origins, cardinality floods, the
 * no-visitor-id mode, and a fast-check property: any body gets 202, 4xx or 413 — never a 500 — and a refused batch
 * writes nothing.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CountersReport, VisitorDetail } from '../../collector/core/reports';
import { LIMITS } from '../../collector/core/protocol';
import { batch, ev, makeApp, page, T0, type TestApp } from '../helpers';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

let t: TestApp;
beforeEach(async () => {
  t = await makeApp(undefined, {
    clientIp: (c) => c.req.header('x-test-ip') ?? null,
    rateLimit: { burst: 5, perSecond: 1 },
  });
});

const from = (ip: string, ua = CHROME) => ({ headers: { 'x-test-ip': ip, 'User-Agent': ua } });

describe('limits', () => {
  it.each([
    ['101 events', { events: Array.from({ length: 101 }, () => page('/')) }, 'events'],
    ['a 121-char name', { events: [ev('event', { name: 'n'.repeat(LIMITS.nameLength + 1) })] }, 'events[0].name'],
    [
      'a 2,001-char url',
      { events: [page('/', { url: `https://shop.test/${'a'.repeat(LIMITS.urlLength)}` })] },
      'events[0].url',
    ],
    [
      '31 props',
      { events: [page('/', { props: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, i])) })] },
      'events[0].props',
    ],
    ['a 101-char prop key', { events: [page('/', { props: { ['k'.repeat(101)]: 1 } })] }, undefined],
    ['a 1,001-char prop value', { events: [page('/', { props: { k: 'v'.repeat(1001) } })] }, 'events[0].props.k'],
    ['a visitor id reserved for users', { visitor: 'u:ada', events: [page('/')] }, 'visitor'],
  ])('refuses %s with 400 naming the field, writing nothing', async (_, fields, path) => {
    const res = await t.collect({ site: 'demo', visitor: 'v1', ...fields });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { path?: string };
    if (path) expect(body.path).toBe(path);
    else expect(body.path).toMatch(/^events\[0\]\.props\./);
    expect(await t.store.eventsOfVisitors('demo', ['v1', 'u:ada'])).toEqual([]);
  });

  it('accepts the limits themselves', async () => {
    const res = await t.collect(
      batch('v1', [
        ev('event', {
          name: 'n'.repeat(LIMITS.nameLength),
          props: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`.padEnd(100, 'x'), 'v'.repeat(1000)])),
        }),
        ...Array.from({ length: 99 }, () => page('/')),
      ]),
    );
    expect(res.status).toBe(202);
  });
});

describe('who may send', () => {
  it('drops bots with 202 and X-Cjm-Dropped: bot, and counts them', async () => {
    const res = await t.collect(
      batch('v1', [page('/'), page('/cart')]),
      from('1.1.1.1', 'Googlebot/2.1 (+http://www.google.com/bot.html)'),
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('X-Cjm-Dropped')).toBe('bot');
    expect(await res.json()).toEqual({ accepted: 0, duplicates: 0 });
    expect(await t.store.eventsOfVisitors('demo', ['v1'])).toEqual([]);
    const c = (await (await t.api('/api/sites/demo/counters')).json()) as CountersReport;
    expect(c.totals.bots).toBe(2);
  });

  it('rate-limits per IP with 429 and Retry-After; other addresses are unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await t.collect(batch('v1', [page('/')]), from('9.9.9.9'))).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
    const limited = await t.collect(batch('v1', [page('/')]), from('9.9.9.9'));
    expect(limited.headers.get('Retry-After')).toBe('1');
    expect(((await limited.json()) as { error: string }).error).toMatch(/too many/);
    expect((await t.collect(batch('v2', [page('/')]), from('8.8.8.8'))).status).toBe(202);
    t.clock.now += 2000; // two tokens refilled
    expect((await t.collect(batch('v1', [page('/')]), from('9.9.9.9'))).status).toBe(202);
  });

  it('answers 404 for an unknown site and 403 for an origin the site does not allow', async () => {
    expect((await t.collect(batch('v1', [page('/')], 'nope'))).status).toBe(404);
    await t.api('/api/sites/demo', { method: 'PUT', body: JSON.stringify({ origins: ['https://shop.test'] }) });
    const res = await t.collect(batch('v1', [page('/')]), { headers: { Origin: 'https://evil.test' } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: '[cjm] site "demo" does not allow origin https://evil.test',
      path: 'site',
    });
  });
});

describe('cardinality', () => {
  it('stores event names and prop keys beyond the site limit as (other), counted', async () => {
    await t.api('/api/sites/demo', { method: 'PUT', body: JSON.stringify({ limits: { eventNames: 3, propKeys: 2 } }) });
    const events = Array.from({ length: 6 }, (_, i) =>
      ev('event', { name: `random_${i}`, props: { [`p${i}`]: i, a: 1 } }),
    );
    events.push(ev('event', { name: 'add_to_cart' })); // a stage rule's event: always kept
    const res = await t.collect(batch('v1', events));
    expect(res.status).toBe(202);
    const stored = await t.store.eventsOfVisitors('demo', ['v1']);
    expect(stored.map((e) => e.name)).toEqual([
      'random_0',
      'random_1',
      'random_2',
      '(other)',
      '(other)',
      '(other)',
      'add_to_cart',
    ]);
    expect(stored[0]!.props).toEqual({ p0: 0, a: 1 });
    expect(stored[1]!.props).toEqual({ a: 1, '(other)': 1 });
    expect(stored[5]!.props).toEqual({ a: 1, '(other)': 1 });
    // A later batch: known names stay, new ones are (other).
    await t.collect(batch('v2', [ev('event', { name: 'random_1' }), ev('event', { name: 'brand_new' })]));
    expect((await t.store.eventsOfVisitors('demo', ['v2'])).map((e) => e.name)).toEqual(['random_1', '(other)']);
    const c = (await (await t.api('/api/sites/demo/counters')).json()) as CountersReport;
    expect(c.totals).toMatchObject({ otherNames: 4, otherProps: 5 });
    expect(c.days).toHaveLength(1);
  });
});

describe('privacy', () => {
  it('derives a daily pseudonymous id when the tag sends none; a new salt the next day; IP never stored', async () => {
    const send = () => t.collect({ site: 'demo', events: [page('/')] }, from('203.0.113.7', IPHONE));
    expect((await send()).status).toBe(202);
    expect((await send()).status).toBe(202);
    const list = (await (await t.api('/api/sites/demo/visitors')).json()) as {
      visitors: { visitor: string; device: string }[];
    };
    expect(list.visitors).toHaveLength(1);
    const id = list.visitors[0]!.visitor;
    expect(id).toMatch(/^d:[A-Za-z0-9_-]{22}$/);
    expect(list.visitors[0]!.device).toBe('mobile');
    // Another browser on the same address is another visitor.
    await t.collect({ site: 'demo', events: [page('/')] }, from('203.0.113.7', CHROME));
    // Next day: another salt, another id; the salt of two days ago is deleted.
    t.clock.now += 86400_000;
    await send();
    t.clock.now += 2 * 86400_000;
    await send();
    const all = (await (await t.api('/api/sites/demo/visitors')).json()) as { visitors: { visitor: string }[] };
    expect(new Set(all.visitors.map((v) => v.visitor)).size).toBe(4);
    const salts = await t.store.listMeta('salt:');
    expect(salts.map((s) => s.key)).toEqual([`salt:${new Date(t.clock.now).toISOString().slice(0, 10)}`]);
    // Nothing stored anywhere contains the address or the user agent.
    const dump = JSON.stringify(
      await t.store.eventsOfVisitors(
        'demo',
        all.visitors.map((v) => v.visitor),
      ),
    );
    expect(dump).not.toContain('203.0.113.7');
    expect(dump).not.toContain('iPhone');
    const detail = (await (await t.api(`/api/sites/demo/visitors/${encodeURIComponent(id)}`)).json()) as VisitorDetail;
    expect(detail.journey.sessions[0]!.device).toBe('mobile');
  });

  it('refuses a batch without visitor when the runtime gives no address', async () => {
    const bare = await makeApp();
    const res = await bare.collect({ site: 'demo', events: [page('/')] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { path: string }).path).toBe('visitor');
  });

  it('records the dropped count the tag reports, per day', async () => {
    await t.collect({ ...batch('v1', [page('/')]), dropped: 7 });
    await t.collect({ ...batch('v1', [page('/', { ts: T0 - 40 * 86400_000 })]), dropped: 1 });
    const c = (await (await t.api('/api/sites/demo/counters')).json()) as CountersReport;
    expect(c.totals).toMatchObject({ dropped: 8, tooOld: 1 });
    expect(c.days[0]!.day).toBe(new Date(t.clock.now).toISOString().slice(0, 10));
  });

  it('does not count the dropped report of a retried batch twice', async () => {
    const sent = { ...batch('v1', [page('/'), page('/cart')]), dropped: 5 };
    await t.collect(sent);
    const again = await t.collect(sent); // the answer was lost; the tag sends the same batch again
    expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 2 });
    const c = (await (await t.api('/api/sites/demo/counters')).json()) as CountersReport;
    expect(c.totals).toMatchObject({ dropped: 5 });
  });
});

describe('any input', () => {
  const arbValue = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
    fc.dictionary(
      fc.string({ maxLength: 5 }),
      fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.dictionary(fc.string({ maxLength: 2 }), fc.integer())),
      { maxKeys: 4 },
    ),
  );
  const arbEvent = fc.record(
    {
      id: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,8}$/), arbValue),
      type: fc.oneof(fc.constantFrom('page', 'event', 'stage', 'identify', 'vital', 'feedback'), arbValue),
      ts: fc.oneof(fc.integer({ min: T0 - 50 * 86400_000, max: T0 + 50 * 86400_000 }), arbValue),
      url: fc.oneof(fc.webUrl(), arbValue),
      referrer: fc.oneof(fc.webUrl(), arbValue),
      name: arbValue,
      stage: fc.oneof(fc.constantFrom('cart', 'checkout', 'nope'), arbValue),
      userId: arbValue,
      value: fc.oneof(fc.integer({ min: 1, max: 5 }), arbValue),
      props: arbValue,
    },
    { requiredKeys: [] },
  );
  const arbBody = fc.oneof(
    fc.record(
      {
        site: fc.oneof(fc.constantFrom('demo', 'nope'), arbValue),
        visitor: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,8}$/), arbValue),
        sent: arbValue,
        dropped: fc.oneof(fc.nat(), arbValue),
        events: fc.oneof(fc.array(arbEvent, { maxLength: 5 }), arbValue),
      },
      { requiredKeys: [] },
    ),
    arbValue,
  );

  it('gets 202, 4xx or 413 — never a 500 — and a refused batch writes nothing', async () => {
    const app = await makeApp(undefined, { clientIp: () => '127.0.0.1', rateLimit: false });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          arbBody.map((b) => JSON.stringify(b) ?? 'undefined'),
          fc.string({ maxLength: 200 }),
        ),
        async (body) => {
          const before = (await app.store.exportEvents('demo', 0, 10_000, {})).events.length;
          const res = await app.collect(body);
          expect([202, 400, 403, 404, 413]).toContain(res.status);
          const answer = (await res.json()) as { error?: string; accepted?: number };
          const after = (await app.store.exportEvents('demo', 0, 10_000, {})).events.length;
          if (res.status !== 202) {
            expect(answer.error).toMatch(/\S/);
            expect(after).toBe(before);
          } else {
            expect(after - before).toBe(answer.accepted);
          }
        },
      ),
      { numRuns: 400 },
    );
  }, 120_000);
});
