/**
 * The dashboard through `app.request()`: sign-in and session cookie, redirects, CSRF, CSP, escaping of browser strings,
 * every page rendering, settings forms, erasing a visitor.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SESSION_DAYS } from '../../collector/core/dashboard/auth';
import { ingest } from '../../collector/core/ingest';
import { safeNext } from '../../collector/core/routes/dashboard/sign-in';
import { fileAssets } from '../../collector/node';
import { batch, ev, makeApp, page, TOKEN, type TestApp } from '../helpers';

let t: TestApp;
const ORIGIN = 'http://localhost';

const form = (fields: Record<string, string | string[]>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
};

const post = (path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
  t.app.request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN, ...headers },
    body: form(fields),
  });

const signIn = async (): Promise<string> => {
  const res = await post('/login', { token: TOKEN, next: '/' });
  expect(res.status).toBe(303);
  const cookie = res.headers.get('set-cookie') ?? '';
  expect(cookie).toMatch(/^cjm_session=/);
  return cookie.split(';')[0]!;
};

const get = (path: string, cookie?: string) => t.app.request(path, { headers: cookie ? { Cookie: cookie } : {} });

/** Every attribute name of every tag in the page (quoted values skipped, so escaped text inside them is ignored). */
const attributeNames = (body: string): string[] => {
  const names: string[] = [];
  for (const tag of body.match(/<[a-zA-Z][^\s>/]*(?:\s+[^\s=>/]+(?:="[^"]*"|='[^']*'|=[^\s>]+)?)*\s*\/?>/g) ?? []) {
    for (const m of tag.matchAll(/\s([^\s=>/]+)(?:="[^"]*"|='[^']*'|=[^\s>]+)?/g)) names.push(m[1]!.toLowerCase());
  }
  return names;
};

/** Asserts the page obeys the CSP by construction: no inline script, style or handler, no javascript: link. */
const assertNoInline = (body: string) => {
  expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
  expect(body).not.toMatch(/<style/i);
  const names = attributeNames(body);
  expect(names.length).toBeGreaterThan(10);
  expect(names.filter((n) => n === 'style' || n.startsWith('on'))).toEqual([]);
  expect(body).not.toMatch(/(href|src|action)="\s*javascript:/i);
};

/** The built stylesheet and script (`npm run build` writes them; `npm test` builds first). */
const DIST = join(import.meta.dirname, '..', '..', 'dist');
const manifest = () =>
  JSON.parse(readFileSync(join(DIST, 'assets', 'manifest.json'), 'utf8')) as Record<
    'dashboard.css' | 'dashboard.js',
    string
  >;
const built = (path: string) => readFileSync(join(DIST, path), 'utf8');

beforeEach(async () => {
  // The dashboard's files as `npm start` serves them: from dist/.
  t = await makeApp(undefined, { asset: fileAssets() });
});

describe('sign-in', () => {
  it('redirects every page to /login, keeping where you were going', async () => {
    for (const path of [
      '/',
      '/sites/demo/map',
      '/sites/demo/funnel',
      '/sites/demo/visitors?stage=cart',
      '/sites/demo/settings',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
  });

  it('serves the sign-in page with a strict CSP and no inline code', async () => {
    const res = await get('/login');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    assertNoInline(await res.text());
  });

  it('refuses a wrong token with 401 and sets no cookie', async () => {
    const res = await post('/login', { token: 'nope', next: '/' });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('not the admin token');
  });

  it('sets an HttpOnly, SameSite=Strict, signed session cookie; Secure only on https', async () => {
    const res = await post('/login', { token: TOKEN, next: '/sites/demo/funnel' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sites/demo/funnel');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain('Secure');
    expect(cookie).not.toContain(TOKEN);
    const https = await t.app.request('https://cjm.example/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://cjm.example' },
      body: form({ token: TOKEN, next: '/' }),
    });
    expect(https.headers.get('set-cookie')).toContain('Secure');
  });

  it('slows down guessing: 429 after ten attempts in a row from one address', async () => {
    t = await makeApp(undefined, { asset: fileAssets(), clientIp: (c) => c.req.header('x-test-ip') ?? null });
    const from = { 'x-test-ip': '203.0.113.9' };
    for (let i = 0; i < 10; i++)
      expect((await post('/login', { token: `guess${i}`, next: '/' }, from)).status).toBe(401);
    const res = await post('/login', { token: TOKEN, next: '/' }, from);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('set-cookie')).toBeNull();
    t.clock.now += 5_000;
    expect((await post('/login', { token: TOKEN, next: '/' }, from)).status).toBe(303);
  });

  it('never redirects off-site after sign-in', async () => {
    for (const bad of ['//evil.test/x', 'https://evil.test/', '/\\evil.test', 'javascript:alert(1)', ''])
      expect(safeNext(bad)).toBe('/');
    expect(safeNext('/sites/demo/map?range=7d')).toBe('/sites/demo/map?range=7d');
    const res = await post('/login', { token: TOKEN, next: '//evil.test/' });
    expect(res.headers.get('location')).toBe('/');
  });

  it('refuses cross-site form posts (CSRF)', async () => {
    const res = await post('/login', { token: TOKEN, next: '/' }, { Origin: 'https://evil.test' });
    expect(res.status).toBe(403);
    const cookie = await signIn();
    const del = await post('/sites/demo/visitors/v1/delete', {}, { Origin: 'https://evil.test', Cookie: cookie });
    expect(del.status).toBe(403);
  });

  it('refuses a tampered, foreign or expired cookie', async () => {
    const cookie = await signIn();
    expect((await get('/sites/demo/map', cookie)).status).toBe(200);
    const [name, value] = cookie.split('=') as [string, string];
    const decoded = decodeURIComponent(value);
    // The session secret changed under the signature: refused before any lookup.
    const tampered = `${name}=${encodeURIComponent(decoded.replace(/^v3\../, (m) => (m.endsWith('A') ? 'v3.B' : 'v3.A')))}`;
    expect((await get('/sites/demo/map', tampered)).status).toBe(303);
    expect((await get('/sites/demo/map', `${name}=v1.99999999999999.abc`)).status).toBe(303);
    t.clock.now += (SESSION_DAYS + 1) * 86_400_000;
    expect((await get('/sites/demo/map', cookie)).status).toBe(303);
  });

  it('signs out', async () => {
    const cookie = await signIn();
    const res = await post('/logout', {}, { Cookie: cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    expect(res.headers.get('set-cookie')).toMatch(/cjm_session=;.*Max-Age=0/);
  });
});

describe('pages', () => {
  let cookie: string;
  beforeEach(async () => {
    cookie = await signIn();
    await t.collect(
      batch('v1', [
        page('/?utm_source=newsletter&utm_medium=email', { referrer: 'https://mail.example/' }),
        page('/signup'),
        ev('event', { name: 'signup_completed' }),
        ev('identify', { userId: 'ada' }),
        ev('event', { name: 'add_to_cart', props: { sku: 'mug', price: 12 } }),
        page('/cart'),
        ev('vital', { name: 'LCP', value: 5100, stage: 'cart' }),
        ev('feedback', { value: 2, stage: 'cart' }),
        page('/checkout'),
        page('/cart'),
        page('/checkout'),
        ev('event', { name: 'purchase', value: 42 }),
        page('/thank-you'),
        ev('feedback', { value: 5 }),
      ]),
    );
    await t.collect(batch('v2', [page('/', { referrer: 'https://www.google.com/' }), page('/cart')]));
  });

  it('sends / to the first site’s journey map', async () => {
    const res = await get('/', cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sites/demo/map');
  });

  it.each(['map', 'funnel', 'retention', 'visitors', 'settings'])(
    'renders %s with CSP and no inline code',
    async (tab) => {
      const res = await get(`/sites/demo/${tab}`, cookie);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      const body = await res.text();
      assertNoInline(body);
      const { 'dashboard.css': css, 'dashboard.js': js } = manifest();
      expect(css).toMatch(/^\/assets\/dashboard\.[0-9a-f]{8}\.css$/);
      expect(js).toMatch(/^\/assets\/dashboard\.[0-9a-f]{8}\.js$/);
      expect(body).toContain(`<link rel="stylesheet" href="${css}"/>`);
      expect(body).toContain(`<script src="${js}" defer=""></script>`);
    },
  );

  it('draws the journey map from the reports', async () => {
    const body = await (await get('/sites/demo/map?range=all', cookie)).text();
    for (const stage of ['landing', 'signup', 'cart', 'checkout', 'post-purchase']) expect(body).toContain(stage);
    expect(body).toContain('stepped back to cart');
    expect(body).toContain('LCP 5.10 s');
    expect(body).toMatch(/class="badge poor"[^>]*>LCP/);
    // The lifecycle numbers in the conversion column (the last one here): v1 bought once and has not come back.
    expect(body).toContain('data-testid="lifecycle-purchases"');
    expect(body).toContain('1</span> customers');
    expect(body).toContain('returned after converting: <span class="n">0%</span>');
  });

  it('draws the cohort retention table', async () => {
    const body = await (await get('/sites/demo/retention?range=all', cookie)).text();
    expect(body).toContain('data-testid="cohort-retention"');
    expect(body).toMatch(/<td class="h h5" data-k="0" title="2 of 2 journeys">100%<\/td>/);
  });

  it('draws the funnel with back-steps and the touches table', async () => {
    const body = await (await get('/sites/demo/funnel?range=all', cookie)).text();
    expect(body).toContain('back-step');
    expect(body).toContain('data-testid="touches-by-channel"');
    expect(body).toContain('Email');
    // Time to convert: the card, its histogram and the 1/7/30-day windows.
    expect(body).toContain('data-testid="time-to-convert"');
    expect(body).toMatch(/data-testid="conversion-windows"/);
    for (const ms of [86_400_000, 604_800_000, 2_592_000_000]) expect(body).toContain(`data-within="${ms}"`);
  });

  it('shows the time to convert by device when journeys come from more than one', async () => {
    const phone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148';
    const desk = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36';
    const send = (v: string, ua: string, paths: string[]) =>
      t.collect(
        batch(
          v,
          paths.map((p) => page(p)),
        ),
        { headers: { 'Content-Type': 'text/plain', 'User-Agent': ua } },
      );
    await send('ph1', phone, ['/', '/cart', '/checkout', '/thank-you']);
    await send('ph2', phone, ['/']);
    await send('dk1', desk, ['/', '/thank-you']);
    const body = await (await get('/sites/demo/funnel?range=all', cookie)).text();
    expect(body).toContain('data-testid="time-to-convert-by-device"');
    const row = (device: string) =>
      new RegExp(
        `data-device="${device}"><th scope="row">${device}</th><td class="num">(\\d+)</td><td class="num">(\\d+)`,
      ).exec(body);
    expect(row('mobile')?.slice(1)).toEqual(['2', '1']);
    expect(row('desktop')?.slice(1)).toEqual(['1', '1']);
  });

  it('filters and pages the visitors list', async () => {
    const all = await (await get('/sites/demo/visitors?range=all', cookie)).text();
    expect(all).toContain('>v1<');
    expect(all).toContain('>v2<');
    const cart = await (await get('/sites/demo/visitors?range=all&stage=cart', cookie)).text();
    expect(cart).toContain('>v2<');
    expect(cart).not.toContain('>v1<');
    // Segments: identified or not, device, last channel; an unknown value is left out, not refused.
    const named = await (await get('/sites/demo/visitors?range=all&identified=true', cookie)).text();
    const anonymous = await (await get('/sites/demo/visitors?range=all&identified=false', cookie)).text();
    expect(named.includes('>v1<') !== anonymous.includes('>v1<')).toBe(true);
    expect(named).toMatch(/<option value="true" selected="">yes<\/option>/);
    const fridge = await get('/sites/demo/visitors?range=all&device=fridge&lastChannel=nowhere', cookie);
    expect(fridge.status).toBe(200);
    expect(await fridge.text()).toContain('>v1<');
    const search = await (await get('/sites/demo/visitors?range=all&q=ad', cookie)).text();
    expect(search).toContain('>v1<');
    expect(search).not.toContain('>v2<');
    const bad = await get('/sites/demo/visitors?range=all&cursor=garbage', cookie);
    expect(bad.status).toBe(200);
    expect(await bad.text()).toContain('expired');
  });

  it('shows a visitor’s timeline grouped by session with stage bands', async () => {
    const res = await get('/sites/demo/visitors/v1', cookie);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('Session 1');
    expect(body).toContain('↩ back to cart');
    expect(body).toContain('sku=mug');
    expect(body).toContain('user ada');
    expect((await get('/sites/demo/visitors/nobody', cookie)).status).toBe(404);
  });

  it('answers 404 for an unknown site', async () => {
    const res = await get('/sites/nope/map', cookie);
    expect(res.status).toBe(404);
  });

  it('escapes every string that came from a browser', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await t.collect(
      batch('x1', [
        page('/x', { title: '<script>alert(1)</script>' }),
        ev('event', { name: evil, url: 'javascript:alert(1)', props: { '"><svg onload=alert(1)>': '<b>bold</b>' } }),
        ev('page', { url: 'javascript:alert(1)', referrer: 'javascript:alert(2)' }),
      ]),
    );
    for (const path of ['/sites/demo/visitors/x1', '/sites/demo/map?range=all', '/sites/demo/visitors?range=all']) {
      const body = await (await get(path, cookie)).text();
      assertNoInline(body);
      expect(body).not.toContain('<img src=x');
      expect(body).not.toContain('<script>alert');
      expect(body).not.toContain('<svg onload');
      expect(body).not.toContain('<b>bold');
    }
    const body = await (await get('/sites/demo/visitors/x1', cookie)).text();
    expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(body).toContain('javascript:alert(1)'); // shown as text…
    expect(body).not.toMatch(/href="javascript/); // …never linked
  });

  it('erases a visitor from the timeline’s delete button', async () => {
    const res = await post('/sites/demo/visitors/v1/delete', {}, { Cookie: cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/sites\/demo\/visitors\?erased=\d+/);
    expect(await t.store.eventsOfVisitors('demo', ['v1'])).toEqual([]);
    expect((await get('/sites/demo/visitors/v1', cookie)).status).toBe(404);
    const list = await (await get(res.headers.get('location')!, cookie)).text();
    expect(list).toContain('The visitor is erased');
    expect(list).not.toContain('>v1<');
  });
});

describe('settings', () => {
  let cookie: string;
  beforeEach(async () => {
    cookie = await signIn();
  });

  it('shows the tag snippet with this collector’s URL', async () => {
    const body = await (
      await t.app.request('https://cjm.example/sites/demo/settings', { headers: { Cookie: cookie } })
    ).text();
    expect(body).toContain('src=&quot;https://cjm.example/cjm.js&quot; data-site=&quot;demo&quot;');
  });

  /** The condition fields of `n` stage rows without conditions (dashboard/stage-draft.ts). */
  const noConditions = (n: number) => ({
    stage_nth: Array<string>(n).fill(''),
    stage_after: Array<string>(n).fill(''),
    stage_return_n: Array<string>(n).fill(''),
    stage_return_unit: Array<string>(n).fill('d'),
    stage_where_rows: Array<string>(n).fill('0'),
  });

  it('saves stages, and refuses a bad model naming the problem', async () => {
    const bad = await post(
      '/sites/demo/settings/stages',
      {
        stage_name: ['landing', 'landing'],
        stage_urls: ['', ''],
        stage_events: ['', ''],
        ...noConditions(2),
        conversion: 'landing',
      },
      { Cookie: cookie },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('is used twice');
    const before = (await t.store.getSite('demo'))!;
    const ok = await post(
      '/sites/demo/settings/stages',
      {
        stage_name: ['visit', 'trial', 'paid', ''],
        stage_urls: ['', '**/trial*\n/start', '', ''],
        stage_events: ['', '', 'subscribed', ''],
        ...noConditions(4),
        conversion: 'paid',
      },
      { Cookie: cookie },
    );
    expect(ok.status).toBe(303);
    const site = (await t.store.getSite('demo'))!;
    expect(site.stages).toEqual([
      { name: 'visit' },
      { name: 'trial', urls: ['**/trial*', '/start'] },
      { name: 'paid', events: ['subscribed'] },
    ]);
    expect(site.conversion).toBe('paid');
    expect(site.revision ?? 1).toBeGreaterThan(before.revision ?? 1);
  });

  it('saves the retention (empty keeps everything) and marks expired ranges on the map, funnel and visitors', async () => {
    const save = (retentionDays: string) =>
      post(
        '/sites/demo/settings/site',
        { name: 'Shop', origins: '', sessionTimeoutMinutes: '30', retentionDays },
        { Cookie: cookie },
      );
    let body = await (await get('/sites/demo/settings', cookie)).text();
    expect(body).toMatch(/name="retentionDays"[^>]*value=""/); // a site saved before retention: keeps everything
    expect((await save('90')).status).toBe(303);
    expect((await t.store.getSite('demo'))!.retentionDays).toBe(90);
    body = await (await get('/sites/demo/settings', cookie)).text();
    expect(body).toMatch(/name="retentionDays"[^>]*value="90"/);
    for (const bad of ['0', '-3', '2.5', '36501', 'soon']) {
      const res = await save(bad);
      expect(res.status, bad).toBe(400);
      expect(await res.text()).toContain('retentionDays must be an integer from 1 to 36500');
    }
    expect((await t.store.getSite('demo'))!.retentionDays).toBe(90);
    // A form without the field (a page of an earlier version) leaves it as it is.
    await post(
      '/sites/demo/settings/site',
      { name: 'Shop', origins: '', sessionTimeoutMinutes: '30' },
      { Cookie: cookie },
    );
    expect((await t.store.getSite('demo'))!.retentionDays).toBe(90);

    await t.collect(batch('v1', [page('/'), page('/cart')]));
    const all = ['/sites/demo/map?range=all', '/sites/demo/funnel?range=all', '/sites/demo/visitors?range=all'];
    // Every journey started after the horizon: nothing can have expired, no note.
    for (const path of all) expect(await (await get(path, cookie)).text(), path).not.toContain('expired-note');
    // A journey first seen 120 days ago (stored as an older collector would have taken it): those days may expire.
    const old = t.clock.now - 120 * 86_400_000;
    await ingest(
      t.store,
      (await t.store.getSite('demo'))!,
      'v-old',
      [{ id: 'old-1', type: 'page', ts: old, url: 'https://shop.test/' }],
      old,
    );
    for (const path of all) {
      const text = await (await get(path, cookie)).text();
      expect(text, path).toContain('data-testid="expired-note"');
      expect(text, path).toContain('keeps them 90 days after');
    }
    for (const path of ['/sites/demo/map?range=7d', '/sites/demo/visitors?range=7d'])
      expect(await (await get(path, cookie)).text(), path).not.toContain('expired-note');
    const missing = await (await get('/sites/demo/visitors/nobody', cookie)).text();
    expect(missing).toContain('or expired: this site keeps visitor details 90 days');

    expect((await save('')).status).toBe(303);
    expect((await t.store.getSite('demo'))!.retentionDays).toBeNull();
    expect(await (await get('/sites/demo/map?range=all', cookie)).text()).not.toContain('expired-note');
  });

  it('saves origins and refuses one that is not an origin', async () => {
    const bad = await post(
      '/sites/demo/settings/site',
      { name: 'Shop', origins: 'https://shop.example/path', sessionTimeoutMinutes: '30' },
      { Cookie: cookie },
    );
    expect(bad.status).toBe(400);
    const ok = await post(
      '/sites/demo/settings/site',
      { name: 'Shop <3', origins: 'https://shop.example\nhttp://localhost:3000', sessionTimeoutMinutes: '45' },
      { Cookie: cookie },
    );
    expect(ok.status).toBe(303);
    const site = (await t.store.getSite('demo'))!;
    expect(site.origins).toEqual(['https://shop.example', 'http://localhost:3000']);
    expect(site.sessionTimeoutMinutes).toBe(45);
    const body = await (await get('/sites/demo/settings', cookie)).text();
    expect(body).toContain('Shop &lt;3');
  });

  it('creates, turns off and deletes an automation rule, refusing a bad one', async () => {
    const bad = await post(
      '/sites/demo/settings/rules',
      {
        name: 'Cart reminder',
        type: 'stalled',
        stages: ['cart'],
        after: 'soon',
        emit: 'cart_abandoned',
        url: 'https://hooks.example/cjm',
      },
      { Cookie: cookie },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('trigger.after must be a duration');
    const ok = await post(
      '/sites/demo/settings/rules',
      {
        name: 'Cart reminder',
        type: 'stalled',
        stages: ['cart', 'checkout'],
        notReached: ['post-purchase'],
        after: '30m',
        emit: 'cart_abandoned',
        url: 'https://hooks.example/cjm',
      },
      { Cookie: cookie },
    );
    expect(ok.status).toBe(303);
    const [rule] = await t.store.listRules('demo');
    expect(rule).toMatchObject({
      name: 'Cart reminder',
      enabled: true,
      trigger: {
        type: 'stalled',
        stages: ['cart', 'checkout'],
        notReached: ['post-purchase'],
        after: '30m',
        emit: 'cart_abandoned',
      },
      action: { type: 'webhook', url: 'https://hooks.example/cjm' },
    });
    const page = await (await get('/sites/demo/settings', cookie)).text();
    expect(page).toContain('stays in cart / checkout without reaching post-purchase for 30m');
    expect((await post(`/sites/demo/settings/rules/${rule!.id}/toggle`, {}, { Cookie: cookie })).status).toBe(303);
    expect((await t.store.listRules('demo'))[0]!.enabled).toBe(false);
    expect((await post(`/sites/demo/settings/rules/${rule!.id}/delete`, {}, { Cookie: cookie })).status).toBe(303);
    expect(await t.store.listRules('demo')).toEqual([]);
  });

  it('refuses the 101st rule from the rule form, as the API does', async () => {
    const rule = (i: number) => ({
      name: `Welcome ${i}`,
      type: 'stage_entered',
      stage: 'signup',
      url: `https://hooks.example/w${i}`,
    });
    for (let i = 0; i < 100; i++)
      expect((await post('/sites/demo/settings/rules', rule(i), { Cookie: cookie })).status).toBe(303);
    expect(await t.store.listRules('demo')).toHaveLength(100);
    const refused = await post('/sites/demo/settings/rules', rule(100), { Cookie: cookie });
    expect(refused.status).toBe(409);
    const body = await refused.text();
    expect(body).toContain('site &quot;demo&quot; has 100 rules, the most allowed; delete one first');
    expect(body).toContain('role="alert"');
    expect(await t.store.listRules('demo')).toHaveLength(100);
    const [first] = await t.store.listRules('demo');
    expect((await post(`/sites/demo/settings/rules/${first!.id}/delete`, {}, { Cookie: cookie })).status).toBe(303);
    expect((await post('/sites/demo/settings/rules', rule(100), { Cookie: cookie })).status).toBe(303);
    expect((await t.store.listRules('demo')).map((r) => r.name)).toContain('Welcome 100');
    expect(await t.store.listRules('demo')).toHaveLength(100);
  });

  it('treats toggling or deleting a rule that is already gone as done', async () => {
    for (const action of ['toggle', 'delete']) {
      const res = await post(`/sites/demo/settings/rules/r_gone/${action}`, {}, { Cookie: cookie });
      expect(res.status, action).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/sites\/demo\/settings\?done=rule-/);
    }
    const revoke = await post('/sites/demo/settings/keys/wk_gone/revoke', {}, { Cookie: cookie });
    expect(revoke.status).toBe(303);
  });

  it('creates a write key (shown once) and revokes it', async () => {
    const res = await post('/sites/demo/settings/keys', { name: 'backend' }, { Cookie: cookie });
    expect(res.status).toBe(200);
    const body = await res.text();
    const key = /data-testid="new-key">([^<]+)</.exec(body)?.[1];
    expect(key).toBeTruthy();
    const keys = await t.store.listWriteKeys('demo');
    expect(keys).toHaveLength(1);
    const again = await (await get('/sites/demo/settings', cookie)).text();
    expect(again).not.toContain(key!);
    const revoke = await post(`/sites/demo/settings/keys/${keys[0]!.id}/revoke`, {}, { Cookie: cookie });
    expect(revoke.status).toBe(303);
    expect((await t.store.listWriteKeys('demo'))[0]!.revokedAt).not.toBeNull();
  });
});

describe('assets', () => {
  it('serves the stylesheet and script without a session, cacheable when versioned', async () => {
    const css = await get('/assets/dashboard.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    const js = await get('/assets/dashboard.js');
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(await js.text()).toContain('addEventListener');
  });

  it('serves the built files under their content-hashed names for a year, the stable names revalidated', async () => {
    for (const [stable, path, type] of [
      ['/assets/dashboard.css', manifest()['dashboard.css'], 'text/css; charset=utf-8'],
      ['/assets/dashboard.js', manifest()['dashboard.js'], 'text/javascript; charset=utf-8'],
    ] as const) {
      const hashed = await get(path);
      expect(hashed.status, path).toBe(200);
      expect(hashed.headers.get('content-type')).toBe(type);
      expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(hashed.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await hashed.text()).toBe(built(path));
      const again = await get(stable);
      expect(again.headers.get('cache-control')).toBe('no-cache');
      expect(await again.text()).toBe(built(path));
    }
    // Minified: no comments, no indentation.
    const css = built(manifest()['dashboard.css']);
    expect(css).not.toContain('/*');
    expect(css).not.toMatch(/\n\s/);
    expect(css).toContain('.badge.poor{');
  });

  it('serves nothing else from /assets/: other names, old hashes and the manifest are 404', async () => {
    for (const path of ['/assets/dashboard.00000000.css', '/assets/manifest.json', '/assets/cjm.js', '/assets/x.css']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toContain('json');
    }
  });

  it('without a build, renders the pages without stylesheet and script, and says once how to fix it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      t = await makeApp(undefined, { asset: async () => null });
      for (const path of ['/login', '/login?next=/x']) {
        const res = await get(path);
        expect(res.status).toBe(200);
        const body = await res.text();
        expect(body).toContain('<title>Sign in · cjm</title>');
        expect(body).not.toMatch(/<link rel="stylesheet"|<script/);
      }
      expect((await get('/assets/dashboard.css')).status).toBe(404);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/^\[cjm\] .*manifest\.json.*run npm run build$/);
    } finally {
      warn.mockRestore();
    }
  });

  it('leaves /collect, /api and unknown paths alone', async () => {
    expect((await t.collect(batch('v9', [page('/')]))).status).toBe(202);
    expect((await t.app.request('/api/sites/demo/visitors')).status).toBe(401);
    const nope = await t.app.request('/nope');
    expect(nope.status).toBe(404);
    expect(nope.headers.get('content-type')).toContain('json');
  });
});
