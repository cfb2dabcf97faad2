/**
 * A site's stage model: an ordered list of stages, rules that map URL paths and event names onto them, and the
 * stage that counts as the conversion. Stored per site (see SiteConfig) and editable through the admin API.
 */
import { globMatcher } from './glob';

export interface StageDef {
  /** Stage name as shown and as sent by `cjm.stage(name)`. */
  name: string;
  /** Path patterns: `*` matches within one path segment, `**` across segments; e.g. `**\/cart*`, `/checkout/**`. */
  urls?: string[];
  /** Event names that put the visitor into this stage, e.g. `add_to_cart`. */
  events?: string[];
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
  /** Refuse `/collect` requests without an `Origin` header (server-side senders use `/v1/*` with a write key). */
  requireOrigin?: boolean;
  /** Set by the server, incremented whenever a change needs the journeys refolded (stages, conversion, timeout, origins). */
  revision?: number;
}

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

/** The path of a URL (absolute or relative), without query or hash; undefined when it cannot be parsed. */
export const pathOf = (url: string | undefined): string | undefined => {
  if (!url) return undefined;
  try {
    return new URL(url, 'http://x').pathname;
  } catch {
    return undefined;
  }
};

/** A compiled stage model: fast lookups of a stage's index and of the stage an event maps to. */
export interface StageModel {
  names: string[];
  index: (stage: string | undefined) => number;
  conversionIndex: number;
  /** The stage an event puts the visitor into, or undefined. An explicit `stage` field wins over the rules. */
  stageOf: (e: {
    type: string;
    stage?: string | null;
    name?: string | null;
    url?: string | null;
  }) => string | undefined;
}

export const compileStages = (config: Pick<SiteConfig, 'stages' | 'conversion'>): StageModel => {
  const names = config.stages.map((s) => s.name);
  const byName = new Map(names.map((n, i) => [n, i]));
  const urlRules = config.stages.flatMap((s) =>
    (s.urls ?? []).map((u) => ({ matches: globMatcher(u), stage: s.name })),
  );
  const eventRules = new Map<string, string>();
  for (const s of config.stages) for (const e of s.events ?? []) if (!eventRules.has(e)) eventRules.set(e, s.name);
  const index = (stage: string | undefined) => (stage === undefined ? -1 : (byName.get(stage) ?? -1));
  return {
    names,
    index,
    conversionIndex: index(config.conversion),
    stageOf: (e) => {
      if (e.type === 'vital' || e.type === 'feedback' || e.type === 'identify') return undefined;
      if (e.stage && byName.has(e.stage)) return e.stage; // an unknown explicit stage falls through to the rules
      if (e.type === 'event' && e.name) return eventRules.get(e.name);
      if (e.type === 'page') {
        const path = pathOf(e.url ?? undefined);
        if (path === undefined) return undefined;
        for (const r of urlRules) if (r.matches(path)) return r.stage;
      }
      return undefined;
    },
  };
};

/**
 * Checks a stage configuration from the admin API; returns an error naming the field, or undefined.
 */
export const checkStages = (stages: unknown, conversion: unknown): { error: string; path: string } | undefined => {
  if (!Array.isArray(stages) || stages.length === 0 || stages.length > 20) {
    return { error: 'stages must be an array of 1 to 20 stages', path: 'stages' };
  }
  const seen = new Set<string>();
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i] as unknown;
    const p = `stages[${i}]`;
    if (typeof s !== 'object' || s === null) return { error: `${p} must be an object`, path: p };
    const { name, urls, events } = s as Record<string, unknown>;
    if (typeof name !== 'string' || !/^[\w .:-]{1,64}$/u.test(name)) {
      return { error: `${p}.name must be 1–64 letters, digits, spaces or _ . : -`, path: `${p}.name` };
    }
    if (seen.has(name)) return { error: `${p}.name "${name}" is used twice`, path: `${p}.name` };
    seen.add(name);
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
  }
  if (typeof conversion !== 'string' || !seen.has(conversion)) {
    return { error: 'conversion must name one of the stages', path: 'conversion' };
  }
  return undefined;
};
