/**
 * Hostile clients at the ingest and admin API (issue 14), through `app.request()`: compressed bodies on /collect and
 * /v1/* (issue 15, item 4), nesting depth (item 7), quotas and the write-key rate limit (item 8), the CSV guard
 * (item 13), the webhook blocklist and the stored URL (item 14), the per-site "require Origin" switch (item 15).
 */
import { gzipSync, deflateSync, deflateRawSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { csvCell } from '../../collector/core/services/export';
import { addressKind } from '../../collector/core/automation/urls';
import type { CountersReport } from '../../collector/core/reports';
import { LIMITS } from '../../collector/core/protocol';
import { batch, makeApp, page, TOKEN, type TestApp } from '../helpers';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
let t: TestApp;
let key: string;
beforeEach(async () => {
  t = await makeApp(undefined, { clientIp: (c) => c.req.header('x-test-ip') ?? null, rateLimit: false });
  key = (await t.store.createWriteKey('demo', 'test')).key;
});

const basic = (k: string) => `Basic ${btoa(`${k}:`)}`;
const raw = (path: string, body: string | Uint8Array, headers: Record<string, string>) =>
  t.app.request(path, { method: 'POST', headers: { 'User-Agent': UA, ...headers }, body: body as BodyInit });
const counters = async () => ((await (await t.api('/api/sites/demo/counters')).json()) as CountersReport).totals;

describe('compressed bodies', () => {
  const body = () => JSON.stringify(batch('gz1', [page('/'), page('/cart')]));
  const track = () =>
    JSON.stringify({ batch: [{ type: 'track', event: 'paid', userId: 'u-gz', messageId: `m-${Math.random()}` }] });

  it.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
  ])('accepts Content-Encoding: %s on /collect and /v1/batch', async (encoding, compress) => {
    const collect = await raw('/collect', compress(body()), {
      'Content-Type': 'text/plain',
      'Content-Encoding': encoding,
    });
    expect(collect.status).toBe(202);
    expect(await collect.json()).toMatchObject({ accepted: 2 });
    const v1 = await raw('/v1/batch', compress(track()), {
      'Content-Type': 'application/json',
      'Content-Encoding': encoding,
      Authorization: basic(key),
    });
    expect(v1.status).toBe(200);
    expect(await v1.json()).toEqual({ success: true });
  });

  it('refuses other encodings with 415 naming the header, and any encoding on the admin API', async () => {
    for (const encoding of ['br', 'zstd', 'gzip, gzip', 'compress']) {
      const res = await raw('/collect', body(), { 'Content-Type': 'text/plain', 'Content-Encoding': encoding });
      expect(res.status, encoding).toBe(415);
      expect(((await res.json()) as { path: string }).path).toBe('Content-Encoding');
    }
    const api = await t.app.request('/api/sites', {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ id: 'gz' })),
    });
    expect(api.status).toBe(415);
    expect(await t.store.getSite('gz')).toBeNull();
  });

  it('answers 400 for a body that is not what its encoding says (plain, truncated, raw deflate for zlib)', async () => {
    const gz = gzipSync(body());
    const bad: Array<[string, Uint8Array | string]> = [
      ['gzip', body()],
      ['gzip', gz.subarray(0, gz.length - 12)],
      ['gzip', Buffer.concat([gz.subarray(0, 20), Buffer.from('garbage garbage garbage')])],
      ['deflate', deflateRawSync(body())],
      ['deflate', 'not deflate'],
    ];
    for (const [encoding, data] of bad) {
      const res = await raw('/collect', data, { 'Content-Type': 'text/plain', 'Content-Encoding': encoding });
      expect(res.status, `${encoding} ${String(data).slice(0, 20)}`).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/not valid (gzip|deflate)/);
    }
    expect(await t.store.eventsOfVisitors('demo', ['gz1'])).toEqual([]);
  });

  it('refuses a gzip bomb (10 MB of zeros) with 413 on /collect and /v1/batch', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(20_000);
    for (const [path, auth] of [
      ['/collect', {}],
      ['/v1/batch', { Authorization: basic(key) }],
    ] as const) {
      const res = await raw(path, bomb, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', ...auth });
      expect(res.status, path).toBe(413);
      expect(((await res.json()) as { error: string }).error).toMatch(/larger than \d+ bytes/);
    }
  });

  it('decompresses as a stream: a 1 GB bomb is refused after reading a sliver of it, memory flat', async () => {
    // 100 gzip members of 10 MB of zeros each: 1 GB once decompressed, 1 MB on the wire.
    const member = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 100 }, () => member));
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = bomb.subarray(pulled, pulled + 4096);
        pulled += chunk.length;
        if (chunk.length === 0) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const before = process.memoryUsage().arrayBuffers;
    const res = await t.app.request('/collect', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'User-Agent': UA },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(bomb.length / 4); // the stream's read-ahead, not the megabyte
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('limits the compressed size too when no Content-Length is sent', async () => {
    // Incompressible-looking but valid JSON: a long string of random letters, larger than 64 KB compressed.
    const letters = Array.from({ length: 200_000 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26)));
    const gz = gzipSync(JSON.stringify({ site: 'demo', events: [], pad: letters.join('') }));
    expect(gz.length).toBeGreaterThan(LIMITS.bodyBytes);
    const res = await raw('/collect', gz, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(413);
  });
});

describe('admin API bodies per route (item 1)', () => {
  it('bounds each route by what it takes: a site 1 MB, a rule 64 KB, a key or the automation settings 4 KB', async () => {
    const pad = (n: number) => 'x'.repeat(n);
    const cases: Array<[string, string, string, number]> = [
      ['POST', '/api/sites/demo/keys', JSON.stringify({ name: 'k', pad: pad(5 * 1024) }), 413],
      ['POST', '/api/sites/demo/keys', JSON.stringify({ name: 'k' }), 201],
      ['PUT', '/api/sites/demo/automation', JSON.stringify({ allowPrivateWebhooks: false, pad: pad(5 * 1024) }), 413],
      ['POST', '/api/sites/demo/rules', JSON.stringify({ name: 'r', pad: pad(65 * 1024) }), 413],
      ['POST', '/api/sites', JSON.stringify({ id: 'big', pad: pad(1024 * 1024) }), 413],
      ['POST', '/api/sites', JSON.stringify({ id: 'small', name: pad(60 * 1024) }), 400], // read, then refused by the service
    ];
    for (const [method, path, body, status] of cases) {
      const res = await t.api(path, { method, body, headers: { 'Content-Length': String(body.length) } });
      expect(res.status, `${method} ${path} ${body.length}`).toBe(status);
      if (status === 413) expect(res.headers.get('connection')).toBe('close');
    }
  });
});

describe('nesting depth (item 7)', () => {
  it('answers 400, not a 500, for 240,000 nested arrays on /v1/batch and for deep /collect bodies', async () => {
    const deep = `${'['.repeat(240_000)}${']'.repeat(240_000)}`;
    const v1 = await raw(
      '/v1/batch',
      `{"batch":[{"type":"track","event":"x","userId":"u","properties":{"a":${deep}}}]}`,
      {
        'Content-Type': 'application/json',
        Authorization: basic(key),
      },
    );
    expect(v1.status).toBe(400);
    expect(((await v1.json()) as { error: string }).error).toMatch(/deeper than 64 levels/);
    const collect = await raw('/collect', `{"site":"demo","events":${'['.repeat(30_000)}${']'.repeat(30_000)}}`, {
      'Content-Type': 'text/plain',
    });
    expect(collect.status).toBe(400);
    const api = await t.api('/api/sites', { method: 'POST', body: `{"id":"deep","x":${deep}}` });
    expect(api.status).toBe(400);
  });

  it('accepts 64 levels, refuses 65', async () => {
    const nest = (n: number) => `${'{"a":'.repeat(n - 2)}1${'}'.repeat(n - 2)}`;
    const msg = (n: number) => `{"batch":[{"type":"track","event":"x","userId":"u","properties":${nest(n)}}]}`;
    // body {, batch [, message {, properties { … : 3 levels above the properties' own
    const ok = await raw('/v1/batch', msg(64 - 1), { 'Content-Type': 'application/json', Authorization: basic(key) });
    expect(ok.status).toBe(200);
    const deep = await raw('/v1/batch', msg(64), { 'Content-Type': 'application/json', Authorization: basic(key) });
    expect(deep.status).toBe(400);
  });
});

describe('quotas (item 8)', () => {
  it('stops one address inventing visitors: beyond the budget, events are counted as tooManyVisitors', async () => {
    await t.api('/api/sites/demo', { method: 'PUT', body: JSON.stringify({ limits: { newVisitorsPerHour: 120 } }) });
    const from = (ip: string) => ({ headers: { 'x-test-ip': ip, 'User-Agent': UA } });
    const answers: number[] = [];
    for (let i = 0; i < 15; i++) {
      const res = await t.collect(batch(`burst${i}`, [page('/'), page('/cart')]), from('198.51.100.7'));
      expect(res.status).toBe(202);
      answers.push(((await res.json()) as { accepted: number }).accepted);
      if (i >= 10) expect(res.headers.get('x-cjm-dropped')).toBe('quota');
    }
    expect(answers).toEqual([...Array(10).fill(2), ...Array(5).fill(0)]); // a burst of 120/12 = 10
    expect((await counters()).tooManyVisitors).toBe(10);
    // A known visitor from the same address still gets in; another address has its own budget; IPv6 by /64.
    expect(
      ((await (await t.collect(batch('burst0', [page('/x')]), from('198.51.100.7'))).json()) as { accepted: number })
        .accepted,
    ).toBe(1);
    expect(await (await t.collect(batch('other', [page('/')]), from('198.51.100.8'))).json()).toMatchObject({
      accepted: 1,
    });
    for (let i = 0; i < 10; i++) await t.collect(batch(`six${i}`, [page('/')]), from(`2001:db8:7::${i + 1}`));
    const sixth = await t.collect(batch('six-more', [page('/')]), from('2001:db8:7::ffff'));
    expect(sixth.headers.get('x-cjm-dropped')).toBe('quota');
    // This machine (npm run simulate, local tools) has no budget.
    for (let i = 0; i < 20; i++) {
      const local = await t.collect(batch(`local${i}`, [page('/')]), from(i % 2 ? '127.0.0.1' : '::1'));
      expect(await local.json()).toMatchObject({ accepted: 1 });
    }
    // Refilled with time: 120 an hour is one every 30 s.
    t.clock.now += 30_000;
    expect(await (await t.collect(batch('later', [page('/')]), from('198.51.100.7'))).json()).toMatchObject({
      accepted: 1,
    });
  });

  it('caps a site per UTC day on /collect and /v1/*, counting the rest as overQuota; the next day starts again', async () => {
    await t.api('/api/sites/demo', { method: 'PUT', body: JSON.stringify({ limits: { eventsPerDay: 5 } }) });
    const first = await t.collect(batch('q1', [page('/'), page('/a'), page('/b')]));
    expect(await first.json()).toMatchObject({ accepted: 3 });
    const second = await t.collect(batch('q1', [page('/c'), page('/d'), page('/e')]));
    expect(await second.json()).toMatchObject({ accepted: 2, overQuota: 1 });
    expect(second.headers.get('x-cjm-dropped')).toBe('quota');
    const v1 = await t.app.request('/v1/track', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: basic(key) },
      body: JSON.stringify({ event: 'paid', userId: 'u-q', messageId: 'mq1' }),
    });
    expect(v1.status).toBe(200);
    expect(await v1.json()).toMatchObject({ success: true, overQuota: 2 }); // the event and its identify link
    expect(await counters()).toMatchObject({ stored: 5, overQuota: 3 });
    t.clock.now += 86_400_000;
    expect(await (await t.collect(batch('q2', [page('/')]))).json()).toMatchObject({ accepted: 1 });
  });

  it('rate-limits /v1/* per write key with 429 and Retry-After, other keys unaffected', async () => {
    t = await makeApp(undefined, { writeKeyRateLimit: { burst: 3, perSecond: 1 } });
    const k1 = (await t.store.createWriteKey('demo', 'one')).key;
    const k2 = (await t.store.createWriteKey('demo', 'two')).key;
    const send = (k: string, i: number) =>
      t.app.request('/v1/track', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: basic(k) },
        body: JSON.stringify({ event: 'e', userId: 'u', messageId: `m${k.slice(-4)}${i}` }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(k1, i)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await send(k1, 9);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toMatchObject({ success: false, message: expect.stringMatching(/too many requests/) });
    expect((await send(k2, 1)).status).toBe(200);
    t.clock.now += 1000;
    expect((await send(k1, 10)).status).toBe(200);
  });
});

describe('CSV guard (item 13)', () => {
  it.each([
    ' =1+1',
    '\u00a0=1+1',
    '\ufeff=1+1',
    '\n=1+1',
    '\r\n@SUM(A1)',
    '\u0000=1+1',
    '\t+1',
    '\u200b-1',
    '\uff1d1+1',
    '\uff0bcmd',
    '\uff20A1',
    '  \u3000\uff0d1',
  ])('guards %j', (v) => {
    const cell = csvCell(v);
    const text = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
    expect(text.startsWith("'")).toBe(true);
    expect(text).not.toContain('\u0000');
  });

  it('leaves ordinary text alone and strips NUL everywhere', () => {
    expect(csvCell('hello')).toBe('hello');
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('pa\u0000th')).toBe('path');
    expect(csvCell(-5)).toBe('-5');
  });

  it('guards what the export writes', async () => {
    await t.collect(batch('csv1', [page('/', { title: '\u00a0=HYPERLINK("https://evil.test")' })]));
    const csv = await (await t.api('/api/sites/demo/export?format=csv')).text();
    expect(csv).toContain(`"'\u00a0=HYPERLINK(""https://evil.test"")"`);
  });
});

describe('webhook targets (item 14)', () => {
  it.each([
    ['::ffff:0:7f00:1', 'IPv4-translated'],
    ['0:0:0:0:ffff:0:808:808', 'IPv4-translated'],
    ['2001::1', 'Teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  ])('refuses %s (%s)', async (ip, kind) => {
    expect(addressKind(ip)).toBe(kind);
    const res = await t.api('/api/sites/demo/rules', {
      method: 'POST',
      body: JSON.stringify({
        name: 'hook',
        trigger: { type: 'event', event: 'paid' },
        action: { type: 'webhook', url: `http://[${ip}]/hook` },
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { path: string }).path).toBe('action.url');
  });

  it('stores the normalized URL, the one that was checked', async () => {
    const res = await t.api('/api/sites/demo/rules', {
      method: 'POST',
      body: JSON.stringify({
        name: 'hook',
        trigger: { type: 'event', event: 'paid' },
        action: { type: 'webhook', url: 'HTTPS://Hooks.EXAMPLE:443/a/../b c?x=1' },
      }),
    });
    expect(res.status).toBe(201);
    const [rule] = await t.store.listRules('demo');
    expect(rule!.action.url).toBe('https://hooks.example/b%20c?x=1');
  });
});

describe('require Origin (item 15)', () => {
  it('is off by default; switched on, /collect refuses requests without an Origin (403), /v1/* is unaffected', async () => {
    expect((await t.collect(batch('o1', [page('/')]))).status).toBe(202);
    const put = await t.api('/api/sites/demo', {
      method: 'PUT',
      body: JSON.stringify({ requireOrigin: true, origins: ['https://shop.test'] }),
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { site: { requireOrigin: boolean } }).site.requireOrigin).toBe(true);
    const none = await t.collect(batch('o2', [page('/')]));
    expect(none.status).toBe(403);
    expect(await none.json()).toMatchObject({
      path: 'site',
      error: expect.stringMatching(/requires an Origin header/),
    });
    const ok = await t.collect(batch('o3', [page('/')]), {
      headers: { Origin: 'https://shop.test', 'User-Agent': UA },
    });
    expect(ok.status).toBe(202);
    const v1 = await t.app.request('/v1/track', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: basic(key) },
      body: JSON.stringify({ event: 'e', userId: 'u', messageId: 'm-origin' }),
    });
    expect(v1.status).toBe(200);
    expect((await t.api('/api/sites/demo', { method: 'PUT', body: '{"requireOrigin":"yes"}' })).status).toBe(400);
  });
});
