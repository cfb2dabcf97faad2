/** Journey automation: rules, stalls, signed webhooks (docs/automation.md). */
export * from './rules';
export * from './urls';
export * from './sign';
export * from './settings';
export * from './types';
export { planAutomation, type WebhookPayload } from './plan';
export { evaluateStalls, judgeStall, type StallResult } from './stalls';
export {
  attemptDelivery,
  backoffMs,
  deliverDue,
  DELIVERY_DEFAULTS,
  type DeliveryOptions,
  type DeliveryResult,
  type FetchLike,
} from './deliver';
export {
  runAutomation,
  startAutomationLoop,
  type AutomationLoop,
  type AutomationOptions,
  type AutomationResult,
} from './run';
