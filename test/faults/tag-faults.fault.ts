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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    const deadline = Date.now() + timeoutMs;
    let s = stored(tag);
    const complete = () => tracked.every((n) => s.tracked.has(n)) && views.every((v) => s.views.has(v));
    while (!complete() && Date.now() < deadline) {
      await sleep(500);
      s = stored(tag);
    }
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
    // Each fault in turn: events are tracked while it lasts, the tag meets it (the proxy sees a request in that
    // mode; a refused connection cannot be seen, so the outage simply lasts 5 s), then the collector recovers.
    for (const mode of ['drop-after', 'error500', 'slow', 'drop-before', 'down'] as FaultMode[]) {
      const before = proxy.seen.length;
      await proxy.setMode(mode);
      const phase: number[] = [];
      for (let i = 0; i < 4; i++) {
        const n = Number(`${tag}${String(++seq).padStart(3, '0')}`);
        phase.push(n);
        await track(page, n);
        await sleep(150);
      }
      tracked.push(...phase);
      if (mode === 'down') await sleep(5000);
      else {
        const deadline = Date.now() + 30_000;
        while (!proxy.seen.slice(before).some((r) => r.mode === mode) && Date.now() < deadline) await sleep(100);
        expect(proxy.seen.slice(before).some((r) => r.mode === mode)).toBe(true);
        await sleep(mode === 'slow' ? 3500 : 300);
      }
      await proxy.setMode('pass');
      const deadline = Date.now() + 90_000;
      while (!phase.every((n) => stored(tag).tracked.has(n)) && Date.now() < deadline) await sleep(250);
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
      await sleep(300);
      // Leaving the page while the collector fails: pagehide sends what is left.
      const next = `/after-${mode}?run=${tag}`;
      views.push(next);
      await open(page, next);
      await sleep(1500);
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
