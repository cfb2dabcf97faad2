/**
 * The tag (dist/cjm.js) in real Chromium against a collector behind a fault-injecting proxy: connections dropped
 * before and after the collector committed, 500s, slow answers, the collector down for a while; then recovery.
 * Every event tracked must be stored exactly once: each tracked event carries a unique `n` property and each page
 * view a unique URL, so a lost event or one stored twice (under two ids) shows; ids are unique by the primary key.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../bench/lib/collector-process';
import { start, type Running } from '../../collector/node';
import { hasChromium, launch } from '../browser/chromium';
import { startFaultProxy, type FaultMode, type FaultProxy } from './fault-proxy';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const run = hasChromium();

describe.skipIf(!run)('the tag in Chromium against a failing collector', () => {
  let browser: Browser;
  let collector: Running;
  let proxy: FaultProxy;
  let pages: Server;
  let origin: string;
  let context: BrowserContext;

  beforeAll(async () => {
    collector = await start({ port: 0, db: ':memory:', adminToken: 'fault-token-0123456789abcdef', automation: false });
    proxy = await startFaultProxy(collector.url.replace('localhost', '127.0.0.1'));
    const tag = readFileSync(join(ROOT, 'dist', 'cjm.js'));
    // The shop's pages, on their own origin; the tag's endpoint (data-api) is the proxy.
    pages = createServer((req, res) => {
      if (req.url === '/cjm.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(tag);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><html><head><meta charset="utf-8">
<title>fault test</title><script async src="/cjm.js" data-site="demo" data-api="${proxy.url}/collect"></script></head>
<body><h1>${req.url}</h1><a id="next" href="/next">next</a></body></html>`);
    });
    await new Promise<void>((ok) => pages.listen(0, '127.0.0.1', ok));
    origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await new Promise<void>((ok) => (pages ? pages.close(() => ok()) : ok()));
    await collector?.close();
  });
  beforeEach(async () => {
    await proxy.setMode('pass');
    context = await browser.newContext({ userAgent: UA });
  });

  let seq = 0;
  const open = async (page: Page, path: string) => {
    await page.goto(`${origin}${path}`);
    await page.waitForFunction(() => typeof (window as { cjm?: { track?: unknown } }).cjm?.track === 'function');
  };
  /** Sends of the page that failed in the browser: what a proxy that is down (connection refused) cannot log. */
  const failedSends = (page: Page) => {
    let n = 0;
    page.on('requestfailed', (r) => {
      if (r.url().startsWith(proxy.url)) n++;
    });
    return () => n;
  };
  /** Requests the proxy saw since `from` (an index into its log), in `mode`. */
  const seenIn = (mode: FaultMode, from: number) => proxy.seen.slice(from).filter((r) => r.mode === mode);
  /** Waits until the tag has met `mode` since `from`: `attempts` requests seen (failures in the browser when down). */
  const met = async (mode: FaultMode, from: number, failed: () => number, attempts: number) =>
    mode === 'down'
      ? expect.poll(failed, { timeout: 30_000, message: 'sends refused while down' }).toBeGreaterThanOrEqual(attempts)
      : expect
          .poll(() => seenIn(mode, from).length, { timeout: 30_000, message: `requests seen in ${mode}` })
          .toBeGreaterThanOrEqual(attempts);

  const track = (page: Page, n: number) =>
    page.evaluate(
      (n) =>
        (window as unknown as { cjm: { track: (name: string, p: object) => void } }).cjm.track('fault_test', { n }),
      n,
    );

  /** Stored events of the run `tag`: tracked `n` values and page-view paths, with how often each is stored. */
  const stored = (tag: string) => {
    const rows = collector.db.prepare("SELECT type, url, props FROM events WHERE site = 'demo'").all() as {
      type: string;
      url: string | null;
      props: string | null;
    }[];
    const tracked = new Map<number, number>();
    const views = new Map<string, number>();
    for (const r of rows) {
      if (r.type === 'event' && r.props) {
        const p = JSON.parse(r.props) as { n?: number; run?: string };
        if (typeof p.n === 'number' && String(p.n).startsWith(tag)) tracked.set(p.n, (tracked.get(p.n) ?? 0) + 1);
      }
      if (r.type === 'page' && r.url?.includes(`run=${tag}`)) {
        const u = new URL(r.url);
        views.set(u.pathname + u.search, (views.get(u.pathname + u.search) ?? 0) + 1);
      }
    }
    return { tracked, views };
  };

  const expectExactlyOnce = async (tag: string, tracked: number[], views: string[], timeoutMs = 120_000) => {
    let s = stored(tag);
    const complete = () => tracked.every((n) => s.tracked.has(n)) && views.every((v) => s.views.has(v));
    // Until everything is stored (or the time is up: the report below then says what is missing).
    await expect
      .poll(() => ((s = stored(tag)), complete()), { timeout: timeoutMs, interval: 500 })
      .toBe(true)
      .catch(() => {});
    const missing = tracked.filter((n) => !s.tracked.has(n));
    const missingViews = views.filter((v) => !s.views.has(v));
    const twice = [...s.tracked].filter(([, c]) => c > 1).map(([n]) => n);
    const viewsTwice = [...s.views].filter(([, c]) => c > 1).map(([v]) => v);
    const byMode = new Map<FaultMode, number>();
    for (const r of proxy.seen) byMode.set(r.mode, (byMode.get(r.mode) ?? 0) + 1);
    const duplicates = proxy.seen.reduce((a, r) => a + (r.answer?.duplicates ?? 0), 0);
    console.log(
      `[tag faults ${tag}] ${tracked.length} events and ${views.length} page views tracked; stored ${s.tracked.size} + ${s.views.size}; ` +
        `missing ${missing.length + missingViews.length}, stored twice ${twice.length + viewsTwice.length}; requests seen by the proxy: ` +
        `${[...byMode].map(([m, c]) => `${m} ${c}`).join(', ')}; duplicates the collector ignored: ${duplicates}`,
    );
    expect({ missing, missingViews, twice, viewsTwice }).toEqual({
      missing: [],
      missingViews: [],
      twice: [],
      viewsTwice: [],
    });
  };

  it('delivers every event exactly once through drops, 500s, slow answers and an outage (one page)', async () => {
    const tag = `1${Date.now() % 1e6}`;
    const page = await context.newPage();
    const views = [`/one?run=${tag}`];
    await open(page, views[0]!);
    const tracked: number[] = [];
    const failed = failedSends(page);
    // Each fault in turn: events are tracked while it lasts, the tag meets it (twice for a failure, a send and its
    // retry: requests the proxy sees in that mode, or sends refused in the browser while it is down; once when slow:
    // a send held until the mode changes), then the collector recovers.
    for (const mode of ['drop-after', 'error500', 'slow', 'drop-before', 'down'] as FaultMode[]) {
      const before = proxy.seen.length;
      const failedBefore = failed();
      await proxy.setMode(mode);
      const phase: number[] = [];
      for (let i = 0; i < 4; i++) {
        const n = Number(`${tag}${String(++seq).padStart(3, '0')}`);
        phase.push(n);
        await track(page, n);
      }
      tracked.push(...phase);
      // A slow collector holds the tag's send (the proxy keeps it until the mode changes): the tag waits for it.
      if (mode === 'slow')
        await expect
          .poll(() => proxy.held(), { timeout: 30_000, message: 'a send held by the slow collector' })
          .toBeGreaterThanOrEqual(1);
      else await met(mode, before, () => failed() - failedBefore, 2);
      await proxy.setMode('pass');
      if (mode === 'slow')
        await expect
          .poll(() => seenIn('slow', before).some((r) => r.status != null), { message: 'the slow answer came' })
          .toBe(true);
      // Until this phase is stored (or the time is up: expectExactlyOnce then reports what is missing).
      await expect
        .poll(() => phase.every((n) => stored(tag).tracked.has(n)), { timeout: 90_000, interval: 250 })
        .toBe(true)
        .catch(() => {});
    }
    await expectExactlyOnce(tag, tracked, views);
    await context.close();
  }, 300_000);

  it('delivers every event exactly once when pages are left while the collector fails', async () => {
    const tag = `2${Date.now() % 1e6}`;
    const page = await context.newPage();
    const tracked: number[] = [];
    const views: string[] = [];
    const phases: FaultMode[] = ['down', 'error500', 'drop-after', 'drop-before', 'slow'];
    const failed = failedSends(page);
    for (const mode of phases) {
      const path = `/page-${mode}?run=${tag}`;
      views.push(path);
      await open(page, path);
      await proxy.setMode(mode);
      for (let i = 0; i < 3; i++) {
        const n = Number(`${tag}${String(++seq).padStart(3, '0')}`);
        tracked.push(n);
        await track(page, n);
      }
      // Leaving the page while the collector fails: pagehide sends what is left.
      const next = `/after-${mode}?run=${tag}`;
      views.push(next);
      const before = proxy.seen.length;
      const failedBefore = failed();
      await open(page, next);
      // The next page's first send (what the last one left, and its own page view) meets the failure too.
      await met(mode, before, () => failed() - failedBefore, 1);
      await proxy.setMode('pass');
    }
    // Back to normal: one more page load, as a returning visitor would do.
    const last = `/back?run=${tag}`;
    views.push(last);
    await open(page, last);
    await expectExactlyOnce(tag, tracked, views);
    await context.close();
  }, 300_000);
});
