/**
 * Fuzz: at least 100,000 generated inputs (fast-check) against `POST /collect`, the read API and the other public
 * surfaces (the sign-in form, dashboard forms, `/v1/batch`, `/api` writes), through `app.request()` on an in-memory
 * SQLite store. Bodies come plain, gzip- or deflate-encoded (or mislabelled, truncated, or under an unknown
 * encoding), nested to any depth, as multipart with broken boundaries, with any X-Forwarded-For / -Proto. For every
 * input: no 500 and no throw; every refusal is a JSON 4xx with an `error`; a refused request writes nothing at all
 * (the connection's `total_changes()` does not move); an input beyond a limit is never accepted. After the run,
 * every stored row is within the limits and every stored journey equals the journey refolded from its events.
 *
 * `npm test` runs 10,000 inputs (test/fuzz/collect.fuzz.test.ts); `npm run test:faults` runs 100,000
 * (test/faults/fuzz.fault.ts). CJM_FUZZ_RUNS overrides either.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { LIMITS } from '../../collector/core/protocol';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { checkConsistency } from '../faults/consistency';
import { fileAssets, forwardedEntry } from '../../collector/node';
import { makeApp, T0, TOKEN, type TestApp } from '../helpers';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let t: TestApp;
let db: Database.Database;
const changes = () => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
const statuses = new Map<number, number>();
const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);

// ---------- generators ----------
const NOW = T0 + 24 * 3600_000; // makeApp's clock
const idChars = fc.constantFrom(...'abcXYZ019_.:-'.split(''));
const goodId = fc.string({ unit: idChars, minLength: 1, maxLength: 12 });
/** Any JSON value, or a value near a boundary. */
const weird = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER, '', ' ', 'a b', '\u0000', '💥', [], {}, null, true),
  fc.string({ maxLength: 8 }),
);
const longString = (n: number) => fc.integer({ min: n - 2, max: n + 2 }).map((k) => 'x'.repeat(Math.max(0, k)));
const ts = fc.oneof(
  fc.integer({ min: NOW - 40 * 86400_000, max: NOW + 3 * 86400_000 }),
  fc.integer({ min: NOW - 3600_000, max: NOW }),
);
const PATHS = ['/', '/signup', '/cart', '/checkout', '/thank-you', '/p?utm_source=news&utm_medium=email', '/?gclid=x'];
const goodProps = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null)),
  { maxKeys: 4 },
);
/** A valid event of each type. */
const validEvent = fc.oneof(
  fc.record(
    {
      id: goodId,
      type: fc.constant('page'),
      ts,
      url: fc.constantFrom(...PATHS).map((p) => `https://shop.test${p}`),
      referrer: fc.constantFrom('https://www.google.com/', 'https://t.me/x', ''),
      title: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: ['id', 'type', 'ts'] },
  ),
  fc.record(
    {
      id: goodId,
      type: fc.constant('event'),
      ts,
      name: fc.constantFrom('add_to_cart', 'purchase', 'search', 'signup_completed'),
      props: goodProps,
      value: fc.integer({ min: 0, max: 500 }),
    },
    { requiredKeys: ['id', 'type', 'ts', 'name'] },
  ),
  fc.record({
    id: goodId,
    type: fc.constant('stage'),
    ts,
    stage: fc.constantFrom('landing', 'cart', 'checkout', 'unknown-stage'),
  }),
  fc.record({
    id: goodId,
    type: fc.constant('identify'),
    ts,
    userId: fc.oneof(
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }).map((n) => `user${n}`) },
      { weight: 15, arbitrary: goodId },
    ),
  }),
  fc.record(
    {
      id: goodId,
      type: fc.constant('vital'),
      ts,
      name: fc.constantFrom('LCP', 'CLS', 'INP'),
      value: fc.double({ min: 0, max: 10_000, noNaN: true }),
      stage: fc.constantFrom('landing', 'cart'),
    },
    { requiredKeys: ['id', 'type', 'ts', 'name', 'value'] },
  ),
  fc.record({ id: goodId, type: fc.constant('feedback'), ts, value: fc.integer({ min: 1, max: 5 }) }),
);
/** A value that breaks a field: wrong type, boundary, or just past a limit. */
const breaking = fc.oneof(
  weird,
  longString(LIMITS.idLength),
  longString(LIMITS.nameLength),
  longString(LIMITS.stageLength),
  longString(LIMITS.urlLength),
  longString(LIMITS.userIdLength),
  longString(LIMITS.titleLength),
  fc.record({ k: longString(LIMITS.propValueLength) }),
  fc.dictionary(longString(LIMITS.propKeyLength), fc.integer(), { minKeys: 1, maxKeys: 1 }),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), fc.integer(), {
    minKeys: LIMITS.props - 1,
    maxKeys: LIMITS.props + 2,
  }),
);
/** `arb` once in `n` draws, otherwise null. */
const rarely = <T>(arb: fc.Arbitrary<T>, n: number) =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
const EVENT_FIELDS = [
  'id',
  'type',
  'ts',
  'url',
  'referrer',
  'title',
  'name',
  'stage',
  'userId',
  'value',
  'props',
  'extra',
] as const;
/** A valid event, sometimes with one field replaced by a breaking value. */
const event = fc
  .tuple(validEvent, rarely(fc.tuple(fc.constantFrom(...EVENT_FIELDS), breaking), 12))
  .map(([e, m]) => (m ? { ...e, [m[0]]: m[1] } : e) as Record<string, unknown>);
const batchArb = fc
  .tuple(
    fc.record(
      {
        site: fc.constant('demo'),
        // Mostly new visitors (journeys stay small and the run fast), sometimes a returning one.
        visitor: fc.oneof(
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => `v${n}`) },
          { weight: 15, arbitrary: goodId.map((id) => `f${id}`) },
        ),
        session: goodId,
        sent: ts,
        dropped: fc.nat(10),
        events: fc.oneof(
          { weight: 20, arbitrary: fc.array(event, { minLength: 1, maxLength: 5 }) },
          {
            weight: 1,
            arbitrary: fc.array(fc.constant({ id: 'same', type: 'page', ts: NOW }), {
              minLength: LIMITS.eventsPerBatch - 1,
              maxLength: LIMITS.eventsPerBatch + 2,
            }),
          },
          { weight: 1, arbitrary: fc.constantFrom([], {}, null, 'x') },
        ),
      },
      { requiredKeys: ['site', 'visitor', 'events'] },
    ),
    rarely(
      fc.tuple(
        fc.constantFrom('site', 'visitor', 'session', 'sent', 'dropped', 'events'),
        fc.oneof(weird, fc.constantFrom('nope', 'de mo', 'x'.repeat(65))),
      ),
      8,
    ),
  )
  .map(([b, m]) => (m ? { ...b, [m[0]]: m[1] } : b) as Record<string, unknown>);
/** Nested arrays, from harmless to 200,000 levels (past the body limit). */
const nested = fc
  .oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 60, max: 70 }), fc.integer({ min: 1000, max: 200_000 }))
  .map(
    (n) =>
      `{"site":"demo","visitor":"deep","events":[{"id":"d${n}","type":"page","ts":${NOW},"props":{"a":${'['.repeat(n)}${']'.repeat(n)}}}]}`,
  );
type Encoding = { name: string | undefined; mangle: 'none' | 'truncate' | 'plain' | 'junk' };
/** How the body goes over the wire: plain, or encoded (correctly, or not what the header says). */
const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Encoding>({ name: undefined, mangle: 'none' }) },
  {
    weight: 4,
    arbitrary: fc.record({
      name: fc.constantFrom('gzip', 'x-gzip', 'deflate', 'identity', 'br', 'gzip, gzip', 'zstd', 'GZIP', ''),
      mangle: fc.constantFrom<Encoding['mangle']>('none', 'none', 'truncate', 'plain', 'junk'),
    }),
  },
);
/** The body bytes for an encoding; `valid` when the bytes are what the header says. */
const encode = (text: string, e: Encoding): { body: string | Uint8Array; valid: boolean } => {
  const name = e.name?.trim().toLowerCase();
  const compress = name === 'gzip' || name === 'x-gzip' ? gzipSync : name === 'deflate' ? deflateSync : null;
  if (!compress) return { body: text, valid: !name || name === 'identity' };
  const packed = compress(text);
  if (e.mangle === 'plain') return { body: text, valid: false };
  if (e.mangle === 'truncate') return { body: packed.subarray(0, Math.max(1, packed.length - 9)), valid: false };
  if (e.mangle === 'junk')
    return { body: Buffer.concat([packed.subarray(0, 12), Buffer.from('junk!junk!')]), valid: false };
  return { body: packed, valid: true };
};

/** What goes over the wire: a (mostly) JSON batch, raw text, deep nesting, or a body past the size limit. */
const body = fc.oneof(
  { weight: 12, arbitrary: batchArb.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
  { weight: 1, arbitrary: batchArb.map((b) => JSON.stringify(b).slice(0, -1)) },
  { weight: 1, arbitrary: nested },
  {
    weight: 1,
    arbitrary: fc.integer({ min: LIMITS.bodyBytes - 100, max: LIMITS.bodyBytes + 100 }).map((n) =>
      JSON.stringify({
        site: 'demo',
        visitor: 'v1',
        events: [{ id: 'big', type: 'page', ts: NOW, title: 'x'.repeat(n) }],
      }),
    ),
  },
);
const headers = fc.record({
  ua: fc.oneof(
    { weight: 8, arbitrary: fc.constant(UA) },
    { weight: 1, arbitrary: fc.constantFrom('Googlebot/2.1', 'curl/8.0', '') },
  ),
  origin: fc.option(fc.constantFrom('https://shop.test', 'https://evil.test', 'null'), { nil: undefined }),
  type: fc.constantFrom('text/plain', 'application/json', 'application/x-www-form-urlencoded'),
});

const isJsonError = async (res: Response) => {
  const json = (await res.json()) as { error?: unknown; path?: unknown };
  expect(typeof json.error).toBe('string');
  if (json.path !== undefined) expect(typeof json.path).toBe('string');
};

// ---------- the other public surfaces ----------
const ip = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('unknown', '', ' ', '[2001:db8::1]:443', '203.0.113.7:5123', 'x'.repeat(300), '::ffff:10.0.0.1'),
);
const forwarded = fc.option(
  fc.array(ip, { minLength: 1, maxLength: 6 }).map((ips) => ips.join(', ')),
  { nil: undefined },
);
/** A multipart body: well formed or not (no closing boundary, no name, a file part, the wrong boundary). */
const multipart = fc
  .record({
    boundary: fc.constantFrom('x', 'b0und4ry', '', '--', 'a'.repeat(80)),
    declared: fc.constantFrom('same', 'other', 'none'),
    parts: fc.array(
      fc.record({
        name: fc.oneof(
          fc.constantFrom('token', 'next', 'name', 'origins', 'sessionTimeoutMinutes'),
          fc.string({ maxLength: 6 }),
        ),
        value: fc.oneof(fc.string({ maxLength: 30 }), fc.constant(TOKEN)),
        file: fc.boolean(),
        header: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
    close: fc.boolean(),
  })
  .map(({ boundary, declared, parts, close }) => {
    const body =
      parts
        .map(
          (p) =>
            `--${boundary}\r\n` +
            (p.header
              ? `Content-Disposition: form-data; name="${p.name}"${p.file ? '; filename="f.txt"' : ''}\r\n`
              : '') +
            `\r\n${p.value}\r\n`,
        )
        .join('') + (close ? `--${boundary}--\r\n` : '');
    const type =
      declared === 'none'
        ? 'multipart/form-data'
        : `multipart/form-data; boundary=${declared === 'same' ? boundary : 'zz'}`;
    return { type, body };
  });
const formBody = fc.oneof(
  multipart,
  fc
    .dictionary(
      fc.constantFrom('token', 'next', 'name', 'origins', 'sessionTimeoutMinutes', 'x'),
      fc.string({ maxLength: 20 }),
    )
    .map((d) => ({ type: 'application/x-www-form-urlencoded', body: new URLSearchParams(d).toString() })),
  fc.constantFrom(
    { type: 'application/json', body: '{"token":"x"}' },
    { type: 'text/plain', body: 'token=x' },
    { type: 'application/x-www-form-urlencoded', body: '%%%&&&=' },
    { type: '', body: 'token=x' },
  ),
  nested.map((body) => ({ type: 'application/json', body })),
);
const segmentBody = fc.oneof(
  batchArb.map((b) => JSON.stringify({ batch: [{ type: 'track', event: 'e', userId: 'u', ...b }] })),
  nested.map((n) => `{"batch":[{"type":"track","event":"x","userId":"u","properties":${n}}]}`),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);
const transport = fc.record({
  target: fc.constantFrom('/login', '/logout', '/sites/demo/settings/site', '/v1/batch', '/api/sites', '/collect'),
  form: formBody,
  segment: segmentBody,
  encoding,
  xff: forwarded,
  proto: fc.option(fc.constantFrom('https', 'http', 'https, http', 'HTTPS', 'ftp'), { nil: undefined }),
  auth: fc.constantFrom('none', 'bad', 'key'),
});

/** Registers the fuzz tests with `total` inputs: 65% against /collect, 25% the read API, 10% the other surfaces. */
export const fuzzSuite = (total: number) =>
  describe(`fuzz: ${total.toLocaleString('en')} inputs`, () => {
    const TOTAL = total;
    const COLLECT_RUNS = Math.round(TOTAL * 0.65);
    const TRANSPORT_RUNS = Math.round(TOTAL * 0.1);
    const API_RUNS = TOTAL - COLLECT_RUNS - TRANSPORT_RUNS;
    beforeAll(async () => {
      db = openSqlite(':memory:');
      t = await makeApp(createSqliteStore(db));
      statuses.clear();
    });

    it(`POST /collect: ${COLLECT_RUNS.toLocaleString('en')} inputs, no 500, nothing written from a refusal, limits hold`, async () => {
      await fc.assert(
        fc.asyncProperty(body, headers, encoding, async (text, h, enc) => {
          const before = changes();
          const init: Record<string, string> = { 'Content-Type': h.type, 'User-Agent': h.ua };
          if (h.origin) init.Origin = h.origin;
          if (enc.name !== undefined) init['Content-Encoding'] = enc.name;
          const { body: wire, valid } = encode(text, enc);
          const res = await t.app.request('/collect', { method: 'POST', headers: init, body: wire as BodyInit });
          count(res.status);
          expect([202, 400, 403, 404, 413, 415]).toContain(res.status);
          if (res.status !== 202) {
            await isJsonError(res);
            expect(changes()).toBe(before);
          } else {
            // Accepted: the input was within the limits that decide acceptance, sent as its encoding says.
            expect(valid).toBe(true);
            expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(LIMITS.bodyBytes);
            const parsed = JSON.parse(text) as { events: unknown[] };
            expect(parsed.events.length).toBeLessThanOrEqual(LIMITS.eventsPerBatch);
            await res.json();
          }
        }),
        { numRuns: COLLECT_RUNS },
      );
    }, 600_000);

    const segment = fc.oneof(
      fc.constantFrom('demo', 'nope', 'v1', 'v2', 'u:ada', '%00', '..', '%2F', 'x'.repeat(300)),
      fc.string({ maxLength: 6 }).map(encodeURIComponent),
    );
    const param = fc.tuple(
      fc.constantFrom('stage', 'channel', 'converted', 'q', 'from', 'to', 'limit', 'cursor', 'top', 'format', 'x'),
      fc.oneof(
        fc.constantFrom(
          '',
          '0',
          '1',
          '-1',
          '500',
          '501',
          'true',
          'csv',
          'ndjson',
          'xml',
          '2026-11-20',
          'NaN',
          '1e99',
          'landing',
          'direct',
          'eyJ9',
        ),
        fc.string({ maxLength: 12 }),
      ),
    );
    const apiPath = fc
      .tuple(
        fc.constantFrom('visitors', 'visitors/:v', 'funnel', 'journey-map', 'touches', 'counters', 'export', ''),
        segment,
        segment,
        fc.array(param, { maxLength: 4 }),
      )
      .map(([route, site, v, params]) => {
        const q = new URLSearchParams(params).toString();
        return `/api/sites/${site}${route ? '/' + route.replace(':v', v) : ''}${q ? '?' + q : ''}`;
      });

    it(`read API: ${API_RUNS.toLocaleString('en')} inputs, no 500, JSON errors`, async () => {
      // On its own database, filled with 1,000 generated batches (the accepted ones hold the odd but valid values the
      // reports must render), so the reports' cost stays the same through the run.
      const rdb = openSqlite(':memory:');
      const r = await makeApp(createSqliteStore(rdb));
      for (const text of fc.sample(body, { numRuns: 1000, seed: 42 })) {
        await (
          await r.app.request('/collect', {
            method: 'POST',
            headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
            body: text,
          })
        ).arrayBuffer();
      }
      const rchanges = () => (rdb.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
      await fc.assert(
        fc.asyncProperty(apiPath, fc.boolean(), async (path, authed) => {
          const before = rchanges();
          const res = authed ? await r.api(path) : await r.app.request(path);
          count(res.status);
          expect([200, 400, 401, 404]).toContain(res.status);
          if (!authed) expect(res.status).toBe(401);
          if (res.status === 200) await res.text();
          else await isJsonError(res);
          expect(rchanges()).toBe(before);
        }),
        { numRuns: API_RUNS },
      );
    }, 600_000);

    it(`other surfaces: ${TRANSPORT_RUNS.toLocaleString('en')} inputs (multipart, nesting, encodings, forwarded headers), no 500, nothing written from a refusal`, async () => {
      const tdb = openSqlite(':memory:');
      // Behind one trusted proxy: the address and the scheme come from the forwarded headers.
      const h = await makeApp(createSqliteStore(tdb), {
        asset: fileAssets(),
        clientIp: (c) => forwardedEntry(c.req.header('x-forwarded-for'), 1) ?? null,
        isHttps: (c) => forwardedEntry(c.req.header('x-forwarded-proto'), 1) === 'https',
        rateLimit: { burst: 50, perSecond: 1 },
      });
      const key = (await h.store.createWriteKey('demo', 'fuzz')).key;
      // The secrets the first sign-in and the first ingest create, created before the run.
      await (await h.app.request('/login')).text();
      await h.collect({ site: 'demo', visitor: 'warm', events: [{ id: 'warm', type: 'page', ts: NOW }] });
      // The key's last use is recorded at most once a minute, and the clock stands still: recorded here, once.
      await (
        await h.app.request('/v1/batch', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Basic ${btoa(`${key}:`)}` },
          body: '{}',
        })
      ).arrayBuffer();
      const tchanges = () => (tdb.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
      await fc.assert(
        fc.asyncProperty(transport, async (x) => {
          const before = tchanges();
          const init: Record<string, string> = { Origin: 'http://localhost', 'User-Agent': UA };
          if (x.xff !== undefined) init['X-Forwarded-For'] = x.xff;
          if (x.proto !== undefined) init['X-Forwarded-Proto'] = x.proto;
          if (x.encoding.name !== undefined) init['Content-Encoding'] = x.encoding.name;
          const json = x.target === '/v1/batch' || x.target === '/api/sites' || x.target === '/collect';
          const text = x.target === '/v1/batch' ? x.segment : x.form.body;
          if (json) init['Content-Type'] = 'application/json';
          else if (x.form.type) init['Content-Type'] = x.form.type;
          if (x.auth === 'bad') init.Authorization = x.target === '/v1/batch' ? 'Basic eDo=' : 'Bearer wrong-token';
          if (x.auth === 'key')
            init.Authorization = x.target === '/v1/batch' ? `Basic ${btoa(`${key}:`)}` : `Bearer ${TOKEN}`;
          const { body: wire } = encode(text, x.encoding);
          const res = await h.app.request(x.target, { method: 'POST', headers: init, body: wire as BodyInit });
          count(res.status);
          expect(res.status, `${x.target} ${res.status}`).not.toBe(500);
          expect([200, 201, 202, 303, 400, 401, 403, 404, 409, 413, 415, 429]).toContain(res.status);
          const type = res.headers.get('content-type') ?? '';
          if (res.status >= 400 && !type.includes('text/html')) await isJsonError(res);
          else await res.arrayBuffer();
          // A refusal, a redirect to the sign-in page or a failed sign-in writes nothing.
          if (res.status >= 300) expect(tchanges()).toBe(before);
        }),
        { numRuns: TRANSPORT_RUNS },
      );
    }, 600_000);

    it('left every stored row within the limits and every journey equal to its refold', async () => {
      const max = db
        .prepare(
          `SELECT max(length(id)) AS id, max(length(name)) AS name, max(length(url)) AS url, max(length(title)) AS title,
           max(length(stage)) AS stage, max(length(user_id)) AS userId, count(*) AS n FROM events`,
        )
        .get() as Record<string, number | null>;
      expect(max.id ?? 0).toBeLessThanOrEqual(LIMITS.idLength);
      expect(max.name ?? 0).toBeLessThanOrEqual(LIMITS.nameLength);
      expect(max.url ?? 0).toBeLessThanOrEqual(LIMITS.urlLength);
      expect(max.title ?? 0).toBeLessThanOrEqual(LIMITS.titleLength);
      expect(max.stage ?? 0).toBeLessThanOrEqual(LIMITS.stageLength);
      expect(max.userId ?? 0).toBeLessThanOrEqual(LIMITS.userIdLength);
      for (const { props } of db.prepare('SELECT props FROM events WHERE props IS NOT NULL').all() as {
        props: string;
      }[]) {
        const p = JSON.parse(props) as Record<string, unknown>;
        expect(Object.keys(p).length).toBeLessThanOrEqual(LIMITS.props);
        for (const [k, v] of Object.entries(p)) {
          expect(k.length).toBeLessThanOrEqual(LIMITS.propKeyLength);
          if (typeof v === 'string') expect(v.length).toBeLessThanOrEqual(LIMITS.propValueLength);
          else expect(v === null || ['number', 'boolean'].includes(typeof v)).toBe(true);
        }
      }
      const report = await checkConsistency(t.store, db, 'demo');
      console.log(
        `[fuzz] ${TOTAL.toLocaleString('en')} inputs; answers ${[...statuses]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${s}×${n}`)
          .join(', ')}; ` +
          `${report.events} events stored in ${report.journeys} journeys, ${report.mismatches.length} mismatches`,
      );
      expect(statuses.get(202) ?? 0).toBeGreaterThan(0);
      expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
      expect(report.mismatches).toEqual([]);
    }, 600_000);
  });
