/**
 * `tsx scripts/measure-storage.ts [--visitors 3000] [--d1-visitors 150]`: what one event costs in storage and in
 * D1 rows written, for docs/scaling.md.
 *
 * Realistic shop traffic (scripts/simulate.ts, seed 42: page views with their events, web vitals, feedback, identify)
 * goes through the real `POST /collect` of the app (`app.request`, a browser User-Agent), into
 * - a SQLite file (collector/stores/sqlite.ts): bytes per event = file size / events, as written and after VACUUM,
 *   and rows changed per event (SQLite `total_changes()`);
 * - a local D1 (workerd, via getPlatformProxy) for a smaller sample: D1's own `rows_written` per event (what D1
 *   bills; it also counts index updates) and the size D1 reports (`size_after`).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../collector/core/app';
import { ensureDemoSite } from '../collector/core/bootstrap';
import type { Store } from '../collector/core/store';
import { createSqlStore, type SqlConnector } from '../collector/stores/sql';
import { createSqliteStore, openSqlite } from '../collector/stores/sqlite';
import { d1Connector } from '../collector/stores/d1';
import { visitorsOf, type SimVisitor } from './simulate';
import { openLocalD1 } from './worker';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const VISITORS = arg('--visitors', 3000);
const D1_VISITORS = arg('--d1-visitors', 150);
const NOW = Date.UTC(2026, 10, 22, 12);

/** Sends every visitor's batches through POST /collect of an app on `store`; returns the events accepted. */
const load = async (store: Store, visitors: Iterable<SimVisitor>): Promise<number> => {
  await ensureDemoSite(store);
  const app = createApp({
    getStore: () => store,
    getAdminToken: async () => 'x',
    asset: async () => null,
    now: () => NOW,
  });
  let accepted = 0;
  for (const v of visitors) {
    for (const events of v.batches) {
      const res = await app.request('/collect', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'User-Agent': v.userAgent },
        body: JSON.stringify({ site: 'demo', visitor: v.id, sent: NOW, events }),
      });
      if (res.status !== 202) throw new Error(`[cjm measure] /collect answered ${res.status}: ${await res.text()}`);
      accepted += ((await res.json()) as { accepted: number }).accepted;
    }
  }
  return accepted;
};

const sim = (n: number) => visitorsOf({ visitors: n, seed: 42, now: NOW, days: 28, site: 'demo' });
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

// --- SQLite file --------------------------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'cjm-measure-'));
const file = join(dir, 'cjm.db');
const db = openSqlite(file);
const migratedBytes = (() => {
  db.pragma('wal_checkpoint(TRUNCATE)');
  return statSync(file).size;
})();
const t0 = Date.now();
const events = await load(createSqliteStore(db), sim(VISITORS));
const changes = (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
const state = db
  .prepare('SELECT COUNT(*) AS n, AVG(LENGTH(state)) AS avg, MAX(LENGTH(state)) AS max FROM journeys')
  .get() as {
  n: number;
  avg: number;
  max: number;
};
db.pragma('wal_checkpoint(TRUNCATE)');
const written = statSync(file).size;
db.exec('VACUUM');
db.pragma('wal_checkpoint(TRUNCATE)');
const vacuumed = statSync(file).size;
const tables = (() => {
  try {
    return db
      .prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 12')
      .all() as Array<{ name: string; bytes: number }>;
  } catch {
    return [];
  }
})();
db.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `SQLite: ${fmt(VISITORS)} simulated visitors, ${fmt(events)} events accepted in ${fmt((Date.now() - t0) / 1000, 1)} s`,
);
console.log(`  file as written  ${fmt(written)} B  → ${fmt((written - migratedBytes) / events)} B/event`);
console.log(`  after VACUUM     ${fmt(vacuumed)} B  → ${fmt((vacuumed - migratedBytes) / events)} B/event`);
console.log(`  rows changed     ${fmt(changes)}  → ${fmt(changes / events, 2)} per event (SQLite total_changes)`);
console.log(
  `  journeys         ${fmt(state.n)}, state JSON ${fmt(state.avg)} B on average, ${fmt(state.max)} B at most (D1 row limit 1,000,000 B)`,
);
for (const t of tables)
  console.log(`    ${t.name.padEnd(34)} ${fmt(t.bytes).padStart(12)} B  ${fmt(t.bytes / events).padStart(5)} B/event`);

// --- local D1 ------------------------------------------------------------------------------------------------------
if (D1_VISITORS > 0) {
  const d1 = await openLocalD1();
  let rowsWritten = 0;
  let sizeAfter = 0;
  let reads = 0;
  let batches = 0;
  let statementsInBatches = 0;
  const base = d1Connector(d1.db);
  // The D1 connector, plus D1's own accounting of each atomic batch.
  const counting: SqlConnector = {
    all: (sql, params) => {
      reads++;
      return base.all(sql, params);
    },
    batch: async (statements) => {
      if (statements.length === 0) return;
      batches++;
      statementsInBatches += statements.length;
      const results = await d1.db.batch(statements.map((s) => d1.db.prepare(s.sql).bind(...s.params)));
      for (const r of results) {
        rowsWritten += r.meta.rows_written ?? 0;
        sizeAfter = r.meta.size_after ?? sizeAfter;
      }
    },
  };
  const store = createSqlStore(counting);
  await ensureDemoSite(store);
  const before = rowsWritten;
  const sizeBefore = sizeAfter;
  [reads, batches, statementsInBatches] = [0, 0, 0];
  const requests = [...sim(D1_VISITORS)].reduce((n, v) => n + v.batches.length, 0);
  const n = await load(store, sim(D1_VISITORS));
  await d1.dispose();
  console.log(`D1 (local workerd): ${fmt(D1_VISITORS)} visitors, ${fmt(n)} events`);
  console.log(
    `  rows_written     ${fmt(rowsWritten - before)}  → ${fmt((rowsWritten - before) / n, 2)} per event (D1 billing, indexes included)`,
  );
  console.log(`  size_after       ${fmt(sizeAfter)} B  → ${fmt((sizeAfter - sizeBefore) / n)} B/event`);
  console.log(
    `  per /collect request (${fmt(requests)} requests, ${fmt(n / requests, 2)} events each): ${fmt(reads / requests, 2)} reads, ${fmt(batches / requests, 2)} batches of ${fmt(statementsInBatches / Math.max(1, batches), 1)} statements`,
  );
}
