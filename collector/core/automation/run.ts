/**
 * The periodic pass of journey automation, the same on Node (a timer in collector/node.ts) and on Workers (the
 * cron trigger in collector/worker.ts): evaluate the due stalls, deliver the due webhooks, prune what is past the
 * retention. Work per pass is bounded (`stallLimit`, `limit`, 500 pruned rows), so a backlog drains over passes.
 */
import { DELIVERY_DEFAULTS, deliverDue, type DeliveryOptions, type DeliveryResult } from './deliver';
import { evaluateStalls, type StallResult } from './stalls';

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
  const started = Date.now(); // wall time, whatever the injected clock says
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
  } while (backlog && Date.now() - started < (o.budgetMs ?? 5000));
  const pruned = await o.store.pruneAutomation(o.now() - (o.retentionMs ?? 30 * 86_400_000), 500);
  return { stalls, deliveries, pruned };
};

export interface AutomationLoop {
  /** Stops the timer and waits for a pass in progress. */
  stop: () => Promise<void>;
}

/**
 * Runs `runAutomation` every `intervalMs` (default 15 s), never two passes at once; the first pass runs after
 * `min(intervalMs, 1 s)`, so work left by a previous process (pending deliveries, due stalls) is picked up at once.
 *
 * @example
 * const loop = startAutomationLoop({ store, now: Date.now, fetch, intervalMs: 15_000 }); … await loop.stop()
 */
export const startAutomationLoop = (
  o: AutomationOptions & { intervalMs?: number; onError?: (e: unknown) => void },
): AutomationLoop => {
  const interval = o.intervalMs ?? 15_000;
  let stopped = false;
  let running: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    if (stopped) return;
    running = runAutomation(o)
      .then(
        () => undefined,
        (e: unknown) => (o.onError ?? ((err) => console.error('[cjm] automation pass failed', err)))(e),
      )
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(tick, interval);
      });
  };
  timer = setTimeout(tick, Math.min(interval, 1000));
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
};
