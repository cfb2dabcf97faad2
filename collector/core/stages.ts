/**
 * A site's stage model: an ordered list of stages, rules that map page views and events onto them, and the stage
 * that counts as the conversion. Stored per site (see SiteConfig) and editable through the admin API.
 *
 * A stage's rule is its `urls` and `events` (what matches) plus optional conditions (docs/stages.md, "Stage rules"):
 * `where` (the event's value and props), `afterStage` (only once another stage was reached), `returnAfter` (a session
 * that starts this long after the previous activity) and `nth` (the n-th qualifying occurrence and every later one).
 * The named templates (`STAGE_TEMPLATES`) are ready-made models built from them.
 */
import { InputError } from './errors';
import { globMatcher } from './glob';
import type { Props } from './protocol';

/** A value a `where` condition compares with. */
export type WhereScalar = string | number | boolean;

/** Conditions on one field of an event; all that are given must hold. */
export interface WhereCondition {
  /** Equal, compared as the operand's type: `{ eq: 100 }` matches 100 and "100", `{ eq: true }` true and "true". */
  eq?: WhereScalar;
  /** Equal to one of these (as `eq`). */
  in?: WhereScalar[];
  /** A number (or a string spelling a decimal number) at least this. */
  gte?: number;
  /** A number (or a string spelling a decimal number) at most this. */
  lte?: number;
  /** true: the field is present and not null; false: it is absent or null. */
  exists?: boolean;
}

/** Conditions on an event's `value` and `props.<key>` fields, all of which must hold. */
export type Where = Record<string, WhereCondition>;

export interface StageDef {
  /** Stage name as shown and as sent by `cjm.stage(name)`. */
  name: string;
  /** Path patterns: `*` matches within one path segment, `**` across segments; e.g. `**\/cart*`, `/checkout/**`. */
  urls?: string[];
  /** Event names that put the visitor into this stage, e.g. `add_to_cart`. */
  events?: string[];
  /** Only the n-th qualifying occurrence within the journey, and every later one, enters the stage (default 1). */
  nth?: number;
  /** Conditions on the event's `value` and `props.<key>`, e.g. `{ value: { gte: 100 } }`. */
  where?: Where;
  /**
   * Only a session that starts at least this long after the previous activity (`"30d"`, `"12h"`, `"90m"`, `"2w"`).
   * Without `urls` and `events`, the first touch of such a session (the return itself) enters the stage.
   */
  returnAfter?: string;
  /** Only once this stage has been reached (entered by an earlier event). */
  afterStage?: string;
}

export interface SiteConfig {
  id: string;
  name: string;
  /** Origins allowed to send events (`https://shop.example`); empty: any origin. */
  origins: string[];
  stages: StageDef[];
  /** The stage that counts as conversion. */
  conversion: string;
  /** Inactivity after which a new session starts. */
  sessionTimeoutMinutes: number;
  /**
   * Cardinality bounds: distinct event names and property keys kept per site (default 500 each); quotas (core/quota.ts):
   * events stored per UTC day and new visitors per hour from one address (defaults of the deployment when absent).
   */
  limits?: { eventNames: number; propKeys: number; eventsPerDay?: number; newVisitorsPerHour?: number };
  /**
   * Days of visitor details kept (raw events, visitors, journeys and their per-journey rows) after a journey's last
   * activity; the cohort rollups stay. `null` or absent keeps everything: a site saved before retention existed keeps
   * its data until its owner sets a value; a site created through the API gets `DEFAULT_RETENTION_DAYS`.
   */
  retentionDays?: number | null;
  /**
   * The site's time zone (an IANA name such as `Europe/Berlin`; absent: `UTC`): report days, presets, cohort days,
   * ISO weeks and the times shown are local to it (core/timezone.ts). Changing it bumps the revision: the journeys are
   * refolded and their rollups move to the new zone's days.
   */
  timezone?: string;
  /** Refuse `/collect` requests without an `Origin` header (server-side senders use `/v1/*` with a write key). */
  requireOrigin?: boolean;
  /** Set by the server, incremented whenever a change needs the journeys refolded (stages, conversion, timeout, origins). */
  revision?: number;
  /**
   * Where the site's data lives on Cloudflare: the D1 binding (`DB_SHOP`) of its own database; absent, the main
   * database (`DB`). Given when a site is created; changed only by `npm run move-site`, which moves the data first.
   */
  database?: string;
}

/** The retention of a site created through `POST /api/sites` or the dashboard when none is given. */
export const DEFAULT_RETENTION_DAYS = 400;
/** The longest retention that can be set (100 years); `null` keeps everything. */
export const MAX_RETENTION_DAYS = 36_500;

export const DEFAULT_LIMITS = { eventNames: 500, propKeys: 500 } as const;

export const DEFAULT_STAGES: StageDef[] = [
  { name: 'landing' },
  {
    name: 'signup',
    urls: ['**/signup*', '**/register*', '**/sign-up*'],
    events: ['signup_completed', 'sign_up', 'signup'],
  },
  { name: 'cart', urls: ['**/cart*', '**/basket*'], events: ['add_to_cart'] },
  { name: 'checkout', urls: ['**/checkout*'], events: ['checkout_started', 'begin_checkout'] },
  {
    name: 'post-purchase',
    urls: ['**/thank-you*', '**/thankyou*', '**/order-complete*', '**/order-confirmation*'],
    events: ['purchase', 'order_completed'],
  },
];

export const defaultSiteConfig = (id: string, overrides: Partial<Omit<SiteConfig, 'id'>> = {}): SiteConfig => ({
  id,
  name: id,
  origins: [],
  stages: structuredClone(DEFAULT_STAGES),
  conversion: 'post-purchase',
  sessionTimeoutMinutes: 30,
  revision: 1,
  ...overrides,
});

// ---------------------------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------------------------

/** A ready-made stage model (docs/stages.md, "Templates"). */
export interface StageTemplate {
  id: string;
  title: string;
  /** The model in one line, for a picker. */
  description: string;
  stages: StageDef[];
  conversion: string;
}

const PURCHASE = ['purchase', 'order_completed'];
const SIGNUP_URLS = ['**/signup*', '**/register*', '**/sign-up*'];
const ORDER_URLS = ['**/orders*', '**/orders/**', '**/order-status*', '**/track-order*'];
const BROWSE_URLS = ['**/products/**', '**/product/**', '**/search*'];
const BUY_URLS = ['**/cart*', '**/basket*', '**/checkout*'];
const BUY_EVENTS = ['add_to_cart', 'begin_checkout', 'checkout_started'];
/** Orders flagged `test` (staff, QA; e.g. Shopify's `test: true`) are not customers buying. */
const NOT_A_TEST: Where = { 'props.test': { exists: false } };

/**
 * The default shop funnel and the four journey models of the literature, with rules for the GA4-style event names
 * a typical shop sends (`view_item`, `add_to_cart`, `begin_checkout`, `purchase`, `review_submitted`,
 * `referral_sent`, `subscription_renewed`) and the demo shop's pages.
 */
export const STAGE_TEMPLATES: readonly StageTemplate[] = [
  {
    id: 'shop',
    title: 'Shop funnel (default)',
    description: 'landing → signup → cart → checkout → post-purchase',
    stages: DEFAULT_STAGES,
    conversion: 'post-purchase',
  },
  {
    id: 'repeat-purchase',
    title: 'Need to repeat purchase',
    description: 'need → search → comparison → purchase → result → repeat purchase',
    stages: [
      { name: 'need' },
      {
        name: 'search',
        urls: ['**/search*', '**/catalog*', '**/collections/**', '**/category/**', '**/product-category/**'],
        events: ['search', 'view_search_results', 'view_item_list'],
      },
      {
        name: 'comparison',
        urls: ['**/products/**', '**/product/**', '**/compare*', ...BUY_URLS],
        events: ['view_item', 'add_to_wishlist', ...BUY_EVENTS],
      },
      { name: 'purchase', events: PURCHASE },
      { name: 'result', urls: ORDER_URLS, events: ['order_delivered', 'review_submitted'], afterStage: 'purchase' },
      { name: 'repeat-purchase', events: [...PURCHASE, 'subscription_renewed'], nth: 2 },
    ],
    conversion: 'purchase',
  },
  {
    id: 'post-purchase',
    title: 'Purchase, post-purchase and advocacy',
    description: 'awareness → consideration → purchase → post-purchase → advocacy',
    stages: [
      { name: 'awareness' },
      {
        name: 'consideration',
        urls: [...BROWSE_URLS, ...BUY_URLS],
        events: ['view_item', 'search', 'add_to_wishlist', ...BUY_EVENTS],
      },
      { name: 'purchase', events: PURCHASE },
      {
        name: 'post-purchase',
        urls: ORDER_URLS,
        events: ['order_delivered', 'subscription_renewed'],
        afterStage: 'purchase',
      },
      { name: 'advocacy', events: ['review_submitted', 'referral_sent'], afterStage: 'purchase' },
    ],
    conversion: 'purchase',
  },
  {
    id: 'lifecycle',
    title: 'Customer lifecycle: retention and loyalty',
    description: 'reach → acquisition → conversion → retention → loyalty',
    stages: [
      { name: 'reach' },
      {
        name: 'acquisition',
        urls: SIGNUP_URLS,
        events: ['signup_completed', 'sign_up', 'signup', 'newsletter_subscribed', 'generate_lead'],
      },
      { name: 'conversion', events: PURCHASE, where: NOT_A_TEST },
      { name: 'retention', returnAfter: '14d', afterStage: 'conversion' },
      { name: 'loyalty', events: [...PURCHASE, 'subscription_renewed'], where: NOT_A_TEST, nth: 2 },
    ],
    conversion: 'conversion',
  },
  {
    id: 'engagement',
    title: 'Capture, onboarding, engagement and advocacy',
    description: 'awareness → capture → onboarding → engagement → advocacy',
    stages: [
      { name: 'awareness' },
      {
        name: 'capture',
        urls: [...SIGNUP_URLS, '**/subscribe*'],
        events: ['signup_completed', 'sign_up', 'signup', 'newsletter_subscribed', 'generate_lead'],
      },
      { name: 'onboarding', events: [...PURCHASE, 'onboarding_completed', 'subscription_started'] },
      { name: 'engagement', returnAfter: '7d', afterStage: 'onboarding' },
      { name: 'advocacy', events: ['review_submitted', 'referral_sent'], afterStage: 'onboarding' },
    ],
    conversion: 'onboarding',
  },
];

/** The template with this id, or undefined. */
export const stageTemplate = (id: string): StageTemplate | undefined => STAGE_TEMPLATES.find((t) => t.id === id);

/**
 * The site fields a template sets (its stages and conversion), for `saveSite`; a 400 naming `template` when the id is
 * unknown. The templates route is `saveSite(store, site, templatePatch(body.template), now)`.
 */
export const templatePatch = (id: unknown): Pick<SiteConfig, 'stages' | 'conversion'> => {
  const t = typeof id === 'string' ? stageTemplate(id) : undefined;
  if (!t) {
    throw new InputError(
      400,
      `[cjm] template must be one of ${STAGE_TEMPLATES.map((x) => `"${x.id}"`).join(', ')}`,
      'template',
    );
  }
  return { stages: structuredClone(t.stages), conversion: t.conversion };
};

/** The site with a template's stage model (a copy; other fields unchanged). */
export const applyTemplate = (site: SiteConfig, id: string): SiteConfig => ({ ...site, ...templatePatch(id) });

// ---------------------------------------------------------------------------------------------------------------
// Compiling a model
// ---------------------------------------------------------------------------------------------------------------

/** The path of a URL (absolute or relative), without query or hash; undefined when it cannot be parsed. */
export const pathOf = (url: string | undefined): string | undefined => {
  if (!url) return undefined;
  try {
    return new URL(url, 'http://x').pathname;
  } catch {
    return undefined;
  }
};

const DURATION = /^([1-9]\d{0,5})([mhdw])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** The longest `returnAfter`. */
export const MAX_RETURN_AFTER_MS = 365 * UNIT_MS.d;

/** Milliseconds of a duration such as `"30d"`, `"12h"`, `"90m"`, `"2w"`; undefined when it is not one. */
export const parseDuration = (s: string): number | undefined => {
  const m = DURATION.exec(s);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
};

/** What a rule looks at in an event. */
export interface RuleEvent {
  type: string;
  stage?: string | null;
  name?: string | null;
  url?: string | null;
  value?: number | null;
  props?: Props | null;
}

/** The journey so far, as the stateful conditions see it (kept by the fold, core/journey.ts). */
export interface RuleState {
  /** The stages entered before this event (`afterStage`). */
  readonly stages: Readonly<Record<string, unknown>>;
  /**
   * Qualifying occurrences so far of each stage with `nth` ≥ 2 (stage name → count); `stageOf` adds this event's
   * occurrences, so the fold must pass every page view and event, in `(ts, id)` order, exactly once.
   */
  counts: Record<string, number>;
  /** The current session's start minus the previous activity (ms); null in the journey's first session. */
  readonly returnGap: number | null;
  /** True for the first page view or event of its session. */
  readonly firstTouch: boolean;
}

interface Rule {
  stage: string;
  /** Position in the model: the furthest rule that fires wins. */
  index: number;
  where: ((e: RuleEvent) => boolean) | null;
  afterStage: string | null;
  returnAfterMs: number | null;
  nth: number;
}

/** A compiled stage model: fast lookups of a stage's index and of the stage an event puts the visitor into. */
export interface StageModel {
  names: string[];
  index: (stage: string | undefined) => number;
  conversionIndex: number;
  /** True when some stage has `nth` ≥ 2: the fold then keeps `counts`. */
  counting: boolean;
  /**
   * The stage an event puts the visitor into, or undefined. An explicit known `stage` field wins over the rules;
   * otherwise the furthest stage in the model whose rule fires. Adds the event's occurrences to `state.counts`.
   */
  stageOf: (e: RuleEvent, state: RuleState) => string | undefined;
  /**
   * True for a purchase (the lifecycle numbers of the journey map, docs/api.md): an event named in the conversion
   * stage's `events` whose `where` holds; when that stage lists no events, a page view matching its `urls` whose
   * `where` holds. `nth`, `afterStage` and `returnAfter` only gate entering the stage: every such event is a purchase.
   * Null when the conversion stage has neither events nor URLs: each entry into it then counts as a purchase.
   */
  isPurchase: ((e: RuleEvent) => boolean) | null;
}

const DECIMAL = /^\s*-?\d+(\.\d+)?\s*$/;
/** A field as a number: a number, or a string spelling a decimal number; NaN otherwise. */
const asNumber = (v: unknown): number =>
  typeof v === 'number' ? v : typeof v === 'string' && DECIMAL.test(v) ? Number(v) : Number.NaN;
const modelsByConfig = new WeakMap<object, StageModel>();
const modelsByText = new Map<string, StageModel>();
/**
 * The compiled model of a site, cached: by config object, and by the text of its stages and conversion (a site read
 * from the store per request is a new object each time, with the same model; compiling its URL globs was a
 * twentieth of a small ingest's CPU).
 */
export const stageModelOf = (config: Pick<SiteConfig, 'stages' | 'conversion'>): StageModel => {
  let model = modelsByConfig.get(config);
  if (model) return model;
  const text = JSON.stringify([config.stages, config.conversion ?? null]);
  model = modelsByText.get(text);
  if (!model) {
    model = compileStages(config);
    modelsByText.set(text, model);
    if (modelsByText.size > 256) modelsByText.delete(modelsByText.keys().next().value as string);
  }
  modelsByConfig.set(config, model);
  return model;
};

/** A field equal to an operand, compared as the operand's type. */
const equals = (v: unknown, o: WhereScalar): boolean => {
  if (v === undefined || v === null) return false;
  if (typeof o === 'number') return asNumber(v) === o;
  if (typeof o === 'boolean') return v === o || v === String(o);
  return String(v) === o;
};

const compileCondition = (c: WhereCondition): ((v: unknown) => boolean) => {
  const tests: Array<(v: unknown) => boolean> = [];
  if (c.exists !== undefined) {
    const want = c.exists;
    tests.push((v) => (v !== undefined && v !== null) === want);
  }
  if (c.eq !== undefined) {
    const o = c.eq;
    tests.push((v) => equals(v, o));
  }
  if (c.in !== undefined) {
    const os = c.in;
    tests.push((v) => os.some((o) => equals(v, o)));
  }
  if (c.gte !== undefined) {
    const o = c.gte;
    tests.push((v) => asNumber(v) >= o);
  }
  if (c.lte !== undefined) {
    const o = c.lte;
    tests.push((v) => asNumber(v) <= o);
  }
  return (v) => tests.every((t) => t(v));
};

const compileWhere = (where: Where | undefined): Rule['where'] => {
  const entries = Object.entries(where ?? {});
  if (entries.length === 0) return null;
  const fields = entries.map(([key, cond]) => {
    const test = compileCondition(cond);
    if (key === 'value') return (e: RuleEvent) => test(e.value);
    const prop = key.slice('props.'.length);
    return (e: RuleEvent) => test(e.props && Object.hasOwn(e.props, prop) ? e.props[prop] : undefined);
  });
  return (e) => fields.every((f) => f(e));
};

const hasItems = (list: readonly string[] | undefined): list is readonly string[] =>
  list !== undefined && list.length > 0;

export const compileStages = (config: Pick<SiteConfig, 'stages' | 'conversion'>): StageModel => {
  const names = config.stages.map((s) => s.name);
  const byName = new Map(names.map((n, i) => [n, i]));
  const index = (stage: string | undefined) => (stage === undefined ? -1 : (byName.get(stage) ?? -1));

  // Rules by what they match, furthest stage first.
  const byEvent = new Map<string, Rule[]>();
  const byUrl: Array<{ matches: (path: string) => boolean; rule: Rule }> = [];
  const onReturn: Rule[] = [];
  for (let i = config.stages.length - 1; i >= 0; i--) {
    const s = config.stages[i] as StageDef;
    const rule: Rule = {
      stage: s.name,
      index: i,
      where: compileWhere(s.where),
      afterStage: s.afterStage ?? null,
      returnAfterMs: s.returnAfter === undefined ? null : (parseDuration(s.returnAfter) ?? null),
      nth: s.nth ?? 1,
    };
    for (const name of new Set(s.events ?? [])) {
      const list = byEvent.get(name) ?? [];
      list.push(rule);
      byEvent.set(name, list);
    }
    for (const u of s.urls ?? []) byUrl.push({ matches: globMatcher(u), rule });
    if (!hasItems(s.urls) && !hasItems(s.events) && rule.returnAfterMs !== null) onReturn.push(rule);
  }
  const counting = config.stages.some((s) => (s.nth ?? 1) > 1);

  const conv = config.stages.find((s) => s.name === config.conversion);
  const convWhere = compileWhere(conv?.where);
  let isPurchase: StageModel['isPurchase'] = null;
  if (conv && hasItems(conv.events)) {
    const names = new Set(conv.events);
    isPurchase = (e) => e.type === 'event' && !!e.name && names.has(e.name) && (convWhere === null || convWhere(e));
  } else if (conv && hasItems(conv.urls)) {
    const matchers = conv.urls.map(globMatcher);
    isPurchase = (e) => {
      if (e.type !== 'page') return false;
      const path = pathOf(e.url ?? undefined);
      return path !== undefined && matchers.some((m) => m(path)) && (convWhere === null || convWhere(e));
    };
  }

  /** True when the rule's conditions hold for the event (its `urls`/`events` matched already). */
  const holds = (r: Rule, e: RuleEvent, s: RuleState): boolean =>
    (r.returnAfterMs === null || (s.returnGap !== null && s.returnGap >= r.returnAfterMs)) &&
    (r.afterStage === null || s.stages[r.afterStage] !== undefined) &&
    (r.where === null || r.where(e));
  /** The furthest rule's index among those that fire, counting every qualifying occurrence of an `nth` rule. */
  const fire = (r: Rule, e: RuleEvent, s: RuleState, best: number): number => {
    if (r.index <= best && !(r.nth > 1)) return best; // cannot change the answer and counts nothing
    if (!holds(r, e, s)) return best;
    if (r.nth > 1) {
      const n = (s.counts[r.stage] ?? 0) + 1;
      s.counts[r.stage] = n;
      if (n < r.nth) return best;
    }
    return r.index > best ? r.index : best;
  };

  return {
    names,
    index,
    conversionIndex: index(config.conversion),
    counting,
    isPurchase,
    stageOf: (e, s) => {
      if (e.type === 'vital' || e.type === 'feedback' || e.type === 'identify') return undefined;
      // An unknown explicit stage falls through to the rules.
      const explicit = e.stage && byName.has(e.stage) ? e.stage : undefined;
      if (e.type !== 'page' && e.type !== 'event') return explicit;
      let best = -1;
      if (e.type === 'event') {
        if (e.name) for (const r of byEvent.get(e.name) ?? []) best = fire(r, e, s, best);
      } else if (byUrl.length > 0) {
        const path = pathOf(e.url ?? undefined);
        if (path !== undefined) {
          let last: Rule | undefined;
          for (const u of byUrl) {
            // A rule with several patterns fires (and counts) once per page view.
            if (u.rule === last || (u.rule.index <= best && !(u.rule.nth > 1)) || !u.matches(path)) continue;
            last = u.rule;
            best = fire(u.rule, e, s, best);
          }
        }
      }
      if (s.firstTouch && s.returnGap !== null) for (const r of onReturn) best = fire(r, e, s, best);
      return explicit ?? (best >= 0 ? names[best] : undefined);
    },
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Checking a model
// ---------------------------------------------------------------------------------------------------------------

const STAGE_FIELDS = ['name', 'urls', 'events', 'nth', 'where', 'returnAfter', 'afterStage'] as const;
const CONDITION_OPS = ['eq', 'in', 'gte', 'lte', 'exists'] as const;
/** Longest property key (as in LIMITS.propKeyLength) and string operand of a condition. */
const MAX_PROP_KEY = 100;
const MAX_OPERAND = 200;

type Problem = { error: string; path: string };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is WhereScalar =>
  (typeof v === 'string' && v.length <= MAX_OPERAND) ||
  (typeof v === 'number' && Number.isFinite(v)) ||
  typeof v === 'boolean';

const checkWhere = (where: unknown, p: string): Problem | undefined => {
  const keys = isObject(where) ? Object.keys(where) : [];
  if (!isObject(where) || keys.length === 0 || keys.length > 10) {
    return { error: `${p} must be an object of 1 to 10 conditions, e.g. { "value": { "gte": 100 } }`, path: p };
  }
  for (const key of keys) {
    const kp = `${p}.${key}`;
    const prop = key.startsWith('props.') ? key.slice('props.'.length) : undefined;
    if (key !== 'value' && (prop === undefined || prop.length === 0 || prop.length > MAX_PROP_KEY)) {
      return { error: `${p} keys must be "value" or "props.<key>", not "${key.slice(0, 40)}"`, path: kp };
    }
    const c = where[key];
    const ops = isObject(c) ? Object.keys(c) : [];
    if (!isObject(c) || ops.length === 0) {
      return { error: `${kp} must be an object with at least one of ${CONDITION_OPS.join(', ')}`, path: kp };
    }
    for (const op of ops) {
      const op_ = `${kp}.${op}`;
      const v = c[op];
      if (!(CONDITION_OPS as readonly string[]).includes(op)) {
        return { error: `${kp}: unknown condition "${op.slice(0, 40)}" (use ${CONDITION_OPS.join(', ')})`, path: op_ };
      }
      if (op === 'eq' && !isScalar(v)) {
        return { error: `${op_} must be a string (at most ${MAX_OPERAND} characters), number or boolean`, path: op_ };
      }
      if (op === 'in' && (!Array.isArray(v) || v.length === 0 || v.length > 50 || !v.every(isScalar))) {
        return { error: `${op_} must be an array of 1 to 50 strings, numbers or booleans`, path: op_ };
      }
      if ((op === 'gte' || op === 'lte') && (typeof v !== 'number' || !Number.isFinite(v))) {
        return { error: `${op_} must be a number`, path: op_ };
      }
      if (op === 'exists' && typeof v !== 'boolean') return { error: `${op_} must be true or false`, path: op_ };
    }
    if (c.exists === false && ops.length > 1) {
      return {
        error: `${kp}.exists: false cannot be combined with other conditions (nothing would match)`,
        path: `${kp}.exists`,
      };
    }
    if (typeof c.gte === 'number' && typeof c.lte === 'number' && c.gte > c.lte) {
      return { error: `${kp}.gte must not be greater than ${kp}.lte (nothing would match)`, path: `${kp}.gte` };
    }
  }
  return undefined;
};

/**
 * Checks a stage configuration from the admin API; returns an error naming the field (e.g.
 * `stages[3].where.value.gte`), or undefined.
 */
export const checkStages = (stages: unknown, conversion: unknown): Problem | undefined => {
  if (!Array.isArray(stages) || stages.length === 0 || stages.length > 20) {
    return { error: 'stages must be an array of 1 to 20 stages', path: 'stages' };
  }
  const seen = new Set<string>();
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i] as unknown;
    const p = `stages[${i}]`;
    if (!isObject(s)) return { error: `${p} must be an object`, path: p };
    const { name, urls, events } = s;
    if (typeof name !== 'string' || !/^[\w .:-]{1,64}$/u.test(name)) {
      return { error: `${p}.name must be 1–64 letters, digits, spaces or _ . : -`, path: `${p}.name` };
    }
    if (seen.has(name)) return { error: `${p}.name "${name}" is used twice`, path: `${p}.name` };
    seen.add(name);
    for (const k of Object.keys(s)) {
      if (!(STAGE_FIELDS as readonly string[]).includes(k)) {
        return {
          error: `${p}: unknown field "${k.slice(0, 40)}" (a stage has ${STAGE_FIELDS.join(', ')})`,
          path: `${p}.${k}`,
        };
      }
    }
    for (const [key, list] of [
      ['urls', urls],
      ['events', events],
    ] as const) {
      if (list === undefined) continue;
      if (
        !Array.isArray(list) ||
        list.length > 50 ||
        list.some((x) => typeof x !== 'string' || x.length === 0 || x.length > 200)
      ) {
        return { error: `${p}.${key} must be an array of at most 50 non-empty strings`, path: `${p}.${key}` };
      }
    }
    if (s.nth !== undefined && (typeof s.nth !== 'number' || !Number.isInteger(s.nth) || s.nth < 1 || s.nth > 1000)) {
      return { error: `${p}.nth must be an integer from 1 to 1000`, path: `${p}.nth` };
    }
    if (s.where !== undefined) {
      const bad = checkWhere(s.where, `${p}.where`);
      if (bad) return bad;
    }
    if (s.returnAfter !== undefined) {
      const ms = typeof s.returnAfter === 'string' ? parseDuration(s.returnAfter) : undefined;
      if (ms === undefined || ms > MAX_RETURN_AFTER_MS) {
        return {
          error: `${p}.returnAfter must be a duration such as "30d", "12h", "90m" or "2w", at most 365d`,
          path: `${p}.returnAfter`,
        };
      }
    }
    if (s.afterStage !== undefined && (typeof s.afterStage !== 'string' || s.afterStage === name)) {
      return { error: `${p}.afterStage must name another stage of the model`, path: `${p}.afterStage` };
    }
    const matches = (Array.isArray(urls) && urls.length > 0) || (Array.isArray(events) && events.length > 0);
    if (!matches && s.returnAfter === undefined) {
      const modifier = (['nth', 'where', 'afterStage'] as const).find((k) => s[k] !== undefined);
      if (modifier) {
        return {
          error: `${p}.${modifier} needs urls, events or returnAfter on the same stage (what the condition applies to)`,
          path: `${p}.${modifier}`,
        };
      }
    }
  }
  for (let i = 0; i < stages.length; i++) {
    const after = (stages[i] as StageDef).afterStage;
    if (after !== undefined && !seen.has(after)) {
      return { error: `stages[${i}].afterStage must name another stage of the model`, path: `stages[${i}].afterStage` };
    }
  }
  if (typeof conversion !== 'string' || !seen.has(conversion)) {
    return { error: 'conversion must name one of the stages', path: 'conversion' };
  }
  return undefined;
};

/** A checked stage with only its documented fields, copied (what is stored). */
export const cleanStage = (s: StageDef): StageDef => {
  const clean: StageDef = { name: s.name };
  if (s.urls) clean.urls = [...s.urls];
  if (s.events) clean.events = [...s.events];
  if (s.nth !== undefined) clean.nth = s.nth;
  if (s.where !== undefined) clean.where = structuredClone(s.where);
  if (s.returnAfter !== undefined) clean.returnAfter = s.returnAfter;
  if (s.afterStage !== undefined) clean.afterStage = s.afterStage;
  return clean;
};
