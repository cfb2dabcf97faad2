/**
 * Teams in real Chromium (issue 17): the first user from the start banner's invite, an invite accepted in a second
 * browser, a viewer's navigation (no visitors tab, no timeline link, no export button, a refusal page for a typed
 * URL), a share link viewed signed out, and "sign out everywhere" ending a session in another browser. No CSP
 * violation and no dialog anywhere.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KDF_COST } from '../../collector/core/passwords';
import { start, type Running } from '../../collector/node';
import { simulate } from '../../scripts/simulate';
import { hasChromium, launch } from './chromium';

const run = hasChromium();
const HOUR = 3_600_000;

describe.skipIf(!run)('teams in Chromium', () => {
  let server: Running;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  let inviteUrl = '';
  let shareUrl = '';

  /** A fresh browser profile (its own cookies), watched for CSP violations and dialogs. */
  const profile = async (): Promise<Page> => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) problems.push(`csp: ${m.text()}`);
    });
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    return page;
  };

  let owner: Page;
  let viewer: Page;

  beforeAll(async () => {
    server = await start({
      port: 0,
      db: ':memory:',
      adminToken: 'teams-token-0123456789abcdef',
      automation: false,
      kdfCost: TEST_KDF_COST,
    });
    await simulate({
      visitors: 60,
      seed: 5,
      now: Math.floor(Date.now() / HOUR) * HOUR,
      days: 7,
      site: 'demo',
      url: server.url,
      concurrency: 4,
    });
    browser = await launch();
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
  });

  it("the first user comes from the start banner's invite, and is owner of every site", async () => {
    expect(server.firstUserInvite).toMatch(/\/invite\//);
    owner = await profile();
    await owner.goto(server.firstUserInvite!);
    await owner.fill('[data-testid=create-account] #email', 'owner@teams.test');
    await owner.fill('[data-testid=create-account] #password', 'the owner password');
    await owner.click('[data-testid=create-account] button[type=submit]');
    await owner.waitForURL(/\/sites\/demo\/map$/);
    expect(await owner.textContent('[data-testid=account-link]')).toContain('owner@teams.test');
    const tabs = await owner.locator('nav.nav a').allTextContents();
    expect(tabs.map((t) => t.trim())).toEqual(['Journey map', 'Funnel', 'Retention', 'Visitors', 'Team', 'Settings']);
  });

  it('the owner makes a viewer invite and a share link on the team tab, each shown once', async () => {
    await owner.click('nav.nav a:has-text("Team")');
    await owner.waitForURL(/\/sites\/demo\/team$/);
    await owner.selectOption('#invites select[name=role]', 'viewer');
    await owner.click('#invites button:has-text("Create invite link")');
    inviteUrl = (await owner.textContent('[data-testid=new-invite]'))!.trim();
    expect(inviteUrl).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
    await owner.fill('#shares input[name=name]', 'agency');
    await owner.click('#shares button:has-text("Create share link")');
    shareUrl = (await owner.textContent('[data-testid=new-share]'))!.trim();
    expect(shareUrl).toMatch(/\/share\/[A-Za-z0-9_-]{43}$/);
    await owner.goto(`${server.url}/sites/demo/team`);
    expect(await owner.locator('[data-testid=new-share]').count()).toBe(0);
    expect(await owner.textContent('[data-testid=shares]')).toContain('agency');
  });

  it('a second browser accepts the invite: a viewer, signed in, who sees aggregates only', async () => {
    viewer = await profile();
    await viewer.goto(inviteUrl);
    expect(await viewer.textContent('body')).toContain('viewer');
    await viewer.fill('[data-testid=create-account] #email', 'viewer@teams.test');
    await viewer.fill('[data-testid=create-account] #password', 'the viewer password');
    await viewer.click('[data-testid=create-account] button[type=submit]');
    await viewer.waitForURL(/\/sites\/demo\/map$/);
    const tabs = (await viewer.locator('nav.nav a').allTextContents()).map((t) => t.trim());
    expect(tabs).toEqual(['Journey map', 'Funnel', 'Retention']);
    expect(await viewer.locator('.stage-card, .big').count()).toBeGreaterThan(0);
    expect(await viewer.locator('a[href*="/visitors"]').count()).toBe(0);
    expect(await viewer.locator('[data-testid=export]').count()).toBe(0);
    await viewer.click('nav.nav a:has-text("Funnel")');
    await viewer.waitForURL(/\/sites\/demo\/funnel/);
    expect(await viewer.locator('[data-testid=export]').count()).toBe(0);
    // A typed URL of a visitor-level page: refused, with a way back.
    const refused = await viewer.goto(`${server.url}/sites/demo/visitors`);
    expect(refused?.status()).toBe(403);
    expect(await viewer.textContent('[role=alert]')).toContain('needs the analyst role');
    // The invite link worked once.
    const again = await (await profile()).goto(inviteUrl);
    expect(again?.status()).toBe(404);
  });

  it('the share link shows the map and funnel signed out, and leads nowhere else', async () => {
    const visitor = await profile();
    const res = await visitor.goto(shareUrl);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['referrer-policy']).toBe('no-referrer');
    expect(res?.headers()['x-robots-tag']).toBe('noindex, nofollow');
    expect(await visitor.getAttribute('meta[name=robots]', 'content')).toBe('noindex, nofollow');
    expect(await visitor.locator('[data-testid=shared] h1').textContent()).toBe('Journey map');
    const hrefs = await visitor.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(hrefs.length).toBeGreaterThan(1);
    for (const href of hrefs) expect(href, href).toMatch(/^\/share\//);
    await visitor.click('nav.nav a:has-text("Funnel")');
    await visitor.waitForURL(/\/funnel/);
    expect(await visitor.locator('[data-testid=shared] h1').textContent()).toBe('Funnel');
    expect((await visitor.context().cookies()).filter((c) => c.name === 'cjm_session')).toEqual([]);
  });

  it('"sign out everywhere" ends the viewer\'s session in another browser, and keeps this one', async () => {
    const elsewhere = await profile();
    await elsewhere.goto(`${server.url}/login`);
    await elsewhere.fill('#email', 'viewer@teams.test');
    await elsewhere.fill('#password', 'the viewer password');
    await elsewhere.click('[data-testid=password-sign-in] button[type=submit]');
    await elsewhere.waitForURL(/\/sites\/demo\/map$/);

    await viewer.goto(`${server.url}/sites/demo/map`);
    await viewer.click('[data-testid=account-link]');
    await viewer.waitForURL(/\/account$/);
    await viewer.click('[data-testid=sign-out-everywhere]');
    await viewer.waitForURL(/\/account\?done=everywhere$/);

    await elsewhere.reload();
    await elsewhere.waitForURL(/\/login\?next=/);
    await viewer.goto(`${server.url}/sites/demo/map`);
    await viewer.waitForURL(/\/sites\/demo\/map$/);
    expect(problems).toEqual([]);
  });
});
