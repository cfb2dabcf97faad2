/**
 * The SQL of journey automation (rules, armed stalls, the delivery queue and its log) over the same connector as
 * stores/sql.ts, which spreads these methods into `createSqlStore` and adds `automationStatements` to its commit.
 * Schema: migrations/0003_automation.sql. Every statement binds far fewer than D1's 100 parameters.
 */
import { durationMs, type Rule } from '../core/automation/rules';
import type {
  AutomationWrite,
  ClaimedDelivery,
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  Stall,
  StallStatus,
} from '../core/automation/types';
import type { Store } from '../core/store';
import type { SqlConnector, SqlStatement, SqlValue } from './sql';

const q = (sql: string, ...params: SqlValue[]): SqlStatement => ({ sql, params });
const marks = (n: number) => Array.from({ length: n }, () => '?').join(',');
const IN_LIST = 90;

/** Statements that queue deliveries and arm or fire stalls, run inside the ingest commit (idempotent). */
export const automationStatements = (site: string, w: AutomationWrite, now: number): SqlStatement[] => {
  const out: SqlStatement[] = [];
  for (const d of w.deliveries) {
    out.push(
      q(
        `INSERT OR IGNORE INTO automation_deliveries (id, site, rule, event, visitor, status, body, attempts, created_at, next_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, 0, ?, ?)`,
        d.id,
        site,
        d.rule,
        d.event,
        d.visitor,
        d.body,
        d.createdAt,
        d.createdAt,
      ),
    );
  }
  for (const s of w.stalls) {
    out.push(
      q(
        `INSERT OR IGNORE INTO automation_stalls (site, id, rule, visitor, entry_event, entry_at, due_at, status, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'armed', ?)`,
        site,
        s.id,
        s.rule,
        s.visitor,
        s.entryEvent,
        s.entryAt,
        s.dueAt,
        now,
      ),
    );
  }
  for (const id of w.fired) {
    out.push(
      q(`UPDATE automation_stalls SET status = 'fired', updated_at = ? WHERE site = ? AND id = ?`, now, site, id),
    );
  }
  return out;
};

/**
 * Statements that erase a site's visitors from automation: their armed and retired stalls, and their deliveries
 * (pending or logged) with the attempts, since a delivery's body carries the visitor's journey. For the store's
 * `erase`, inside its batch; at most 90 visitors per call (D1's parameter limit).
 */
export const eraseAutomationStatements = (site: string, visitors: readonly string[]): SqlStatement[] => {
  if (visitors.length === 0) return [];
  const list = marks(visitors.length);
  return [
    q(`DELETE FROM automation_stalls WHERE site = ? AND visitor IN (${list})`, site, ...visitors),
    q(
      `DELETE FROM automation_attempts WHERE delivery IN (SELECT id FROM automation_deliveries WHERE site = ? AND visitor IN (${list}))`,
      site,
      ...visitors,
    ),
    q(`DELETE FROM automation_deliveries WHERE site = ? AND visitor IN (${list})`, site, ...visitors),
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

type AutomationMethods = Pick<
  Store,
  | 'listRules'
  | 'putRule'
  | 'deleteRule'
  | 'listDeliveries'
  | 'dueStalls'
  | 'updateStalls'
  | 'claimDeliveries'
  | 'finishDelivery'
  | 'pruneAutomation'
>;

/** The automation methods of the Store over a connector. */
export const sqlAutomationMethods = (db: SqlConnector): AutomationMethods => ({
  async listRules(site) {
    const rows = await db.all<{ rule: string }>(
      'SELECT rule FROM automation_rules WHERE site = ? ORDER BY created_at, rowid',
      [site],
    );
    return rows.map((r) => JSON.parse(r.rule) as Rule);
  },

  async putRule(rule) {
    const statements = [
      q(
        `INSERT INTO automation_rules (site, id, rule, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (site, id) DO UPDATE SET rule = excluded.rule`,
        rule.site,
        rule.id,
        JSON.stringify(rule),
        rule.createdAt,
      ),
    ];
    const ms = afterMsOf(rule);
    if (ms !== null) {
      // Entry + T is the earliest a stall can fire; the evaluator pushes idle stalls later as needed.
      statements.push(
        q(
          `UPDATE automation_stalls SET due_at = entry_at + ?, updated_at = ? WHERE site = ? AND rule = ? AND status = 'armed'`,
          ms,
          rule.updatedAt,
          rule.site,
          rule.id,
        ),
      );
    } else {
      statements.push(
        q(
          `UPDATE automation_stalls SET status = 'cancelled', updated_at = ? WHERE site = ? AND rule = ? AND status = 'armed'`,
          rule.updatedAt,
          rule.site,
          rule.id,
        ),
      );
    }
    await db.batch(statements);
  },

  async deleteRule(site, id, now = Date.now()) {
    const found = await db.all<{ id: string }>('SELECT id FROM automation_rules WHERE site = ? AND id = ?', [site, id]);
    if (found.length === 0) return false;
    await db.batch([
      q('DELETE FROM automation_rules WHERE site = ? AND id = ?', site, id),
      q(`DELETE FROM automation_stalls WHERE site = ? AND rule = ? AND status = 'armed'`, site, id),
      q(
        `UPDATE automation_deliveries SET status = 'failed', done_at = ?, last_error = ?, claim = NULL
         WHERE site = ? AND rule = ? AND status = 'pending'`,
        now,
        '[cjm] the rule was deleted before this delivery succeeded',
        site,
        id,
      ),
    ]);
    return true;
  },

  async listDeliveries(site, query) {
    const where = ['site = ?'];
    const params: SqlValue[] = [site];
    if (query.rule !== undefined) {
      where.push('rule = ?');
      params.push(query.rule);
    }
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    const rows = await db.all<DeliveryRow>(
      `SELECT * FROM automation_deliveries WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, query.limit],
    );
    const logs = new Map<string, DeliveryAttempt[]>();
    for (let i = 0; i < rows.length; i += IN_LIST) {
      const part = rows.slice(i, i + IN_LIST).map((r) => r.id);
      const attempts = await db.all<{
        delivery: string;
        n: number;
        at: number;
        status: number | null;
        error: string | null;
        duration_ms: number;
      }>(`SELECT * FROM automation_attempts WHERE delivery IN (${marks(part.length)}) ORDER BY delivery, n`, part);
      for (const a of attempts) {
        let list = logs.get(a.delivery);
        if (!list) logs.set(a.delivery, (list = []));
        list.push({ n: a.n, at: a.at, status: a.status, error: a.error, durationMs: a.duration_ms });
      }
    }
    return rows.map((r) => ({ ...fromDeliveryRow(r), log: logs.get(r.id) ?? [] }));
  },

  async dueStalls(now, limit) {
    const rows = await db.all<{
      site: string;
      id: string;
      rule: string;
      visitor: string;
      entry_event: string;
      entry_at: number;
      due_at: number;
      status: StallStatus;
    }>(
      `SELECT site, id, rule, visitor, entry_event, entry_at, due_at, status FROM automation_stalls
       WHERE status = 'armed' AND due_at <= ? ORDER BY due_at LIMIT ?`,
      [now, limit],
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
      updates.map((u) =>
        u.dueAt !== undefined
          ? q(
              `UPDATE automation_stalls SET status = ?, due_at = ?, updated_at = ? WHERE site = ? AND id = ? AND status = 'armed'`,
              u.status,
              u.dueAt,
              now,
              u.site,
              u.id,
            )
          : q(
              `UPDATE automation_stalls SET status = ?, updated_at = ? WHERE site = ? AND id = ? AND status = 'armed'`,
              u.status,
              now,
              u.site,
              u.id,
            ),
      ),
    );
  },

  async claimDeliveries(now, leaseMs, limit) {
    const claim = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join(
      '',
    );
    // One statement: SQLite (and D1) run it atomically, so two runs never claim the same delivery. Pushing
    // next_at to the end of the lease makes a claim of a run that crashed expire by itself.
    await db.batch([
      q(
        `UPDATE automation_deliveries SET claim = ?, next_at = ?
         WHERE id IN (SELECT id FROM automation_deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?)`,
        claim,
        now + leaseMs,
        now,
        limit,
      ),
    ]);
    const rows = await db.all<DeliveryRow>(
      `SELECT * FROM automation_deliveries WHERE claim = ? AND status = 'pending' ORDER BY created_at`,
      [claim],
    );
    return rows.map((r): ClaimedDelivery => ({ ...fromDeliveryRow(r), body: r.body, claim }));
  },

  async finishDelivery(d, outcome) {
    const a = outcome.attempt;
    await db.batch([
      q(
        `INSERT OR REPLACE INTO automation_attempts (delivery, n, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)`,
        d.id,
        a.n,
        a.at,
        a.status,
        a.error,
        a.durationMs,
      ),
      q(
        `UPDATE automation_deliveries SET status = ?, attempts = ?, next_at = ?, done_at = ?, last_status = ?, last_error = ?, claim = NULL
         WHERE id = ? AND claim = ?`,
        outcome.status,
        a.n,
        outcome.nextAt,
        outcome.status === 'pending' ? null : a.at + a.durationMs,
        a.status,
        a.error,
        d.id,
        d.claim,
      ),
    ]);
  },

  async pruneAutomation(before, limit) {
    const done = await db.all<{ id: string }>(
      'SELECT id FROM automation_deliveries WHERE done_at IS NOT NULL AND done_at < ? ORDER BY done_at LIMIT ?',
      [before, limit],
    );
    const stalls = await db.all<{ site: string; id: string }>(
      `SELECT site, id FROM automation_stalls WHERE status <> 'armed' AND updated_at < ? ORDER BY updated_at LIMIT ?`,
      [before, limit],
    );
    const statements: SqlStatement[] = [];
    for (let i = 0; i < done.length; i += IN_LIST) {
      const ids = done.slice(i, i + IN_LIST).map((r) => r.id);
      statements.push(q(`DELETE FROM automation_attempts WHERE delivery IN (${marks(ids.length)})`, ...ids));
      statements.push(q(`DELETE FROM automation_deliveries WHERE id IN (${marks(ids.length)})`, ...ids));
    }
    for (const s of stalls) statements.push(q('DELETE FROM automation_stalls WHERE site = ? AND id = ?', s.site, s.id));
    if (statements.length) await db.batch(statements);
    return { deliveries: done.length, stalls: stalls.length };
  },
});
