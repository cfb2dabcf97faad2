/**
 * Behind reverse proxies (issue 14, items 2 and 10), against started Node collectors: with CJM_TRUST_PROXY=<hops> the
 * client address is the hops-th X-Forwarded-For entry from the right, so a client choosing the left-most entry buys
 * neither guesses nor visitor ids; https comes from the trusted X-Forwarded-Proto (Secure cookie, HSTS, CSRF origin).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardedEntry, start, trustedHops, type Running } from '../../collector/node';

const TOKEN = 'proxy-test-token-0123456789';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
let one: Running;
let two: Running;
let none: Running;
beforeAll(async () => {
  [one, two, none] = await Promise.all([
    start({ port: 0, db: ':memory:', adminToken: TOKEN, automation: false, trustProxy: 1 }),
    start({ port: 0, db: ':memory:', adminToken: TOKEN, automation: false, trustProxy: 2 }),
    start({ port: 0, db: ':memory:', adminToken: TOKEN, automation: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([one, two, none].map((c) => c?.close()));
});

const base = (c: Running) => `http://127.0.0.1:${c.port}`;
const login = (c: Running, token: string, headers: Record<string, string>) =>
  fetch(`${base(c)}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: base(c), ...headers },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });

describe('forwardedEntry and CJM_TRUST_PROXY', () => {
  it('takes the hops-th entry from the right, the left-most when there are fewer', () => {
    const h = 'spoofed, 198.51.100.7, 10.0.0.2';
    expect(forwardedEntry(h, 1)).toBe('10.0.0.2');
    expect(forwardedEntry(h, 2)).toBe('198.51.100.7');
    expect(forwardedEntry(h, 5)).toBe('spoofed');
    expect(forwardedEntry(h, 0)).toBeUndefined();
    expect(forwardedEntry(undefined, 1)).toBeUndefined();
    expect(forwardedEntry(' , 203.0.113.9 ,', 1)).toBe('203.0.113.9');
  });

  it('reads CJM_TRUST_PROXY as a number of hops, refusing anything else at start', () => {
    expect(trustedHops(undefined)).toBe(0);
    expect(trustedHops('0')).toBe(0);
    expect(trustedHops('1')).toBe(1);
    expect(trustedHops('3')).toBe(3);
    expect(trustedHops('true')).toBe(1);
    expect(() => trustedHops('yes')).toThrow(/number of reverse proxies/);
    expect(() => trustedHops('11')).toThrow(/0-10/);
  });
});

describe('X-Forwarded-For (item 2)', () => {
  it('with one trusted proxy, rotating the left-most hop does not buy sign-in guesses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await login(one, `wrong-${i}`, { 'X-Forwarded-For': `10.9.${i}.1, 198.51.100.20` });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    // Another client behind the same proxy is another address.
    expect((await login(one, 'wrong', { 'X-Forwarded-For': '198.51.100.21' })).status).toBe(401);
  });

  it('derives the same visitor id whatever the client writes on the left, another for another client', async () => {
    const send = (xff: string) =>
      fetch(`${base(one)}/collect`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'User-Agent': UA, 'X-Forwarded-For': xff },
        body: JSON.stringify({
          site: 'demo',
          events: [
            { id: `x${Math.random().toString(36).slice(2)}`, type: 'page', ts: Date.now(), url: 'https://shop.test/' },
          ],
        }),
      });
    for (const xff of ['1.1.1.1, 203.0.113.50', '2.2.2.2, 203.0.113.50', '203.0.113.50', '203.0.113.51'])
      expect((await send(xff)).status).toBe(202);
    const { visitors } = (await (
      await fetch(`${base(one)}/api/sites/demo/visitors`, { headers: { Authorization: `Bearer ${TOKEN}` } })
    ).json()) as { visitors: Array<{ touches: number }> };
    expect(visitors.map((v) => v.touches).sort()).toEqual([1, 3]);
  });

  it('with two trusted proxies, takes the second from the right', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await login(two, `wrong-${i}`, { 'X-Forwarded-For': `9.9.${i}.9, 198.51.100.30, 10.0.0.${i}` });
      statuses.push(res.status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect((await login(two, 'wrong', { 'X-Forwarded-For': '198.51.100.31, 10.0.0.1' })).status).toBe(401);
  });

  it('without trust, ignores the header: the socket address counts', async () => {
    for (let i = 0; i < 10; i++) await login(none, `wrong-${i}`, { 'X-Forwarded-For': `10.1.${i}.1` });
    expect((await login(none, TOKEN, { 'X-Forwarded-For': '198.51.100.99' })).status).toBe(429);
  });

  it('falls back to the socket address for an entry that is not an IP address', async () => {
    const c = await start({ port: 0, db: ':memory:', adminToken: TOKEN, automation: false, trustProxy: 1 });
    try {
      for (let i = 0; i < 10; i++) await login(c, `wrong-${i}`, { 'X-Forwarded-For': `not-an-ip-${i}` });
      expect((await login(c, TOKEN, { 'X-Forwarded-For': 'still-not-one' })).status).toBe(429);
      expect((await login(c, TOKEN, { 'X-Forwarded-For': '[2001:db8::5]:4431' })).status).toBe(303);
    } finally {
      await c.close();
    }
  });
});

describe('X-Forwarded-Proto (item 10)', () => {
  it('behind a trusted TLS proxy: Secure cookie and HSTS, and the https page may post its forms', async () => {
    const res = await fetch(`${base(one)}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: `https://127.0.0.1:${one.port}`, // the browser saw https
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-For': '198.51.100.70',
      },
      body: new URLSearchParams({ token: TOKEN, next: '/' }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(/; Secure/);
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
  });

  it('untrusted, the header is ignored: no Secure, no HSTS', async () => {
    const page = await fetch(`${base(none)}/login`, { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(page.headers.get('strict-transport-security')).toBeNull();
    const c = await start({ port: 0, db: ':memory:', adminToken: TOKEN, automation: false });
    try {
      const ok = await login(c, TOKEN, { 'X-Forwarded-Proto': 'https' });
      expect(ok.status).toBe(303);
      expect(ok.headers.get('set-cookie')).not.toMatch(/Secure/);
    } finally {
      await c.close();
    }
  });
});
