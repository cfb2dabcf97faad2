/**
 * Automation rules: "if this happens on the journey, then POST a webhook". One rule per row, per site, managed
 * through the admin API (routes/automation.ts) and the dashboard, both by services/rules.ts. The shapes and their meaning are documented in docs/automation.md.
 */
import { InputError } from '../errors';
import type { SiteConfig } from '../stages';

/** A visitor enters `stage` (any entry, re-entries included), e.g. signup → welcome message. */
export interface StageEnteredTrigger {
  type: 'stage_entered';
  stage: string;
}

/** An event named `event` arrives (sent by the site, or the synthetic event of a stall rule). */
export interface EventTrigger {
  type: 'event';
  event: string;
}

/**
 * A visitor entered one of `stages` (X) and then, within `after` (T):
 * - did not reach any of `notReached` (Y) — "cart or checkout, no post-purchase within 30 minutes";
 * - with `idle: true`: showed no activity for `after` since their last event — "post-purchase, then quiet for 60 days";
 * - with neither: simply `after` has passed since the entry — "3 days after post-purchase, ask for a review".
 * When it fires, the synthetic event `emit` is added to the visitor's timeline and the webhook is queued.
 * It fires once per entry into X (an entry from a stage outside X); a new entry into X re-arms it.
 */
export interface StalledTrigger {
  type: 'stalled';
  stages: string[];
  notReached?: string[];
  /** Duration: a whole number and a unit, `90s`, `30m`, `12h`, `60d`. */
  after: string;
  idle?: boolean;
  /** Name of the synthetic event, e.g. `cart_abandoned`. */
  emit: string;
}

export type Trigger = StageEnteredTrigger | EventTrigger | StalledTrigger;

export interface WebhookAction {
  type: 'webhook';
  /** http(s) URL; private, loopback and link-local targets only with the site's `allowPrivateWebhooks`. */
  url: string;
}

export interface Rule {
  id: string;
  site: string;
  name: string;
  enabled: boolean;
  trigger: Trigger;
  action: WebhookAction;
  createdAt: number;
  updatedAt: number;
}

/** What a client may send to create or replace a rule. */
export type RuleInput = Pick<Rule, 'name' | 'trigger' | 'action'> & { enabled?: boolean };

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Longest duration a rule may wait (a stall is kept armed at most this long). */
export const MAX_AFTER_MS = 400 * 86_400_000;

/** `30m` → 1 800 000; undefined when it is not a duration. */
export const durationMs = (s: string): number | undefined => {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * (UNITS[m[2] as string] as number);
};

/** Milliseconds of a (validated) stalled trigger. */
export const afterMs = (t: StalledTrigger): number => durationMs(t.after) ?? MAX_AFTER_MS;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const NAME = /^[\w .:-]{1,64}$/u;
const EVENT_NAME = /^[\w.:-]{1,120}$/u;

const stageName = (v: unknown, path: string, site: SiteConfig): string => {
  const names = site.stages.map((s) => s.name);
  if (typeof v !== 'string' || !names.includes(v)) {
    throw new InputError(400, `[cjm] ${path} must name a stage of site "${site.id}" (${names.join(', ')})`, path);
  }
  return v;
};

const stageList = (v: unknown, path: string, site: SiteConfig): string[] => {
  if (!Array.isArray(v) || v.length === 0 || v.length > 20) {
    throw new InputError(400, `[cjm] ${path} must be an array of 1 to 20 stage names`, path);
  }
  const out = v.map((s, i) => stageName(s, `${path}[${i}]`, site));
  return [...new Set(out)];
};

const eventName = (v: unknown, path: string): string => {
  if (typeof v !== 'string' || !EVENT_NAME.test(v)) {
    throw new InputError(400, `[cjm] ${path} must be an event name of 1–120 letters, digits or _ . : -`, path);
  }
  return v;
};

const trigger = (v: unknown, site: SiteConfig): Trigger => {
  if (!isObject(v)) throw new InputError(400, '[cjm] trigger must be an object with a type', 'trigger');
  switch (v.type) {
    case 'stage_entered':
      return { type: 'stage_entered', stage: stageName(v.stage, 'trigger.stage', site) };
    case 'event':
      return { type: 'event', event: eventName(v.event, 'trigger.event') };
    case 'stalled': {
      const stages = stageList(v.stages, 'trigger.stages', site);
      const t: StalledTrigger = { type: 'stalled', stages, after: '', emit: '' };
      if (v.notReached !== undefined) {
        t.notReached = stageList(v.notReached, 'trigger.notReached', site);
        const both = t.notReached.find((s) => stages.includes(s));
        if (both)
          throw new InputError(
            400,
            `[cjm] trigger.notReached must not contain "${both}", which is in trigger.stages`,
            'trigger.notReached',
          );
      }
      const ms = typeof v.after === 'string' ? durationMs(v.after) : undefined;
      if (ms === undefined || ms < 1000 || ms > MAX_AFTER_MS) {
        throw new InputError(
          400,
          '[cjm] trigger.after must be a duration from 1s to 400d, like "90s", "30m", "12h" or "60d"',
          'trigger.after',
        );
      }
      t.after = v.after as string;
      if (v.idle !== undefined) {
        if (typeof v.idle !== 'boolean')
          throw new InputError(400, '[cjm] trigger.idle must be true or false', 'trigger.idle');
        if (v.idle) t.idle = true;
      }
      t.emit = eventName(v.emit, 'trigger.emit');
      return t;
    }
    default:
      throw new InputError(400, '[cjm] trigger.type must be one of stage_entered, event, stalled', 'trigger.type');
  }
};

/**
 * Checks a rule sent to the admin API against the site's stage model; returns the normalized input or throws a
 * 400 InputError naming the field. The webhook URL's syntax is checked here; its target by `checkWebhookTarget`.
 *
 * @example
 * parseRule({ name: 'Cart reminder', trigger: { type: 'stalled', stages: ['cart'], notReached: ['post-purchase'],
 *   after: '30m', emit: 'cart_abandoned' }, action: { type: 'webhook', url: 'https://hooks.example/cart' } }, site)
 */
export const parseRule = (v: unknown, site: SiteConfig): RuleInput => {
  if (!isObject(v)) throw new InputError(400, '[cjm] the body must be a JSON object', '');
  if (typeof v.name !== 'string' || !NAME.test(v.name)) {
    throw new InputError(400, '[cjm] name must be 1–64 letters, digits, spaces or _ . : -', 'name');
  }
  if (v.enabled !== undefined && typeof v.enabled !== 'boolean')
    throw new InputError(400, '[cjm] enabled must be true or false', 'enabled');
  const t = trigger(v.trigger, site);
  const a = v.action;
  if (!isObject(a) || a.type !== 'webhook')
    throw new InputError(400, '[cjm] action must be { "type": "webhook", "url": "https://…" }', 'action.type');
  if (typeof a.url !== 'string' || a.url.length > 2000)
    throw new InputError(400, '[cjm] action.url must be an http(s) URL', 'action.url');
  const out: RuleInput = { name: v.name, trigger: t, action: { type: 'webhook', url: a.url } };
  if (v.enabled !== undefined) out.enabled = v.enabled;
  return out;
};

/** A new rule id. */
export const newRuleId = (): string =>
  `r_${Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
