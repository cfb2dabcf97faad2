/**
 * The periodic pass of journey automation, the same on Node (a timer in collector/node.ts) and on Workers (the
 * cron trigger in collector/worker.ts): evaluate the due stalls, deliver the due webhooks, prune what is past the
 * retention. Work per pass is bounded (`stallLimit`, `limit`, 500 pruned rows), so a backlog drains over passes.
 */
import { deliverDue, type DeliveryOptions, type DeliveryResult } from './deliver';
import { evaluateStalls, type StallResult } from './stalls';

export interface AutomationOptions extends DeliveryOptions {
  /** Stalls evaluated per pass (default 100). */
  stallLimit?: number;
  /** Finished deliveries (the log) and retired stalls are kept this long (default 30 days). */
  retentionMs?: number;
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
  const stalls = await evaluateStalls({ store: o.store, now: o.now, limit: o.stallLimit });
  const deliveries = await deliverDue(o);
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
