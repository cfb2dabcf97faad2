/**
 * Stall evaluation: the periodic pass reads the armed stalls that are due (an index on `due_at`, never a scan of
 * raw events), checks each against the visitor's current journey, and either fires it, reschedules it (idle rules
 * while the visitor is active), or retires it (the visitor progressed, re-entered, or the rule is gone).
 *
 * Firing goes through the normal ingest path: a synthetic event with a deterministic id (rule + entry), so a
 * repeat is a duplicate; ingest folds it into the journey and, in the same commit, queues the webhook and marks
 * the stall fired (plan.ts).
 */
import { ingest } from '../ingest';
import type { SiteConfig } from '../stages';
import type { Store } from '../store';
import { entersSet, syntheticEventId } from './plan';
import { afterMs, type Rule, type StalledTrigger } from './rules';
import type { Stall, StallStatus, StallUpdate } from './types';

export interface StallResult {
  fired: number;
  progressed: number;
  superseded: number;
  cancelled: number;
  rescheduled: number;
}

/** What to do with one due stall, given the journey's entries and last activity. Pure; exported for tests. */
export const judgeStall = (
  stall: Pick<Stall, 'entryEvent'>,
  t: StalledTrigger,
  journey: {
    entries: ReadonlyArray<{ stage: string; from: string | null; at: number; event: string }>;
    lastSeen: number;
  },
  now: number,
): { status: Exclude<StallStatus, 'armed'>; at: number } | { status: 'armed'; dueAt: number } => {
  const x = new Set(t.stages);
  const idx = journey.entries.findIndex((e) => e.event === stall.entryEvent && x.has(e.stage));
  const entry = journey.entries[idx];
  if (!entry) return { status: 'cancelled', at: now };
  const T = afterMs(t);
  const deadline = entry.at + T;
  const later = journey.entries.slice(idx + 1);
  const y = new Set(t.notReached ?? []);
  // Idle rules watch until they fire; the others only up to the deadline.
  const inWindow = (at: number) => t.idle === true || at <= deadline;
  if (later.some((e) => entersSet(e, x) && inWindow(e.at))) return { status: 'superseded', at: now };
  if (later.some((e) => y.has(e.stage) && inWindow(e.at))) return { status: 'progressed', at: now };
  const fireAt = t.idle ? Math.max(entry.at, journey.lastSeen) + T : deadline;
  if (fireAt > now) return { status: 'armed', dueAt: fireAt };
  return { status: 'fired', at: fireAt };
};

/**
 * Evaluates up to `limit` due stalls of every site.
 *
 * @example
 * await evaluateStalls({ store, now: () => Date.now() })
 */
export const evaluateStalls = async (o: { store: Store; now: () => number; limit?: number }): Promise<StallResult> => {
  const { store } = o;
  const now = o.now();
  const result: StallResult = { fired: 0, progressed: 0, superseded: 0, cancelled: 0, rescheduled: 0 };
  const due = await store.dueStalls(now, o.limit ?? 100);
  const sites = new Map<string, { site: SiteConfig | null; rules: Map<string, Rule> }>();
  const updates: StallUpdate[] = [];
  const judgeOne = async (stall: Stall): Promise<void> => {
    let ctx = sites.get(stall.site);
    if (!ctx) {
      const site = await store.getSite(stall.site);
      const rules = site ? await store.listRules(site.id) : [];
      sites.set(stall.site, (ctx = { site, rules: new Map(rules.map((r) => [r.id, r])) }));
    }
    const rule = ctx.rules.get(stall.rule);
    if (!ctx.site || !rule || !rule.enabled || rule.trigger.type !== 'stalled') {
      updates.push({ site: stall.site, id: stall.id, status: 'cancelled' });
      result.cancelled++;
      return;
    }
    const key = (await store.getLinks(stall.site, [stall.visitor])).get(stall.visitor)?.journey ?? stall.visitor;
    const record = (await store.getJourneys(stall.site, [key])).get(key);
    if (!record) {
      updates.push({ site: stall.site, id: stall.id, status: 'cancelled' });
      result.cancelled++;
      return;
    }
    const verdict = judgeStall(stall, rule.trigger, record.journey, now);
    if (verdict.status === 'armed') {
      updates.push({ site: stall.site, id: stall.id, status: 'armed', dueAt: verdict.dueAt });
      result.rescheduled++;
    } else if (verdict.status === 'fired') {
      const id = await syntheticEventId(stall.site, stall.id);
      const r = await ingest(
        store,
        ctx.site,
        stall.visitor,
        [
          {
            id,
            type: 'event',
            name: rule.trigger.emit,
            ts: verdict.at,
            props: { rule: rule.id, stall: stall.id },
            synthetic: true,
          },
        ],
        now,
      );
      // A duplicate means the event (and with it the stall's state) was committed before: make sure it is retired.
      if (r.accepted === 0) updates.push({ site: stall.site, id: stall.id, status: 'fired' });
      result.fired++;
    } else {
      updates.push({ site: stall.site, id: stall.id, status: verdict.status });
      result[verdict.status]++;
    }
  };
  for (const stall of due) {
    try {
      await judgeOne(stall);
    } catch (e) {
      // One broken stall must not hold up the others; it stays armed and is tried again next pass.
      console.error(`[cjm] automation: stall ${stall.id} of site "${stall.site}" failed`, e);
    }
  }
  await store.updateStalls(updates, now);
  return result;
};
