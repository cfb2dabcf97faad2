/**
 * The cohort retention report and the journey map's lifecycle numbers at scale: a SQLite file holding `visitors`
 * journeys (first visits spread over 26 weeks; one to six sessions over up to 40 days; a third buy, two fifths of
 * those again) with exactly the rows the ingest path would have written for them — each journey's row in `journeys`
 * (with migration 0032's columns) and the rollup sums of `contributions` (stores/sql/rollups.ts), summed per key —
 * built in bulk instead of through ingest, which would take hours at 1M visitors on a small machine. Then the
 * reports are timed through the store as the API calls them (median of 20).
 *
 *   npx tsx bench/retention.ts [visitors]      default 1,000,000
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyJourney, type Journey } from '../collector/core/journey';
import { lifecycle, retention } from '../collector/core/reports';
import { applyTemplate, defaultSiteConfig } from '../collector/core/stages';
import { contributions, lifecycleOf } from '../collector/stores/sql/rollups';
import { createSqliteStore, openSqlite } from '../collector/stores/sqlite';
import { mulberry32 } from './lib/traffic';

const DAY = 86_400_000;

export interface RetentionFigures {
  visitors: number;
  buildSeconds: number;
  retentionRows: number;
  lifecycleRows: number;
  /** Median ms: retention over every cohort (26 weeks × 13 columns), over the last 90 days, the lifecycle numbers. */
  retentionAll: number;
  retention90d: number;
  lifecycleAll: number;
  lifecycleEdges: number;
  bytes: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export const benchRetention = async (
  visitors: number,
  log: (s: string) => void = () => {},
): Promise<RetentionFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'cjm-bench-ret-'));
  const file = join(dir, 'retention.db');
  const db = openSqlite(file);
  const store = createSqliteStore(db);
  const site = applyTemplate(defaultSiteConfig('bench', { name: 'Bench shop' }), 'post-purchase');
  await store.putSite(site);
  const now = Date.UTC(2026, 11, 2, 12);
  const start = now - 26 * 7 * DAY;
  const r = mulberry32(18);
  const t0 = performance.now();
  const sums = new Map<string, { table: string; key: Record<string, string | number>; add: Record<string, number> }>();
  const insert = db.prepare(
    `INSERT INTO journeys (site, key, version, visitor, visitor_count, converted, converted_at, first_seen, last_seen,
       touches, sessions, state, revision, purchases, second_purchase_ms, returned)
     VALUES ('bench', ?, 1, ?, 1, ?, ?, ?, ?, ?, ?, '{}', 1, ?, ?, ?)`,
  );
  const chunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const j: Journey = emptyJourney();
      const first = start + Math.floor(((i + r()) * (now - start - 40 * DAY)) / visitors);
      let t = first;
      const sessions = 1 + Math.floor(r() * r() * 6);
      for (let s = 0; s < sessions; s++) {
        if (s > 0) t += Math.floor(r() * 8 * DAY) + 3600_000;
        j.sessions.push({
          start: t,
          end: t + 600_000,
          touches: 3,
          channel: 'direct',
          source: null,
          campaign: null,
          referrerHost: null,
          device: 'desktop',
        });
      }
      j.events = j.touches = sessions * 3;
      j.firstSeen = first;
      j.lastSeen = t + 600_000;
      j.current = j.furthest = 'awareness';
      j.firstChannel = j.lastChannel = 'direct';
      if (r() < 0.33) {
        const buys = r() < 0.4 ? 2 + Math.floor(r() * 3) : 1;
        const at = first + 300_000;
        j.converted = { at, touches: 2, sessions: 1 };
        j.current = j.furthest = 'purchase';
        j.purchases = { count: buys, at: buys > 1 ? [at, at + 3600_000 + Math.floor(r() * 30 * DAY)] : [at] };
      }
      const life = lifecycleOf(j)!;
      insert.run(
        `v${i}`,
        `v${i}`,
        j.converted ? 1 : 0,
        j.converted?.at ?? null,
        j.firstSeen,
        j.lastSeen,
        j.touches,
        sessions,
        life.purchases,
        life.secondMs,
        life.returned ? 1 : 0,
      );
      for (const c of contributions('bench', j)) {
        if (c.table !== 'cohort_retention' && c.table !== 'cohort_lifecycle' && c.table !== 'cohort_journeys') continue;
        const id = JSON.stringify([c.table, Object.values(c.key)]);
        const s = sums.get(id);
        if (s) for (const [k, v] of Object.entries(c.add)) s.add[k] = (s.add[k] ?? 0) + v;
        else sums.set(id, { table: c.table, key: c.key as Record<string, string | number>, add: { ...c.add } });
      }
    }
  });
  for (let i = 0; i < visitors; i += 50_000) {
    chunk(i, Math.min(visitors, i + 50_000));
    log(`  built ${Math.min(visitors, i + 50_000).toLocaleString('en')} journeys`);
  }
  db.transaction(() => {
    for (const s of sums.values()) {
      const cols = [...Object.keys(s.key), ...Object.keys(s.add)];
      db.prepare(`INSERT INTO ${s.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(
        ...Object.values(s.key),
        ...Object.values(s.add),
      );
    }
  })();
  db.exec('ANALYZE');
  const buildSeconds = (performance.now() - t0) / 1000;
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const time = async (f: () => Promise<unknown>) => {
    await f();
    const xs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await f();
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  const edges = { from: now - 90 * DAY + 7 * 3600_000, to: now - 3 * 3600_000 };
  const stored = (await store.getSite('bench'))!;
  const figures: RetentionFigures = {
    visitors,
    buildSeconds,
    retentionRows: count('cohort_retention'),
    lifecycleRows: count('cohort_lifecycle'),
    retentionAll: await time(() => retention(store, stored, {}, 12, now)),
    retention90d: await time(() => retention(store, stored, { from: now - 90 * DAY, to: now }, 12, now)),
    lifecycleAll: await time(() => lifecycle(store, stored, {})),
    lifecycleEdges: await time(() => lifecycle(store, stored, edges)),
    bytes: 0,
  };
  db.pragma('wal_checkpoint(TRUNCATE)');
  figures.bytes = statSync(file).size;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return figures;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const f = await benchRetention(n, (s) => process.stderr.write(`${s}\n`));
  console.log(JSON.stringify(f, null, 2));
}
