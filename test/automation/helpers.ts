/**
 * Helpers of the automation tests: a store with the demo site, rules put directly, events ingested at given times.
 */
import { ensureDemoSite } from '../../collector/core/bootstrap';
import type { Rule, Trigger } from '../../collector/core/automation/rules';
import { ingest, type IngestEvent } from '../../collector/core/ingest';
import type { Store } from '../../collector/core/store';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';

export const MIN = 60_000;
export const DAY = 86_400_000;
/** Far from the real clock on purpose: every time in these tests comes from the fake clock. */
export const BASE = Date.UTC(2030, 0, 1, 12, 0, 0);

export const newStore = async (): Promise<Store> => {
  const store = createSqliteStore(openSqlite(':memory:'));
  await ensureDemoSite(store);
  return store;
};

let n = 0;
export const rule = (trigger: Trigger, fields: Partial<Rule> = {}): Rule => ({
  id: `r_test${++n}`,
  site: 'demo',
  name: `rule ${n}`,
  enabled: true,
  trigger,
  action: { type: 'webhook', url: 'https://hooks.example.test/cjm' },
  createdAt: BASE,
  updatedAt: BASE,
  ...fields,
});

let seq = 0;
/** A page view of the demo shop at `at`. */
export const pageAt = (path: string, at: number): IngestEvent => ({
  id: `p${++seq}`,
  type: 'page',
  ts: at,
  url: `https://shop.test${path}`,
});
export const eventAt = (name: string, at: number): IngestEvent => ({ id: `x${++seq}`, type: 'event', ts: at, name });

/** Ingests events of one visitor, received at the time of the last one. */
export const send = async (store: Store, visitor: string, events: IngestEvent[]) => {
  const site = await store.getSite('demo');
  if (!site) throw new Error('no demo site');
  return ingest(store, site, visitor, events, Math.max(...events.map((e) => e.ts)));
};

export const timelineOf = async (store: Store, visitor: string) => store.eventsOfVisitors('demo', [visitor]);

/**
 * A scheduler for the automation loop (core/automation/run.ts) that runs only when told: `advance(ms)` moves its clock
 * forward and runs, in time order, each timer that falls due on the way. A pass is asynchronous, so the timer it sets
 * when it ends is not run by the same `advance`: wait for the pass (`onPass`) and advance again. Give the loop
 * `now: scheduler.now` as well, and due times follow the same clock.
 */
export const manualScheduler = (start = BASE) => {
  let t = start;
  let id = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => t,
    after: (ms: number, fn: () => void) => {
      const key = ++id;
      timers.set(key, { at: t + ms, fn });
      return () => void timers.delete(key);
    },
    /** Timers set and not yet run or cancelled. */
    pending: () => timers.size,
    advance: (ms: number) => {
      const end = t + ms;
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const e of timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
        if (!next) break;
        timers.delete(next[0]);
        t = next[1].at;
        next[1].fn();
      }
      t = end;
    },
  };
};
