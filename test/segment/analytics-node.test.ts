/**
 * Integration: the real @segment/analytics-node client pointed at a collector started in the test (Node + SQLite).
 * The browser part of the journey goes through /collect with the tag's visitor id; the server part through the
 * client (identify + track + page); the visitor's timeline then holds both, merged, in time order.
 */
import { gzipSync } from 'node:zlib';
import { Analytics, type HTTPClient, type HTTPClientRequest } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEvent, WriteKey } from '../../collector/core/store';
import { start, type Running } from '../../collector/node';

/** The browser part must look like a browser (/collect drops bots by User-Agent). */
const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let c: Running;
let base: string;
beforeAll(async () => {
  c = await start({ port: 0, db: ':memory:' });
  base = `http://127.0.0.1:${c.port}`;
});
afterAll(async () => {
  await c?.close();
});

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${c.token}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
  });

const newKey = async (name: string) => {
  const res = await admin('/api/sites/demo/keys', { method: 'POST', body: JSON.stringify({ name }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { key: string; writeKey: WriteKey };
};

/** A client that sends everything at once and records each HTTP status it gets. */
const client = (writeKey: string) => {
  const analytics = new Analytics({ writeKey, host: base, flushAt: 20, flushInterval: 60_000, maxRetries: 0 });
  const statuses: number[] = [];
  const errors: unknown[] = [];
  analytics.on('http_response', (r) => statuses.push(r.status));
  analytics.on('error', (e) => errors.push(e));
  return { analytics, statuses, errors };
};

describe('@segment/analytics-node against the collector', () => {
  it('sends identify + track + page that join the browser journey in one timeline, in order', async () => {
    const now = Date.now();
    const min = 60_000;
    const visitor = crypto.randomUUID(); // what cjm.visitorId() returns in the browser
    // The browser: two page views, then cjm.identify('u-42').
    const collect = await fetch(`${base}/collect`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': BROWSER_UA },
      body: JSON.stringify({
        site: 'demo',
        visitor,
        sent: now,
        events: [
          {
            id: `${visitor}-1`,
            type: 'page',
            ts: now - 10 * min,
            url: 'https://shop.test/?utm_source=google&utm_medium=cpc',
          },
          { id: `${visitor}-2`, type: 'page', ts: now - 9 * min, url: 'https://shop.test/checkout' },
          { id: `${visitor}-3`, type: 'identify', ts: now - 8 * min, userId: 'u-42' },
        ],
      }),
    });
    expect(collect.status).toBe(202);

    // The back end, with the official client.
    const { key } = await newKey('backend');
    const { analytics, statuses, errors } = client(key);
    const acked: Array<string | undefined> = [];
    const cb = (err?: unknown) => acked.push(err === undefined ? undefined : String(err));
    analytics.identify(
      { userId: 'u-42', traits: { plan: 'pro', address: { city: 'Tallinn' } }, timestamp: new Date(now - 7 * min) },
      cb,
    );
    analytics.track(
      {
        userId: 'u-42',
        event: 'order_completed',
        properties: { revenue: 99.5, currency: 'EUR', products: [{ sku: 'a' }] },
        timestamp: new Date(now - 5 * min),
      },
      cb,
    );
    analytics.page(
      {
        anonymousId: visitor,
        name: 'Receipt',
        properties: { url: 'https://shop.test/thank-you' },
        timestamp: new Date(now - 4 * min),
      },
      cb,
    );
    analytics.track(
      {
        userId: 'u-42',
        event: 'Review Request Opened',
        context: { channel: 'email' },
        timestamp: new Date(now - 2 * min),
      },
      cb,
    );
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);
    expect(statuses).toEqual([200]);
    expect(acked).toEqual([undefined, undefined, undefined, undefined]);

    const res = await admin(`/api/sites/demo/visitors/${visitor}`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as {
      visitor: { journey: string; userId: string; visitors: string[] };
      journey: { currentStage: string; converted: unknown; firstChannel: string };
      timeline: TimelineEvent[];
    };
    expect(view.visitor.journey).toBe('u:u-42');
    expect(view.visitor.visitors).toContain(visitor);
    expect(view.visitor.visitors.find((v) => v.startsWith('srv:'))).toBeDefined();
    const real = view.timeline.filter((e) => !e.synthetic);
    // Browser events keep the tag's ids; server events have `seg:` ids. The page the back end sent with
    // anonymousId = the tag's visitor id is stored under that visitor.
    const origin = (e: TimelineEvent) =>
      (e.id.startsWith('seg') ? 'server' : 'browser') + (e.visitor === visitor ? '@tag-visitor' : '');
    expect(real.map((e) => [origin(e), e.type, e.name ?? e.url ?? e.userId])).toEqual([
      ['browser@tag-visitor', 'page', 'https://shop.test/?utm_source=google&utm_medium=cpc'],
      ['browser@tag-visitor', 'page', 'https://shop.test/checkout'],
      ['browser@tag-visitor', 'identify', 'u-42'],
      ['server', 'identify', 'u-42'],
      ['server', 'event', 'order_completed'],
      ['server@tag-visitor', 'page', 'https://shop.test/thank-you'],
      ['server', 'event', 'Review Request Opened'],
    ]);
    const ts = view.timeline.map((e) => e.ts);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    // The ids came from analytics-node's messageIds; the mapping kept what cjm uses.
    const order = real.find((e) => e.name === 'order_completed')!;
    expect(order.id).toMatch(/^seg:node-next-\d+-[0-9a-f-]{36}$/);
    expect(order).toMatchObject({ value: 99.5, props: { revenue: 99.5, currency: 'EUR' } });
    expect(real.find((e) => e.type === 'identify' && e.visitor !== visitor)!.props).toEqual({
      plan: 'pro',
      'address.city': 'Tallinn',
    });
    expect(real.find((e) => e.name === 'Review Request Opened')!.channel).toBe('email');
    expect(view.journey.firstChannel).toBe('paid_search');
    expect(view.journey.currentStage).toBe('post-purchase');
    expect(view.journey.converted).not.toBeNull();

    // A retry of the same batch (same messageIds) changes nothing.
    const before = view.timeline.length;
    const { analytics: again } = client(key);
    const messageId = order.id.slice('seg:'.length);
    again.track({
      userId: 'u-42',
      event: 'order_completed',
      properties: { revenue: 99.5 },
      messageId,
      timestamp: new Date(now - 5 * min),
    });
    await again.closeAndFlush({ timeout: 20_000 });
    const after = (await (await admin(`/api/sites/demo/visitors/${visitor}`)).json()) as { timeline: TimelineEvent[] };
    expect(after.timeline).toHaveLength(before);
  });

  it('delivers through /v1/batch from a client that gzips its bodies, and a gzip bomb is refused', async () => {
    // analytics-node 3.1 has no compression option; its httpClient hook is where a deployment (and the Segment
    // libraries that gzip, e.g. analytics-python's gzip=True) compresses the JSON it would send.
    const sent: Array<{ encoding: string | undefined; bytes: number; plain: number }> = [];
    const gzipping: HTTPClient = {
      makeRequest: async (req: HTTPClientRequest) => {
        const body = gzipSync(req.body);
        sent.push({ encoding: 'gzip', bytes: body.length, plain: Buffer.byteLength(req.body) });
        return fetch(req.url, {
          method: req.method,
          headers: { ...req.headers, 'Content-Encoding': 'gzip' },
          body,
        });
      },
    };
    const { key } = await newKey('gzip backend');
    const analytics = new Analytics({
      writeKey: key,
      host: base,
      flushAt: 30,
      flushInterval: 60_000,
      maxRetries: 0,
      httpClient: gzipping,
    });
    const statuses: number[] = [];
    const errors: unknown[] = [];
    analytics.on('http_response', (r) => statuses.push(r.status));
    analytics.on('error', (e) => errors.push(e));
    const anonymousId = crypto.randomUUID();
    for (let i = 0; i < 25; i++)
      analytics.track({ anonymousId, event: 'viewed_item', properties: { sku: `sku-${i}`, note: 'x'.repeat(200) } });
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);
    expect(statuses).toEqual([200]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.bytes).toBeLessThan(sent[0]!.plain / 4);
    const view = (await (await admin(`/api/sites/demo/visitors/${anonymousId}`)).json()) as {
      timeline: TimelineEvent[];
    };
    expect(view.timeline.filter((e) => e.name === 'viewed_item')).toHaveLength(25);

    // 400 MB of zeros in 40 gzip members, 400 KB on the wire (under the batch limit, so it is read): refused once
    // 500 KB of it are decompressed, nothing stored.
    const member = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 40 }, () => member));
    expect(bomb.length).toBeLessThan(500 * 1024);
    const rss = process.memoryUsage().rss;
    const refused = await fetch(`${base}/v1/batch`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Content-Encoding': 'gzip',
        Authorization: `Basic ${btoa(`${key}:`)}`,
      },
      body: bomb,
    });
    expect(refused.status).toBe(413);
    expect(refused.headers.get('connection')).toBe('close');
    expect(((await refused.json()) as { success: boolean }).success).toBe(false);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a bad key and a revoked key with 401, and stores nothing', async () => {
    const count = async () => {
      const { visitors } = (await (await admin('/api/sites/demo/visitors?limit=500')).json()) as {
        visitors: unknown[];
      };
      return visitors.length;
    };
    const initial = await count();

    const bad = client('cjm_wk_not-a-key');
    let badErr: unknown;
    bad.analytics.track({ anonymousId: 'v-bad', event: 'x' }, (err) => (badErr = err));
    await bad.analytics.closeAndFlush({ timeout: 20_000 });
    expect(bad.statuses).toEqual([401]);
    expect(String(badErr)).toMatch(/401/);

    const { key, writeKey } = await newKey('to revoke');
    const del = await admin(`/api/sites/demo/keys/${writeKey.id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const revoked = client(key);
    revoked.analytics.track({ anonymousId: 'v-revoked', event: 'x' });
    await revoked.analytics.closeAndFlush({ timeout: 20_000 });
    expect(revoked.statuses).toEqual([401]);
    expect(revoked.errors).toHaveLength(1);

    expect(await count()).toBe(initial);
    const keys = (await (await admin('/api/sites/demo/keys')).json()) as { keys: WriteKey[] };
    expect(keys.keys.find((k) => k.id === writeKey.id)?.revokedAt).toEqual(expect.any(Number));
  });
});
