/**
 * The demo shop after the purchase, in real Chromium, with the demo site on the `post-purchase` stage template: buy,
 * refer a friend, review, look at the order, buy again. The tag's real calls (`purchase` once per order with its
 * total, `referral_sent`, `review_submitted`, `add_to_cart` from "Buy again") must walk the journey through every
 * stage of the template, the loop back to consideration included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { start, type Running } from '../../collector/node';
import type { VisitorDetail, VisitorsPage } from '../../collector/core/reports';
import { templatePatch } from '../../collector/core/stages';
import { hasChromium, launch } from './chromium';

describe.skipIf(!hasChromium())('demo shop after the purchase, in Chromium', () => {
  let browser: Browser;
  let server: Running;
  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    });
    expect(res.status, path).toBe(200);
    return res.json() as Promise<T>;
  };

  beforeAll(async () => {
    server = await start({ port: 0, db: ':memory:', adminToken: 'pp-token-0123456789abcdefgh' });
    await api('/api/sites/demo', { method: 'PUT', body: JSON.stringify(templatePatch('post-purchase')) });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('buys, refers, reviews, tracks the order and buys again', async () => {
    const page = await browser.newPage();
    const order = async () => {
      await page.click('#checkout');
      await page.waitForURL(/checkout\.html/);
      await page.click('#place-order');
      await page.waitForURL(/thank-you\.html\?order=\d+/);
    };
    await page.goto(`${server.url}/demo/`);
    await page.click('#add-mug');
    await page.waitForURL(/cart\.html/);
    await order();
    await page.click('#refer-friend');
    await page.waitForSelector('#referral-link', { state: 'visible' });
    await page.fill('#review-text', 'Keeps coffee hot.');
    await page.click('#review-submit');
    await page.waitForSelector('#review-thanks', { state: 'visible' });
    await page.reload(); // a reload of the thank-you page is no second purchase
    await page.click('#track-order');
    await page.waitForURL(/orders\.html/);
    await page.click('#orders-buy-again');
    await page.waitForURL(/cart\.html/);
    await order();
    await page.close(); // pagehide flushes what is left

    let body: VisitorDetail | undefined;
    await expect
      .poll(
        async () => {
          const list = await api<VisitorsPage>('/api/sites/demo/visitors');
          if (list.visitors.length !== 1) return null;
          body = await api<VisitorDetail>(`/api/sites/demo/visitors/${list.visitors[0]!.visitor}`);
          return body.timeline.filter((e) => e.name === 'purchase').length === 2 && body.journey.currentStage;
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBe('purchase');

    expect(body!.journey.entries.map((e) => e.stage)).toEqual([
      'awareness',
      'consideration',
      'purchase',
      'advocacy',
      'post-purchase',
      'consideration',
      'purchase',
    ]);
    const events = body!.timeline.filter((e) => e.type === 'event');
    const named = (name: string) => events.filter((e) => e.name === name);
    expect(named('purchase').map((e) => e.value)).toEqual([23, 23]);
    expect(new Set(named('purchase').map((e) => e.props?.order)).size).toBe(2);
    expect(named('referral_sent')).toHaveLength(1);
    expect(named('review_submitted').map((e) => e.props?.rating)).toEqual([5]);
    expect(named('add_to_cart').map((e) => e.props?.reorder ?? 'no')).toEqual(['no', 'true']);
    expect(body!.journey.converted).not.toBeNull();
  });
});
