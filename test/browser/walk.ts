/**
 * The newcomer's walk through the demo shop, shared by the Node and the Worker end-to-end tests: click from the
 * landing page to the thank-you page in Chromium, then read the visitor back through the API and check the five
 * stages in order with page views between them.
 */
import { expect } from 'vitest';
import type { Browser } from 'playwright-core';

/** Walks the demo shop served at `base` (e.g. http://127.0.0.1:1234) and checks the journey the API returns. */
export const walkDemoShop = async (browser: Browser, base: string, token: string): Promise<void> => {
  const api = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return res.json() as Promise<any>;
  };

  const page = await browser.newPage();
  await page.goto(`${base}/demo/`);
  await page.click('#signup');
  await page.waitForURL(/signup\.html/);
  await page.fill('#email', 'ada@example.com');
  await page.click('#signup-submit');
  await page.waitForURL(/\/demo\/index\.html/);
  await page.click('#add-mug');
  await page.waitForURL(/cart\.html/);
  await page.click('#checkout');
  await page.waitForURL(/checkout\.html/);
  await page.click('#place-order');
  await page.waitForURL(/thank-you\.html/);
  await page.click('#feedback-5');
  await page.close(); // pagehide flushes what is left

  let body: any;
  await expect
    .poll(
      async () => {
        const list = await api('/api/sites/demo/visitors');
        if (list.visitors.length !== 1) return null;
        body = await api(`/api/sites/demo/visitors/${list.visitors[0].visitor}`);
        return body.journey.currentStage === 'post-purchase' && body.timeline.some((e: any) => e.type === 'feedback');
      },
      { timeout: 15_000, interval: 250 },
    )
    .toBe(true);

  const entries = body.journey.entries.map((e: any) => e.stage);
  expect(entries).toEqual(['landing', 'signup', 'cart', 'checkout', 'post-purchase']);
  const stagesAt = body.journey.entries.map((e: any) => e.at);
  expect([...stagesAt].sort((a: number, b: number) => a - b)).toEqual(stagesAt);

  // Page views between the stages, in order.
  const pages = body.timeline.filter((e: any) => e.type === 'page').map((e: any) => new URL(e.url).pathname);
  expect(pages).toEqual([
    '/demo/',
    '/demo/signup.html',
    '/demo/index.html',
    '/demo/cart.html',
    '/demo/checkout.html',
    '/demo/thank-you.html',
  ]);
  for (let i = 1; i < entries.length; i++) {
    const between = body.timeline.filter(
      (e: any) => e.type === 'page' && e.ts >= stagesAt[i - 1] && e.ts <= stagesAt[i],
    );
    expect(between.length).toBeGreaterThan(0);
  }
  const names = body.timeline.filter((e: any) => e.type === 'event').map((e: any) => e.name);
  // add_to_cart and checkout_submitted are declarative (data-cjm-event): the markup chunk's (data-markup).
  expect(names).toEqual(expect.arrayContaining(['signup_completed', 'add_to_cart', 'checkout_submitted']));
  const added = body.timeline.find((e: any) => e.type === 'event' && e.name === 'add_to_cart');
  expect(added.props).toEqual({ sku: 'mug', price: '14' });
  expect(body.journey.stages.find((s: any) => s.name === 'post-purchase').feedback).toBe(5);
};
