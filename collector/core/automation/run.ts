/**
 * The periodic pass of journey automation, the same on Node (a timer in collector/node.ts) and on Workers (the
 * cron trigger in collector/worker.ts): evaluate the due stalls, deliver the due webhooks, prune what is past the
 * retention. Work per pass is bounded (`stallLimit`, `limit`, 500 pruned rows), so a backlog drains over passes.
 */
import { DELIVERY_DEFAULTS, deliverDue, type DeliveryOptions, type DeliveryResult } from './deliver';
import { evaluateStalls, type StallResult } from './stalls';

/**
 * The timers the automation runs on: the platform's by default (`systemScheduler`); tests inject a manual one and
 * advance it, so they never wait for an interval to pass.
 */
export interface Scheduler {
  /** Wall time (ms). A pass's time budget (`budgetMs`) is measured on it, whatever the injected `now` says. */
  now: () => number;
  /** Runs `fn` once, `ms` from now; the function returned cancels it. */
  after: (ms: number, fn: () => void) => () => void;
}

/** `Date.now` and `setTimeout`. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface AutomationOptions extends DeliveryOptions {
  /** Stalls evaluated per pass (default 100). */
  stallLimit?: number;
  /** Finished deliveries (the log) and retired stalls are kept this long (default 30 days). */
  retentionMs?: number;
  /**
   * While a round filled its limits (a backlog), another round runs, until this much wall time has passed
   * (default 5 s; the Workers cron job allows more, as it runs only every few minutes).
   */
  budgetMs?: number;
  /** The wall clock of the budget and the loop's timer (default `systemScheduler`). */
  scheduler?: Scheduler;
}

export interface AutomationResult {
  stalls: StallResult;
  deliveries: DeliveryResult;
  pruned: { deliveries: number; stalls: number };
}

/**
 * @example
 * await runAutomation({ store, now: Date.now, fetch, resolve: (host) => lookup(host, { all: true }).then((a) => a.map((x) => x.address)) })
 */
export const runAutomation = async (o: AutomationOptions): Promise<AutomationResult> => {
  const wall = o.scheduler ?? systemScheduler;
  const started = wall.now();
  const stallLimit = o.stallLimit ?? 100;
  const limit = o.limit ?? DELIVERY_DEFAULTS.limit;
  const stalls: StallResult = { fired: 0, progressed: 0, superseded: 0, cancelled: 0, rescheduled: 0 };
  const deliveries: DeliveryResult = { delivered: 0, retrying: 0, failed: 0 };
  let backlog: boolean;
  do {
    const s = await evaluateStalls({ store: o.store, now: o.now, limit: stallLimit });
    const d = await deliverDue({ ...o, limit });
    for (const k of Object.keys(s) as Array<keyof StallResult>) stalls[k] += s[k];
    for (const k of Object.keys(d) as Array<keyof DeliveryResult>) deliveries[k] += d[k];
    const judged = s.fired + s.progressed + s.superseded + s.cancelled + s.rescheduled;
    backlog = judged >= stallLimit || d.delivered + d.retrying + d.failed >= limit;
  } while (backlog && wall.now() - started < (o.budgetMs ?? 5000));
  const pruned = await o.store.pruneAutomation(o.now() - (o.retentionMs ?? 30 * 86_400_000), 500);
  return { stalls, deliveries, pruned };
};

export interface AutomationLoopOptions extends AutomationOptions {
  /** Time between the end of a pass and the start of the next (default 15 s). */
  intervalMs?: number;
  /** A pass (or `onPass`) that threw (default: logged to the console); the loop goes on. */
  onError?: (e: unknown) => void;
  /** Called after each pass that completed, with its result (tests count passes with it). */
  onPass?: (result: AutomationResult) => void;
}

export interface AutomationLoop {
  /** Stops the timer and waits for a pass in progress. */
  stop: () => Promise<void>;
}

/**
 * Runs `runAutomation` every `intervalMs` (default 15 s) on `o.scheduler`, never two passes at once; the first pass
 * runs after `min(intervalMs, 1 s)`, so work left by a previous process (pending deliveries, due stalls) is picked up
 * at once.
 *
 * @example
 * const loop = startAutomationLoop({ store, now: Date.now, fetch, intervalMs: 15_000 }); … await loop.stop()
 */
export const startAutomationLoop = (o: AutomationLoopOptions): AutomationLoop => {
  const interval = o.intervalMs ?? 15_000;
  const scheduler = o.scheduler ?? systemScheduler;
  let stopped = false;
  let running: Promise<void> | null = null;
  let cancel = () => {};
  const tick = () => {
    if (stopped) return;
    running = runAutomation(o)
      .then((result) => o.onPass?.(result))
      .catch((e: unknown) => (o.onError ?? ((err) => console.error('[cjm] automation pass failed', err)))(e))
      .finally(() => {
        running = null;
        if (!stopped) cancel = scheduler.after(interval, tick);
      });
  };
  cancel = scheduler.after(Math.min(interval, 1000), tick);
  return {
    stop: async () => {
      stopped = true;
      cancel();
      await running;
    },
  };
};
