/**
 * The dashboard's hostile-client findings (issue 14), through `app.request()`: bounded form bodies (item 1), the
 * sign-in limiter before the body and its keys (items 1, 5), bearer guesses on the same limiter and the session
 * cookie's own secret and capped expiry (item 4), form content types and required fields (item 6), malformed
 * multipart (item 7), Secure and HSTS only over https (item 10).
 */
import { getSignedCookie } from 'hono/cookie';
import { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import { SESSION_DAYS, sessionSecret } from '../../collector/core/dashboard/auth';
import { sha256Hex } from '../../collector/core/privacy';
import { createSignInLimiter } from '../../collector/core/limits';
import { fileAssets } from '../../collector/node';
import { makeApp, TOKEN, type TestApp } from '../helpers';

/** The value of a signed session cookie (`name=value`), read back with the deployment's secret. */
const cookieValue = async (cookie: string, secret: string): Promise<string> => {
  const probe = new Hono();
  probe.get('/', async (c) => c.text(String(await getSignedCookie(c, secret, 'cjm_session'))));
  return (await probe.request('/', { headers: { Cookie: cookie } })).text();
};

let t: TestApp;
const ORIGIN = 'http://localhost';
const IP = { 'x-test-ip': '203.0.113.9' };

const form = (fields: Record<string, string | string[]>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
};

const post = (
  path: string,
  body: BodyInit,
  headers: Record<string, string> = {},
  type = 'application/x-www-form-urlencoded',
) => t.app.request(path, { method: 'POST', headers: { 'Content-Type': type, Origin: ORIGIN, ...headers }, body });

const signIn = async (headers: Record<string, string> = {}): Promise<string> => {
  const res = await post('/login', form({ token: TOKEN, next: '/' }), headers);
  expect(res.status).toBe(303);
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
};

beforeEach(async () => {
  t = await makeApp(undefined, { asset: fileAssets(), clientIp: (c) => c.req.header('x-test-ip') ?? null });
});

describe('form bodies are bounded (item 1)', () => {
  it('refuses a sign-in body above 16 KB with 413, without a session', async () => {
    const body = form({ token: TOKEN, pad: 'x'.repeat(17 * 1024) });
    const res = await post('/login', body, { ...IP, 'Content-Length': String(body.length) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/larger than 16384 bytes/);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('connection')).toBe('close');
  });

  it('refuses a 50 MB streamed sign-in body after reading at most its first 16 KB', async () => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(120);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        if (pulled > 50 * 1024 * 1024) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await t.app.request('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN, 'Transfer-Encoding': 'chunked' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(4 * chunk.byteLength); // the stream's own read-ahead, not 50 MB
  });

  it('bounds every dashboard form: 64 KB, and 256 KB for the stage model', async () => {
    const cookie = await signIn(IP);
    const big = (n: number) => 'x'.repeat(n);
    const site = await post(
      '/sites/demo/settings/site',
      form({ name: 'Shop', origins: '', sessionTimeoutMinutes: '30', pad: big(65 * 1024) }),
      { Cookie: cookie },
    );
    expect(site.status).toBe(413);
    const stages = await post(
      '/sites/demo/settings/stages',
      form({ stage_name: 'a', stage_urls: '', stage_events: '', conversion: 'a', pad: big(257 * 1024) }),
      { Cookie: cookie },
    );
    expect(stages.status).toBe(413);
    const del = await post('/sites/demo/visitors/v1/delete', form({ pad: big(65 * 1024) }), { Cookie: cookie });
    expect(del.status).toBe(413);
    expect((await t.store.getSite('demo'))!.name).toBe('Demo shop');
  });

  it('checks the limiter before reading the body: a blocked address gets 429 for a 50 MB body, unread', async () => {
    for (let i = 0; i < 10; i++) expect((await post('/login', form({ token: `g${i}` }), IP)).status).toBe(401);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024 * 1024));
        if (pulled >= 50) controller.close();
      },
    });
    const res = await t.app.request('/login', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: ORIGIN,
        ...IP,
        'Content-Length': '52428800',
      },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(429);
    expect(res.headers.get('connection')).toBe('close');
    expect(pulled).toBeLessThanOrEqual(2); // at most the stream's read-ahead
  });
});

describe('the sign-in limiter (item 5)', () => {
  it('groups IPv6 addresses by /64: rotating the interface id does not buy more guesses', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await post('/login', form({ token: `g${i}` }), { 'x-test-ip': `2001:db8:1:2::${i + 1}` });
      expect(res.status).toBe(401);
    }
    expect((await post('/login', form({ token: 'g' }), { 'x-test-ip': '2001:db8:1:2:ffff::9' })).status).toBe(429);
    // Another /64 is another client.
    expect((await post('/login', form({ token: 'g' }), { 'x-test-ip': '2001:db8:1:3::1' })).status).toBe(401);
  });

  it('has no shared bucket for unknown addresses: one client cannot lock out the others', async () => {
    t = await makeApp(undefined, { asset: fileAssets() }); // no clientIp: every request's address is unknown
    for (let i = 0; i < 30; i++) expect((await post('/login', form({ token: `g${i}` }))).status).toBe(401);
    expect((await post('/login', form({ token: TOKEN, next: '/' }))).status).toBe(303);
  });

  it('holds a distributed guess to a global ceiling, while an address that signed in before keeps its access', () => {
    const limiter = createSignInLimiter({
      perAddress: { burst: 10, perSecond: 0.2 },
      global: { burst: 50, perSecond: 1 },
    });
    const now = 1_000_000;
    limiter.succeeded('198.51.100.1', now); // the admin, earlier
    for (let i = 0; i < 50; i++) {
      expect(limiter.wait(`203.0.113.${i}`, now)).toBe(0);
      limiter.failed(`203.0.113.${i}`, now);
    }
    expect(limiter.wait('192.0.2.77', now)).toBeGreaterThan(0); // a fresh address: the ceiling holds
    expect(limiter.wait(null, now)).toBeGreaterThan(0);
    expect(limiter.wait('198.51.100.1', now)).toBe(0); // the admin's address is exempt from the ceiling
    expect(limiter.wait('192.0.2.77', now + 1000)).toBe(0); // one refilled a second later
  });
});

describe('admin tokens: brute force, cookie secret, expiry (item 4)', () => {
  it('counts wrong bearer tokens against the sign-in limiter: 429 with Retry-After', async () => {
    const api = (token: string) =>
      t.app.request('/api/sites', { headers: { Authorization: `Bearer ${token}`, ...IP } });
    for (let i = 0; i < 10; i++) expect((await api(`wrong${i}`)).status).toBe(401);
    const res = await api(TOKEN);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: string }).error).toMatch(/too many wrong tokens/);
    // The same budget as the sign-in form.
    expect((await post('/login', form({ token: TOKEN, next: '/' }), IP)).status).toBe(429);
    t.clock.now += 5_000;
    expect((await api(TOKEN)).status).toBe(200);
  });

  it('signs the cookie with a random secret kept in the database, not with anything derived from the token', async () => {
    const cookie = await signIn(IP);
    const secret = await t.store.getMeta('session_secret');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessionSecret(t.store)).toBe(secret);
    // The cookie verifies under the stored secret, and carries neither the token nor its plain hash.
    const probe = new Hono();
    probe.get('/', async (c) => c.text(String(await getSignedCookie(c, secret!, 'cjm_session'))));
    const value = await (await probe.request('/', { headers: { Cookie: cookie } })).text();
    expect(value).toMatch(/^v3\.[A-Za-z0-9_-]{43}$/);
    expect(decodeURIComponent(cookie)).not.toContain(TOKEN);
    // The session is kept on the server by the SHA-256 of the cookie's secret, never by the secret itself.
    const id = await sha256Hex(value.slice(3));
    expect(await t.store.getSession(id)).toMatchObject({ userId: null, revokedAt: null });
    expect(await t.store.getSession(value.slice(3))).toBeNull();
  });

  it('signs everyone out when the admin token changes', async () => {
    let token = TOKEN;
    t = await makeApp(t.store, { asset: fileAssets(), getAdminToken: async () => token });
    const cookie = await signIn();
    expect((await t.app.request('/sites/demo/map', { headers: { Cookie: cookie } })).status).toBe(200);
    token = 'another-admin-token-of-32-characters';
    expect((await t.app.request('/sites/demo/map', { headers: { Cookie: cookie } })).status).toBe(303);
  });

  it('caps the expiry on the server: a validly signed cookie of a session older than 14 days is refused', async () => {
    const secret = await sessionSecret(t.store);
    const cookie = await signIn(IP);
    const sign = async (value: string) => {
      const signer = new Hono();
      signer.get('/', async (c) => {
        const { setSignedCookie } = await import('hono/cookie');
        await setSignedCookie(c, 'cjm_session', value, secret);
        return c.body(null);
      });
      return (await signer.request('/')).headers.get('set-cookie')!.split(';')[0]!;
    };
    // A session row that promises more than 14 days (made 15 days ago, ending in 30): the server's cap wins.
    const old = 'A'.repeat(43);
    await t.store.createSession({
      id: await sha256Hex(old),
      userId: null,
      tokenTag: (await t.store.getSession(await sha256Hex((await cookieValue(cookie, secret)).slice(3))))!.tokenTag,
      createdAt: t.clock.now - (SESSION_DAYS + 1) * 86_400_000,
      lastSeenAt: t.clock.now - 60_000,
      expiresAt: t.clock.now + 30 * 86_400_000,
      revokedAt: null,
    });
    expect((await t.app.request('/sites/demo/map', { headers: { Cookie: await sign(`v3.${old}`) } })).status).toBe(303);
    // A validly signed secret of no session at all.
    const unknown = await sign(`v3.${'B'.repeat(43)}`);
    expect((await t.app.request('/sites/demo/map', { headers: { Cookie: unknown } })).status).toBe(303);
    expect((await t.app.request('/sites/demo/map', { headers: { Cookie: cookie } })).status).toBe(200);
  });
});

describe('dashboard posts: form content types and required fields (item 6)', () => {
  it('refuses JSON and text posts with the cookie (415), changing nothing', async () => {
    const cookie = await signIn(IP);
    await t.collect({ site: 'demo', visitor: 'v1', events: [{ id: 'e1', type: 'page', ts: t.clock.now }] });
    for (const type of ['application/json', 'text/plain']) {
      const erase = await post('/sites/demo/visitors/v1/delete', '{}', { Cookie: cookie }, type);
      expect(erase.status).toBe(415);
      expect(((await erase.json()) as { path: string }).path).toBe('Content-Type');
      const reset = await post('/sites/demo/settings/site', '{"name":""}', { Cookie: cookie }, type);
      expect(reset.status).toBe(415);
    }
    expect(await t.store.eventsOfVisitors('demo', ['v1'])).toHaveLength(1);
    expect((await t.store.getSite('demo'))!.name).toBe('Demo shop');
  });

  it('requires the fields each form sends instead of taking a missing one for empty', async () => {
    const cookie = await signIn(IP);
    const before = await t.store.getSite('demo');
    const cases: Array<[string, Record<string, string | string[]>, string]> = [
      ['/sites/demo/settings/site', { name: 'Shop' }, 'origins'],
      ['/sites/demo/settings/site', { origins: '', sessionTimeoutMinutes: '30' }, 'name'],
      ['/sites/demo/settings/stages', { stage_name: 'a', stage_urls: '', stage_events: '' }, 'conversion'],
      [
        '/sites/demo/settings/stages',
        { stage_name: ['a', 'b'], stage_urls: '', stage_events: '', conversion: 'a' },
        'stage_name',
      ],
      ['/sites/demo/settings/keys', {}, 'name'],
      ['/sites/demo/settings/rules', { name: 'r', type: 'event', url: 'https://hooks.example/' }, 'event'],
      [
        '/sites/demo/settings/rules',
        { name: 'r', type: 'stalled', url: 'https://hooks.example/', after: '1h' },
        'emit',
      ],
      ['/login', { next: '/' }, 'token'],
    ];
    for (const [path, fields, missing] of cases) {
      const res = await post(path, form(fields), { Cookie: cookie });
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { path: string }).path, path).toBe(missing);
    }
    expect(await t.store.getSite('demo')).toEqual(before);
    expect(await t.store.listWriteKeys('demo')).toEqual([]);
    expect(await t.store.listRules('demo')).toEqual([]);
  });
});

describe('malformed multipart (item 7)', () => {
  it('answers 400 for a broken multipart body on /login and on a form, never 500', async () => {
    const cookie = await signIn(IP);
    const bodies = [
      '--x\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc', // no closing boundary
      'not multipart at all',
      '--x\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--x--\r\n',
      '--x\r\n\r\n\r\n--x--',
    ];
    for (const body of bodies) {
      for (const path of ['/login', '/sites/demo/settings/keys']) {
        const res = await post(path, body, { Cookie: cookie }, 'multipart/form-data; boundary=x');
        expect([400, 401], `${path}: ${JSON.stringify(body)}`).toContain(res.status);
        if (res.status === 400) expect(((await res.json()) as { error: string }).error).toMatch(/\[cjm\]/);
      }
    }
    const noBoundary = await post('/login', 'token=x', {}, 'multipart/form-data');
    expect(noBoundary.status).toBe(400);
  });

  it('accepts a well-formed multipart sign-in', async () => {
    const fd = new FormData();
    fd.set('token', TOKEN);
    fd.set('next', '/sites/demo/map');
    const res = await t.app.request('/login', { method: 'POST', headers: { Origin: ORIGIN, ...IP }, body: fd });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sites/demo/map');
  });
});

describe('Secure cookie and HSTS only over https (item 10)', () => {
  it('plain http: no Secure, no HSTS; https as the runtime reports it: both', async () => {
    const plain = await post('/login', form({ token: TOKEN, next: '/' }), IP);
    expect(plain.headers.get('set-cookie')).not.toContain('Secure');
    expect(plain.headers.get('strict-transport-security')).toBeNull();
    const api = await t.api('/api/sites');
    expect(api.headers.get('strict-transport-security')).toBeNull();

    // Behind a TLS proxy the Node entry reports https from the trusted X-Forwarded-Proto (test/collector/proxy.test.ts).
    const behind = await makeApp(t.store, {
      asset: fileAssets(),
      isHttps: (c) => c.req.header('x-test-proto') === 'https',
    });
    const https = await behind.app.request('http://cjm.example/login', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: 'https://cjm.example', // what the browser sends: the page was https
        'x-test-proto': 'https',
      },
      body: form({ token: TOKEN, next: '/' }),
    });
    expect(https.status).toBe(303);
    expect(https.headers.get('set-cookie')).toContain('Secure');
    expect(https.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
    const apiHttps = await behind.app.request('http://cjm.example/api/sites', {
      headers: { Authorization: `Bearer ${TOKEN}`, 'x-test-proto': 'https' },
    });
    expect(apiHttps.headers.get('strict-transport-security')).toMatch(/max-age=/);
  });
});
