/**
 * The Segment-format API under /v1: every endpoint, the mapping onto cjm events, linking to the browser journey,
 * errors (400/401/413) and deduplication. HTTP tests through app.request().
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultSiteConfig } from '../../collector/core/stages';
import type { TimelineEvent } from '../../collector/core/store';
import { batch, ev, makeApp, page, T0, type TestApp } from '../helpers';

let t: TestApp;
let key: string;
beforeEach(async () => {
  t = await makeApp();
  key = (await t.store.createWriteKey('demo', 'test')).key;
});

const basic = (k: string) => `Basic ${btoa(`${k}:`)}`;
const iso = (ms: number) => new Date(ms).toISOString();
/** T0 + n seconds, as an ISO string (the test clock is T0 + 24 h). */
const at = (n: number) => iso(T0 + n * 1000);

const send = (path: string, body: unknown, headers: Record<string, string> = { Authorization: basic(key) }) =>
  t.app.request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const ok = async (path: string, body: unknown) => {
  const res = await send(path, body);
  const json = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  expect(json.success).toBe(true);
  return json;
};

const refused = async (path: string, body: unknown, status = 400) => {
  const res = await send(path, body);
  const json = (await res.json()) as { success: false; error: string; message: string; path?: string };
  expect(res.status, JSON.stringify(json)).toBe(status);
  expect(json.success).toBe(false);
  expect(json.error).toMatch(/\w/);
  expect(json.message).toBe(json.error);
  return json;
};

const events = (visitor: string, site = 'demo') => t.store.eventsOfVisitors(site, [visitor]);
const allEvents = async (site = 'demo') => {
  const { visitors } = await t.store.listVisitors(site, { limit: 100 });
  const out: TimelineEvent[] = [];
  for (const v of visitors)
    out.push(...(await t.store.eventsOfVisitors(site, await t.store.visitorsOfJourney(site, v.journey))));
  return out;
};
const visitorView = async (visitor: string) => {
  const res = await t.api(`/api/sites/demo/visitors/${encodeURIComponent(visitor)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as {
    visitor: { id: string; journey: string; userId: string | null; visitors: string[] };
    journey: {
      currentStage: string | null;
      converted: unknown;
      sessions: Array<{ channel: string; source: string | null; campaign: string | null }>;
    };
    timeline: TimelineEvent[];
  };
};

describe('POST /v1/track', () => {
  it('stores an event named after `event`, with the messageId as id and the timestamp as ts', async () => {
    await ok('/v1/track', {
      anonymousId: 'v1',
      event: 'Newsletter Opened',
      messageId: 'm-1',
      timestamp: at(5),
      properties: { subject: 'Black Friday', opens: 2, vip: true, note: null },
    });
    expect(await events('v1')).toEqual([
      expect.objectContaining({
        id: 'seg:m-1',
        visitor: 'v1',
        type: 'event',
        ts: T0 + 5000,
        name: 'Newsletter Opened',
        props: { subject: 'Black Friday', opens: 2, vip: true, note: null },
      }),
    ]);
  });

  it('applies the stage rules to the event name, and an explicit stage from properties.stage or `stage`', async () => {
    await ok('/v1/track', { anonymousId: 'a', event: 'add_to_cart', timestamp: at(1) });
    expect((await visitorView('a')).journey.currentStage).toBe('cart');
    await ok('/v1/track', {
      anonymousId: 'b',
      event: 'Payment Confirmed',
      properties: { stage: 'checkout', method: 'card' },
      timestamp: at(1),
    });
    const b = await events('b');
    expect(b[0]).toMatchObject({ stage: 'checkout', props: { method: 'card' } });
    expect(b[0]!.props).not.toHaveProperty('stage');
    expect((await visitorView('b')).journey.currentStage).toBe('checkout');
    await ok('/v1/track', { anonymousId: 'c', event: 'Anything', stage: 'post-purchase', timestamp: at(1) });
    expect((await visitorView('c')).journey.converted).not.toBeNull();
    await ok('/v1/track', { anonymousId: 'd', event: 'Anything', context: { stage: 'signup' }, timestamp: at(1) });
    expect((await visitorView('d')).journey.currentStage).toBe('signup');
    await ok('/v1/page', {
      anonymousId: 'e',
      properties: { url: 'https://shop.test/', stage: 'cart' },
      timestamp: at(1),
    });
    expect((await events('e'))[0]).toMatchObject({ stage: 'cart' });
    expect((await events('e'))[0]!.props).toBeUndefined();
    expect((await visitorView('e')).journey.currentStage).toBe('cart');
  });

  it('refuses a stage that is not a string, naming it', async () => {
    expect((await refused('/v1/track', { anonymousId: 'v', event: 'x', context: { stage: 3 } })).path).toBe(
      'context.stage',
    );
    expect((await refused('/v1/track', { anonymousId: 'v', event: 'x', stage: 'x'.repeat(65) })).path).toBe('stage');
  });

  it('takes the value from properties.value, revenue or total', async () => {
    await ok('/v1/batch', {
      batch: [
        { type: 'track', anonymousId: 'v', event: 'a', properties: { revenue: 42.5 }, timestamp: at(1) },
        { type: 'track', anonymousId: 'v', event: 'b', properties: { total: '7', value: 3 }, timestamp: at(2) },
        { type: 'track', anonymousId: 'v', event: 'c', properties: { total: 9 }, timestamp: at(3) },
      ],
    });
    expect((await events('v')).map((e) => e.value ?? null)).toEqual([42.5, 3, 9]);
  });

  it('flattens nested properties into dotted keys and drops arrays', async () => {
    await ok('/v1/track', {
      anonymousId: 'v',
      event: 'Order Completed',
      timestamp: at(1),
      properties: {
        order_id: 'o1',
        shipping: { method: 'dhl', address: { city: 'Berlin', geo: { lat: 1 } } },
        products: [{ sku: 'a' }, { sku: 'b' }],
        tags: ['x'],
      },
    });
    expect((await events('v'))[0]!.props).toEqual({
      order_id: 'o1',
      'shipping.method': 'dhl',
      'shipping.address.city': 'Berlin',
    });
  });

  it('uses context.page for the URL and referrer the event happened on', async () => {
    await ok('/v1/track', {
      anonymousId: 'v',
      event: 'Chat Started',
      timestamp: at(1),
      context: { page: { url: 'https://shop.test/help', referrer: 'https://www.google.com/', title: 'Help' } },
    });
    expect((await events('v'))[0]).toMatchObject({
      url: 'https://shop.test/help',
      referrer: 'https://www.google.com/',
    });
    expect((await visitorView('v')).journey.sessions[0]!.channel).toBe('organic_search');
  });
});

describe('POST /v1/page and /v1/screen', () => {
  it('stores a page view with url, referrer and title from properties or context.page; URL stage rules apply', async () => {
    await ok('/v1/page', {
      anonymousId: 'v',
      name: 'Checkout',
      timestamp: at(1),
      properties: {
        url: 'https://shop.test/checkout?step=2',
        path: '/checkout',
        referrer: 'https://shop.test/cart',
        plan: 'pro',
      },
    });
    await ok('/v1/page', {
      anonymousId: 'w',
      timestamp: at(1),
      context: { page: { url: 'https://shop.test/cart', title: 'Your cart', referrer: 'https://t.co/x' } },
    });
    expect(await events('v')).toEqual([
      expect.objectContaining({
        type: 'page',
        url: 'https://shop.test/checkout?step=2',
        referrer: 'https://shop.test/cart',
        title: 'Checkout',
        props: { plan: 'pro' },
      }),
    ]);
    expect((await visitorView('v')).journey.currentStage).toBe('checkout');
    expect((await events('w'))[0]).toMatchObject({
      url: 'https://shop.test/cart',
      title: 'Your cart',
      referrer: 'https://t.co/x',
    });
    expect((await visitorView('w')).journey.currentStage).toBe('cart');
  });

  it('uses the path as URL when no URL is given', async () => {
    await ok('/v1/page', { anonymousId: 'v', name: 'Thanks', properties: { path: '/thank-you' }, timestamp: at(1) });
    expect((await events('v'))[0]).toMatchObject({ url: '/thank-you', title: 'Thanks' });
    expect((await visitorView('v')).journey.currentStage).toBe('post-purchase');
  });

  it('stores a screen as a page view titled with the screen name', async () => {
    await ok('/v1/screen', { userId: 'u1', name: 'Order Details', properties: { order: 'o1' }, timestamp: at(1) });
    const all = await allEvents();
    expect(all.find((e) => e.type === 'page')).toMatchObject({ title: 'Order Details', props: { order: 'o1' } });
  });
});

describe('POST /v1/identify and /v1/alias', () => {
  it('stores identify with userId and traits, and links the visitor to the user', async () => {
    await ok('/v1/identify', {
      anonymousId: 'v',
      userId: 'u-42',
      traits: { plan: 'pro', address: { city: 'Riga' } },
      timestamp: at(1),
    });
    expect(await events('v')).toEqual([
      expect.objectContaining({ type: 'identify', userId: 'u-42', props: { plan: 'pro', 'address.city': 'Riga' } }),
    ]);
    expect((await visitorView('v')).visitor).toMatchObject({ journey: 'u:u-42', userId: 'u-42' });
  });

  it('takes traits from context.traits as well', async () => {
    await ok('/v1/identify', { userId: 'u1', context: { traits: { tier: 'gold' } }, timestamp: at(1) });
    expect((await allEvents()).find((e) => e.type === 'identify')!.props).toEqual({ tier: 'gold' });
  });

  it('accepts an identify without userId and ignores it (cjm keeps no anonymous traits)', async () => {
    expect(await ok('/v1/identify', { anonymousId: 'v', traits: { a: 1 } })).toEqual({ success: true, ignored: 1 });
    expect(await events('v')).toEqual([]);
  });

  it('alias links the visitor previousId to userId (an identify named "alias")', async () => {
    await t.collect(batch('tagvisitor', [page('/')]));
    await ok('/v1/alias', { previousId: 'tagvisitor', userId: 'u-7', timestamp: iso(T0 + 3_600_000) });
    const view = await visitorView('tagvisitor');
    expect(view.visitor).toMatchObject({ journey: 'u:u-7', userId: 'u-7' });
    expect(view.timeline.map((e) => [e.type, e.name ?? null])).toEqual([
      ['page', null],
      ['identify', 'alias'],
    ]);
  });

  it('alias needs previousId and userId', async () => {
    expect((await refused('/v1/alias', { userId: 'u' })).path).toBe('previousId');
    expect((await refused('/v1/alias', { previousId: 'v' })).path).toBe('userId');
  });
});

describe('POST /v1/group', () => {
  it('is accepted and ignored', async () => {
    expect(await ok('/v1/group', { userId: 'u', groupId: 'acme', traits: { seats: 5 } })).toEqual({
      success: true,
      ignored: 1,
    });
    expect(await allEvents()).toEqual([]);
  });
});

describe('POST /v1/batch', () => {
  it('stores a batch of every type, applying the batch-level context', async () => {
    const json = await ok('/v1/batch', {
      batch: [
        { type: 'identify', anonymousId: 'v', userId: 'u1', timestamp: at(1), messageId: 'b1' },
        {
          type: 'page',
          anonymousId: 'v',
          properties: { url: 'https://shop.test/cart' },
          timestamp: at(2),
          messageId: 'b2',
        },
        { type: 'track', anonymousId: 'v', event: 'checkout_started', timestamp: at(3), messageId: 'b3' },
        { type: 'screen', anonymousId: 'v', name: 'App Home', timestamp: at(4), messageId: 'b4' },
        { type: 'group', anonymousId: 'v', groupId: 'g', messageId: 'b5' },
        { type: 'alias', previousId: 'old-device', userId: 'u1', timestamp: at(5), messageId: 'b6' },
      ],
      context: { channel: 'push' },
      sentAt: iso(t.clock.now),
    });
    expect(json).toEqual({ success: true, ignored: 1 });
    const view = await visitorView('v');
    expect(view.visitor.journey).toBe('u:u1');
    expect(view.visitor.visitors.sort()).toEqual(['old-device', 'v']);
    expect(view.timeline.map((e) => e.id)).toEqual(['seg:b1', 'seg:b2', 'seg:b3', 'seg:b4', 'seg:b6']);
    expect(view.timeline.every((e) => e.channel === 'push')).toBe(true);
    expect(view.journey.currentStage).toBe('checkout');
  });

  it('accepts /v1/import as an alias of /v1/batch', async () => {
    await ok('/v1/import', { batch: [{ type: 'track', anonymousId: 'v', event: 'x', timestamp: at(1) }] });
    expect(await events('v')).toHaveLength(1);
  });
});

describe('ids and deduplication', () => {
  it('stores a retried messageId once', async () => {
    const msg = { anonymousId: 'v', event: 'x', messageId: 'node-next-1-abc', timestamp: at(1) };
    await ok('/v1/track', msg);
    await ok('/v1/track', msg);
    await ok('/v1/batch', {
      batch: [
        { ...msg, type: 'track' },
        { ...msg, type: 'track' },
      ],
    });
    expect((await events('v')).map((e) => e.id)).toEqual(['seg:node-next-1-abc']);
  });

  it('hashes a messageId that does not fit the id charset or length, and still deduplicates it', async () => {
    const long = `node-next-${Date.now()}-${'f'.repeat(60)}`;
    await ok('/v1/track', { anonymousId: 'v', event: 'x', messageId: 'mail/42 <x@y>', timestamp: at(1) });
    await ok('/v1/track', { anonymousId: 'v', event: 'x', messageId: 'mail/42 <x@y>', timestamp: at(1) });
    await ok('/v1/track', { anonymousId: 'v', event: 'y', messageId: long, timestamp: at(2) });
    await ok('/v1/track', { anonymousId: 'v', event: 'y', messageId: long, timestamp: at(2) });
    const ids = (await events('v')).map((e) => e.id);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^segh:[0-9a-f]{40}$/);
  });

  it('keeps a tag event and a server message with the same raw id apart (namespaced ids)', async () => {
    await t.collect(batch('v', [ev('page', { id: 'same-id', url: 'https://shop.test/', ts: T0 })]));
    await ok('/v1/track', { anonymousId: 'v', event: 'x', messageId: 'same-id', timestamp: at(1) });
    expect((await events('v')).map((e) => e.id)).toEqual(['same-id', 'seg:same-id']);
  });

  it('without messageId: a retry of the same timestamped message is deduplicated; without timestamp it is not', async () => {
    const msg = { anonymousId: 'v', event: 'x', timestamp: at(1) };
    await ok('/v1/track', msg);
    await ok('/v1/track', { ...msg, sentAt: iso(t.clock.now) });
    expect(await events('v')).toHaveLength(1);
    await ok('/v1/track', { anonymousId: 'w', event: 'x' });
    await ok('/v1/track', { anonymousId: 'w', event: 'x' });
    expect(await events('w')).toHaveLength(2);
  });
});

describe('visitors and linking to the browser journey', () => {
  it('an anonymousId equal to the tag visitor id lands in the same visitor', async () => {
    await t.collect(batch('9b2c6f0e-6f3a-4a53-9a59-0f6f3c1d2e4b', [page('/', { ts: T0 })]));
    await ok('/v1/track', {
      anonymousId: '9b2c6f0e-6f3a-4a53-9a59-0f6f3c1d2e4b',
      event: 'add_to_cart',
      timestamp: at(60),
    });
    const view = await visitorView('9b2c6f0e-6f3a-4a53-9a59-0f6f3c1d2e4b');
    expect(view.timeline.map((e) => e.type)).toEqual(['page', 'event']);
    expect(view.journey.currentStage).toBe('cart');
  });

  it('hashes an anonymousId that is not a valid cjm id into srva:<keyed hash>', async () => {
    await ok('/v1/track', { anonymousId: 'user@example.com', event: 'x', timestamp: at(1) });
    const all = await allEvents();
    expect(all).toHaveLength(1);
    expect(all[0]!.visitor).toMatch(/^srva:[A-Za-z0-9_-]{22}$/); // an HMAC under the deployment's secret
  });

  it('a userId-only message joins the journey of the user the tag identified, in time order', async () => {
    // Browser: two pages, then cjm.identify('u-42').
    await t.collect(
      batch('tagv', [
        page('/', { ts: T0 }),
        page('/product', { ts: T0 + 10_000 }),
        ev('identify', { userId: 'u-42', ts: T0 + 20_000 }),
      ]),
    );
    // Server: the back end confirms the payment later, and an e-mail touch comes in between (out of order).
    await ok('/v1/track', {
      userId: 'u-42',
      event: 'order_completed',
      properties: { revenue: 99 },
      timestamp: at(300),
      messageId: 'pay-1',
    });
    await ok('/v1/track', {
      userId: 'u-42',
      event: 'Email Clicked',
      timestamp: at(100),
      messageId: 'mail-1',
      context: { channel: 'email' },
    });

    const view = await visitorView('tagv');
    expect(view.visitor.journey).toBe('u:u-42');
    expect(view.visitor.visitors).toHaveLength(2);
    const srv = view.visitor.visitors.find((v) => v !== 'tagv')!;
    expect(srv).toMatch(/^srv:[A-Za-z0-9_-]{22}$/); // an HMAC of the user id under the deployment's secret
    const real = view.timeline.filter((e) => !e.synthetic);
    expect(real.map((e) => [e.visitor === 'tagv' ? 'browser' : 'server', e.type, e.name ?? e.url ?? null])).toEqual([
      ['browser', 'page', 'https://shop.test/'],
      ['browser', 'page', 'https://shop.test/product'],
      ['browser', 'identify', null],
      ['server', 'event', 'Email Clicked'],
      ['server', 'event', 'order_completed'],
    ]);
    const ts = view.timeline.map((e) => e.ts);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    // The link of the server visitor to the user is a synthetic identify.
    expect(view.timeline.filter((e) => e.synthetic)).toEqual([
      expect.objectContaining({ type: 'identify', userId: 'u-42', visitor: srv, id: expect.stringMatching(/^segl:/) }),
    ]);
    expect(view.journey.currentStage).toBe('post-purchase');
    expect(view.journey.converted).not.toBeNull();
    // The server visitor's own view is the same journey.
    expect((await visitorView(srv)).visitor.journey).toBe('u:u-42');
  });

  it('a message with both anonymousId and userId links the tag visitor to the user', async () => {
    await t.collect(batch('tagv', [page('/', { ts: T0 })]));
    await ok('/v1/track', { anonymousId: 'tagv', userId: 'u-9', event: 'Signed Up', timestamp: at(30) });
    const view = await visitorView('tagv');
    expect(view.visitor).toMatchObject({ journey: 'u:u-9', userId: 'u-9', visitors: ['tagv'] });
  });

  it('the key decides the site', async () => {
    await t.store.putSite(defaultSiteConfig('shop'));
    const shopKey = (await t.store.createWriteKey('shop', 'shop')).key;
    const res = await send(
      '/v1/track',
      { anonymousId: 'v', event: 'x', timestamp: at(1) },
      { Authorization: basic(shopKey) },
    );
    expect(res.status).toBe(200);
    expect(await events('v', 'shop')).toHaveLength(1);
    expect(await events('v', 'demo')).toHaveLength(0);
  });
});

describe('channels', () => {
  it('a channel of email, e-mail, sms, push or offline makes a touchpoint of that channel; server is none', async () => {
    const cases: Array<[string, Record<string, unknown>, string | undefined]> = [
      ['a', { channel: 'email' }, 'email'],
      ['b', { context: { channel: 'E-Mail' } }, 'email'],
      ['c', { context: { channel: 'sms' } }, 'sms'],
      ['d', { channel: 'push' }, 'push'],
      ['e', { channel: 'offline' }, 'offline'],
      ['f', { channel: 'server' }, undefined],
    ];
    for (const [v, extra] of cases)
      await ok('/v1/track', { anonymousId: v, event: 'touch', timestamp: at(1), ...extra });
    for (const [v, , channel] of cases) {
      const [e] = await events(v);
      expect(e!.channel, v).toBe(channel);
      expect((await visitorView(v)).journey.sessions[0]!.channel, v).toBe(channel ?? 'direct');
    }
  });

  it('the channel holds for a userId-only message without messageId or timestamp (its link event sorts first)', async () => {
    await ok('/v1/track', { userId: 'u-5', event: 'SMS Clicked', channel: 'sms' });
    const all = await allEvents();
    expect(all.map((e) => [e.type, e.synthetic ?? false, e.channel])).toEqual([
      ['identify', true, 'sms'],
      ['event', false, 'sms'],
    ]);
    const { visitors } = await t.store.listVisitors('demo', { limit: 10 });
    expect(visitors[0]).toMatchObject({ journey: 'u:u-5', firstChannel: 'sms' });
  });

  it('an e-mail touch days after the browser visit starts a session with channel email', async () => {
    await t.collect(batch('v', [page('/', { ts: T0 })]));
    await ok('/v1/track', {
      anonymousId: 'v',
      event: 'Email Opened',
      channel: 'email',
      timestamp: iso(T0 + 2 * 3_600_000),
    });
    const { sessions } = (await visitorView('v')).journey;
    expect(sessions.map((s) => s.channel)).toEqual(['direct', 'email']);
  });

  it('context.campaign is added to the URL as UTM parameters and classifies the session', async () => {
    await ok('/v1/page', {
      anonymousId: 'v',
      timestamp: at(1),
      context: {
        page: { url: 'https://shop.test/landing?x=1' },
        campaign: { name: 'bf', source: 'newsletter', medium: 'email', content: 'hero' },
      },
    });
    const [e] = await events('v');
    const url = new URL(e!.url!);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      x: '1',
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: 'bf',
      utm_content: 'hero',
    });
    expect((await visitorView('v')).journey.sessions[0]).toMatchObject({ channel: 'email', campaign: 'bf' });
  });

  it('keeps UTM parameters already on the URL', async () => {
    await ok('/v1/page', {
      anonymousId: 'v',
      timestamp: at(1),
      context: {
        page: { url: 'https://shop.test/?utm_source=google&utm_medium=cpc' },
        campaign: { source: 'other', medium: 'email' },
      },
    });
    expect((await events('v'))[0]!.url).toBe('https://shop.test/?utm_source=google&utm_medium=cpc');
    expect((await visitorView('v')).journey.sessions[0]!.channel).toBe('paid_search');
  });

  it('without a URL the campaign is classified into a stored channel', async () => {
    await ok('/v1/track', {
      userId: 'u',
      event: 'x',
      timestamp: at(1),
      context: { campaign: { source: 'google', medium: 'cpc' } },
    });
    const e = (await allEvents()).find((x) => x.type === 'event');
    expect(e!.channel).toBe('paid_search');
    expect(e!.url).toBeUndefined();
  });

  it('an explicit channel wins over the campaign', async () => {
    await ok('/v1/track', {
      anonymousId: 'v',
      event: 'x',
      channel: 'sms',
      timestamp: at(1),
      context: { campaign: { source: 'google', medium: 'cpc' } },
    });
    expect((await events('v'))[0]!.channel).toBe('sms');
  });
});

describe('timestamps', () => {
  it('corrects the clock skew given by sentAt, like /collect', async () => {
    const skew = 3_600_000; // the sender's clock is an hour fast
    await ok('/v1/batch', {
      batch: [{ type: 'track', anonymousId: 'v', event: 'x', timestamp: iso(T0 + skew) }],
      sentAt: iso(t.clock.now + skew),
    });
    await ok('/v1/track', { anonymousId: 'w', event: 'x', timestamp: iso(T0 + skew), sentAt: iso(t.clock.now + skew) });
    expect((await events('v'))[0]!.ts).toBe(T0);
    expect((await events('w'))[0]!.ts).toBe(T0);
  });

  it('clamps a future timestamp to the time of receipt and defaults a missing one to it', async () => {
    await ok('/v1/track', { anonymousId: 'v', event: 'future', timestamp: iso(t.clock.now + 86_400_000) });
    await ok('/v1/track', { anonymousId: 'v', event: 'now' });
    expect((await events('v')).map((e) => e.ts)).toEqual([t.clock.now, t.clock.now]);
  });

  it('accepts originalTimestamp when timestamp is missing', async () => {
    await ok('/v1/track', { anonymousId: 'v', event: 'x', originalTimestamp: at(7) });
    expect((await events('v'))[0]!.ts).toBe(T0 + 7000);
  });

  it('does not store messages older than 31 days, and counts them', async () => {
    const json = await ok('/v1/batch', {
      batch: [
        { type: 'track', anonymousId: 'v', event: 'old', timestamp: iso(t.clock.now - 40 * 86_400_000) },
        { type: 'track', anonymousId: 'v', event: 'new', timestamp: at(1) },
      ],
    });
    expect(json).toEqual({ success: true, rejected: 1 });
    expect((await events('v')).map((e) => e.name)).toEqual(['new']);
  });
});

describe('refusals', () => {
  it.each([
    ['not JSON', '/v1/track', '{nope', undefined],
    ['an array body', '/v1/track', [], ''],
    ['track without event', '/v1/track', { anonymousId: 'v' }, 'event'],
    ['no userId nor anonymousId', '/v1/track', { event: 'x' }, 'userId'],
    ['a bad timestamp', '/v1/track', { anonymousId: 'v', event: 'x', timestamp: 'yesterday' }, 'timestamp'],
    ['a numeric timestamp', '/v1/track', { anonymousId: 'v', event: 'x', timestamp: 1700000000000 }, 'timestamp'],
    ['properties not an object', '/v1/track', { anonymousId: 'v', event: 'x', properties: [1] }, 'properties'],
    ['context not an object', '/v1/track', { anonymousId: 'v', event: 'x', context: 'web' }, 'context'],
    ['a userId that is an object', '/v1/identify', { userId: { id: 1 } }, 'userId'],
    ['a userId too long', '/v1/identify', { userId: 'u'.repeat(201) }, 'userId'],
    ['an event name too long', '/v1/track', { anonymousId: 'v', event: 'e'.repeat(121) }, 'event'],
    [
      'too many properties',
      '/v1/track',
      {
        anonymousId: 'v',
        event: 'x',
        properties: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`p${i}`, i])),
      },
      'properties',
    ],
    [
      'too many properties once flattened',
      '/v1/track',
      {
        anonymousId: 'v',
        event: 'x',
        properties: { a: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`p${i}`, i])) },
      },
      'properties',
    ],
    [
      'a property value too long',
      '/v1/track',
      { anonymousId: 'v', event: 'x', properties: { note: 'x'.repeat(1001) } },
      'properties.note',
    ],
    [
      'a flattened property too long',
      '/v1/identify',
      { userId: 'u', traits: { address: { street: 'x'.repeat(1001) } } },
      'traits.address.street',
    ],
    [
      'a page URL too long',
      '/v1/page',
      { anonymousId: 'v', properties: { url: `https://x.test/${'a'.repeat(2000)}` } },
      'properties.url',
    ],
    [
      'a context.page.url not a string',
      '/v1/track',
      { anonymousId: 'v', event: 'x', context: { page: { url: 5 } } },
      'context.page.url',
    ],
    [
      'a campaign field not a string',
      '/v1/track',
      { anonymousId: 'v', event: 'x', context: { campaign: { source: 5 } } },
      'context.campaign.source',
    ],
    ['a batch that is not an array', '/v1/batch', { batch: {} }, 'batch'],
    ['an empty batch', '/v1/batch', { batch: [] }, 'batch'],
    ['a batch message without type', '/v1/batch', { batch: [{ anonymousId: 'v', event: 'x' }] }, 'batch[0].type'],
    [
      'a batch message of an unknown type',
      '/v1/batch',
      { batch: [{ type: 'purchase', anonymousId: 'v' }] },
      'batch[0].type',
    ],
    [
      'a bad second batch message',
      '/v1/batch',
      {
        batch: [
          { type: 'track', anonymousId: 'v', event: 'ok' },
          { type: 'track', anonymousId: 'v' },
        ],
      },
      'batch[1].event',
    ],
    [
      'a bad property in a batch',
      '/v1/batch',
      { batch: [{ type: 'track', anonymousId: 'v', event: 'x', properties: { k: 'x'.repeat(1001) } }] },
      'batch[0].properties.k',
    ],
    [
      'a bad batch sentAt',
      '/v1/batch',
      { batch: [{ type: 'track', anonymousId: 'v', event: 'x' }], sentAt: 'soon' },
      'sentAt',
    ],
    [
      'more than 100 messages',
      '/v1/batch',
      { batch: Array.from({ length: 101 }, () => ({ type: 'track', anonymousId: 'v', event: 'x' })) },
      'batch',
    ],
  ])('refuses %s with 400 naming the field', async (_, path, body, field) => {
    const json = await refused(path, body);
    expect(json.path).toBe(field);
    expect(json.error).not.toMatch(/events\[0\]|props\b/);
  });

  it('stores nothing from a batch with one bad message', async () => {
    await refused('/v1/batch', {
      batch: [
        { type: 'track', anonymousId: 'v', event: 'a', timestamp: at(1) },
        { type: 'identify', userId: 'u', anonymousId: 'w', timestamp: at(2) },
        { type: 'track', anonymousId: 'v', timestamp: at(3) },
      ],
    });
    expect(await allEvents()).toEqual([]);
  });

  it('answers 413 for a single message over 32 KB, a batch message over 32 KB and a batch over 500 KB', async () => {
    const big = (n: number) => ({ anonymousId: 'v', event: 'x', properties: { pad: 'x'.repeat(n) } });
    expect((await refused('/v1/track', big(33 * 1024), 413)).error).toMatch(/larger than 32768 bytes/);
    expect((await refused('/v1/batch', { batch: [{ type: 'track', ...big(33 * 1024) }] }, 413)).path).toBe('batch[0]');
    const many = Array.from({ length: 20 }, () => ({ type: 'track', ...big(30 * 1024) }));
    expect((await refused('/v1/batch', { batch: many }, 413)).error).toMatch(/larger than 512000 bytes/);
    expect(await allEvents()).toEqual([]);
  });

  it('answers 404 for an unknown /v1 endpoint', async () => {
    const res = await send('/v1/purchase', { anonymousId: 'v' });
    expect(res.status).toBe(404);
  });
});

describe('write key authentication', () => {
  const msg = { anonymousId: 'v', event: 'x', timestamp: at(1) };

  it('accepts the key as Basic user name with an empty password (what Segment libraries send)', async () => {
    expect((await send('/v1/track', msg)).status).toBe(200);
  });

  it('accepts the key as writeKey in the body, on single calls and batches', async () => {
    expect((await send('/v1/track', { ...msg, writeKey: key }, {})).status).toBe(200);
    expect(
      (await send('/v1/batch', { batch: [{ type: 'track', ...msg, messageId: 'z' }], writeKey: key }, {})).status,
    ).toBe(200);
    expect(await events('v')).toHaveLength(2);
  });

  it('accepts the key as the password with an empty user name (curl -u :KEY)', async () => {
    expect((await send('/v1/track', msg, { Authorization: `Basic ${btoa(`:${key}`)}` })).status).toBe(200);
  });

  const unauthorized = async (headers: Record<string, string>, body: unknown = msg) => {
    const res = await send('/v1/track', body, headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('Content-Type')).toMatch(/json/);
    const json = (await res.json()) as { error: string; message: string };
    expect(json.message).toBe(json.error);
    return { res, error: json.error };
  };

  it('refuses a missing key with 401 saying how to send one', async () => {
    expect((await unauthorized({})).error).toMatch(/HTTP Basic user name/);
  });

  it('refuses an unknown key with 401 and a WWW-Authenticate challenge', async () => {
    const { res, error } = await unauthorized({ Authorization: basic('cjm_wk_wrong') });
    expect(error).toMatch(/unknown write key/);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Basic/);
    expect((await unauthorized({}, { ...msg, writeKey: 'cjm_wk_wrong' })).error).toMatch(/unknown write key/);
  });

  it('refuses a Bearer token or a malformed header', async () => {
    expect((await unauthorized({ Authorization: `Bearer ${key}` })).error).toMatch(/Basic/);
    expect((await unauthorized({ Authorization: 'Basic %%%' })).error).toMatch(/Basic/);
  });

  it('refuses a revoked key, in the header and in the body', async () => {
    const { key: k, writeKey } = await t.store.createWriteKey('demo', 'old');
    await t.store.revokeWriteKey('demo', writeKey.id);
    expect((await unauthorized({ Authorization: basic(k) })).error).toMatch(/revoked/);
    expect((await unauthorized({}, { ...msg, writeKey: k })).error).toMatch(/revoked/);
    expect(await events('v')).toEqual([]);
  });

  it('checks the key before the body: 401 even for an oversized or invalid body', async () => {
    const res = await send(
      '/v1/track',
      { anonymousId: 'v', event: 'x', properties: { pad: 'x'.repeat(40_000) } },
      { Authorization: basic('nope') },
    );
    expect(res.status).toBe(401);
    expect((await send('/v1/track', '{nope', { Authorization: basic('nope') })).status).toBe(401);
  });

  it('the /collect endpoint stays open and the admin token is not a write key', async () => {
    expect((await send('/v1/track', msg, { Authorization: 'Basic ' + btoa('test-admin-token:') })).status).toBe(401);
  });
});
