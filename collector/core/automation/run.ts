/**
 * The periodic pass of journey automation, the same on Node (a timer in collector/node.ts) and on Workers (the
 * cron trigger in collector/worker.ts): evaluate the due stalls, then deliver the due webhooks. Work per pass is
 * bounded (`stallLimit`, `limit`), so a backlog drains over several passes.
 */
import { deliverDue, type DeliveryOptions, type DeliveryResult } from './deliver';
import { evaluateStalls, type StallResult } from './stalls';

export interface AutomationOptions extends DeliveryOptions {
  /** Stalls evaluated per pass (default 100). */
  stallLimit?: number;
}

export interface AutomationResult {
  stalls: StallResult;
  deliveries: DeliveryResult;
}

/**
 * @example
 * await runAutomation({ store, now: Date.now, fetch, resolve: (host) => lookup(host, { all: true }).then((a) => a.map((x) => x.address)) })
 */
export const runAutomation = async (o: AutomationOptions): Promise<AutomationResult> => {
  const stalls = await evaluateStalls({ store: o.store, now: o.now, limit: o.stallLimit });
  const deliveries = await deliverDue(o);
  return { stalls, deliveries };
};
