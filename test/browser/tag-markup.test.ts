/**
 * The markup chunk (dist/cjm.markup.js) in real Chromium, against the tag harness (test/browser/fixtures/tag-harness.ts):
 * loaded only with data-markup, from the tag's folder; clicks on data-cjm-event and data-cjm-stage (also after a
 * single-page-app route change) arrive through the tag; what a click does while the chunk is still loading; and the
 * chunk loaded by the page itself beside the tag, running first.
 */
import { describe, expect, it } from 'vitest';
import type { Page, Route } from 'playwright-core';
import { hasChromium } from './chromium';
import { expectDelivered, tagReady, useTagBrowser, visitorOf } from './fixtures/tag-harness';

const run = hasChromium();

type Cjm = ((...args: unknown[]) => void) & { track(name: string): void; q?: unknown[] };
declare const cjm: Cjm;

const SHOP = `<main data-cjm-stage="product"><button id="buy" data-cjm-event="add_to_cart" data-cjm-prop-sku="mug">Buy</button></main>`;

/** Holds every request matching `url` until `release()` (then lets it through). */
const hold = async (page: Page, url: string) => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let requested = 0;
  await page.route(url, async (route: Route) => {
    requested++;
    await released;
    await route.continue();
  });
  return { release, requested: () => requested };
};

describe.skipIf(!run)('the markup chunk (real Chromium)', () => {
  const t = useTagBrowser('data-flush-interval="100"');

  /**
   * The visitor's stored events as `name`, `stage:<stage>` or `page:<path>`, sorted: events made in the same
   * millisecond (a page view and the stage its markup names) are stored in the order of their random ids. The order
   * the chunk makes them in is test/sdk/'s.
   */
  const stored = async (visitor: string) =>
    (await t.h.stored(visitor))
      .map((e) =>
        e.type === 'page' ? `page:${new URL(e.url!).pathname}` : e.type === 'stage' ? `stage:${e.stage}` : e.name,
      )
      .sort();
  const sorted = (xs: string[]) => [...xs].sort();

  /** Chunk requests made by the context, by URL. */
  const chunkRequests = () => {
    const urls: string[] = [];
    t.ctx.on('request', (r) => {
      if (r.url().endsWith('/cjm.markup.js')) urls.push(r.url());
    });
    return urls;
  };

  it('data-markup: the chunk comes once from the tag’s folder; a click and the stages from markup arrive, also after a route change', async () => {
    t.h.spec.attrs += ' data-markup';
    t.h.spec.bodies['/shop'] = SHOP;
    const requests = chunkRequests();
    const page = await t.ctx.newPage();
    await page.goto(t.h.origin + '/shop'); // waits for the load event, which waits for the chunk
    const visitor = await visitorOf(page);
    await page.click('#buy');
    await page.evaluate(() => {
      document.querySelector('main')!.outerHTML = '<main data-cjm-stage="cart"><h1>Cart</h1></main>';
      history.pushState(null, '', '/shop/cart');
    });
    const events = await expectDelivered(t.h, t.ctx, visitor, ['add_to_cart'], ['/shop', '/shop/cart']);
    expect(events.find((e) => e.name === 'add_to_cart')?.props).toEqual({ sku: 'mug' });
    await expect
      .poll(() => stored(visitor))
      .toEqual(sorted(['page:/shop', 'stage:product', 'add_to_cart', 'page:/shop/cart', 'stage:cart']));
    expect(requests).toEqual([`${t.h.collector.url}/cjm.markup.js`]);
  });

  it('without data-markup: the chunk is never requested, and neither the click nor the markup stage is sent', async () => {
    t.h.spec.bodies['/shop'] = SHOP;
    const requests = chunkRequests();
    const page = await t.ctx.newPage();
    await page.goto(t.h.origin + '/shop');
    await tagReady(page);
    const visitor = await visitorOf(page);
    await page.click('#buy');
    await page.evaluate(() => cjm.track('after_click'));
    // Everything the page made before `after_click` is stored once `after_click` is (one outbox, in order).
    await expectDelivered(t.h, t.ctx, visitor, ['after_click'], ['/shop']);
    expect(await stored(visitor)).toEqual(sorted(['page:/shop', 'after_click']));
    expect(requests).toEqual([]);
  });

  it('while the chunk is loading the page has not finished loading, and a click then is not tracked; once it ran, clicks are', async () => {
    t.h.spec.attrs += ' data-markup';
    t.h.spec.bodies['/shop'] = SHOP;
    const page = await t.ctx.newPage();
    const chunk = await hold(page, '**/cjm.markup.js');
    await page.goto(t.h.origin + '/shop', { waitUntil: 'domcontentloaded' });
    await tagReady(page);
    await expect.poll(chunk.requested, { message: 'the tag asked for the chunk' }).toBe(1);
    // The chunk was inserted while the document was loading, so it holds the load event until it has run.
    expect(await page.evaluate(() => document.readyState)).not.toBe('complete');
    const visitor = await visitorOf(page);
    await page.click('#buy'); // before the chunk: no listener yet
    chunk.release();
    await page.waitForFunction(() => document.readyState === 'complete');
    await page.click('#buy');
    await page.evaluate(() => cjm.track('after_clicks'));
    await expectDelivered(t.h, t.ctx, visitor, ['add_to_cart', 'after_clicks'], ['/shop']);
    expect(await stored(visitor)).toEqual(sorted(['page:/shop', 'stage:product', 'add_to_cart', 'after_clicks']));
  });

  it('loaded by the page beside the tag and running first: its stage and a click wait in the stub queue for the tag', async () => {
    t.h.spec.bodies['/shop'] = SHOP;
    // No data-markup: the page loads the chunk itself, at once (both download in parallel).
    t.h.spec.head = `document.head.appendChild(document.createElement('script')).src = ${JSON.stringify(
      `${t.h.collector.url}/cjm.markup.js`,
    )};`;
    const page = await t.ctx.newPage();
    const tag = await hold(page, '**/cjm.js');
    await page.goto(t.h.origin + '/shop', { waitUntil: 'domcontentloaded' });
    // The chunk ran without the tag: it put the pre-load stub in place and queued the markup's stage.
    await page.waitForFunction(() => typeof cjm === 'function' && cjm.q?.length === 1);
    await page.click('#buy');
    expect(await page.evaluate(() => cjm.q?.length)).toBe(2);
    tag.release();
    await tagReady(page);
    const visitor = await visitorOf(page);
    await expectDelivered(t.h, t.ctx, visitor, ['add_to_cart'], ['/shop']);
    await expect.poll(() => stored(visitor)).toEqual(sorted(['page:/shop', 'stage:product', 'add_to_cart']));
  });
});
