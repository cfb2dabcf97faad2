/**
 * The tag's delivery guarantees, proven in real Chromium against a running collector (test/browser/fixtures/tag-harness.ts):
 * the page, the tag and /collect live on three origins, a proxy in front of /collect injects 5xx, delays and
 * outages, and every result is read back from the collector's store and counted by event name (the collector already
 * ignores a repeated id, so a name stored twice would mean the tag made a second event); the proxy's log of every
 * batch (fetch or beacon, ids, answer) shows how the events travelled.
 *
 *   - track an event and navigate away at once: it arrives, exactly once
 *   - offline, 20 events across two pages, back online: all 20 arrive exactly once, plus the page views
 *   - the collector answers 500, or is down (connection refused), then recovers: everything arrives exactly once
 *   - reload during a send: no duplicate stored and nothing lost
 *   - two tabs sharing one outbox: no duplicate, nothing lost
 *
 * The tag's batching delay is shortened with data-flush-interval; its backoff (1 s doubling, ×0.5–1.5) has no
 * option, so the tests wait for it with bounded polling: for what the collector stored, for what the proxy logged, and
 * for the sends that failed in the browser (connection refused, offline), which the proxy never sees.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium } from './chromium';
import { expectDelivered, failedSends, offline, tagReady, useTagBrowser, visitorOf } from './fixtures/tag-harness';

const run = hasChromium();

type Cjm = { track(name: string, props?: Record<string, string>): void; flush(): Promise<void> };
declare const cjm: Cjm;

const names = (prefix: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => `${prefix}${i + from}`);

describe.skipIf(!run)('the tag delivers every event exactly once (real Chromium)', () => {
  const t = useTagBrowser('data-flush-interval="200"');

  const open = async (path: string, context = t.ctx): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(t.h.origin + path);
    await tagReady(page);
    return page;
  };

  /** Tracks the given event names on the page, in one task. */
  const track = (page: Page, list: string[]) => page.evaluate((l) => l.forEach((n) => cjm.track(n)), list);

  const delivered = (visitor: string, expected: string[], paths: string[], timeout?: number) =>
    expectDelivered(t.h, t.ctx, visitor, expected, paths, timeout);

  /** Waits until `n` more sends have failed in the browser, counted by `failed` (see failedSends). */
  const moreFailures = async (failed: () => number, n: number, message: string) => {
    const from = failed();
    await expect.poll(() => failed() - from, { timeout: 10_000, message }).toBeGreaterThanOrEqual(n);
  };

  describe('track and navigate away at once', () => {
    // No batch is due before the page goes away (60 s batching delay), so only the leave flush can deliver.
    beforeEach(() => {
      t.h.spec.attrs = 'data-flush-interval="60000"';
    });

    it('cjm.track() then location.href in the same task: the event arrives once, by sendBeacon', async () => {
      const page = await open('/article');
      const visitor = await visitorOf(page);
      // The next page has no tag: only what the leaving page sent can arrive.
      await page.evaluate((to) => {
        cjm.track('leaving');
        location.href = to;
      }, `${t.h.origin}/notag/elsewhere`);
      await page.waitForURL('**/notag/elsewhere');
      await delivered(visitor, ['leaving'], ['/article']);
      expect(
        t.h.log.some((s) => s.beacon && s.names.includes('leaving')),
        'sent by sendBeacon on pagehide',
      ).toBe(true);
    });

    it('a click on a link with data-cjm-event (data-markup): the event (with its data-cjm-prop-*) arrives once, the navigation is not held', async () => {
      // The markup chunk, injected by the tag, has run once the page has loaded (open waits for the load event).
      t.h.spec.attrs += ' data-markup';
      t.h.spec.bodies['/pricing'] =
        `<a id="go" href="/notag/signup" data-cjm-event="cta_click" data-cjm-prop-plan="pro">Start</a>`;
      const page = await open('/pricing');
      const visitor = await visitorOf(page);
      await Promise.all([page.waitForURL('**/notag/signup'), page.click('#go')]);
      const stored = await delivered(visitor, ['cta_click'], ['/pricing']);
      expect(stored.find((e) => e.name === 'cta_click')?.props).toEqual({ plan: 'pro' });
      expect(
        t.h.log.some((s) => s.beacon && s.names.includes('cta_click')),
        'sent by sendBeacon on pagehide',
      ).toBe(true);
    });
  });

  it('offline: 20 events across two pages, back online: all 20 arrive exactly once, plus both page views', async () => {
    const page = await open('/cached/shop');
    const visitor = await visitorOf(page);
    await page.evaluate(() => fetch('/cached/cart')); // in the HTTP cache: the next page loads offline
    await expect.poll(async () => (await t.h.stored(visitor)).length, { message: 'first page view' }).toBe(1);

    const failed = failedSends(t.ctx, t.h.api);
    const online = await offline(t.h, t.ctx);
    expect(await page.evaluate(() => navigator.onLine)).toBe(false);
    await track(page, names('off', 10));
    await moreFailures(failed, 1, 'a send fails meanwhile');
    await page.evaluate(() => (location.href = '/cached/cart')); // pagehide while offline
    await page.waitForURL('**/cached/cart');
    await tagReady(page);
    await track(page, names('off', 10, 10));
    await moreFailures(failed, 2, 'the next page: its first send and first retry fail');
    expect((await t.h.stored(visitor)).length, 'nothing can arrive while offline').toBe(1);

    await online(); // `online` event: the outbox is flushed
    await delivered(visitor, names('off', 20), ['/cached/shop', '/cached/cart']);
  });

  describe('the collector fails for a while, then recovers', () => {
    it('three answers of 500: retried with backoff, everything arrives exactly once', async () => {
      t.h.faults.fail = 3;
      t.h.faults.failStatus = 500;
      const page = await open('/a');
      const visitor = await visitorOf(page);
      await track(page, names('five', 5));
      await delivered(visitor, names('five', 5), ['/a'], 18_000);
      expect(t.h.faults.fail, 'all three injected failures were hit').toBe(0);
      expect(t.h.log.filter((s) => s.status === 500).length).toBe(3);
    });

    it('429 with Retry-After: 3: the next attempt waits 3 s (not the 0.5–1.5 s backoff)', async () => {
      t.h.faults.fail = 1;
      t.h.faults.failStatus = 429;
      t.h.faults.retryAfter = 3;
      const page = await open('/a');
      const visitor = await visitorOf(page);
      await delivered(visitor, [], ['/a'], 10_000);
      const [refused, accepted] = t.h.log;
      expect(refused?.status).toBe(429);
      expect(accepted?.ids).toEqual(refused?.ids); // same ids on the retry
      expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(2_900);
    });

    it('down (connection refused) on one page, then up: everything arrives exactly once', async () => {
      const page = await open('/a');
      const visitor = await visitorOf(page);
      await expect.poll(async () => (await t.h.stored(visitor)).length).toBe(1);
      const failed = failedSends(page, t.h.api);
      await t.h.down();
      await track(page, names('down', 5));
      await moreFailures(failed, 2, 'the first attempts are refused');
      expect(t.h.log.length).toBe(1);
      await t.h.up();
      await delivered(visitor, names('down', 5), ['/a'], 18_000);
    });

    it('down while the visitor moves to another page, then up: everything arrives exactly once', async () => {
      const page = await open('/a');
      const visitor = await visitorOf(page);
      await expect.poll(async () => (await t.h.stored(visitor)).length).toBe(1);
      const failed = failedSends(page, t.h.api);
      await t.h.down();
      await track(page, names('moving', 5));
      await moreFailures(failed, 1, 'a send is refused on the first page');
      await page.goto(`${t.h.origin}/b`); // pagehide while the collector is down
      await tagReady(page);
      await track(page, names('moving', 5, 5));
      await moreFailures(failed, 1, 'a send is refused on the second page');
      await t.h.up();
      await delivered(visitor, names('moving', 10), ['/a', '/b'], 18_000);
    });
  });

  it('reload while a send is in flight: no duplicate stored, nothing lost', async () => {
    const page = await open('/a');
    const visitor = await visitorOf(page);
    await expect.poll(async () => (await t.h.stored(visitor)).length).toBe(1);
    const inflight = names('inflight', 5);
    let release!: () => void;
    t.h.faults.match = (s) => s.names.includes('inflight0');
    t.h.faults.hold = new Promise((r) => (release = r)); // the answer comes after the reload
    await track(page, inflight);
    await expect
      .poll(() => t.h.log.some((s) => s.names.includes('inflight0')), { message: 'the send started' })
      .toBe(true);
    await page.reload(); // pagehide flushes by beacon: what is in flight must not go again
    await tagReady(page);
    release();
    await track(page, ['after']);
    await delivered(visitor, [...inflight, 'after'], ['/a', '/a']);
    // On the wire the in-flight events may go twice (Chromium rejects the page's pending fetch when it unloads, so
    // the pagehide beacon sends them again while the keepalive request still completes); the collector keeps one.
  });

  it('reload while a send is in flight, which fails, and so does the pagehide beacon: the next page sends them', async () => {
    t.h.spec.attrs = ''; // the tag's own batching delay (1 s)
    const page = await open('/a');
    const visitor = await visitorOf(page);
    await expect.poll(async () => (await t.h.stored(visitor)).length).toBe(1);
    let release!: () => void;
    t.h.faults.match = (s) => s.names.includes('lost0');
    t.h.faults.hold = new Promise((r) => (release = r));
    // The in-flight send is answered 500 after the reload (no page is left to read the answer), and so is the beacon
    // the leaving page may send them with: only the outbox persisted in localStorage can bring them to the collector.
    t.h.faults.fail = 2;
    await track(page, names('lost', 5));
    await expect
      .poll(() => t.h.log.some((s) => s.names.includes('lost0')), { timeout: 5_000, message: 'the send started' })
      .toBe(true);
    await page.reload();
    await tagReady(page);
    release();
    await expect.poll(() => t.h.faults.fail, { timeout: 6_000, message: 'both injected 500s answered' }).toBe(0);
    await delivered(visitor, names('lost', 5), ['/a', '/a'], 18_000);
  });

  it('two tabs sharing one outbox, tracking concurrently, one going offline and back: no duplicate, nothing lost', async () => {
    const a = await open('/tab-a');
    const b = await open('/tab-b');
    const visitor = await visitorOf(a);
    expect(await visitorOf(b)).toBe(visitor); // one visitor, one outbox
    await Promise.all([track(a, names('a', 15)), track(b, names('b', 15))]);
    await Promise.all([track(a, names('a', 15, 15)), track(b, names('b', 15, 15))]);
    await delivered(visitor, [...names('a', 30), ...names('b', 30)], ['/tab-a', '/tab-b']);
    // Not asserted on the wire: both tabs may send the same event (localStorage has no transactions, so the lease
    // can race); the collector keeps one, and `delivered` checks each event is stored once.

    // Tab B alone goes offline (network emulation on its page only); both keep tracking; B comes back.
    const cdp = await t.ctx.newCDPSession(b);
    const net = (offline: boolean) =>
      cdp.send('Network.emulateNetworkConditions', {
        offline,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
    await cdp.send('Network.enable');
    const failedInB = failedSends(b, t.h.api);
    await net(true);
    await Promise.all([track(a, names('c', 10)), track(b, names('d', 10))]);
    await moreFailures(failedInB, 1, 'a send of tab B fails');
    await Promise.all([track(a, names('c', 10, 10)), track(b, names('d', 10, 10))]);
    await net(false);
    await delivered(
      visitor,
      [...names('a', 30), ...names('b', 30), ...names('c', 20), ...names('d', 20)],
      ['/tab-a', '/tab-b'],
      18_000,
    );
  });
});
