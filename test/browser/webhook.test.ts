/**
 * Journey automation end to end, on a real collector (`start()` with a shortened timer) and a local receiver
 * (node:http on 127.0.0.1, port 0): a stall rule "cart, no purchase within 2 s" fires exactly one signed webhook,
 * whose signature verifies; a receiver that fails twice then succeeds gets the delivery exactly once more; a rule
 * targeting 127.0.0.1 is refused until the site allows private targets. Driven once through /collect (always) and
 * once by walking the demo shop to the cart in Chromium.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { verifySignature } from '../../collector/core/automation/sign';
import { start } from '../../collector/node';
import { waitFor } from '../helpers';
import { hasChromium, launch } from './chromium';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A webhook receiver: records every request; `answers[path]` is the list of statuses to answer, in turn (then 200). */
const receiver = async (answers: Record<string, number[]> = {}) => {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      got.push({ path, headers: req.headers, body, at: Date.now() });
      const status = answers[path]?.shift() ?? 200;
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, got, close: () => new Promise<void>((ok) => server.close(() => ok())) };
};

/** A browser's User-Agent: the collector drops what isbot recognizes (curl, node, HeadlessChrome) as bots. */
const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

const setup = async () => {
  const hooks = await receiver({ '/flaky': [500, 500] });
  /** Automation passes completed so far (the loop's onPass). */
  const passes = { done: 0 };
  const server = await start({
    port: 0,
    db: ':memory:',
    adminToken: 'hook-token-0123456789abcdef',
    automation: { intervalMs: 200, backoffBaseMs: 300, onPass: () => passes.done++ },
  });
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const stallRule = {
    name: 'Cart reminder',
    trigger: {
      type: 'stalled',
      stages: ['cart', 'checkout'],
      notReached: ['post-purchase'],
      after: '2s',
      emit: 'cart_abandoned',
    },
    action: { type: 'webhook', url: `${hooks.url}/cart` },
  };

  // Without the development allowance, a target on 127.0.0.1 is refused, naming the field and the fix.
  const refused = await api('/api/sites/demo/rules', { method: 'POST', body: JSON.stringify(stallRule) });
  expect(refused.status).toBe(400);
  expect(refused.body.path).toBe('action.url');
  expect(refused.body.error).toMatch(
    /webhook target 127\.0\.0\.1 is not a public address \(loopback\).*allowPrivateWebhooks/,
  );

  // The test site explicitly allows private targets.
  expect(
    (await api('/api/sites/demo/automation', { method: 'PUT', body: JSON.stringify({ allowPrivateWebhooks: true }) }))
      .status,
  ).toBe(200);
  const secret = (await api('/api/sites/demo/webhook-secret')).body.secret as string;
  const stall = await api('/api/sites/demo/rules', { method: 'POST', body: JSON.stringify(stallRule) });
  expect(stall.status).toBe(201);
  const flaky = await api('/api/sites/demo/rules', {
    method: 'POST',
    body: JSON.stringify({
      name: 'Cart entered',
      trigger: { type: 'stage_entered', stage: 'cart' },
      action: { type: 'webhook', url: `${hooks.url}/flaky` },
    }),
  });
  expect(flaky.status).toBe(201);
  return {
    hooks,
    server,
    api,
    secret,
    passes,
    stallId: stall.body.rule.id as string,
    flakyId: flaky.body.rule.id as string,
  };
};

/** Waits for the cart webhook, then checks it is the only one, signed, and about this visitor's abandoned cart. */
const expectOneSignedCartWebhook = async (ctx: Awaited<ReturnType<typeof setup>>, visitor?: string) => {
  const { hooks, api, secret, passes, stallId, flakyId } = ctx;
  await expect
    .poll(() => hooks.got.filter((r) => r.path === '/cart').length, { timeout: 20_000, interval: 100 })
    .toBe(1);
  await expect
    .poll(() => hooks.got.filter((r) => r.path === '/flaky').length, { timeout: 20_000, interval: 100 })
    .toBe(3);
  // Ten more passes (about 2 s at 200 ms, however slow the machine): nothing else arrives.
  const seen = passes.done;
  await waitFor(() => passes.done >= seen + 10, { timeoutMs: 30_000, what: 'ten more automation passes' });
  const cart = hooks.got.filter((r) => r.path === '/cart');
  expect(cart).toHaveLength(1);
  const [hook] = cart as [Received];
  expect(hook.headers['content-type']).toBe('application/json');
  expect(
    await verifySignature(
      secret,
      hook.headers['x-cjm-signature'] as string,
      hook.headers['x-cjm-timestamp'] as string,
      hook.body,
    ),
  ).toBe(true);
  expect(
    await verifySignature(
      secret,
      hook.headers['x-cjm-signature'] as string,
      hook.headers['x-cjm-timestamp'] as string,
      hook.body + ' ',
    ),
  ).toBe(false);
  const body = JSON.parse(hook.body);
  expect(hook.headers['idempotency-key']).toBe(body.deliveryId);
  expect(body.rule).toMatchObject({ id: stallId, name: 'Cart reminder' });
  expect(body.site).toBe('demo');
  if (visitor) expect(body.visitor.id).toBe(visitor);
  expect(body.journey.currentStage).toBe('cart');
  expect(body.events).toHaveLength(1);
  expect(body.events[0]).toMatchObject({ type: 'event', name: 'cart_abandoned', synthetic: true });

  // The synthetic event is in the visitor's timeline, once.
  const timeline = (await api(`/api/sites/demo/visitors/${body.visitor.id}`)).body.timeline as any[];
  expect(timeline.filter((e) => e.name === 'cart_abandoned' && e.synthetic)).toHaveLength(1);

  // The flaky receiver: 500, 500, then 200 — and nothing after; the same delivery every time.
  const flaky = hooks.got.filter((r) => r.path === '/flaky');
  expect(new Set(flaky.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  expect(new Set(flaky.map((r) => r.body)).size).toBe(1);
  expect(flaky.map((r) => r.headers['x-cjm-attempt'])).toEqual(['1', '2', '3']);
  for (const r of flaky) {
    expect(
      await verifySignature(
        secret,
        r.headers['x-cjm-signature'] as string,
        r.headers['x-cjm-timestamp'] as string,
        r.body,
      ),
    ).toBe(true);
  }
  const log = (await api(`/api/sites/demo/rules/${flakyId}/deliveries`)).body.deliveries as any[];
  expect(log).toHaveLength(1);
  expect(log[0]).toMatchObject({ status: 'delivered', attempts: 3, lastStatus: 200 });
  expect(log[0].log.map((a: any) => a.status)).toEqual([500, 500, 200]);
  const stallLog = (await api(`/api/sites/demo/rules/${stallId}/deliveries`)).body.deliveries as any[];
  expect(stallLog).toMatchObject([{ status: 'delivered', attempts: 1, lastStatus: 200 }]);
};

describe('webhooks end to end through /collect', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  afterEach(async () => {
    await ctx?.server.close();
    await ctx?.hooks.close();
  });

  it('a visitor stalls in the cart: one signed webhook; a flaky receiver gets its delivery exactly once more', async () => {
    ctx = await setup();
    const now = Date.now();
    const send = (events: unknown[]) =>
      fetch(`${ctx.server.url}/collect`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'User-Agent': BROWSER_UA },
        body: JSON.stringify({ site: 'demo', visitor: 'walker', sent: Date.now(), events }),
      });
    expect((await send([{ id: 'c1', type: 'page', ts: now, url: 'http://shop.test/demo/' }])).status).toBe(202);
    expect(
      (await send([{ id: 'c2', type: 'page', ts: now + 10, url: 'http://shop.test/demo/cart.html' }])).status,
    ).toBe(202);
    expect(
      (await send([{ id: 'c2', type: 'page', ts: now + 10, url: 'http://shop.test/demo/cart.html' }])).status,
    ).toBe(202); // a retry
    await expectOneSignedCartWebhook(ctx, 'walker');
  });
});

const chromium = hasChromium();

describe.skipIf(!chromium)('webhooks end to end in Chromium', () => {
  let browser: Browser;
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.server.close();
    await ctx?.hooks.close();
  });

  it('walks the demo shop to the cart and leaves: exactly one signed cart_abandoned webhook', async () => {
    ctx = await setup();
    // Headless Chromium says "HeadlessChrome", which the collector drops as a bot: present as the desktop browser.
    const probe = await browser.newPage();
    const userAgent = (await probe.evaluate(() => navigator.userAgent)).replace('HeadlessChrome', 'Chrome');
    await probe.close();
    const page = await browser.newPage({ userAgent });
    await page.goto(`${ctx.server.url}/demo/`);
    await page.click('#add-mug');
    await page.waitForURL(/cart\.html/);
    await page.close(); // the visitor leaves; pagehide flushes what is left
    let visitor: string | undefined;
    await expect
      .poll(
        async () => {
          const list = (await ctx.api('/api/sites/demo/visitors')).body.visitors as any[];
          visitor = list[0]?.visitor;
          return list.length === 1 ? list[0].currentStage : null;
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe('cart');
    await expectOneSignedCartWebhook(ctx, visitor);
  });
});
