/**
 * The dashboard in real Chromium, on a collector filled by the simulator: sign-in, every page, the timeline against
 * the API, hostile strings rendered as text with nothing executed, the delete button, and no CSP violation anywhere.
 * Screenshots of every page (1,280 px, and 390 px for some) go to test/screenshots/ on every run.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Running } from '../../collector/node';
import type { VisitorDetail } from '../../collector/core/reports';
import { simulate } from '../../scripts/simulate';
import { hasChromium, launch } from './chromium';

const run = hasChromium();
const SHOTS = join(process.cwd(), 'test', 'screenshots');
const HOUR = 3_600_000;
const EVIL_NAME = '<img src=x onerror=alert(1)>';

describe.skipIf(!run)('dashboard in Chromium', () => {
  let server: Running;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const cspErrors: string[] = [];
  const failed: string[] = [];
  let acceptNextConfirm = false;

  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${server.token}` } });
    return { status: res.status, body: (await res.json()) as T };
  };
  const shot = async (name: string) => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    // Narrow pages are long: also keep the first screen, as a phone shows it.
    if (page.viewportSize()?.width === 390) await page.screenshot({ path: join(SHOTS, `${name}-first-screen.png`) });
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await start({ port: 0, db: ':memory:', adminToken: 'dash-token-0123456789abcdef' });
    await simulate({
      visitors: 300,
      seed: 11,
      now: Math.floor(Date.now() / HOUR) * HOUR,
      days: 28,
      site: 'demo',
      url: server.url,
      concurrency: 6,
    });
    // A hostile visitor: an event name and URLs made to run script if they were ever rendered raw.
    const now = Date.now();
    const res = await fetch(`${server.url}/collect`, {
      method: 'POST',
      headers: {
        'Content-Type': 'text/plain',
        'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36',
      },
      body: JSON.stringify({
        site: 'demo',
        visitor: 'evil-visitor',
        events: [
          {
            id: 'evil1',
            type: 'page',
            ts: now - 5000,
            url: 'javascript:alert(1)',
            title: '<script>alert("title")</script>',
            referrer: 'javascript:alert(2)',
          },
          {
            id: 'evil2',
            type: 'event',
            ts: now - 4000,
            name: EVIL_NAME,
            props: { '<svg onload=alert(3)>': '"><img src=y onerror=alert(4)>' },
          },
          { id: 'evil3', type: 'identify', ts: now - 3000, userId: '<b onmouseover=alert(5)>ada</b>' },
        ],
      }),
    });
    expect(res.status).toBe(202);
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('dialog', async (d) => {
      if (d.type() === 'confirm' && acceptNextConfirm) {
        acceptNextConfirm = false;
        await d.accept();
        return;
      }
      dialogs.push(`${d.type()}: ${d.message()}`);
      await d.dismiss();
    });
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().includes('/login')) failed.push(`${r.status()} ${r.url()}`);
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs in with the admin token and lands on the journey map', async () => {
    await page.goto(`${server.url}/`);
    await page.waitForURL(/\/login\?next=/);
    await shot('login');
    // The admin token's form is folded away under the e-mail and password form; a failed try keeps it open.
    await page.click('.token-sign-in summary');
    await page.fill('#token', 'wrong');
    await page.click('[data-testid=token-sign-in] button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('not the admin token');
    await page.fill('#token', server.token);
    await page.click('[data-testid=token-sign-in] button[type=submit]');
    await page.waitForURL(/\/sites\/demo\/map$/);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'cjm_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
  });

  it('applies the built stylesheet (the rules of dashboard.css, minified) and runs the built script', async () => {
    await page.goto(`${server.url}/sites/demo/map`);
    const { 'dashboard.css': css, 'dashboard.js': js } = JSON.parse(
      readFileSync(join(process.cwd(), 'dist', 'assets', 'manifest.json'), 'utf8'),
    ) as Record<string, string>;
    expect(await page.locator('link[rel=stylesheet]').getAttribute('href')).toBe(css);
    expect(await page.locator('script[src]').getAttribute('src')).toBe(js);
    const source = readFileSync(join(process.cwd(), 'collector', 'core', 'dashboard', 'dashboard.css'), 'utf8');
    const rules = await page.evaluate((text) => {
      // Chromium keeps custom properties and var() values as written: compare them without spaces or quote style.
      const list = (sheet: CSSStyleSheet) =>
        [...sheet.cssRules].map((r) => r.cssText.replace(/\s*([,()])\s*/g, '$1').replace(/'/g, '"'));
      const fromSource = new CSSStyleSheet();
      fromSource.replaceSync(text);
      return { applied: list(document.styleSheets[0]!), source: list(fromSource) };
    }, source);
    expect(rules.applied.length).toBeGreaterThan(200);
    expect(rules.applied).toEqual(rules.source);
    // The script ran: with it, the site picker submits on change and hides its Go button.
    expect(await page.locator('.site-pick button').isHidden()).toBe(true);
  });

  it('draws the journey map from the simulated data', async () => {
    await page.goto(`${server.url}/sites/demo/map`);
    const map = page.locator('[data-testid=journey-map]');
    for (const stage of ['landing', 'signup', 'cart', 'checkout', 'post-purchase'])
      await expect.poll(() => map.textContent()).toContain(stage);
    expect(await page.locator('svg.emotion circle.dot').count()).toBe(5);
    expect(await page.locator('.vitals .badge.poor, .vitals .badge.good').count()).toBeGreaterThan(0);
    expect(await map.textContent()).toContain('dropped off here');
    await shot('map-1280');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('map-390');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('draws the funnel with its flow diagram and touches table', async () => {
    await page.goto(`${server.url}/sites/demo/funnel`);
    expect(await page.locator('[data-testid=funnel] .funnel-row').count()).toBe(5);
    expect(await page.locator('svg.flow path.back').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=touches-by-channel] tbody tr').count()).toBeGreaterThan(2);
    await shot('funnel-1280');
  });

  it('lists, filters and pages visitors', async () => {
    await page.goto(`${server.url}/sites/demo/visitors`);
    expect(await page.locator('[data-testid=visitors] tbody tr').count()).toBe(50);
    await shot('visitors-1280');
    await page.selectOption('select[name=stage]', 'checkout'); // auto-submits
    await page.waitForURL(/stage=checkout/);
    const stages = await page.locator('[data-testid=visitors] tbody tr td:nth-child(2) .badge').allTextContents();
    expect(stages.length).toBeGreaterThan(0);
    expect(new Set(stages)).toEqual(new Set(['checkout']));
    await page.goto(`${server.url}/sites/demo/visitors`);
    await page.click('a[rel=next]');
    await page.waitForURL(/cursor=/);
    expect(await page.locator('[data-testid=visitors] tbody tr').count()).toBeGreaterThan(0);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('visitors-390');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('shows a timeline with exactly what the API returns', async () => {
    const list = await api<{ visitors: Array<{ visitor: string; converted: boolean; sessions: number }> }>(
      '/api/sites/demo/visitors?converted=true&limit=100',
    );
    const pick = list.body.visitors.find((v) => v.sessions > 1) ?? list.body.visitors[0]!;
    const { body: detail } = await api<VisitorDetail>(`/api/sites/demo/visitors/${pick.visitor}`);
    await page.goto(`${server.url}/sites/demo/visitors/${pick.visitor}`);
    const timeline = page.locator('[data-testid=timeline]');
    expect(await timeline.locator('section.session').count()).toBe(detail.journey.sessions.length);
    expect(await timeline.locator('li.band').count()).toBe(detail.journey.entries.length);
    // Every event once, in order (a page's vitals share a row, each still its own element).
    const shown = await timeline
      .locator('[data-event]')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-event'), e.getAttribute('data-type')]));
    expect(shown).toEqual(detail.timeline.map((e) => [e.id, e.type]));
    const names = detail.timeline.filter((e) => e.type === 'event').map((e) => e.name);
    expect(await timeline.locator('li.ev.event .what').allTextContents()).toEqual(names);
    const titles = detail.timeline.filter((e) => e.type === 'page').map((e) => e.title);
    expect(await timeline.locator('li.ev.page .what').allTextContents()).toEqual(titles);
    await shot('timeline-1280');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('timeline-390');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('renders hostile strings as text and executes nothing', async () => {
    await page.goto(`${server.url}/sites/demo/visitors/evil-visitor`);
    const timeline = page.locator('[data-testid=timeline]');
    expect(await timeline.locator('li.ev.event .what').textContent()).toBe(EVIL_NAME);
    expect(await timeline.locator('li.ev.page .what').textContent()).toBe('<script>alert("title")</script>');
    expect(await timeline.textContent()).toContain('javascript:alert(1)');
    expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('b').count()).toBe(0);
    // Hover and click over everything a handler could hide in.
    await timeline.locator('li.ev').first().hover();
    await page.locator('.badge.accent').first().hover();
    await shot('timeline-hostile');
    for (const path of ['/sites/demo/map', '/sites/demo/visitors?q=evil', '/sites/demo/funnel']) {
      await page.goto(`${server.url}${path}`);
      expect(await page.locator('img').count()).toBe(0);
    }
    expect(await page.locator('[data-testid=visitors]').count()).toBe(0); // funnel page; search checked above
    await page.goto(`${server.url}/sites/demo/visitors?q=evil`);
    expect(await page.locator('[data-testid=visitors] tbody').textContent()).toContain(
      '<b onmouseover=alert(5)>ada</b>',
    );
    expect(dialogs).toEqual([]);
  });

  it('shows the settings with the tag snippet, stages, automation and write keys', async () => {
    await page.goto(`${server.url}/sites/demo/settings`);
    expect(await page.locator('[data-testid=snippet]').textContent()).toContain(
      `src="${new URL(page.url()).origin}/cjm.js" data-site="demo"`,
    );
    expect(await page.locator('#stage-list .stage-edit').count()).toBe(6); // five stages and an empty row
    await page.click('[data-add-stage]');
    expect(await page.locator('#stage-list .stage-edit').count()).toBe(7);
    await page.fill('#write-keys input[name=name]', 'backend');
    await page.click('#write-keys button[type=submit]');
    await expect.poll(() => page.locator('[data-testid=new-key]').textContent()).toMatch(/\S{16,}/);
    // An automation rule through the form: cart or checkout, no purchase within 30 minutes → webhook.
    await page.click('.rule-new > summary');
    await page.fill('#rule-name', 'Cart reminder');
    await page.check('input[name=stages][value=cart]');
    await page.check('input[name=stages][value=checkout]');
    await page.check('input[name=notReached][value=post-purchase]');
    await page.fill('#rule-url', 'https://hooks.example/cart');
    await shot('settings-new-rule');
    await page.click('.rule-form button[type=submit]');
    await page.waitForURL(/done=rule-created/);
    expect(await page.locator('[data-testid=rules] tbody tr').textContent()).toContain(
      'stays in cart / checkout without reaching post-purchase for 30m',
    );
    await shot('settings-1280');
  });

  it('erases a visitor with the delete button, after confirmation', async () => {
    const list = await api<{ visitors: Array<{ visitor: string }> }>('/api/sites/demo/visitors?limit=5');
    const victim = list.body.visitors[2]!.visitor;
    await page.goto(`${server.url}/sites/demo/visitors/${victim}`);
    // Dismissing the confirmation keeps the visitor.
    await page.click('[data-testid=delete]');
    await expect.poll(() => dialogs.length).toBe(1);
    expect(dialogs.pop()).toMatch(/^confirm: Erase this visitor/);
    expect((await api(`/api/sites/demo/visitors/${victim}`)).status).toBe(200);
    acceptNextConfirm = true;
    await page.click('[data-testid=delete]');
    await page.waitForURL(/\/sites\/demo\/visitors\?erased=\d+/);
    expect(await page.locator('.flash').textContent()).toContain('erased');
    expect((await api(`/api/sites/demo/visitors/${victim}`)).status).toBe(404);
    expect(dialogs).toEqual([]);
  });

  it('signs out, and violated no Content-Security-Policy rule on any page', async () => {
    await page.click('.signout button');
    await page.waitForURL(/\/login$/);
    await page.goto(`${server.url}/sites/demo/map`);
    await page.waitForURL(/\/login\?next=/);
    expect(cspErrors).toEqual([]);
    expect(failed).toEqual([]); // no broken asset, icon or link along the way
  });
});
