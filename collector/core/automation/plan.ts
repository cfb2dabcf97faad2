/**
 * What an ingest commit must queue: called by core/ingest.ts with the stage entries before and the journeys after
 * the fold, it
 * returns the deliveries of stage-entered and event rules, the stalls to arm, and the stalls whose synthetic event
 * is being committed. Everything is written in the same atomic commit as the events, with deterministic ids
 * (INSERT OR IGNORE), so a crash can neither lose nor duplicate a trigger, and a refold does not re-fire old ones.
 */
import { journeyView, type StageEntry, type StoredEvent } from '../journey';
import { stageModelOf, type SiteConfig, type StageModel } from '../stages';
import type { JourneyRecord, Store } from '../store';
import { afterMs, type Rule } from './rules';
import { hashId } from './sign';
import type { AutomationWrite, NewDelivery } from './types';

const models = new WeakMap<SiteConfig, StageModel>();
const modelOf = (site: SiteConfig): StageModel => {
  let m = models.get(site);
  if (!m) models.set(site, (m = stageModelOf(site)));
  return m;
};

/** The JSON body POSTed for a rule that fired (docs/automation.md, "Payload"). */
export interface WebhookPayload {
  deliveryId: string;
  firedAt: number;
  site: string;
  rule: Pick<Rule, 'id' | 'name' | 'trigger'>;
  visitor: { id: string; journey: string; userId: string | null };
  journey: ReturnType<typeof journeyView>;
  events: StoredEvent[];
}

export const deliveryId = async (site: string, rule: string, event: string) =>
  `dlv_${await hashId('delivery', site, rule, event)}`;
export const stallId = async (site: string, rule: string, entryEvent: string) =>
  `stl_${await hashId('stall', site, rule, entryEvent)}`;
/** The synthetic event of a stall: one per stall, so firing twice is a duplicate. */
export const syntheticEventId = async (site: string, stall: string) => `syn_${await hashId('synthetic', site, stall)}`;

/** True when `e` is an entry into the set X from outside it (the start of a stay in X). */
export const entersSet = (e: Pick<StageEntry, 'stage' | 'from'>, x: ReadonlySet<string>): boolean =>
  x.has(e.stage) && (e.from === null || !x.has(e.from));

const entryKey = (e: StageEntry) => `${e.event}\u0000${e.stage}\u0000${e.at}`;

/** Copies of the journeys' entries before a fold (an incremental fold appends to the stored journey in place). */
export const entriesOf = (records: ReadonlyMap<string, JourneyRecord>): Map<string, StageEntry[]> =>
  new Map([...records].map(([key, r]) => [key, [...r.journey.entries]]));

/**
 * @example
 * write.automation = await planAutomation(store, site, fresh, records, write.journeys, receivedAt)
 */
export const planAutomation = async (
  store: Pick<Store, 'listRules'>,
  site: SiteConfig,
  fresh: readonly StoredEvent[],
  before: ReadonlyMap<string, readonly StageEntry[]>,
  after: readonly JourneyRecord[],
  now: number,
): Promise<AutomationWrite | undefined> => {
  const rules = (await store.listRules(site.id)).filter((r) => r.enabled);
  if (rules.length === 0) return undefined;
  const freshById = new Map(fresh.map((e) => [e.id, e]));
  const out: AutomationWrite = { deliveries: [], stalls: [], fired: [] };
  const model = modelOf(site);

  const queue = async (rule: Rule, record: JourneyRecord, event: StoredEvent) => {
    const id = await deliveryId(site.id, rule.id, event.id);
    if (out.deliveries.some((d) => d.id === id)) return;
    const payload: WebhookPayload = {
      deliveryId: id,
      firedAt: now,
      site: site.id,
      rule: { id: rule.id, name: rule.name, trigger: rule.trigger },
      visitor: { id: event.visitor, journey: record.key, userId: record.journey.userId },
      journey: journeyView(record.key, record.journey, model),
      events: [event],
    };
    out.deliveries.push({
      id,
      rule: rule.id,
      event: event.id,
      visitor: event.visitor,
      body: JSON.stringify(payload),
      createdAt: now,
    } satisfies NewDelivery);
  };
  const journeyOf = (visitor: string): JourneyRecord | undefined =>
    after.find((r) => r.journey.visitors.includes(visitor));

  for (const record of after) {
    const known = new Set((before.get(record.key) ?? []).map(entryKey));
    // New entries caused by an event of this batch (a refold or a merge re-derives older entries: not new).
    const entries = record.journey.entries.filter((e) => !known.has(entryKey(e)) && freshById.has(e.event));
    for (const e of entries) {
      const cause = freshById.get(e.event) as StoredEvent;
      for (const rule of rules) {
        const t = rule.trigger;
        if (t.type === 'stage_entered' && t.stage === e.stage) await queue(rule, record, cause);
        if (t.type === 'stalled' && entersSet(e, new Set(t.stages))) {
          out.stalls.push({
            id: await stallId(site.id, rule.id, e.event),
            rule: rule.id,
            visitor: cause.visitor,
            entryEvent: e.event,
            entryAt: e.at,
            dueAt: e.at + afterMs(t),
          });
        }
      }
    }
  }

  for (const e of fresh) {
    const record = journeyOf(e.visitor);
    if (!record) continue;
    if (e.type === 'event' && e.name) {
      for (const rule of rules)
        if (rule.trigger.type === 'event' && rule.trigger.event === e.name) await queue(rule, record, e);
    }
    const stall = e.synthetic ? e.props?.stall : undefined;
    if (typeof stall === 'string') {
      const rule = rules.find((r) => r.id === e.props?.rule && r.trigger.type === 'stalled');
      if (rule) await queue(rule, record, e);
      out.fired.push(stall);
    }
  }
  return out.deliveries.length + out.stalls.length + out.fired.length > 0 ? out : undefined;
};
