/**
 * Hostile clients against the Worker on a real local workerd with D1 (issue 14): compressed bodies decompressed as a
 * stream by workerd's DecompressionStream (issue 15, item 4), keyed tombstones under CJM_SECRET (item 12), and a
 * CJM_ADMIN_TOKEN too short refused on every request (item 4).
 */
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalD1 } from '../../scripts/worker';
import { startWorker, type LocalWorker } from './start';

const TOKEN = 'worker-hardening-token-0123456789';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

describe('the Worker against hostile clients', () => {
  let w: LocalWorker;
  beforeAll(async () => {
    w = await startWorker({ adminToken: TOKEN, secret: 'worker-hashing-secret-0123456789abcdef', assets: false });
  });
  afterAll(async () => {
    await w?.stop();
  });

  const collect = (body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${w.url}/collect`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': UA, ...headers },
      body,
    });
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${w.url}${path}`, { ...init, headers: { Authorization: `Bearer ${TOKEN}` } });

  it('takes gzip and deflate bodies, refuses a bomb (413), a mislabelled body (400) and other encodings (415)', async () => {
    const now = Date.now();
    const batch = JSON.stringify({
      site: 'demo',
      visitor: 'wgz',
      events: [{ id: `g${now}`, type: 'page', ts: now - 1000, url: 'https://shop.test/' }],
    });
    const ok = await collect(gzipSync(batch), { 'Content-Encoding': 'gzip' });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ accepted: 1 });
    // 10 MB of zeros, 10 KB on the wire (one gzip member: workerd refuses bytes after a member's end, Node reads on).
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect((await collect(bomb, { 'Content-Encoding': 'gzip' })).status).toBe(413);
    const deflated = JSON.stringify({
      site: 'demo',
      visitor: 'wdf',
      events: [{ id: `d${now}`, type: 'page', ts: now - 999 }],
    });
    expect((await collect(deflateSync(deflated), { 'Content-Encoding': 'deflate' })).status).toBe(202);
    expect((await collect(batch, { 'Content-Encoding': 'gzip' })).status).toBe(400);
    expect((await collect(batch, { 'Content-Encoding': 'br' })).status).toBe(415);
  });

  it('keeps tombstones as keyed hashes in D1, and no hashing secret there when CJM_SECRET is set', async () => {
    const now = Date.now();
    const events = JSON.stringify({
      site: 'demo',
      visitor: 'werase',
      events: [{ id: `e${now}`, type: 'identify', ts: now - 1000, userId: 'zoe@example.com' }],
    });
    expect((await collect(events)).status).toBe(202);
    expect((await api('/api/sites/demo/visitors/werase', { method: 'DELETE' })).status).toBe(200);
    const d1 = await openLocalD1(w.persistTo);
    try {
      const { results } = await d1.db.prepare('SELECT hash FROM tombstones').all<{ hash: string }>();
      expect(results.map((r) => r.hash).sort()).toEqual([
        expect.stringMatching(/^k1:[A-Za-z0-9_-]{43}$/),
        expect.stringMatching(/^k1:[A-Za-z0-9_-]{43}$/),
      ]);
      const meta = await d1.db.prepare("SELECT key FROM meta WHERE key LIKE 'hash_secret%'").all<{ key: string }>();
      expect(meta.results.map((r) => r.key)).toEqual(['hash_secret_check']);
    } finally {
      await d1.dispose();
    }
    const again = await collect(events);
    expect(again.headers.get('x-cjm-dropped')).toBe('deleted');
  });
});

describe('the Worker with a short CJM_ADMIN_TOKEN', () => {
  let w: LocalWorker;
  beforeAll(async () => {
    w = await startWorker({ adminToken: 'short-token', assets: false });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('answers 503 naming the fix, on every route', async () => {
    for (const path of ['/login', '/api/sites', '/collect']) {
      const res = await fetch(`${w.url}${path}`, { headers: { Authorization: 'Bearer short-token' } });
      expect(res.status, path).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/at least 24 characters.*openssl rand -hex 24/);
    }
  });
});
