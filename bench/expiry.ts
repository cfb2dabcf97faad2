/**
 * The retention pass (core/retention.ts) on a large SQLite file: visitors spread over 60 days, a retention of 30
 * days, so about half the journeys expire. Measures each chunk (`store.expire`: its reads and its one write
 * transaction), the whole pass, and the ingest of new visitors running beside it (interleaved on the event loop as
 * on the Node collector, where the pass yields between chunks) against the same ingest without it.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../collector/core/ingest';
import { expireSite, RETENTION_CHUNK } from '../collector/core/retention';
import { retentionPause } from '../collector/node';
import { defaultSiteConfig } from '../collector/core/stages';
import type { Store } from '../collector/core/store';
import { createSqlStore } from '../collector/stores/sql';
import { openSqlite, sqliteConnector } from '../collector/stores/sqlite';
import { ingestVisitors, visitorBatches } from './lib/traffic';

export interface RetentionFigures {
  visitors: number;
  events: number;
  bytes: number;
  expiredJourneys: number;
  expiredEvents: number;
  chunks: number;
  chunkP50: number;
  chunkP99: number;
  chunkMax: number;
  /** The write transaction of each chunk alone. */
  writeP50: number;
  writeP99: number;
  writeMax: number;
  /** The passive WAL checkpoint between chunks (no write transaction open). */
  checkpointP99: number;
  totalSeconds: number;
  /** Events/s of new visitors ingested alone, then while the pass runs. */
  ingestAlone: number;
  ingestDuring: number;
  ingestP99Alone: number;
  ingestP99During: number;
}

const DAY = 86_400_000;
const EVENTS_PER_VISITOR = 10;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? NaN;
};
const tick = () => new Promise<void>((ok) => setImmediate(ok));

export const benchExpiry = async (visitors: number, log: (s: string) => void = () => {}): Promise<RetentionFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'cjm-bench-r-'));
  const file = join(dir, 'bench.db');
  const db = openSqlite(file);
  // The connector, timing each write transaction of the pass (its batches start with the guard of privacy.ts).
  const conn = sqliteConnector(db);
  const writeMs: number[] = [];
  const store = createSqlStore({
    all: (q, p) => conn.all(q, p),
    batch: async (statements) => {
      const t = performance.now();
      await conn.batch(statements);
      if (statements[0]?.sql.includes('cjm:journey-active-again')) writeMs.push(performance.now() - t);
    },
  });
  const now = Date.now();
  const site = { ...defaultSiteConfig('bench', { name: 'Bench shop' }), retentionDays: 30 };
  await store.putSite(site);
  const traffic = { eventsPerVisitor: EVENTS_PER_VISITOR, start: now - 60 * DAY, spanMs: 59 * DAY, now };
  try {
    let events = 0;
    const t0 = performance.now();
    for (let have = 0; have < visitors;) {
      const to = Math.min(visitors, have + 5_000);
      events += await ingestVisitors(store, site, have, to, traffic);
      have = to;
      const s = (performance.now() - t0) / 1000;
      log(
        `  generating: ${have.toLocaleString('en')} visitors, ${events.toLocaleString('en')} events (${s.toFixed(0)} s)`,
      );
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = statSync(file).size;

    // New visitors, one batch per session, until `stop()`: events/s and per-batch latency.
    let next = 2_000_000_000;
    const ingesting = () => {
      let stop = false;
      const lat: number[] = [];
      let accepted = 0;
      const started = performance.now();
      const done = (async () => {
        while (!stop) {
          for (const batch of visitorBatches(next, EVENTS_PER_VISITOR, now - 3_600_000, 3_000_000)) {
            const t = performance.now();
            accepted += (await ingest(store, site, `bv${next}`, batch, now, { device: 'desktop' })).accepted;
            lat.push(performance.now() - t);
          }
          next++;
          await tick();
        }
      })();
      return async () => {
        stop = true;
        await done;
        return { rate: accepted / ((performance.now() - started) / 1000), p99: pct(lat, 99) };
      };
    };

    // Ingest alone, for as long as about 3 s.
    const alone = ingesting();
    await new Promise((ok) => setTimeout(ok, 3_000));
    const a = await alone();
    log(`  ingest alone: ${Math.round(a.rate)} ev/s (batch p99 ${a.p99.toFixed(1)} ms)`);

    // The pass, with ingest beside it.
    const chunkMs: number[] = [];
    const checkpointMs: number[] = [];
    const timed: Store = {
      ...store,
      expire: async (s, before, limit) => {
        const t = performance.now();
        const r = await store.expire(s, before, limit);
        if (!r.done) chunkMs.push(performance.now() - t);
        return r;
      },
    };
    const during = ingesting();
    const tp = performance.now();
    let journeys = 0;
    let deleted = 0;
    for (;;) {
      const run = await expireSite(timed, site, now, {
        maxChunks: 400,
        pause: async (ms) => {
          const t = performance.now();
          const wait = retentionPause(db, ms); // the checkpoint runs synchronously here
          checkpointMs.push(performance.now() - t);
          await wait;
        },
      });
      journeys += run.journeys;
      deleted += run.events;
      if (run.done) break;
      log(`  pass: ${journeys.toLocaleString('en')} journeys, ${deleted.toLocaleString('en')} events deleted`);
    }
    const totalSeconds = (performance.now() - tp) / 1000;
    const d = await during();
    const f: RetentionFigures = {
      visitors,
      events,
      bytes,
      expiredJourneys: journeys,
      expiredEvents: deleted,
      chunks: chunkMs.length,
      chunkP50: pct(chunkMs, 50),
      chunkP99: pct(chunkMs, 99),
      chunkMax: Math.max(...chunkMs),
      writeP50: pct(writeMs, 50),
      writeP99: pct(writeMs, 99),
      writeMax: Math.max(...writeMs),
      checkpointP99: pct(checkpointMs, 99),
      totalSeconds,
      ingestAlone: a.rate,
      ingestDuring: d.rate,
      ingestP99Alone: a.p99,
      ingestP99During: d.p99,
    };
    log(
      `  pass: ${journeys} journeys, ${deleted} events in ${f.chunks} chunks of ≤ ${RETENTION_CHUNK.journeys} journeys / ${RETENTION_CHUNK.events} events; ` +
        `chunk p50 ${f.chunkP50.toFixed(1)} ms, p99 ${f.chunkP99.toFixed(1)} ms, max ${f.chunkMax.toFixed(1)} ms; write transaction p99 ${f.writeP99.toFixed(1)} ms, max ${f.writeMax.toFixed(1)} ms; checkpoint p99 ${f.checkpointP99.toFixed(1)} ms; ${totalSeconds.toFixed(1)} s; ` +
        `ingest beside it ${Math.round(d.rate)} ev/s (batch p99 ${d.p99.toFixed(1)} ms)`,
    );
    return f;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
