/**
 * The dashboard on Workers: the same pages, served by collector/worker.ts on a real local workerd with a local D1.
 * Sign-in, every page with data, CSP, the delete button's erase.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/worker';
import { startWorker, type LocalWorker } from '../worker/start';

const TOKEN = 'dash-worker-token-0123456789';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

describe('the dashboard on workerd + D1', () => {
  let w: LocalWorker;
  let cookie = '';

  beforeAll(async () => {
    w = await startWorker({ adminToken: TOKEN });
    const now = Date.now();
    const ev = (i: number, e: Record<string, unknown>) => ({ id: `dw${i}`, ts: now - 60_000 + i * 1000, ...e });
    const res = await fetch(`${w.url}/collect`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
      body: JSON.stringify({
        site: 'demo',
        visitor: 'wv1',
        events: [
          ev(1, { type: 'page', url: 'https://shop.test/?utm_source=newsletter&utm_medium=email', title: 'Home' }),
          ev(2, { type: 'event', name: 'add_to_cart', props: { sku: 'mug' } }),
          ev(3, { type: 'page', url: 'https://shop.test/checkout' }),
          ev(4, { type: 'page', url: 'https://shop.test/cart' }),
          ev(5, { type: 'vital', name: 'LCP', value: 2100, stage: 'cart' }),
          ev(6, { type: 'event', name: '<img src=x onerror=alert(1)>' }),
          ev(7, { type: 'feedback', value: 4 }),
        ],
      }),
    });
    expect(res.status).toBe(202);
  }, 120_000);
  afterAll(async () => {
    await w?.stop();
  });

  const get = (path: string) => fetch(`${w.url}${path}`, { headers: { Cookie: cookie }, redirect: 'manual' });
  const post = (path: string, body: string) =>
    fetch(`${w.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: w.url, Cookie: cookie },
      body,
      redirect: 'manual',
    });

  it('redirects to sign-in, then signs in with the admin token', async () => {
    const first = await get('/sites/demo/map');
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/login?next=%2Fsites%2Fdemo%2Fmap');
    const res = await post('/login', `token=${TOKEN}&next=%2Fsites%2Fdemo%2Fmap`);
    expect(res.status).toBe(303);
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    cookie = set.split(';')[0]!;
  });

  it.each([
    '/sites/demo/map?range=all',
    '/sites/demo/funnel?range=all',
    '/sites/demo/visitors?range=all',
    '/sites/demo/visitors/wv1',
    '/sites/demo/settings',
  ])('serves %s with a strict CSP and the data', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const body = await res.text();
    expect(body).toContain('cart');
    expect(body).not.toContain('<img src=x');
  });

  it('serves the retention tab from the D1 rollup', async () => {
    const res = await get('/sites/demo/retention?range=all');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const body = await res.text();
    expect(body).toContain('data-testid="cohort-retention"');
    expect(body).toMatch(/data-k="0" title="(\d+) of \1 journeys">100%</);
  });

  it('serves the stylesheet and script', async () => {
    expect((await get('/assets/dashboard.css')).headers.get('content-type')).toContain('text/css');
    expect((await get('/assets/dashboard.js')).headers.get('content-type')).toContain('javascript');
  });

  it('links the built files by their hashed names and serves them from the assets binding for a year', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'dist', 'assets', 'manifest.json'), 'utf8')) as Record<
      string,
      string
    >;
    const page = await (await get('/sites/demo/map?range=all')).text();
    for (const [name, type] of [
      ['dashboard.css', 'text/css; charset=utf-8'],
      ['dashboard.js', 'text/javascript; charset=utf-8'],
    ] as const) {
      const path = manifest[name]!;
      expect(path).toMatch(/^\/assets\/dashboard\.[0-9a-f]{8}\.(css|js)$/);
      expect(page).toContain(`"${path}"`);
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(await res.text()).toBe(readFileSync(join(ROOT, 'dist', path), 'utf8'));
    }
    expect((await get('/assets/manifest.json')).status).toBe(404);
  });

  it('erases a visitor from the delete button', async () => {
    const res = await post('/sites/demo/visitors/wv1/delete', '');
    expect(res.status).toBe(303);
    expect((await get('/sites/demo/visitors/wv1')).status).toBe(404);
  });
});
