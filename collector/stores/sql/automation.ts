/**
 * The SQL of journey automation (rules, armed stalls, the delivery queue and its log): the AutomationStore methods,
 * the statements the ingest commit adds (`automationStatements`, events.ts) and those erasure adds
 * (`eraseAutomationStatements`, privacy.ts). Schema: migrations/0003_automation.sql.
 */
import { durationMs, type Rule } from '../../core/automation/rules';
import type {
  AutomationWrite,
  ClaimedDelivery,
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  Stall,
  StallStatus,
} from '../../core/automation/types';
import type { AutomationStore } from '../../core/store';
import { chunks, empty, list, query, sql, type Sql, type SqlConnector } from './shared';

/** Statements that queue deliveries and arm or fire stalls, run inside the ingest commit (idempotent). */
export const automationStatements = (site: string, w: AutomationWrite, now: number): Sql[] => {
  const out: Sql[] = [];
  for (const d of w.deliveries) {
    out.push(
      sql`INSERT OR IGNORE INTO automation_deliveries (id, site, rule, event, visitor, status, body, attempts, created_at, next_at)
         VALUES (${d.id}, ${site}, ${d.rule}, ${d.event}, ${d.visitor}, 'pending', ${d.body}, 0, ${d.createdAt}, ${d.createdAt})`,
    );
  }
  for (const s of w.stalls) {
    out.push(
      sql`INSERT OR IGNORE INTO automation_stalls (site, id, rule, visitor, entry_event, entry_at, due_at, status, updated_at)
         VALUES (${site}, ${s.id}, ${s.rule}, ${s.visitor}, ${s.entryEvent}, ${s.entryAt}, ${s.dueAt}, 'armed', ${now})`,
    );
  }
  for (const id of w.fired) {
    out.push(
      sql`UPDATE automation_stalls SET status = 'fired', updated_at = ${now} WHERE site = ${site} AND id = ${id}`,
    );
  }
  return out;
};

/**
 * Statements that erase a site's visitors from automation: their armed and retired stalls, and their deliveries
 * (pending or logged) with the attempts, since a delivery's body carries the visitor's journey. For the store's
 * `erase`, inside its batch; at most 90 visitors per call (D1's parameter limit).
 */
export const eraseAutomationStatements = (site: string, visitors: readonly string[]): Sql[] => {
  if (visitors.length === 0) return [];
  return [
    sql`DELETE FROM automation_stalls WHERE site = ${site} AND visitor IN ${list(visitors)}`,
    sql`DELETE FROM automation_attempts WHERE delivery IN (SELECT id FROM automation_deliveries WHERE site = ${site} AND visitor IN ${list(visitors)})`,
    sql`DELETE FROM automation_deliveries WHERE site = ${site} AND visitor IN ${list(visitors)}`,
  ];
};

interface DeliveryRow {
  id: string;
  site: string;
  rule: string;
  event: string;
  visitor: string;
  status: DeliveryStatus;
  body: string;
  attempts: number;
  created_at: number;
  next_at: number;
  done_at: number | null;
  last_status: number | null;
  last_error: string | null;
  claim: string | null;
}

const fromDeliveryRow = (r: DeliveryRow): Omit<Delivery, 'log'> => ({
  id: r.id,
  site: r.site,
  rule: r.rule,
  event: r.event,
  visitor: r.visitor,
  status: r.status,
  attempts: r.attempts,
  createdAt: r.created_at,
  nextAt: r.next_at,
  doneAt: r.done_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
});

const afterMsOf = (rule: Rule): number | null =>
  rule.trigger.type === 'stalled' ? (durationMs(rule.trigger.after) ?? null) : null;

/** The automation methods of the Store over a connector. */
export const sqlAutomationStore = (db: SqlConnector): AutomationStore => ({
  async listRules(site) {
    const rows = await query<{ rule: string }>(
      db,
      sql`SELECT rule FROM automation_rules WHERE site = ${site} ORDER BY created_at, rowid`,
    );
    return rows.map((r) => JSON.parse(r.rule) as Rule);
  },

  async putRule(rule) {
    const statements = [
      sql`INSERT INTO automation_rules (site, id, rule, created_at) VALUES (${rule.site}, ${rule.id}, ${JSON.stringify(rule)}, ${rule.createdAt})
         ON CONFLICT (site, id) DO UPDATE SET rule = excluded.rule`,
    ];
    const ms = afterMsOf(rule);
    if (ms !== null) {
      // Entry + T is the earliest a stall can fire; the evaluator pushes idle stalls later as needed.
      statements.push(
        sql`UPDATE automation_stalls SET due_at = entry_at + ${ms}, updated_at = ${rule.updatedAt}
            WHERE site = ${rule.site} AND rule = ${rule.id} AND status = 'armed'`,
      );
    } else {
      statements.push(
        sql`UPDATE automation_stalls SET status = 'cancelled', updated_at = ${rule.updatedAt}
            WHERE site = ${rule.site} AND rule = ${rule.id} AND status = 'armed'`,
      );
    }
    await db.batch(statements);
  },

  async deleteRule(site, id, now = Date.now()) {
    const found = await query<{ id: string }>(
      db,
      sql`SELECT id FROM automation_rules WHERE site = ${site} AND id = ${id}`,
    );
    if (found.length === 0) return false;
    await db.batch([
      sql`DELETE FROM automation_rules WHERE site = ${site} AND id = ${id}`,
      sql`DELETE FROM automation_stalls WHERE site = ${site} AND rule = ${id} AND status = 'armed'`,
      sql`UPDATE automation_deliveries SET status = 'failed', done_at = ${now},
            last_error = ${'[cjm] the rule was deleted before this delivery succeeded'}, claim = NULL
         WHERE site = ${site} AND rule = ${id} AND status = 'pending'`,
    ]);
    return true;
  },

  async listDeliveries(site, q) {
    const rule = q.rule !== undefined ? sql` AND rule = ${q.rule}` : empty;
    const status = q.status !== undefined ? sql` AND status = ${q.status}` : empty;
    const rows = await query<DeliveryRow>(
      db,
      sql`SELECT * FROM automation_deliveries WHERE site = ${site}${rule}${status} ORDER BY created_at DESC, id DESC LIMIT ${q.limit}`,
    );
    const logs = new Map<string, DeliveryAttempt[]>();
    for (const part of chunks(rows.map((r) => r.id))) {
      const attempts = await query<{
        delivery: string;
        n: number;
        at: number;
        status: number | null;
        error: string | null;
        duration_ms: number;
      }>(db, sql`SELECT * FROM automation_attempts WHERE delivery IN ${list(part)} ORDER BY delivery, n`);
      for (const a of attempts) {
        let log = logs.get(a.delivery);
        if (!log) logs.set(a.delivery, (log = []));
        log.push({ n: a.n, at: a.at, status: a.status, error: a.error, durationMs: a.duration_ms });
      }
    }
    return rows.map((r) => ({ ...fromDeliveryRow(r), log: logs.get(r.id) ?? [] }));
  },

  async dueStalls(now, limit) {
    const rows = await query<{
      site: string;
      id: string;
      rule: string;
      visitor: string;
      entry_event: string;
      entry_at: number;
      due_at: number;
      status: StallStatus;
    }>(
      db,
      sql`SELECT site, id, rule, visitor, entry_event, entry_at, due_at, status FROM automation_stalls
       WHERE status = 'armed' AND due_at <= ${now} ORDER BY due_at LIMIT ${limit}`,
    );
    return rows.map((r): Stall => ({
      site: r.site,
      id: r.id,
      rule: r.rule,
      visitor: r.visitor,
      entryEvent: r.entry_event,
      entryAt: r.entry_at,
      dueAt: r.due_at,
      status: r.status,
    }));
  },

  async updateStalls(updates, now) {
    if (updates.length === 0) return;
    await db.batch(
      updates.map((u) => {
        const due = u.dueAt !== undefined ? sql`, due_at = ${u.dueAt}` : empty;
        return sql`UPDATE automation_stalls SET status = ${u.status}${due}, updated_at = ${now}
                   WHERE site = ${u.site} AND id = ${u.id} AND status = 'armed'`;
      }),
    );
  },

  async claimDeliveries(now, leaseMs, limit) {
    const claim = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join(
      '',
    );
    // One statement: SQLite (and D1) run it atomically, so two runs never claim the same delivery. Pushing
    // next_at to the end of the lease makes a claim of a run that crashed expire by itself.
    await db.batch([
      sql`UPDATE automation_deliveries SET claim = ${claim}, next_at = ${now + leaseMs}
         WHERE id IN (SELECT id FROM automation_deliveries WHERE status = 'pending' AND next_at <= ${now} ORDER BY next_at LIMIT ${limit})`,
    ]);
    const rows = await query<DeliveryRow>(
      db,
      sql`SELECT * FROM automation_deliveries WHERE claim = ${claim} AND status = 'pending' ORDER BY created_at`,
    );
    return rows.map((r): ClaimedDelivery => ({ ...fromDeliveryRow(r), body: r.body, claim }));
  },

  async finishDelivery(d, outcome) {
    const a = outcome.attempt;
    const doneAt = outcome.status === 'pending' ? null : a.at + a.durationMs;
    await db.batch([
      sql`INSERT OR REPLACE INTO automation_attempts (delivery, n, at, status, error, duration_ms)
          VALUES (${d.id}, ${a.n}, ${a.at}, ${a.status}, ${a.error}, ${a.durationMs})`,
      sql`UPDATE automation_deliveries SET status = ${outcome.status}, attempts = ${a.n}, next_at = ${outcome.nextAt},
            done_at = ${doneAt}, last_status = ${a.status}, last_error = ${a.error}, claim = NULL
         WHERE id = ${d.id} AND claim = ${d.claim}`,
    ]);
  },

  async pruneAutomation(before, limit) {
    const done = await query<{ id: string }>(
      db,
      sql`SELECT id FROM automation_deliveries WHERE done_at IS NOT NULL AND done_at < ${before} ORDER BY done_at LIMIT ${limit}`,
    );
    const stalls = await query<{ site: string; id: string }>(
      db,
      sql`SELECT site, id FROM automation_stalls WHERE status <> 'armed' AND updated_at < ${before} ORDER BY updated_at LIMIT ${limit}`,
    );
    const statements: Sql[] = [];
    for (const ids of chunks(done.map((r) => r.id))) {
      statements.push(sql`DELETE FROM automation_attempts WHERE delivery IN ${list(ids)}`);
      statements.push(sql`DELETE FROM automation_deliveries WHERE id IN ${list(ids)}`);
    }
    for (const s of stalls) statements.push(sql`DELETE FROM automation_stalls WHERE site = ${s.site} AND id = ${s.id}`);
    if (statements.length) await db.batch(statements);
    return { deliveries: done.length, stalls: stalls.length };
  },
});
