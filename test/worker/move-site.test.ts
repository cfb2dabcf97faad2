/**
 * move-site end to end, on local D1 (workerd) and a Node SQLite file:
 * 1. a Node collector (`npm start`) takes simulated shop traffic, a server-side event and a write key;
 * 2. `npm run move-site -- --from-sqlite <file> --site demo --to DB` moves its whole history into the Worker's D1;
 * 3. the Worker then answers exactly what Node answered: funnel, journey map, touches, counters, the visitors list,
 *    timelines, the export (NDJSON and CSV) and the dashboard's pages; the Node collector refuses the moved site's
 *    events with 503 (the tags keep them), the Worker takes them;
 * 4. `GET /api/health` on the Worker gives each D1 database's size against the limit, and the dashboard warns at 80 %;
 * 5. the site moves on from `DB` into its own database `DB_SHOP` while the Worker runs: its events are answered 503
 *    during the copy, a crash mid-copy is resumed by running the move again, the answers stay the same, and the
 *    refused events land once sent again.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Running } from '../../collector/node';
import type { HealthReport } from '../../collector/core/services/health';
import { d1Connector, d1Stats } from '../../collector/stores/d1';
import { moveSite } from '../../collector/stores/move';
import { META } from '../../collector/stores/routed';
import { simulate } from '../../scripts/simulate';
import { localConfig, openLocalD1, ROOT, startLocalWorker, type LocalWorker } from '../../scripts/worker';

const TOKEN = 'move-site-admin-token-0123456789';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const run = promisify(execFile);

let dir: string;
let persist: string;
let node: Running;
let worker: LocalWorker | null = null;
let nodeKey = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cjm-move-'));
  persist = join(dir, 'wrangler-state');
  node = await start({ port: 0, db: join(dir, 'cjm.db'), adminToken: TOKEN, automation: false });
  await simulate({ visitors: 60, seed: 11, now: Date.now() - 60_000, days: 20, site: 'demo', url: node.url });
  const created = await fetch(`${node.url}/api/sites/demo/keys`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'backend' }),
  });
  nodeKey = ((await created.json()) as { key: string }).key;
  const track = await fetch(`${node.url}/v1/track`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Basic ${btoa(`${nodeKey}:`)}` },
    body: JSON.stringify({
      userId: 'ada',
      event: 'Order Shipped',
      messageId: 'ship-1',
      timestamp: new Date().toISOString(),
    }),
  });
  expect(track.status).toBe(200);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = async (base: string, path: string) => {
  const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(res.status, path).toBe(200);
  return res.text();
};

const signIn = async (base: string) => {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: base },
    body: `token=${TOKEN}&next=%2F`,
    redirect: 'manual',
  });
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
};
/**
 * A dashboard page without its <head> (asset links), the storage banner (the databases differ) and the times
 * relative to now ("just now", "5.9 d ago": the absolute time stays, in the title).
 */
const dashboard = async (base: string, cookie: string, path: string) => {
  const res = await fetch(`${base}${path}`, { headers: { Cookie: cookie } });
  expect(res.status, path).toBe(200);
  return (await res.text())
    .replace(/<head>.*<\/head>/s, '')
    .replace(/<div class="banner[^]*?<\/div><\/div>/, '')
    .replace(/>(just now|[\d.]+ (ms|s|min|h|d) ago)</g, '>… ago<');
};

/** Everything the API and the dashboard show of the demo site (all time), as one list of texts. */
const everything = async (base: string): Promise<string[]> => {
  const all = 'from=2000-01-01&to=2100-01-01';
  const out: string[] = [];
  for (const report of ['funnel', 'touches', 'counters', 'retention'])
    out.push(await api(base, `/api/sites/demo/${report}?${all}`));
  out.push(await api(base, `/api/sites/demo/journey-map?${all}&top=10`));
  const visitors: string[] = [];
  let cursor = '';
  do {
    const page = JSON.parse(
      await api(base, `/api/sites/demo/visitors?limit=25${cursor ? `&cursor=${cursor}` : ''}`),
    ) as {
      visitors: Array<{ visitor: string }>;
      cursor: string | null;
    };
    out.push(JSON.stringify(page));
    visitors.push(...page.visitors.map((v) => v.visitor));
    cursor = page.cursor ?? '';
  } while (cursor);
  for (const v of visitors.slice(0, 8)) out.push(await api(base, `/api/sites/demo/visitors/${encodeURIComponent(v)}`));
  out.push(
    await api(base, `/api/sites/demo/export?format=ndjson`),
    await api(base, `/api/sites/demo/export?format=csv`),
  );
  const cookie = await signIn(base);
  for (const page of ['map?range=all', 'funnel?range=all', 'retention?range=all', 'visitors?range=all'])
    out.push(await dashboard(base, cookie, `/sites/demo/${page}`));
  out.push(await dashboard(base, cookie, `/sites/demo/visitors/${encodeURIComponent(visitors[0] ?? '')}`));
  return out;
};

const batchFor = (visitor: string, id: string) =>
  JSON.stringify({
    site: 'demo',
    visitor,
    events: [{ id, type: 'page', ts: Date.now(), url: 'https://shop.test/late' }],
  });
const collect = (base: string, body: string) =>
  fetch(`${base}/collect`, { method: 'POST', headers: { 'Content-Type': 'text/plain', 'User-Agent': UA }, body });

describe('move-site on local D1', () => {
  let fromNode: string[] = [];
  let onWorker: string[] = [];

  it('moves a Node file’s whole history into D1 with the command', async () => {
    fromNode = await everything(node.url);
    expect(fromNode.join('\n')).toMatch(/"Order Shipped"/);
    const events = (node.db.prepare("SELECT COUNT(*) AS n FROM events WHERE site = 'demo'").get() as { n: number }).n;
    expect(events).toBeGreaterThan(500);
    const config = localConfig(dir, { assets: true, databases: ['DB_SHOP'] });
    const { stdout } = await run(
      process.execPath,
      [
        join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        join(ROOT, 'scripts/move-site.ts'),
        '--from-sqlite',
        join(dir, 'cjm.db'),
        '--site',
        'demo',
        '--to',
        'DB',
        '--config',
        config,
        '--persist-to',
        persist,
      ],
      { env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, timeout: 120_000 },
    );
    expect(stdout).toMatch(/verified: \d+ rows in \d+ tables/);
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      outcome: string;
      rows: Record<string, number>;
    };
    expect(result.outcome).toBe('moved');
    expect(result.rows.events).toBe(events);
  }, 180_000);

  it('the Worker answers exactly what Node answered; Node refuses the moved site, the Worker takes it', async () => {
    // The limit: the main database at ~85 % of it, so the dashboard's 80 % warning shows.
    const d1 = await openLocalD1(persist, { databases: ['DB_SHOP'] });
    const size = (await d1Stats('DB', d1.databases.DB as D1Database)).sizeBytes;
    await d1.dispose();
    // The Worker hashes with the Node file's secret (kept beside it): tombstones and server-side ids match.
    worker = await startLocalWorker({
      adminToken: TOKEN,
      secret: readFileSync(join(dir, 'cjm.db.secret'), 'utf8').trim(),
      persistTo: persist,
      databases: ['DB_SHOP'],
      vars: { CJM_D1_LIMIT_BYTES: String(Math.ceil(size / 0.85)) },
    });
    onWorker = await everything(worker.url);
    expect(onWorker.length).toBe(fromNode.length);
    for (let i = 0; i < fromNode.length; i++) expect(onWorker[i], `answer ${i}`).toBe(fromNode[i]);
    // The write key moved with the site's settings.
    const track = await fetch(`${worker.url}/v1/track`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${btoa(`${nodeKey}:`)}` },
      body: JSON.stringify({
        userId: 'ada',
        event: 'Order Shipped',
        messageId: 'ship-1',
        timestamp: new Date().toISOString(),
      }),
    });
    expect(await track.json()).toMatchObject({ success: true });
    // The file's rows are gone; the Node collector answers the moved site 503 (the tag keeps the events).
    expect(node.db.prepare("SELECT COUNT(*) AS n FROM events WHERE site = 'demo'").get()).toEqual({ n: 0 });
    const late = batchFor('late-1', 'late-1-a');
    const refused = await collect(node.url, late);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(((await refused.json()) as { error: string }).error).toMatch(
      /site "demo" moved from sqlite:.*cjm\.db to DB/,
    );
    expect((await collect(worker.url, late)).status).toBe(202);
  }, 180_000);

  it('GET /api/health gives each D1 database’s size against the limit; the dashboard warns at 80 %', async () => {
    const w = worker as LocalWorker;
    const h = JSON.parse(await api(w.url, '/api/health')) as HealthReport;
    expect(h.databases.map((d) => d.name)).toEqual(['DB', 'DB_SHOP']);
    const [db, shop] = h.databases;
    expect(db).toMatchObject({ runtime: 'd1', pageCount: null, freePages: null, warning: true, full: false });
    expect(db?.usedRatio).toBeGreaterThanOrEqual(0.8);
    expect(db?.usedRatio).toBeCloseTo((db?.sizeBytes ?? 0) / (db?.limitBytes ?? 1), 10);
    expect(shop?.warning).toBe(false);
    expect(shop?.sizeBytes).toBeGreaterThan(0);
    expect(h.status).toBe('warning');
    expect(h.why).toMatch(/^Database DB is at \d+ % of its limit \([\d.]+ MB of [\d.]+ MB\)/);
    const res = await fetch(`${w.url}/sites/demo/map`, { headers: { Cookie: await signIn(w.url) } });
    expect(await res.text()).toMatch(
      /class="banner banner-warning" role="alert"><div class="top-inner"><strong>Storage\. <\/strong>Database DB is at/,
    );
  });

  it('moves the site on into its own database while the Worker runs: 503 during the copy, resumed after a crash', async () => {
    const w = worker as LocalWorker;
    const before = await everything(w.url);
    const d1 = await openLocalD1(persist, { databases: ['DB_SHOP'] });
    const databases = {
      DB: d1Connector(d1.databases.DB as D1Database),
      DB_SHOP: d1Connector(d1.databases.DB_SHOP as D1Database),
    };
    const during: Response[] = [];
    try {
      await expect(
        moveSite(
          { databases },
          {
            site: 'demo',
            to: 'DB_SHOP',
            chunk: 200,
            onStep: async (step) => {
              if (!step.startsWith('copy:events:')) return;
              during.push(await collect(w.url, batchFor('late-2', 'late-2-a')));
              throw new Error('crash mid-copy');
            },
          },
        ),
      ).rejects.toThrow('crash mid-copy');
      expect(during[0]?.status).toBe(503);
      expect(during[0]?.headers.get('retry-after')).toBe('30');
      expect(((await during[0]?.json()) as { error: string }).error).toMatch(
        /site "demo" is being moved from DB to DB_SHOP/,
      );
      // The health endpoint shows the move; the site still answers its reads.
      expect((JSON.parse(await api(w.url, '/api/health')) as HealthReport).moves).toMatchObject([
        { site: 'demo', from: 'DB', to: 'DB_SHOP', state: 'copying' },
      ]);
      const again = await moveSite({ databases }, { site: 'demo', to: 'DB_SHOP', chunk: 200 });
      expect(again.outcome).toBe('moved');
      const rows = async (name: string) =>
        (
          await (d1.databases[name] as D1Database)
            .prepare("SELECT COUNT(*) AS n FROM events WHERE site = 'demo'")
            .all<{ n: number }>()
        ).results[0]?.n;
      expect(await rows('DB')).toBe(0);
      expect(await rows('DB_SHOP')).toBe(again.rows.events);
      const pause = (
        await (d1.databases.DB as D1Database)
          .prepare('SELECT value FROM meta WHERE key = ?')
          .bind(META.paused('demo'))
          .all<{ value: string }>()
      ).results[0]?.value;
      expect(JSON.parse(pause ?? '{}')).toMatchObject({ state: 'moved', to: 'DB_SHOP' });
    } finally {
      await d1.dispose();
    }
    const after = await everything(w.url);
    for (let i = 0; i < before.length; i++) expect(after[i], `answer ${i}`).toBe(before[i]);
    const site = JSON.parse(await api(w.url, '/api/sites/demo')) as { site: { database?: string } };
    expect(site.site.database).toBe('DB_SHOP');
    // The refused batch, sent again, lands once, in DB_SHOP.
    const res = await collect(w.url, batchFor('late-2', 'late-2-a'));
    expect(await res.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await collect(w.url, batchFor('late-2', 'late-2-a')).then((r) => r.json())).toMatchObject({
      accepted: 0,
      duplicates: 1,
    });
  }, 240_000);
});
