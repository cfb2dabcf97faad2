/**
 * Choosing a stage template in the dashboard's settings, in real Chromium: the simulator sends traffic with a life
 * after the purchase while the site still has the default model; the template is picked in "Start from a template"
 * (the confirmation dismissed once, then accepted); after the refold the journey map shows the template's stages
 * with exactly the simulator's ground truth for that template. Then a condition is added to a stage with the form's
 * script ("Add a condition") and saved. No CSP violation, no failed request. Screenshots go to test/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunnelReport, SiteAnswer } from '../../collector/core/reports';
import { STAGE_TEMPLATES } from '../../collector/core/stages';
import { start, type Running } from '../../collector/node';
import { simulate, type Truth } from '../../scripts/simulate';
import { hasChromium, launch, signInWithToken } from './chromium';

const run = hasChromium();
const SHOTS = join(process.cwd(), 'test', 'screenshots');
const HOUR = 3_600_000;
/** Fewer journeys than a save refolds before it answers (REFOLD_ON_SAVE, 200): the map is exact at once. */
const VISITORS = 150;

describe.skipIf(!run)('choosing a stage template in settings (Chromium)', () => {
  let server: Running;
  let browser: Browser;
  let page: Page;
  let truth: Truth;
  const dialogs: string[] = [];
  let acceptConfirm = false;
  const cspErrors: string[] = [];
  const failed: string[] = [];

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${server.token}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  /** The journey map's stage columns: name (without its number and badge), journeys reached, conversion badge. */
  const mapStages = () =>
    page.locator('[data-testid=journey-map] .stage-head').evaluateAll((heads) =>
      heads.map((h) => ({
        stage: [...h.querySelector('.name')!.childNodes]
          .filter((n) => n.nodeType === 3)
          .map((n) => n.textContent)
          .join('')
          .trim(),
        reached: Number(h.querySelector('.big')!.textContent!.replace(/,/g, '')),
        conversion: h.querySelector('.badge.good') !== null,
      })),
    );

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await start({ port: 0, db: ':memory:', adminToken: 'tpl-token-0123456789abcdef' });
    // Post-purchase traffic (reviews, referrals, reorders, returns after weeks) and its truth under the template,
    // sent while the site keeps the default model (no admin token: the simulator leaves the model alone).
    truth = await simulate({
      visitors: VISITORS,
      seed: 18,
      now: Math.floor(Date.now() / HOUR) * HOUR,
      days: 14,
      site: 'demo',
      url: server.url,
      concurrency: 4,
      template: 'post-purchase',
    });
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('dialog', async (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      if (acceptConfirm) await d.accept();
      else await d.dismiss();
    });
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

  it('the site starts on the default model', async () => {
    await page.goto(`${server.url}/sites/demo/map?range=all`);
    expect((await mapStages()).map((s) => s.stage)).toEqual(['landing', 'signup', 'cart', 'checkout', 'post-purchase']);
    expect(truth.template).toBe('post-purchase');
    expect(truth.journeys).toBe(VISITORS);
  });

  it('shows each template with its stages, and applies one only after the confirmation', async () => {
    await page.goto(`${server.url}/sites/demo/settings`);
    const picker = page.locator('[data-testid=templates]');
    expect(await picker.locator('details.template').count()).toBe(STAGE_TEMPLATES.length);
    const choice = picker.locator('details[data-template=post-purchase]');
    await choice.locator('summary').click();
    expect(await choice.locator('.template-stages li strong').allTextContents()).toEqual([
      'awareness',
      'consideration',
      'purchase',
      'post-purchase',
      'advocacy',
    ]);
    expect(await choice.textContent()).toContain('the journeys will be refolded');
    await page.screenshot({ path: join(SHOTS, 'settings-templates.png'), fullPage: true });

    // Dismissed: nothing changes.
    const before = await api<SiteAnswer>('/api/sites/demo');
    await choice.locator('button[type=submit]').click();
    await expect.poll(() => dialogs.length).toBe(1);
    expect(dialogs[0]).toMatch(/^confirm: Replace the 5 stages of .+ refolded under the new model\.$/);
    expect((await api<SiteAnswer>('/api/sites/demo')).site).toEqual(before.site);

    acceptConfirm = true;
    await choice.locator('button[type=submit]').click();
    await page.waitForURL(/\/settings\?done=template$/);
    expect(dialogs).toHaveLength(2);
    expect(await page.locator('.flash').textContent()).toContain('Journeys are being refolded');
    expect(
      await page
        .locator('#stage-list input[name=stage_name]')
        .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)),
    ).toEqual(['awareness', 'consideration', 'purchase', 'post-purchase', 'advocacy', '']);
    expect(await page.locator('details[data-template=post-purchase] summary .badge.good').textContent()).toBe('in use');
    const after = await api<SiteAnswer>('/api/sites/demo');
    expect(after.site.revision).toBe(before.site.revision! + 1);
    expect(after.refold.pending).toBe(0);
  });

  it('the journey map shows the template’s stages with the simulator’s truth, after the refold', async () => {
    await page.goto(`${server.url}/sites/demo/map?range=all`);
    expect(await mapStages()).toEqual(
      truth.stages.map((s) => ({ stage: s.stage, reached: s.reached, conversion: s.stage === 'purchase' })),
    );
    for (const s of truth.stages) expect(s.reached, s.stage).toBeGreaterThan(0); // advocacy and post-purchase too
    const fun = await api<FunnelReport>('/api/sites/demo/funnel');
    expect(fun.converted).toBe(truth.converted);
    await page.screenshot({ path: join(SHOTS, 'map-post-purchase-template.png'), fullPage: true });
  });

  it('adds a condition with the form’s script and saves it', async () => {
    await page.goto(`${server.url}/sites/demo/settings`);
    const advocacy = page.locator('#stage-row-4');
    expect(await advocacy.locator('details.conds').getAttribute('open')).not.toBeNull(); // afterStage: purchase
    expect(await advocacy.locator('input[name=stage_after]').inputValue()).toBe('purchase');
    await advocacy.locator('[data-add-where]').click();
    const rows = advocacy.locator('.where-row');
    expect(await rows.count()).toBe(2);
    expect(await advocacy.locator('input[name=stage_where_rows]').inputValue()).toBe('2');
    const added = rows.nth(1);
    expect(await added.locator('input[name=where_key]').isVisible()).toBe(false); // "the event's value": no key
    await added.locator('select[name=where_field]').selectOption('prop');
    expect(await added.locator('input[name=where_key]').isVisible()).toBe(true);
    await added.locator('input[name=where_key]').fill('rating');
    await added.locator('select[name=where_op]').selectOption('gte');
    await added.locator('input[name=where_value]').fill('4');
    // A removed row leaves the count right.
    await advocacy.locator('[data-add-where]').click();
    await rows.nth(2).locator('[data-remove-where]').click();
    expect(await advocacy.locator('input[name=stage_where_rows]').inputValue()).toBe('2');
    await page.screenshot({ path: join(SHOTS, 'settings-conditions.png'), fullPage: true });
    await page.click('#stages button[type=submit]');
    await page.waitForURL(/\/settings\?done=stages$/);
    const { site } = await api<SiteAnswer>('/api/sites/demo');
    expect(site.stages[4]).toEqual({
      name: 'advocacy',
      events: ['review_submitted', 'referral_sent'],
      where: { 'props.rating': { gte: 4 } },
      afterStage: 'purchase',
    });
    expect(await page.locator('#stage-row-4 summary').textContent()).toContain('property rating is at least 4');
  });

  it('violated no Content-Security-Policy rule and no request failed', () => {
    expect(cspErrors).toEqual([]);
    expect(failed).toEqual([]);
  });
});
