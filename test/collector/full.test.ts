/**
 * A full database loses nothing (issue 16, item 4), on Node over a real socket: a SQLite file capped with
 * `PRAGMA max_page_count` is filled through `POST /collect` until a write fails, then:
 * - `/collect` and `/v1/*` answer 503 with `Retry-After` (the tag's outbox retries 503 after Retry-After:
 *   test/sdk/outbox.test.ts), and nothing of the refused batch is stored;
 * - every event acknowledged with 202 before is stored;
 * - `GET /api/health` says why (sizes, pages, free pages, the cap, the error) and the dashboard shows a banner, which
 *   warns first at 80 % of the cap;
 * - after the cap is raised, every batch sent again lands exactly once (the acknowledged ones as duplicates) and the
 *   banner goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Running } from '../../collector/node';
import type { HealthReport } from '../../collector/core/services/health';

const TOKEN = 'full-test-admin-token-0123456789';
const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

let dir: string;
let server: Running;
let cookie = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cjm-full-'));
  server = await start({ port: 0, db: join(dir, 'cjm.db'), adminToken: TOKEN, automation: false });
  const res = await fetch(`${server.url}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url },
    body: `token=${TOKEN}&next=%2F`,
    redirect: 'manual',
  });
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  expect(cookie).toMatch(/=/);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Sent {
  visitor: string;
  ids: string[];
  body: string;
}

let n = 0;
/** A batch of 8 events for a new visitor: a few page views and events with long titles, so pages fill fast. */
const nextBatch = (): Sent => {
  const visitor = `fv${++n}`;
  const now = Date.now();
  const events = Array.from({ length: 8 }, (_, i) => ({
    id: `${visitor}-${i}`,
    type: i % 3 === 2 ? 'event' : 'page',
    ts: now - 60_000 + i * 1000,
    ...(i % 3 === 2
      ? { name: 'add_to_cart', props: { sku: `sku-${n}-${i}` } }
      : { url: `https://shop.test/p/${n}/${i}?utm_source=s${n % 5}`, title: `Product ${n}/${i} ${'x'.repeat(300)}` }),
  }));
  return { visitor, ids: events.map((e) => e.id), body: JSON.stringify({ site: 'demo', visitor, events }) };
};

const collect = (body: string) =>
  fetch(`${server.url}/collect`, { method: 'POST', headers: { 'Content-Type': 'text/plain', 'User-Agent': UA }, body });
const health = async (): Promise<HealthReport> => {
  const res = await fetch(`${server.url}/api/health`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as HealthReport;
};
const page = async (path: string) => {
  const res = await fetch(`${server.url}${path}`, { headers: { Cookie: cookie } });
  expect(res.status).toBe(200);
  return res.text();
};
const stored = (ids: readonly string[]) =>
  ids.filter((id) => server.db.prepare("SELECT 1 FROM events WHERE site = 'demo' AND id = ?").get(id)).length;

describe('a full SQLite database through POST /collect', () => {
  const accepted: Sent[] = [];
  let refused: Sent | null = null;
  let warned: HealthReport | null = null;
  let key = '';

  it('fills to the brim: 202 until a write fails, then 503 with Retry-After and nothing of that batch', async () => {
    const created = await fetch(`${server.url}/api/sites/demo/keys`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'backend' }),
    });
    key = ((await created.json()) as { key: string }).key;
    const pages = Number(server.db.pragma('page_count', { simple: true }));
    server.db.pragma(`max_page_count = ${pages + 60}`);
    expect((await health()).status).toBe('ok');
    for (let i = 0; i < 400 && !refused; i++) {
      const b = nextBatch();
      const res = await collect(b.body);
      if (res.status === 202) {
        expect(await res.json()).toMatchObject({ accepted: 8, duplicates: 0 });
        accepted.push(b);
        const h = await health();
        if (h.status === 'warning' && !warned) warned = h;
        continue;
      }
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('60');
      const body = (await res.json()) as { error: string };
      expect(body.error).toMatch(/^\[cjm\] the database is full \(SQLITE_FULL; database or disk is full\)/);
      refused = b;
    }
    expect(refused, 'the capped database never filled').not.toBeNull();
    expect(accepted.length).toBeGreaterThan(2);
    expect(stored((refused as Sent).ids)).toBe(0);
  });

  it('warned at 80 % of the cap before it was full', () => {
    expect(warned).not.toBeNull();
    const db = (warned as HealthReport).databases[0];
    expect(db?.usedRatio).toBeGreaterThanOrEqual(0.8);
    expect(db?.usedRatio).toBeLessThan(1);
    expect((warned as HealthReport).why).toMatch(/Database DB is at \d+ % of its limit/);
  });

  it('keeps every event it acknowledged', () => {
    for (const b of accepted) expect(stored(b.ids), b.visitor).toBe(8);
  });

  it('answers 503 with Retry-After on /v1/* too', async () => {
    const res = await fetch(`${server.url}/v1/track`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${btoa(`${key}:`)}` },
      body: JSON.stringify({
        anonymousId: 'srv1',
        event: 'Order Shipped',
        messageId: 'm-full-1',
        properties: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`note${i}`, 'y'.repeat(900)])),
        timestamp: new Date().toISOString(),
      }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(stored(['seg:m-full-1'])).toBe(0);
  });

  it('GET /api/health says why: full, with the sizes, the pages, the cap and the error', async () => {
    const h = await health();
    expect(h.status).toBe('full');
    expect(h.why).toMatch(/^Database DB is full since \d{4}-\d\d-\d\d \d\d:\d\d UTC: writes to it are refused \(503\)/);
    const [db] = h.databases;
    expect(db).toMatchObject({ name: 'DB', runtime: 'sqlite', full: true });
    expect(db?.pageCount).toBe(db?.maxPageCount);
    expect(db?.sizeBytes).toBe((db?.pageCount ?? 0) * (db?.pageSize ?? 0));
    expect(db?.freePages).toBeGreaterThanOrEqual(0);
    expect(db?.limitBytes).toBe((db?.maxPageCount ?? 0) * (db?.pageSize ?? 0));
    expect(db?.diskFreeBytes).toBeGreaterThan(0);
    expect(h.fullErrors[0]).toMatchObject({ database: 'DB', resolvedAt: null });
    expect(h.fullErrors[0]?.message).toMatch(/database is full/);
  });

  it('the dashboard shows the banner', async () => {
    const html = await page('/sites/demo/map');
    expect(html).toMatch(/class="banner banner-full" role="alert"/);
    expect(html).toMatch(/Storage full\. <\/strong>Database DB is full since/);
  });

  it('after space is freed, every batch sent again lands exactly once, and the banner goes', async () => {
    server.db.pragma('max_page_count = 1073741823');
    const all = [...accepted, refused as Sent];
    for (const b of all) {
      const res = await collect(b.body);
      expect(res.status).toBe(202);
      const answer = (await res.json()) as { accepted: number; duplicates: number };
      expect(answer).toEqual(b === refused ? { accepted: 8, duplicates: 0 } : { accepted: 0, duplicates: 8 });
    }
    for (const b of all) {
      expect(stored(b.ids)).toBe(8);
      const j = server.db.prepare("SELECT state FROM journeys WHERE site = 'demo' AND key = ?").get(b.visitor) as {
        state: string;
      };
      expect((JSON.parse(j.state) as { events: number }).events, b.visitor).toBe(8);
    }
    const total = server.db.prepare("SELECT COUNT(*) AS n FROM events WHERE site = 'demo'").get() as { n: number };
    expect(total.n).toBe(all.length * 8);
    const h = await health();
    expect(h.status).toBe('ok');
    expect(h.fullErrors[0]?.resolvedAt).toBeGreaterThanOrEqual(h.fullErrors[0]?.at ?? Infinity);
    expect(await page('/sites/demo/map')).not.toMatch(/class="banner/);
  });
});
