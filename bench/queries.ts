/**
 * Query latency and how costs grow: a SQLite file is filled through the real ingest path (bench/lib/traffic.ts)
 * to each size in turn; at each size the bench measures ingest (events/s and per-batch latency for new visitors),
 * the read API through `app.request()` (visitor timeline, visitors list, funnel, journey map) and bytes on disk.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../collector/core/app';
import { ingest } from '../collector/core/ingest';
import { defaultSiteConfig } from '../collector/core/stages';
import { createSqliteStore, openSqlite } from '../collector/stores/sqlite';
import { ingestVisitors, visitorBatches } from './lib/traffic';

export interface SizeFigures {
  visitors: number;
  events: number;
  /** Seconds spent generating up to this size (from the previous size). */
  generateSeconds: number;
  generateRate: number;
  ingestRate: number;
  ingestP50: number;
  ingestP99: number;
  timeline: number;
  visitorsList: number;
  visitorsFiltered: number;
  funnel: number;
  journeyMap: number;
  bytes: number;
  bytesPerEvent: number;
}

const EVENTS_PER_VISITOR = 10;
const TOKEN = 'bench';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? NaN;
};

export const benchQueries = async (sizes: number[], log: (s: string) => void = () => {}): Promise<SizeFigures[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'cjm-bench-q-'));
  const file = join(dir, 'bench.db');
  const db = openSqlite(file);
  const store = createSqliteStore(db);
  const site = defaultSiteConfig('bench', { name: 'Bench shop' });
  await store.putSite(site);
  const stored = (await store.getSite('bench'))!;
  const app = createApp({ getStore: () => store, getAdminToken: async () => TOKEN, asset: async () => null });
  const get = async (path: string) => {
    const t = performance.now();
    const res = await app.request(path, { headers: { Authorization: `Bearer ${TOKEN}` } });
    await res.arrayBuffer();
    const ms = performance.now() - t;
    if (res.status !== 200) throw new Error(`[cjm bench] ${path} answered ${res.status}`);
    return ms;
  };
  const now = Date.now();
  const traffic = { eventsPerVisitor: EVENTS_PER_VISITOR, start: now - 30 * 86400_000, spanMs: 25 * 86400_000, now };
  const out: SizeFigures[] = [];
  let have = 0;
  let events = 0;
  let extra = 1_000_000_000; // ids of the visitors added by the ingest measurement, apart from the generated ones
  try {
    for (const size of sizes) {
      const t0 = performance.now();
      const eventsBefore = events;
      const step = 5_000;
      while (have < size) {
        const to = Math.min(size, have + step);
        events += await ingestVisitors(store, stored, have, to, traffic);
        have = to;
        const s = (performance.now() - t0) / 1000;
        log(
          `  generating: ${have.toLocaleString('en')} visitors, ${events.toLocaleString('en')} events (${Math.round((events - eventsBefore) / Math.max(s, 0.001)).toLocaleString('en')} ev/s overall)`,
        );
      }
      const generateSeconds = (performance.now() - t0) / 1000;
      // Ingest at this size: 300 new visitors, one batch per session, timed one by one.
      const lat: number[] = [];
      let added = 0;
      const ti = performance.now();
      for (let n = extra; n < extra + 300; n++) {
        for (const batch of visitorBatches(n, EVENTS_PER_VISITOR, now - 3600_000, 3000_000)) {
          const t = performance.now();
          added += (await ingest(store, stored, `bv${n}`, batch, now, { device: 'desktop' })).accepted;
          lat.push(performance.now() - t);
        }
      }
      const ingestSeconds = (performance.now() - ti) / 1000;
      extra += 300;
      events += added;
      // Reads. Visitors are picked spread over the whole database.
      const timeline: number[] = [];
      for (let i = 0; i < 40; i++)
        timeline.push(await get(`/api/sites/bench/visitors/bv${Math.floor((i * 7919) % have)}`));
      const list: number[] = [];
      const filtered: number[] = [];
      for (let i = 0; i < 10; i++) {
        list.push(await get('/api/sites/bench/visitors?limit=50'));
        filtered.push(await get(`/api/sites/bench/visitors?limit=50&stage=${['cart', 'checkout', 'landing'][i % 3]}`));
      }
      const funnel: number[] = [];
      const map: number[] = [];
      for (let i = 0; i < 3; i++) {
        funnel.push(await get('/api/sites/bench/funnel'));
        map.push(await get('/api/sites/bench/journey-map'));
      }
      db.pragma('wal_checkpoint(TRUNCATE)');
      const bytes = statSync(file).size;
      const f: SizeFigures = {
        visitors: have,
        events,
        generateSeconds,
        generateRate: (events - eventsBefore) / Math.max(generateSeconds, 0.001),
        ingestRate: added / ingestSeconds,
        ingestP50: median(lat),
        ingestP99: pct(lat, 99),
        timeline: median(timeline),
        visitorsList: median(list),
        visitorsFiltered: median(filtered),
        funnel: median(funnel),
        journeyMap: median(map),
        bytes,
        bytesPerEvent: bytes / events,
      };
      log(
        `  ${have.toLocaleString('en')} visitors / ${events.toLocaleString('en')} events: ingest ${Math.round(f.ingestRate)} ev/s (p99 ${f.ingestP99.toFixed(1)} ms); ` +
          `timeline ${f.timeline.toFixed(1)} ms, list ${f.visitorsList.toFixed(1)} ms, funnel ${f.funnel.toFixed(0)} ms, map ${f.journeyMap.toFixed(0)} ms; ${f.bytesPerEvent.toFixed(0)} B/event`,
      );
      out.push(f);
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
};
