import { beforeEach, describe, expect, it } from 'vitest';
import { batch, ev, makeApp, page, T0, type TestApp } from '../helpers';

let t: TestApp;
beforeEach(async () => {
  t = await makeApp();
});

describe('POST /collect', () => {
  it('accepts a batch and answers 202 with counts only after it is stored', async () => {
    const res = await t.collect(batch('v1', [page('/'), ev('event', { name: 'add_to_cart' })]));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2, duplicates: 0 });
    const stored = await t.store.eventsOfVisitors('demo', ['v1']);
    expect(stored.map((e) => e.type)).toEqual(['page', 'event']);
  });

  it('stores an external referrer and not one from the page’s own host (the tag sends document.referrer as it is)', async () => {
    const landing = page('/', { referrer: 'https://www.google.com/search' });
    const internal = page('/cart', { referrer: 'https://shop.test/' });
    const www = page('/checkout', { referrer: 'https://www.shop.test/cart' });
    expect((await t.collect(batch('v1', [landing, internal, www]))).status).toBe(202);
    const stored = await t.store.eventsOfVisitors('demo', ['v1']);
    expect(stored.map((e) => e.referrer ?? null)).toEqual(['https://www.google.com/search', null, null]);
    // The timeline and the export show the external one only; the channel is the landing's.
    const detail = (await (await t.api('/api/sites/demo/visitors/v1')).json()) as {
      timeline: Array<{ referrer?: string }>;
      journey: { firstChannel: string };
    };
    expect(detail.timeline.map((e) => e.referrer ?? null)).toEqual(['https://www.google.com/search', null, null]);
    expect(detail.journey.firstChannel).toBe('organic_search');
    const rows = (await (await t.api('/api/sites/demo/export')).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { referrer?: string });
    expect(rows.map((r) => r.referrer ?? null)).toEqual(['https://www.google.com/search', null, null]);
  });

  it('accepts application/json as well as text/plain', async () => {
    const res = await t.collect(batch('v1', [page('/')]), { headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(202);
  });

  it('counts a repeated (site, id) as a duplicate and stores it once', async () => {
    const events = [page('/'), page('/cart')];
    await t.collect(batch('v1', events));
    const again = await t.collect(batch('v1', [...events, page('/checkout')]));
    expect(await again.json()).toEqual({ accepted: 1, duplicates: 2 });
    expect(await t.store.eventsOfVisitors('demo', ['v1'])).toHaveLength(3);
  });

  it('counts a repeated id within one batch as a duplicate', async () => {
    const e = page('/');
    const res = await t.collect(batch('v1', [e, e]));
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 1 });
  });

  it.each([
    ['not JSON', '{nope', undefined],
    ['an array', '[]', ''],
    ['no site', JSON.stringify({ visitor: 'v', events: [] }), 'site'],
    ['events missing', JSON.stringify({ site: 'demo', visitor: 'v' }), 'events'],
    ['empty events', JSON.stringify({ site: 'demo', visitor: 'v', events: [] }), 'events'],
    [
      'a bad type',
      JSON.stringify({ site: 'demo', visitor: 'v', events: [{ id: 'a', type: 'nope', ts: 1 }] }),
      'events[0].type',
    ],
    [
      'a string ts',
      JSON.stringify({ site: 'demo', visitor: 'v', events: [{ id: 'a', type: 'page', ts: 'now' }] }),
      'events[0].ts',
    ],
    ['no id', JSON.stringify({ site: 'demo', visitor: 'v', events: [{ type: 'page', ts: 1 }] }), 'events[0].id'],
    [
      'event without name',
      JSON.stringify({ site: 'demo', visitor: 'v', events: [{ id: 'a', type: 'event', ts: 1 }] }),
      'events[0].name',
    ],
    [
      'feedback 9',
      JSON.stringify({ site: 'demo', visitor: 'v', events: [{ id: 'a', type: 'feedback', ts: 1, value: 9 }] }),
      'events[0].value',
    ],
    [
      'nested props',
      JSON.stringify({
        site: 'demo',
        visitor: 'v',
        events: [{ id: 'a', type: 'page', ts: 1, props: { a: { b: 1 } } }],
      }),
      'events[0].props.a',
    ],
    [
      'a bad visitor',
      JSON.stringify({ site: 'demo', visitor: 'v v', events: [{ id: 'a', type: 'page', ts: 1 }] }),
      'visitor',
    ],
  ])('refuses %s with 400 naming the field', async (_, body, path) => {
    const res = await t.collect(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string; path?: string };
    expect(json.error).toMatch(/\w/);
    expect(json.path).toBe(path);
  });

  it('writes nothing from a batch with one bad event', async () => {
    const res = await t.collect(batch('v1', [page('/'), { id: 'x', type: 'page', ts: -5 }]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { path?: string }).path).toBe('events[1].ts');
    expect(await t.store.eventsOfVisitors('demo', ['v1'])).toHaveLength(0);
  });

  it('answers 413 with JSON for a body over 64 KB', async () => {
    const big = JSON.stringify(batch('v1', [page('/', { title: 'x'.repeat(70_000) })]));
    const res = await t.collect(big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/64|65536|larger/);
  });

  it('lets a page on another origin read Retry-After and X-Cjm-Dropped', async () => {
    const res = await t.collect(batch('v1', [page('/')]), {
      headers: { 'Content-Type': 'text/plain', Origin: 'https://shop.test' },
    });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.test');
    expect(res.headers.get('Access-Control-Expose-Headers')?.split(/,\s*/)).toEqual(
      expect.arrayContaining(['Retry-After', 'X-Cjm-Dropped']),
    );
  });

  it('answers 404 for an unknown site', async () => {
    const res = await t.collect(batch('v1', [page('/')], 'nope'));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ path: 'site' });
  });

  it('clamps future timestamps to the time of receipt and rejects events older than 31 days', async () => {
    const now = t.clock.now;
    const res = await t.collect(
      batch('v1', [page('/', { ts: now + 5 * 86400_000 }), page('/old', { ts: now - 40 * 86400_000 })]),
    );
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: 1 });
    const [stored] = await t.store.eventsOfVisitors('demo', ['v1']);
    expect(stored?.ts).toBe(now);
  });

  it('corrects a skewed client clock using the batch send time', async () => {
    const now = t.clock.now;
    const skew = -3 * 3600_000; // client clock 3 h behind
    await t.collect({ ...batch('v1', [page('/', { ts: now + skew - 5000 })]), sent: now + skew });
    const [stored] = await t.store.eventsOfVisitors('demo', ['v1']);
    expect(stored?.ts).toBe(now - 5000);
  });
});

describe('read API', () => {
  it('needs the admin token', async () => {
    const none = await t.app.request('/api/sites/demo/visitors');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toMatch(/Bearer/);
    const wrong = await t.app.request('/api/sites/demo/visitors', { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect((await t.api('/api/sites/demo/visitors')).status).toBe(200);
  });

  it('lists visitors and shows one journey with its timeline in order', async () => {
    await t.collect(
      batch('v1', [
        page('/'),
        page('/signup'),
        ev('event', { name: 'add_to_cart' }),
        page('/checkout'),
        page('/thank-you'),
      ]),
    );
    await t.collect(batch('v2', [page('/')]));
    const list = (await (await t.api('/api/sites/demo/visitors')).json()) as {
      visitors: { visitor: string }[];
      cursor: string | null;
    };
    expect(list.visitors.map((v) => v.visitor).sort()).toEqual(['v1', 'v2']);
    const res = await t.api('/api/sites/demo/visitors/v1');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      visitor: { id: string };
      journey: {
        currentStage: string;
        converted: unknown;
        stages: { name: string; reached: boolean; firstAt?: number }[];
      };
      timeline: { type: string; ts: number }[];
    };
    expect(body.visitor.id).toBe('v1');
    expect(body.journey.currentStage).toBe('post-purchase');
    expect(body.journey.converted).toBeTruthy();
    expect(body.journey.stages.map((s) => s.reached)).toEqual([true, true, true, true, true]);
    expect(body.timeline.map((e) => e.type)).toEqual(['page', 'page', 'event', 'page', 'page']);
    const times = body.timeline.map((e) => e.ts);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('filters and paginates the visitors list', async () => {
    for (let i = 0; i < 5; i++) await t.collect(batch(`p${i}`, [page('/', { ts: T0 + i * 1000 })]));
    await t.collect(batch('buyer', [page('/'), page('/thank-you')]));
    const first = (await (await t.api('/api/sites/demo/visitors?limit=2')).json()) as {
      visitors: { visitor: string }[];
      cursor: string;
    };
    expect(first.visitors).toHaveLength(2);
    const seen = new Set(first.visitors.map((v) => v.visitor));
    let cursor: string | null = first.cursor;
    while (cursor) {
      const next = (await (
        await t.api(`/api/sites/demo/visitors?limit=2&cursor=${encodeURIComponent(cursor)}`)
      ).json()) as {
        visitors: { visitor: string }[];
        cursor: string | null;
      };
      for (const v of next.visitors) seen.add(v.visitor);
      cursor = next.cursor;
    }
    expect(seen.size).toBe(6);
    const converted = (await (await t.api('/api/sites/demo/visitors?converted=true')).json()) as {
      visitors: { visitor: string }[];
    };
    expect(converted.visitors.map((v) => v.visitor)).toEqual(['buyer']);
    const byStage = (await (await t.api('/api/sites/demo/visitors?stage=landing')).json()) as { visitors: unknown[] };
    expect(byStage.visitors).toHaveLength(5);
  });

  it('answers 400 naming a bad query parameter, 404 for unknown sites and visitors', async () => {
    expect(await (await t.api('/api/sites/demo/visitors?limit=0')).json()).toMatchObject({ path: 'limit' });
    expect(await (await t.api('/api/sites/demo/visitors?cursor=zzz')).json()).toMatchObject({ path: 'cursor' });
    expect((await t.api('/api/sites/nope/visitors')).status).toBe(404);
    expect((await t.api('/api/sites/demo/visitors/ghost')).status).toBe(404);
  });
});
