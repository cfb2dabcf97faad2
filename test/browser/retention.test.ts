/**
 * The cohort retention tab in real Chromium (a desktop window), on a collector filled by the simulator under the
 * `post-purchase` template: one row per first-visit week with the simulator's own count of journeys, each cell the
 * share active that week as the ground truth says, shaded by the built stylesheet, future weeks marked; the journey
 * map's post-purchase columns carry the lifecycle numbers; no CSP violation, no failed request.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Running } from '../../collector/node';
import { simulate, type Truth } from '../../scripts/simulate';
import { hasChromium, launch, signInWithToken } from './chromium';

const HOUR = 3_600_000;
const SHOTS = join(process.cwd(), 'test', 'screenshots');
/** The cell text of a share, as the page writes it. */
const percent = (share: number) => (share === 0 ? '0%' : `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`);

describe.skipIf(!hasChromium())('cohort retention in Chromium', () => {
  let server: Running;
  let browser: Browser;
  let page: Page;
  let truth: Truth;
  const cspErrors: string[] = [];
  const failed: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await start({ port: 0, db: ':memory:', adminToken: 'ret-token-0123456789abcdef' });
    truth = await simulate({
      visitors: 200,
      seed: 7,
      now: Math.floor(Date.now() / HOUR) * HOUR,
      days: 28,
      site: 'demo',
      url: server.url,
      concurrency: 4,
      template: 'post-purchase',
      adminToken: server.token,
    });
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().includes('/login')) failed.push(`${r.status()} ${r.url()}`);
    });
    await signInWithToken(page, server.url, server.token);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens from the tabs and shows one row per first-visit week, as the ground truth counts them', async () => {
    await page.click('nav.nav a:has-text("Retention")');
    await page.waitForURL(/\/sites\/demo\/retention/);
    await page.goto(`${server.url}/sites/demo/retention?range=all`);
    const table = page.locator('[data-testid=cohort-retention]');
    await expect.poll(() => table.isVisible()).toBe(true);
    const rows = table.locator('tbody tr');
    expect(await rows.count()).toBe(truth.retention.length);
    expect(truth.retention.length).toBeGreaterThanOrEqual(4); // 28 days of first visits span 4 or 5 ISO weeks
    for (let i = 0; i < truth.retention.length; i++) {
      const want = truth.retention[i]!;
      const row = rows.nth(i);
      expect(await row.getAttribute('data-week')).toBe(want.week);
      expect((await row.locator('td.num').first().textContent())?.trim()).toBe(String(want.journeys));
      const cells = row.locator('td.h');
      expect(await cells.count()).toBe(13); // weeks 0 … 12
      for (let k = 0; k <= 12; k++) {
        const cell = cells.nth(k);
        const future = (await cell.getAttribute('class'))!.includes('future');
        if (future) {
          expect(want.active[k], `${want.week} week ${k}`).toBe(0);
          continue;
        }
        expect((await cell.textContent())?.trim(), `${want.week} week ${k}`).toBe(
          percent(want.active[k]! / want.journeys),
        );
        expect(await cell.getAttribute('title')).toBe(`${want.active[k]} of ${want.journeys} journeys`);
      }
    }
    // The oldest cohort has seen at least three weeks; the newest only its first.
    const last = rows.nth(truth.retention.length - 1).locator('td.h');
    expect(await last.nth(1).getAttribute('class')).toContain('future');
    expect(await rows.first().locator('td.h').nth(3).getAttribute('class')).not.toContain('future');
    // Week 0 is the whole cohort, drawn in the darkest shade of the built stylesheet.
    const shade = await rows
      .first()
      .locator('td.h')
      .first()
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(shade).toBe('rgb(91, 95, 224)');
    await page.screenshot({ path: join(SHOTS, 'retention.png'), fullPage: true });
  });

  it('the journey map carries the lifecycle numbers in its post-purchase columns', async () => {
    await page.goto(`${server.url}/sites/demo/map?range=all`);
    const purchases = page.locator('[data-testid=lifecycle-purchases]');
    expect(await purchases.textContent()).toContain(`${truth.lifecycle.customers} customers`);
    const share = truth.lifecycle.returnedAfterConversion / truth.lifecycle.converted;
    const returns = page.locator('[data-testid=lifecycle-returns]');
    expect(await returns.textContent()).toContain(
      `(${truth.lifecycle.returnedAfterConversion} of ${truth.lifecycle.converted})`,
    );
    expect(share).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'map-lifecycle.png'), fullPage: true });
    expect(cspErrors).toEqual([]);
    expect(failed).toEqual([]);
  });
});
