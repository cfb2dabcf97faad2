/**
 * Crash: several clients send concurrent batches to the Node collector (the real `collector/node.ts` in a child
 * process, on a SQLite file); the collector is killed with SIGKILL at random moments and restarted on the same
 * database, again and again. Clients behave like the tag: a batch without an answer is sent again later with the
 * same ids. At the end every pending batch is resent until it is acknowledged, and the database is compared
 * with what the clients know:
 *   - every event that got a 202 is stored, exactly once (nothing acknowledged is lost);
 *   - nothing is stored that was never sent, and no id is stored twice;
 *   - after the resends every event sent is stored exactly once;
 *   - every stored journey equals the journey refolded from its stored events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startCollectorProcess, type CollectorProcess } from '../../bench/lib/collector-process';
import { mulberry32 } from '../../bench/lib/traffic';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { waitFor } from '../helpers';
import { checkConsistency } from './consistency';

const KILLS = Number(process.env.CJM_FAULT_KILLS ?? 24);
const CLIENTS = 4;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** A deterministic PRNG (mulberry32) so a failing run can be replayed with CJM_FAULT_SEED. */
const SEED = Number(process.env.CJM_FAULT_SEED ?? Date.now() % 1_000_000);
const rng = mulberry32(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const PATHS = ['/', '/products', '/signup', '/cart', '/checkout', '/thank-you', '/cart'];
const VISITORS = Array.from({ length: 60 }, (_, i) => `crash-v${i}`);
const USERS = ['ada', 'grace', 'linus', 'barbara', 'ken', 'edsger', 'frances', 'donald', 'margaret', 'alan'];

interface Batch {
  visitor: string;
  events: Array<Record<string, unknown> & { id: string }>;
}

let idSeq = 0;
const makeBatch = (now: number): Batch => {
  const visitor = pick(VISITORS);
  const n = 1 + Math.floor(rng() * 10);
  const events: Batch['events'] = [];
  for (let i = 0; i < n; i++) {
    const id = `c${SEED}-${(idSeq++).toString(36)}`;
    // Mostly recent, sometimes hours late: late events make the collector refold the journey.
    const ts = now - Math.floor(rng() < 0.2 ? rng() * 6 * 3600_000 : rng() * 60_000);
    const r = rng();
    if (r < 0.6) events.push({ id, type: 'page', ts, url: `https://shop.test${pick(PATHS)}` });
    else if (r < 0.8)
      events.push({ id, type: 'event', ts, name: pick(['add_to_cart', 'search', 'purchase', 'signup_completed']) });
    else if (r < 0.83) events.push({ id, type: 'identify', ts, userId: pick(USERS) });
    else if (r < 0.95) events.push({ id, type: 'feedback', ts, value: 1 + Math.floor(rng() * 5) });
    else events.push({ id, type: 'stage', ts, stage: pick(['cart', 'checkout', 'landing']) });
  }
  return { visitor, events };
};

describe('crash: kill -9 under load, restart, compare', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cjm-crash-'));
  const file = join(dir, 'cjm.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`loses no acknowledged event and stores none twice over ${KILLS} kills`, async () => {
    const sent = new Set<string>();
    const acked = new Set<string>();
    const pending: Batch[] = [];
    const stats = { requests: 0, accepted202: 0, failed: 0, resent: 0, duplicatesReported: 0, acceptedReported: 0 };
    let url: string | null = null;
    let producing = true;
    let running = true;
    /** Clients holding a batch: sent and not answered yet, or refused and not back in `pending` yet. */
    let busy = 0;
    // Idle clients wait for a change of this shared state (the collector up, a batch back in `pending`, the end).
    let wake = () => {};
    let changed = new Promise<void>((ok) => (wake = ok));
    const notify = () => {
      const woken = wake;
      changed = new Promise<void>((ok) => (wake = ok));
      woken();
    };

    const send = async (b: Batch): Promise<boolean> => {
      const target = url;
      if (!target) return false;
      stats.requests++;
      try {
        const res = await fetch(`${target}/collect`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
          body: JSON.stringify({ site: 'demo', visitor: b.visitor, sent: Date.now(), events: b.events }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as { accepted?: number; duplicates?: number; rejected?: number };
        if (res.status === 202) {
          expect(body.rejected ?? 0).toBe(0);
          stats.accepted202++;
          stats.acceptedReported += body.accepted ?? 0;
          stats.duplicatesReported += body.duplicates ?? 0;
          for (const e of b.events) acked.add(e.id);
          return true;
        }
        // Only the retryable answers of a crash-free collector are expected here.
        expect([429, 500, 502, 503]).toContain(res.status);
        // Rate limited: the client honours Retry-After, as the tag does (a deliberate delay of the simulated client).
        if (res.status === 429)
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
        stats.failed++;
        return false;
      } catch {
        stats.failed++; // connection refused or reset: the collector is down, the answer is unknown
        return false;
      }
    };

    const client = async () => {
      while (running) {
        if (!url) {
          await changed; // the collector is down: wait until it is up again
          continue;
        }
        let b: Batch;
        if (pending.length > 0 && (!producing || rng() < 0.3)) {
          b = pending.splice(Math.floor(rng() * pending.length), 1)[0]!;
          stats.resent++;
        } else if (producing) {
          b = makeBatch(Date.now());
          for (const e of b.events) sent.add(e.id);
        } else {
          await changed; // recovering, nothing to resend: wait for a batch to come back, or the end
          continue;
        }
        busy++;
        if (!(await send(b))) {
          pending.push(b);
          notify();
        }
        busy--;
      }
    };

    const clients = Array.from({ length: CLIENTS }, client);
    let proc: CollectorProcess | null = null;
    const kills: number[] = [];
    const beforeRecovery = { acked: 0, waiting: 0, waitingStored: 0, lost: 0 };
    try {
      for (let k = 0; k < KILLS; k++) {
        proc = await startCollectorProcess({ db: file });
        url = proc.url;
        notify();
        // Load runs for a random time before the kill: a deliberate delay, so kills land at random moments.
        const lifetime = 150 + Math.floor(rng() * 900);
        await new Promise((r) => setTimeout(r, lifetime));
        url = null;
        await proc.crash();
        kills.push(lifetime);
      }
      // Between the last kill and the restart: of the events still waiting for an answer, which were committed?
      producing = false;
      // Every request to the killed process has failed and its batch is back in `pending`.
      await waitFor(() => busy === 0, { timeoutMs: 30_000, what: 'the answers of the killed collector' });
      const waiting = new Set(pending.flatMap((b) => b.events.map((e) => e.id)));
      const between = new Database(file);
      const storedNow = new Set(
        (between.prepare("SELECT id FROM events WHERE site = 'demo'").all() as { id: string }[]).map((r) => r.id),
      );
      between.close();
      beforeRecovery.acked = acked.size;
      beforeRecovery.waiting = waiting.size;
      beforeRecovery.waitingStored = [...waiting].filter((id) => storedNow.has(id) && !acked.has(id)).length;
      beforeRecovery.lost = [...acked].filter((id) => !storedNow.has(id)).length;
      // Recovery: no new events; every batch without an answer is resent until acknowledged.
      proc = await startCollectorProcess({ db: file });
      url = proc.url;
      notify();
      // A batch in flight is out of `pending`: wait for it too.
      await waitFor(() => pending.length === 0 && busy === 0, {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: 'the acknowledgement of every batch',
      });
      running = false;
      notify();
      await Promise.all(clients);
      expect(pending).toHaveLength(0);
      await proc.stop();
      proc = null;
    } finally {
      running = false;
      notify();
      await proc?.crash();
    }

    const db = new Database(file, { readonly: true });
    const stored = new Set(
      (db.prepare("SELECT id FROM events WHERE site = 'demo'").all() as { id: string }[]).map((r) => r.id),
    );
    db.close();
    const lostAcked = [...acked].filter((id) => !stored.has(id));
    const unknown = [...stored].filter((id) => !sent.has(id));
    const missing = [...sent].filter((id) => !stored.has(id));

    const store = createSqliteStore(openSqlite(file));
    const rw = new Database(file, { readonly: true });
    const report = await checkConsistency(store, rw, 'demo');
    rw.close();

    console.log(
      `[crash] seed ${SEED}: ${kills.length} kills after ${Math.min(...kills)}–${Math.max(...kills)} ms of load; ` +
        `${stats.requests} requests (${stats.accepted202} answered 202, ${stats.failed} unanswered or refused, ${stats.resent} resends); ` +
        `after the last kill: ${beforeRecovery.acked} events acknowledged (${beforeRecovery.lost} of them missing from the file), ` +
        `${beforeRecovery.waiting} waiting for an answer, of which ${beforeRecovery.waitingStored} already committed; ` +
        `after the resends: ${sent.size} events sent, ${acked.size} acknowledged, ${stored.size} stored; ` +
        `collector reported ${stats.acceptedReported} accepted + ${stats.duplicatesReported} duplicates; ` +
        `acknowledged but lost: ${lostAcked.length}; stored but never sent: ${unknown.length}; sent but missing after resends: ${missing.length}; ` +
        `${report.journeys} journeys of ${report.visitors} visitors refolded, ${report.mismatches.length} mismatches`,
    );
    expect(kills.length).toBeGreaterThanOrEqual(20);
    expect(beforeRecovery.lost).toBe(0);
    expect(lostAcked).toEqual([]);
    expect(unknown).toEqual([]);
    expect(missing).toEqual([]);
    expect(stored.size).toBe(sent.size);
    // Each event was accepted once in total; every other delivery of it was answered as a duplicate.
    expect(stats.acceptedReported).toBeLessThanOrEqual(sent.size);
    expect(report.mismatches).toEqual([]);
  }, 240_000);
});
