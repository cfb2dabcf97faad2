/**
 * The Worker over HTTP on a real local workerd with a local D1 (wrangler's unstable_startWorker): what the Node
 * collector answers, the Worker answers. One Worker per describe block, started once.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/worker';
import { startWorker, type LocalWorker } from './start';

const TOKEN = 'worker-test-token-0123456789';
/** A browser's User-Agent: /collect drops (and counts) what bots send. */
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const now = Date.now();
let seq = 0;
const page = (path: string, ts = now - 60_000 + ++seq) => ({
  id: `w${seq}-${ts}`,
  type: 'page',
  ts,
  url: `https://shop.test${path}`,
});

describe('the Worker on workerd + D1', () => {
  let w: LocalWorker;
  beforeAll(async () => {
    w = await startWorker({ adminToken: TOKEN });
  });
  afterAll(async () => {
    await w?.stop();
  });

  const collect = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${w.url}/collect`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': UA, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const api = (path: string, token = TOKEN) =>
    fetch(`${w.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });

  it('accepts a batch with 202 after it is stored, and counts a retry as duplicates', async () => {
    const events = [
      page('/'),
      page('/cart'),
      { id: `x${now}`, type: 'event', ts: now - 1000, name: 'add_to_cart', value: 12.5 },
    ];
    const first = await collect({ site: 'demo', visitor: 'wv1', events });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: 3, duplicates: 0 });
    const again = await collect({ site: 'demo', visitor: 'wv1', events });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ accepted: 0, duplicates: 3 });

    const res = await api('/api/sites/demo/visitors/wv1');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { journey: { currentStage: string }; timeline: Array<{ id: string }> };
    expect(body.journey.currentStage).toBe('cart');
    expect(body.timeline.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it.each([
    ['not JSON', '{nope', undefined],
    ['a bad type', { site: 'demo', visitor: 'v', events: [{ id: 'a', type: 'nope', ts: now }] }, 'events[0].type'],
    ['no id', { site: 'demo', visitor: 'v', events: [{ type: 'page', ts: now }] }, 'events[0].id'],
    ['a bad visitor', { site: 'demo', visitor: 'v v', events: [{ id: 'a', type: 'page', ts: now }] }, 'visitor'],
  ])('refuses %s with a JSON 400 naming the field, writing nothing', async (_, body, path) => {
    const res = await collect(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string; path?: string };
    expect(json.error).toMatch(/\w/);
    expect(json.path).toBe(path);
  });

  it('answers 404 for an unknown site and 413 for a body over the limit', async () => {
    const unknown = await collect({ site: 'nope', visitor: 'v', events: [page('/')] });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: '[cjm] unknown site "nope"', path: 'site' });
    const big = await collect({ site: 'demo', visitor: 'v', events: [page('/')], pad: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toMatch(/larger than/);
  });

  it('answers the CORS preflight of /collect from any origin', async () => {
    const res = await fetch(`${w.url}/collect`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.test',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.test');
  });

  it('guards the API with the admin token from the Worker var', async () => {
    const none = await fetch(`${w.url}/api/sites/demo/visitors`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toMatch(/Bearer/);
    expect((await api('/api/sites/demo/visitors', 'wrong')).status).toBe(401);
    const ok = await api('/api/sites/demo/visitors?limit=5');
    expect(ok.status).toBe(200);
    const list = (await ok.json()) as { visitors: Array<{ visitor: string }>; cursor: string | null };
    expect(list.visitors.map((v) => v.visitor)).toContain('wv1');
    expect((await api('/api/sites/demo/visitors?cursor=bogus')).status).toBe(400);
    expect((await api('/api/sites/nope/visitors')).status).toBe(404);
  });

  it('serves the dashboard: sign in with the admin token, then the journey map of the demo site', async () => {
    const login = await fetch(`${w.url}/login`);
    expect(login.status).toBe(200);
    expect(login.headers.get('content-type')).toMatch(/text\/html/);
    // A same-origin form post, as the browser sends it (the dashboard refuses cross-site posts).
    const form = (token: string, next: string) =>
      fetch(`${w.url}/login`, {
        method: 'POST',
        headers: { Origin: w.url },
        body: new URLSearchParams({ token, next }),
        redirect: 'manual',
      });
    const wrong = await form('wrong', '/');
    expect(wrong.status).toBe(401);
    const ok = await form(TOKEN, '/sites/demo/map');
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get('set-cookie')?.split(';')[0];
    expect(cookie).toBeTruthy();
    const map = await fetch(`${w.url}/sites/demo/map`, { headers: { Cookie: cookie as string }, redirect: 'manual' });
    expect(map.status).toBe(200);
    expect(await map.text()).toMatch(/<!doctype html>/i);
    const anonymous = await fetch(`${w.url}/sites/demo/map`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
  });

  it('serves the built tag, its vitals and markup chunks and the demo shop from the assets binding', async () => {
    const tag = await fetch(`${w.url}/cjm.js`);
    expect(tag.status).toBe(200);
    expect(tag.headers.get('content-type')).toMatch(/javascript/);
    expect(tag.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await tag.text()).toBe(readFileSync(join(ROOT, 'dist', 'cjm.js'), 'utf8'));
    const vitals = await fetch(`${w.url}/cjm.vitals.js`);
    expect(vitals.status).toBe(200);
    expect(await vitals.text()).toBe(readFileSync(join(ROOT, 'dist', 'cjm.vitals.js'), 'utf8'));
    const markup = await fetch(`${w.url}/cjm.markup.js`);
    expect(markup.status).toBe(200);
    expect(markup.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await markup.text()).toBe(readFileSync(join(ROOT, 'dist', 'cjm.markup.js'), 'utf8'));
    const shop = await fetch(`${w.url}/demo/`);
    expect(shop.status).toBe(200);
    expect(shop.headers.get('content-type')).toMatch(/text\/html/);
    expect(await shop.text()).toBe(readFileSync(join(ROOT, 'demo-site', 'index.html'), 'utf8'));
    const redirect = await fetch(`${w.url}/demo`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    const missing = await fetch(`${w.url}/demo/nope.html`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/json/);
  });
});

describe('the Worker without CJM_ADMIN_TOKEN, restarted', () => {
  it('generates a token once, keeps it in D1, and answers to the same token after a restart', async () => {
    const persistTo = mkdtempSync(join(tmpdir(), 'cjm-worker-token-'));
    try {
      const first = await startWorker({ persistTo });
      const token = first.token;
      await first.stop();
      expect(token).toMatch(/^[0-9a-f]{48}$/);
      // Restarted without the assets router, so its cron handler can be triggered locally too.
      const second = await startWorker({ persistTo, assets: false });
      try {
        expect(second.token).toBe(token);
        const res = await fetch(`${second.url}/api/sites/demo/visitors`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ visitors: [], cursor: null });
        // The demo site exists, as with npm start.
        const collect = await fetch(`${second.url}/collect`, {
          method: 'POST',
          headers: { 'User-Agent': UA },
          body: JSON.stringify({ site: 'demo', visitor: 'v1', events: [page('/')] }),
        });
        expect(collect.status).toBe(202);
        expect(await collect.json()).toEqual({ accepted: 1, duplicates: 0 });
        // The cron handler (stall detection, automations) runs on workerd against the same D1.
        const cron = await second.scheduled();
        expect(await cron.text()).toBe('ok');
        expect(cron.status).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(persistTo, { recursive: true, force: true });
    }
  });
});
