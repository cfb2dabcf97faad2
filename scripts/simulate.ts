/**
 * `npm run simulate -- --visitors 5000 [--seed 42] [--url http://localhost:8787] [--site demo] [--truth out.json]`
 *
 * Sends realistic shop traffic through the real `POST /collect` endpoint, so a fresh install has something to show,
 * and writes the ground truth it generated to a JSON file (default `./data/simulate-truth.json`).
 *
 * - Seeded: the same seed (and `--now`) gives the same traffic, ids included. `--now` defaults to the current hour
 *   (floored), so runs within one hour are identical and a re-run is deduplicated by the collector.
 * - Timestamps spread over the past `--days` days (default 28, inside the collector's 31-day window).
 * - Channels through UTM parameters, click ids and referrers; drop-off at every stage; back-steps (checkout → cart);
 *   returning visitors across sessions (gaps over the 30-minute session timeout); identify on some sign-ups; feedback
 *   scores and web vitals.
 * - Batches like the tag: one request per page view with the events, vitals and feedback that followed it, each
 *   visitor's requests in order, a few visitors in parallel; `429`/`5xx` are retried with the same event ids.
 *
 * - `--template <id>` (a stage template of collector/core/stages.ts `STAGE_TEMPLATES`): customers also live after
 *   their purchase — reviews, referrals, renewals, staff test orders, order tracking, returns after days or weeks
 *   (within the `--days` window), reorders — and the truth is computed under that template's stages; `--token` first
 *   sets the site's stage model to it through the admin API.
 *
 * Without `--template` the truth follows the default stage model (`landing → signup → cart → checkout →
 * post-purchase`, collector/core/stages.ts `DEFAULT_STAGES`); on a site with other stage rules the truth does not
 * describe the journeys. The truth is worked out here, by hand, from what each simulated visitor does (which page, which
 * event, how long after the last visit): never by the collector's own rule engine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WireBatch, WireEvent } from '../collector/core/protocol';
import { deviceClass } from '../collector/core/privacy';
import { STAGE_TEMPLATES, stageTemplate, templatePatch } from '../collector/core/stages';

/** The default model's stages (the `shop` template), which also name how pages behave (vitals, feedback). */
export const STAGES = ['landing', 'signup', 'cart', 'checkout', 'post-purchase'] as const;
export type SimStage = (typeof STAGES)[number];
const SHOP = 'https://shop.example';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface SimulateOptions {
  visitors: number;
  seed: number;
  /** Anchor of the simulated past: the latest possible event time (ms). */
  now: number;
  /** Spread of first visits over the past days. */
  days: number;
  site: string;
  /**
   * A stage template (collector/core/stages.ts STAGE_TEMPLATES) the truth is computed under. With one, visitors also
   * live after their purchase: reviews, referrals, renewals, test orders, returns after days or weeks, reorders.
   * Without, the shop traffic of the default model.
   */
  template?: string;
}

/** Touch-count buckets of docs/api.md (touches report). */
export const TOUCH_BUCKETS: Array<[label: string, min: number, max: number | null]> = [
  ['1', 1, 1],
  ['2', 2, 2],
  ['3', 3, 3],
  ['4', 4, 4],
  ['5', 5, 5],
  ['6–7', 6, 7],
  ['8–10', 8, 10],
  ['11–15', 11, 15],
  ['16–20', 16, 20],
  ['21–30', 21, 30],
  ['31+', 31, null],
];
export const SESSION_BUCKETS: Array<[label: string, min: number, max: number | null]> = [
  ['1', 1, 1],
  ['2', 2, 2],
  ['3', 3, 3],
  ['4', 4, 4],
  ['5', 5, 5],
  ['6–10', 6, 10],
  ['11+', 11, null],
];

export interface Distribution {
  count: number;
  /** Nearest-rank percentiles (a value that occurred), null without samples. */
  median: number | null;
  p75: number | null;
  min: number | null;
  max: number | null;
  buckets: Record<string, number>;
}

/** What the simulator generated, in the terms of the reports (docs/api.md). Counts are journeys unless named. */
export interface Truth {
  seed: number;
  site: string;
  /** The stage model the truth is computed under (`shop`: the default). */
  template: string;
  conversionStage: string;
  now: number;
  visitors: number;
  events: number;
  requests: number;
  firstEventAt: number;
  lastEventAt: number;
  journeys: number;
  converted: number;
  stages: Array<{
    stage: string;
    /** Journeys that entered the stage at least once. */
    reached: number;
    /** Journeys whose current (last) stage it is. */
    current: number;
    /** Entries, re-entries after a back-step included. */
    entries: number;
    /** Journeys whose furthest stage it is. */
    furthest: number;
    /** Channel of the session in which each journey first entered the stage. */
    entryChannels: Record<string, number>;
    feedback: { sum: number; count: number };
    /** Each journey's latest value of each vital measured in the stage. */
    vitals: Record<string, number[]>;
  }>;
  transitions: Array<{ from: string; to: string; journeys: number; count: number; back: boolean }>;
  backSteps: { journeys: number; count: number };
  firstChannels: Record<string, number>;
  /** Journeys that stopped in a stage without converting, by that stage. */
  stalls: Record<string, number>;
  /** Converted journeys: touches (page views + events) up to and including the converting one, and sessions. */
  touchesToConversion: Distribution;
  sessionsToConversion: Distribution;
  byFirstChannel: Record<
    string,
    { journeys: number; converted: number; touches: Distribution; sessions: Distribution }
  >;
  identified: number;
  returning: number;
  /**
   * Times to convert (ms from a journey's first event to the event that reached the conversion stage), ascending:
   * of every converted journey, and per device class of the visitor's User-Agent.
   */
  timeToConvert: { all: number[]; byDevice: Record<string, { journeys: number; times: number[] }> };
  /**
   * The lifecycle numbers of the journey map (docs/api.md "Lifecycle"): a purchase is an event of the conversion
   * stage's events (written out here per model; the lifecycle template leaves out test orders), sessions split at 30
   * minutes of inactivity, the conversion at the first purchase (every model here converts on one).
   */
  lifecycle: {
    customers: number;
    repeatCustomers: number;
    purchases: number;
    medianToSecondPurchaseMs: number | null;
    converted: number;
    returnedAfterConversion: number;
  };
  /** Cohort retention: per first-visit ISO week (its Monday), journeys active (a session started) k = 0 … 12 weeks on. */
  retention: Array<{ week: string; journeys: number; active: number[] }>;
}

/** The events of the conversion stage of each model (collector/core/stages.ts), as the truth counts purchases. */
const PURCHASE_EVENTS: Record<string, readonly string[]> = {
  shop: ['purchase', 'order_completed'],
  'repeat-purchase': ['purchase', 'order_completed'],
  'post-purchase': ['purchase', 'order_completed'],
  lifecycle: ['purchase', 'order_completed'],
  engagement: ['purchase', 'order_completed', 'onboarding_completed', 'subscription_started'],
};

const lifecycleTruth = (visitors: SimVisitor[], template: string): Pick<Truth, 'lifecycle' | 'retention'> => {
  const names = new Set(PURCHASE_EVENTS[template] ?? []);
  const week = (ms: number) => Math.floor((Math.floor(ms / DAY) + 3) / 7);
  const life = { customers: 0, repeatCustomers: 0, purchases: 0, converted: 0, returnedAfterConversion: 0 };
  const seconds: number[] = [];
  const cohorts = new Map<number, { journeys: number; active: number[] }>();
  for (const v of visitors) {
    const all = v.batches.flat().sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
    const starts = all.filter((e, i) => i === 0 || e.ts - all[i - 1]!.ts > 30 * MIN).map((e) => e.ts);
    const buys = all
      .filter((e) => e.type === 'event' && names.has(e.name ?? ''))
      .filter((e) => template !== 'lifecycle' || e.props?.test === undefined || e.props.test === null)
      .map((e) => e.ts);
    if (buys.length > 0) {
      life.customers++;
      life.converted++;
      life.purchases += buys.length;
      if (starts.some((t) => t > buys[0]!)) life.returnedAfterConversion++;
    }
    if (buys.length > 1) {
      life.repeatCustomers++;
      seconds.push(buys[1]! - buys[0]!);
    }
    if (starts.length === 0) continue;
    const w0 = week(starts[0]!);
    const c = cohorts.get(w0) ?? { journeys: 0, active: new Array<number>(13).fill(0) };
    cohorts.set(w0, c);
    c.journeys++;
    for (const k of new Set(starts.map((t) => week(t) - w0))) if (k <= 12) c.active[k]!++;
  }
  seconds.sort((a, b) => a - b);
  return {
    lifecycle: {
      ...life,
      medianToSecondPurchaseMs: seconds.length ? seconds[Math.ceil(seconds.length / 2) - 1]! : null,
    },
    retention: [...cohorts]
      .sort(([a], [b]) => a - b)
      .map(([w, c]) => ({ week: new Date((w * 7 - 3) * DAY).toISOString().slice(0, 10), ...c })),
  };
};

// ------------------------------------------------------------------------------------------------------------
// Seeded randomness (sfc32 seeded through splitmix32): same seed, same sequence on every platform.
// ------------------------------------------------------------------------------------------------------------

export const rng = (seed: number) => {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
};

type Rand = () => number;
const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randId = (r: Rand, n: number) => Array.from({ length: n }, () => ALPHA[Math.floor(r() * ALPHA.length)]).join('');
const between = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;
const weighted = <T>(r: Rand, items: ReadonlyArray<readonly [T, number]>): T => {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of items) if ((x -= w) < 0) return v;
  return items[items.length - 1]![0];
};
/** Log-normal around a median, for vitals. */
const lognormal = (r: Rand, median: number, spread: number) => {
  const u = Math.max(r(), 1e-9);
  const v = r();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(spread * z);
};

// ------------------------------------------------------------------------------------------------------------
// Channels: how a session arrives (landing URL parameters and referrer) and what the collector will call it.
// ------------------------------------------------------------------------------------------------------------

interface Arrival {
  channel: string;
  query: string;
  referrer?: string;
}

const ARRIVALS: ReadonlyArray<readonly [(r: Rand) => Arrival, number]> = [
  [() => ({ channel: 'direct', query: '' }), 22],
  [
    (r) => ({
      channel: 'organic_search',
      query: '',
      referrer: pick(r, [
        'https://www.google.com/',
        'https://www.google.de/',
        'https://www.bing.com/',
        'https://duckduckgo.com/',
        'https://yandex.ru/',
      ]),
    }),
    26,
  ],
  [(r) => ({ channel: 'paid_search', query: `?gclid=${randId(r, 20)}` }), 7],
  [
    (r) => ({
      channel: 'paid_search',
      query: `?utm_source=google&utm_medium=cpc&utm_campaign=${pick(r, ['brand', 'mugs-q4', 'generic'])}`,
    }),
    5,
  ],
  [
    (r) => ({
      channel: 'social',
      query: '',
      referrer: pick(r, [
        'https://www.facebook.com/',
        'https://t.co/x',
        'https://vk.com/coffee_club',
        'https://www.instagram.com/',
      ]),
    }),
    10,
  ],
  [
    (r) => ({
      channel: 'forum',
      query: '',
      referrer: pick(r, [
        'https://www.reddit.com/r/coffee/',
        'https://habr.com/ru/articles/123/',
        'https://coffee.stackexchange.com/questions/42',
        'https://forum.coffee-geeks.example/t/mugs/7',
      ]),
    }),
    4,
  ],
  [
    (r) => ({
      channel: 'maps',
      query: '',
      referrer: pick(r, [
        'https://www.google.com/maps/place/Brew+%26+Co/@52.52,13.40,17z',
        'https://yandex.ru/maps/213/moscow/',
        'https://2gis.ru/moscow/firm/70000001',
      ]),
    }),
    3,
  ],
  [
    (r) => ({
      channel: 'paid_social',
      query: `?utm_source=facebook&utm_medium=paid_social&utm_campaign=${pick(r, ['winter', 'retarget'])}`,
    }),
    5,
  ],
  [
    (r) => ({
      channel: 'email',
      query: `?utm_source=newsletter&utm_medium=email&utm_campaign=${pick(r, ['weekly', 'black-friday'])}`,
    }),
    9,
  ],
  [
    (r) => ({
      channel: 'referral',
      query: '',
      referrer: pick(r, [
        'https://blog.coffee-lovers.example/best-mugs',
        'https://coffee-forum.example.net/t/42',
        'https://gift-guide.example.org/',
      ]),
    }),
    8,
  ],
  [() => ({ channel: 'affiliate', query: '?utm_source=partner-blog&utm_medium=affiliate' }), 4],
  [() => ({ channel: 'display', query: '?utm_source=gdn&utm_medium=display' }), 3],
];

/** Returning sessions come back mostly direct or through owned channels. */
const RETURNS: ReadonlyArray<readonly [(r: Rand) => Arrival, number]> = [
  [() => ({ channel: 'direct', query: '' }), 50],
  [() => ({ channel: 'email', query: '?utm_source=newsletter&utm_medium=email&utm_campaign=reminder' }), 25],
  [
    (r) => ({
      channel: 'organic_search',
      query: '',
      referrer: pick(r, ['https://www.google.com/', 'https://www.bing.com/']),
    }),
    15,
  ],
  [
    (r) => ({
      channel: 'paid_social',
      query: `?utm_source=facebook&utm_medium=paid_social&utm_campaign=retarget&x=${randId(r, 4)}`,
    }),
    10,
  ],
  [
    (r) =>
      pick(r, [
        { channel: 'retargeting', query: '?utm_source=criteo&utm_medium=display&utm_campaign=cart' },
        { channel: 'retargeting', query: '?utm_source=facebook&utm_medium=retargeting' },
        { channel: 'retargeting', query: `?adct=${randId(r, 24)}` },
      ]),
    6,
  ],
];

const USER_AGENTS = [
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    40,
  ],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
    15,
  ],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    25,
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    15,
  ],
  [
    'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
    5,
  ],
] as const;

const PRODUCTS = [
  { sku: 'mug-classic', path: '/products/classic-mug', title: 'Classic mug', price: 14 },
  { sku: 'mug-travel', path: '/products/travel-mug', title: 'Travel mug', price: 24 },
  { sku: 'beans-1kg', path: '/products/house-beans', title: 'House beans 1 kg', price: 32 },
  { sku: 'grinder', path: '/products/hand-grinder', title: 'Hand grinder', price: 79 },
  { sku: 'tee', path: '/products/cjm-tee', title: 'cjm tee', price: 22 },
] as const;
const CONTENT = ['/', '/about', '/blog/brew-guide', '/blog/gift-ideas', '/shipping', '/faq'] as const;
/** Review ratings: mostly happy customers. */
const RATINGS: ReadonlyArray<readonly [number, number]> = [
  [5, 45],
  [4, 30],
  [3, 12],
  [2, 7],
  [1, 6],
];

/** Feedback means per stage: the emotion curve dips at signup and checkout, peaks after the purchase. */
const FEEDBACK: Record<SimStage, { p: number; mean: number }> = {
  landing: { p: 0.04, mean: 3.9 },
  signup: { p: 0.1, mean: 2.9 },
  cart: { p: 0.08, mean: 3.5 },
  checkout: { p: 0.16, mean: 2.4 },
  'post-purchase': { p: 0.45, mean: 4.5 },
};
/** Vitals per stage: the checkout page is slow (poor LCP/INP), the rest mostly good. */
const VITAL_MEDIANS: Record<SimStage, Record<string, number>> = {
  landing: { LCP: 1900, FCP: 1200, TTFB: 420, INP: 120, CLS: 0.04 },
  signup: { LCP: 2100, FCP: 1300, TTFB: 450, INP: 180, CLS: 0.08 },
  cart: { LCP: 2300, FCP: 1400, TTFB: 520, INP: 160, CLS: 0.06 },
  checkout: { LCP: 3600, FCP: 2100, TTFB: 900, INP: 340, CLS: 0.18 },
  'post-purchase': { LCP: 1700, FCP: 1100, TTFB: 380, INP: 90, CLS: 0.02 },
};

// ------------------------------------------------------------------------------------------------------------
// One visitor's walk: the events, grouped in batches, and what they mean.
// ------------------------------------------------------------------------------------------------------------

export interface SimVisitor {
  id: string;
  userAgent: string;
  /** Requests in the order the tag would send them. */
  batches: WireEvent[][];
  // Ground truth of this journey:
  firstChannel: string;
  sessions: number;
  entries: Array<{ stage: number; from: number | null; session: number; channel: string }>;
  current: number;
  furthest: number;
  converted: { touches: number; sessions: number; at: number } | null;
  /** The earliest event's time (the journey's first seen). */
  firstAt: number;
  feedback: Array<{ stage: number; value: number }>;
  vitals: Map<number, Record<string, number>>;
  identified: boolean;
}

/**
 * What the simulated visitor does, in the terms a stage rule can see: a page view (with, for the first page of a
 * session after the journey's first, the gap since the last event before it) or an event.
 */
type Act =
  | { kind: 'page'; path: string; returnGap: number | null }
  | { kind: 'event'; name: string; props?: WireEvent['props']; value?: number };

/**
 * The stage each act enters under a model, written out by hand for the pages and events this simulator sends (the
 * ground truth must not come from the collector's own rule engine). A classifier keeps its own per-visitor state
 * (occurrence counts) and sees which stages were reached before the act; several matching rules: the furthest stage.
 */
type Classifier = (a: Act, reached: (stage: number) => boolean) => number | null;

const PRODUCT_PATH = /^\/products\//;
const max = (...xs: Array<number | null>): number | null =>
  xs.reduce<number | null>((m, x) => (x === null ? m : m === null || x > m ? x : m), null);
const isTest = (a: Act) => a.kind === 'event' && a.props?.test !== undefined && a.props.test !== null;

const CLASSIFIERS: Record<string, () => Classifier> = {
  // landing → signup → cart → checkout → post-purchase (DEFAULT_STAGES)
  shop: () => (a) =>
    a.kind === 'page'
      ? (({ '/signup': 1, '/cart': 2, '/checkout': 3, '/thank-you': 4 } as Record<string, number>)[a.path] ?? null)
      : (({ signup_completed: 1, add_to_cart: 2, begin_checkout: 3, purchase: 4 } as Record<string, number>)[a.name] ??
        null),
  // need → search → comparison → purchase → result → repeat-purchase (nth 2 over purchases and renewals)
  'repeat-purchase': () => {
    let orders = 0;
    return (a, reached) => {
      if (a.kind === 'page') {
        if (a.path === '/search') return 1;
        if (PRODUCT_PATH.test(a.path) || a.path === '/cart' || a.path === '/checkout') return 2;
        if (a.path === '/account/orders') return reached(3) ? 4 : null;
        return null;
      }
      if (a.name === 'search') return 1;
      if (['view_item', 'add_to_cart', 'begin_checkout'].includes(a.name)) return 2;
      if (a.name === 'purchase') return max(3, ++orders >= 2 ? 5 : null);
      if (a.name === 'subscription_renewed') return ++orders >= 2 ? 5 : null;
      if (a.name === 'review_submitted' || a.name === 'order_delivered') return reached(3) ? 4 : null;
      return null;
    };
  },
  // awareness → consideration → purchase → post-purchase → advocacy (both after purchase)
  'post-purchase': () => (a, reached) => {
    if (a.kind === 'page') {
      if (PRODUCT_PATH.test(a.path) || ['/search', '/cart', '/checkout'].includes(a.path)) return 1;
      if (a.path === '/account/orders') return reached(2) ? 3 : null;
      return null;
    }
    if (['view_item', 'search', 'add_to_cart', 'begin_checkout'].includes(a.name)) return 1;
    if (a.name === 'purchase') return 2;
    if (a.name === 'order_delivered' || a.name === 'subscription_renewed') return reached(2) ? 3 : null;
    if (a.name === 'review_submitted' || a.name === 'referral_sent') return reached(2) ? 4 : null;
    return null;
  },
  // reach → acquisition → conversion → retention (a return ≥ 14 d after converting) → loyalty (2nd order), no tests
  lifecycle: () => {
    let orders = 0;
    return (a, reached) => {
      if (a.kind === 'page') {
        const back = a.returnGap !== null && a.returnGap >= 14 * DAY && reached(2) ? 3 : null;
        return max(a.path === '/signup' ? 1 : null, back);
      }
      if (a.name === 'signup_completed') return 1;
      if ((a.name === 'purchase' || a.name === 'subscription_renewed') && !isTest(a)) {
        const loyal = ++orders >= 2 ? 4 : null;
        return max(a.name === 'purchase' ? 2 : null, loyal);
      }
      return null;
    };
  },
  // awareness → capture → onboarding → engagement (a return ≥ 7 d after onboarding) → advocacy
  engagement: () => (a, reached) => {
    if (a.kind === 'page') {
      const back = a.returnGap !== null && a.returnGap >= 7 * DAY && reached(2) ? 3 : null;
      return max(a.path === '/signup' ? 1 : null, back);
    }
    if (a.name === 'signup_completed') return 1;
    if (a.name === 'purchase') return 2;
    if (a.name === 'review_submitted' || a.name === 'referral_sent') return reached(2) ? 4 : null;
    return null;
  },
};

/** The stage names and conversion of a template, as the simulator's truth uses them. */
export const modelOf = (template: string | undefined): { names: string[]; conversion: number } => {
  const t = stageTemplate(template ?? 'shop');
  if (!t || !CLASSIFIERS[t.id]) {
    throw new Error(
      `[cjm simulate] --template must be one of ${STAGE_TEMPLATES.map((x) => x.id).join(', ')}, not "${template}"`,
    );
  }
  const names = t.stages.map((s) => s.name);
  return { names, conversion: names.indexOf(t.conversion) };
};

/** The default-model stage of a page kind: what the vitals and feedback of the page behave like. */
const behaviourOf = (stage: number): SimStage => STAGES[stage] ?? 'landing';

const walk = (r: Rand, index: number, opts: SimulateOptions): SimVisitor => {
  const rich = opts.template !== undefined; // post-purchase life: reviews, referrals, returns after weeks, reorders
  const { conversion } = modelOf(opts.template);
  const classify = CLASSIFIERS[opts.template ?? 'shop']!();
  const shadow = CLASSIFIERS.shop!(); // the shop stage, for how pages behave (vitals, feedback)
  let behaviour = -1;
  const id = `sim${index.toString(36).padStart(4, '0')}${randId(r, 10)}`;
  const userAgent = weighted(r, USER_AGENTS);
  const pages: WireEvent[][] = [];
  let seq = 0;
  let t = 0; // relative time, made absolute at the end
  let lastTs: number | null = null;
  let sessionStarts = false;
  let touches = 0;
  let session = 0;
  let channel = '';
  const v: SimVisitor = {
    id,
    userAgent,
    batches: pages,
    firstChannel: '',
    sessions: 0,
    entries: [],
    current: -1,
    furthest: -1,
    converted: null,
    firstAt: Number.POSITIVE_INFINITY,
    feedback: [],
    vitals: new Map(),
    identified: false,
  };
  const names = modelOf(opts.template).names;
  const eventId = () => `${id}.${(seq++).toString(36)}`;
  const stageName = (): string | undefined => (v.current >= 0 ? names[v.current] : undefined);
  const reached = (stage: number) => v.entries.some((e) => e.stage === stage);
  const act = (a: Act) => {
    const s = shadow(a, () => false);
    if (s !== null) behaviour = s;
    else if (behaviour === -1) behaviour = 0;
    let stage = classify(a, reached);
    if (touches === 1 && v.current === -1 && stage === null) stage = 0; // first touch: the first stage
    if (stage === null || stage === v.current) return;
    v.entries.push({ stage, from: v.current === -1 ? null : v.current, session, channel });
    v.current = stage;
    if (stage > v.furthest) v.furthest = stage;
    if (!v.converted && stage >= conversion) v.converted = { touches, sessions: session, at: lastTs ?? t };
  };
  const after = (lo: number, hi: number) => (t += between(r, lo, hi));
  const push = (e: WireEvent) => {
    const batch = pages[pages.length - 1];
    if (batch && batch.length < 40) batch.push(e);
    else pages.push([e]);
    lastTs = e.ts;
    if (e.ts < v.firstAt) v.firstAt = e.ts;
  };

  const afterPage = () => {
    // Vitals of the page just viewed (the tag reports them on the way out), in the stage the visitor is in.
    const kind = behaviourOf(behaviour);
    const stage = stageName();
    const medians = VITAL_MEDIANS[kind];
    const measured: Record<string, number> = v.vitals.get(v.current) ?? {};
    for (const name of ['TTFB', 'FCP', 'LCP', 'INP', 'CLS'] as const) {
      if (r() > (name === 'INP' || name === 'CLS' ? 0.45 : 0.7)) continue;
      const raw = lognormal(r, medians[name]!, name === 'CLS' ? 0.9 : 0.45);
      const value = name === 'CLS' ? Math.round(raw * 1000) / 1000 : Math.round(raw);
      push({ id: eventId(), type: 'vital', ts: after(200, 4000), name, value, stage });
      measured[name] = value;
    }
    if (Object.keys(measured).length) v.vitals.set(v.current, measured);
    const fb = FEEDBACK[kind];
    if (r() < fb.p) {
      const value = Math.min(5, Math.max(1, Math.round(fb.mean + (r() + r() + r() - 1.5) * 1.6)));
      push({ id: eventId(), type: 'feedback', ts: after(1000, 20_000), value, stage });
      v.feedback.push({ stage: v.current, value });
    }
  };

  const page = (path: string, title: string, arrival?: Arrival) => {
    pages.push([]); // each page view starts a request, like the tag flushing on pagehide
    touches++;
    const e: WireEvent = {
      id: eventId(),
      type: 'page',
      ts: after(3_000, 150_000),
      url: `${SHOP}${path}${arrival?.query ?? ''}`,
      title,
    };
    if (arrival?.referrer) e.referrer = arrival.referrer;
    const returnGap = sessionStarts && session > 1 && lastTs !== null ? e.ts - lastTs : null;
    sessionStarts = false;
    push(e);
    act({ kind: 'page', path: new URL(e.url!).pathname, returnGap });
    afterPage();
  };
  const event = (name: string, props?: WireEvent['props'], value?: number) => {
    touches++;
    const e: WireEvent = { id: eventId(), type: 'event', ts: after(2_000, 60_000), name };
    if (props) e.props = props;
    if (value !== undefined) e.value = value;
    push(e);
    act({ kind: 'event', name, ...(props ? { props } : {}), ...(value === undefined ? {} : { value }) });
  };
  /** A new session after a gap (none for the first): the next page view starts it. */
  const newSession = (gap: number, arrivalChannel: string) => {
    if (session > 0) t += gap;
    session++;
    channel = arrivalChannel;
    sessionStarts = true;
  };
  const startSession = (arrival: Arrival, path: string, title: string) => {
    newSession(session > 0 ? between(r, 2 * HOUR, 4 * DAY) : 0, arrival.channel);
    if (session === 1) v.firstChannel = channel;
    page(path, title, arrival);
  };
  const browse = (n: number) => {
    for (let i = 0; i < n; i++) {
      if (rich && r() < 0.12) {
        page('/search', 'Search');
        event('search', { search_term: pick(r, ['mug', 'beans', 'grinder', 'gift']) });
      } else if (r() < 0.7) {
        const p = pick(r, PRODUCTS);
        page(p.path, p.title);
        if (r() < 0.5) event('view_item', { sku: p.sku, price: p.price });
      } else page(pick(r, CONTENT), 'Brew & Co.');
    }
  };
  /** Leaves; comes back later (a returning visitor) or never. Returns true when the visitor comes back. */
  const leave = (returnP: number, resume: () => void): boolean => {
    if (behaviour === 2 || behaviour === 3) if (r() < 0.6) event('cart_abandoned', { items: between(r, 1, 3) });
    if (session >= 5 || r() >= returnP) return false;
    const arrival = weighted(r, RETURNS)(r);
    startSession(arrival, r() < 0.5 ? '/' : pick(r, PRODUCTS).path, 'Brew & Co.');
    resume();
    return true;
  };
  /** An order: the product, the cart, the checkout, the purchase and the thank-you page. */
  const buy = (again: boolean) => {
    const p = pick(r, PRODUCTS);
    if (again) {
      page(p.path, p.title);
      event('view_item', { sku: p.sku, price: p.price });
      event('add_to_cart', { sku: p.sku, price: p.price, qty: 1 });
      page('/cart', 'Your cart');
      page('/checkout', 'Checkout');
      event('begin_checkout', { step: 'shipping' });
    }
    const value = between(r, 14, 160);
    const props: WireEvent['props'] = { order: randId(r, 6), currency: 'EUR' };
    if (rich && r() < 0.05) props.test = true; // a staff test order
    event('purchase', props, value);
    page('/thank-you', 'Thank you!');
    if (rich && r() < 0.12) event('referral_sent', { via: pick(r, ['link', 'email', 'whatsapp']) });
  };
  const review = () => event('review_submitted', { rating: weighted(r, RATINGS), sku: pick(r, PRODUCTS).sku });
  /** Weeks after an order the customer may come back: to reorder, review, renew, or just look. */
  const afterPurchase = () => {
    const cap = (opts.days - 1) * DAY;
    for (let k = 0; k < 3; k++) {
      if (r() >= 0.55) return;
      const gap = between(r, 2 * DAY, 20 * DAY);
      if (t + gap > cap) return;
      const arrival = weighted(r, RETURNS)(r);
      newSession(gap, arrival.channel);
      page(r() < 0.5 ? '/' : pick(r, PRODUCTS).path, 'Brew & Co.', arrival);
      const x = r();
      if (x < 0.35) buy(true);
      else if (x < 0.55) {
        page('/account/orders', 'Your orders');
        review();
      } else if (x < 0.7) {
        page('/account/subscription', 'Your subscription');
        event('subscription_renewed', { plan: 'beans-monthly' }, 32);
      } else browse(between(r, 1, 3));
    }
  };

  // Session 1: arrive and look around.
  const first = weighted(r, ARRIVALS)(r);
  const landingPath =
    first.channel === 'email' || first.channel === 'paid_social'
      ? pick(r, PRODUCTS).path
      : r() < 0.6
        ? '/'
        : pick(r, [...CONTENT, ...PRODUCTS.map((p) => p.path)]);
  startSession(first, landingPath, 'Brew & Co.');
  browse(between(r, 0, 3));

  // The funnel, with drop-off (and possibly a return) at every step.
  const steps = () => {
    // landing → signup, or straight to the cart as a guest.
    for (;;) {
      if (r() < 0.5) break;
      if (!leave(0.3, () => browse(between(r, 0, 2)))) return;
    }
    const cameWithSignup = r() < 0.7;
    if (cameWithSignup) {
      page('/signup', 'Create your account');
      for (;;) {
        if (r() < 0.68) break;
        if (!leave(0.25, () => page('/signup', 'Create your account'))) return;
      }
      event('signup_completed', { method: pick(r, ['email', 'google', 'apple']) });
      if (r() < 0.6) {
        push({ id: eventId(), type: 'identify', ts: after(200, 2000), userId: `user-${randId(r, 8)}` });
        v.identified = true;
      }
      browse(between(r, 0, 2));
    }
    // → cart
    for (;;) {
      if (r() < 0.62) break;
      if (!leave(0.3, () => browse(between(r, 1, 2)))) return;
    }
    const p = pick(r, PRODUCTS);
    page(p.path, p.title);
    event('add_to_cart', { sku: p.sku, price: p.price, qty: between(r, 1, 3) });
    page('/cart', 'Your cart');
    // → checkout, with back-steps to the cart
    for (let round = 0; ; round++) {
      for (;;) {
        if (r() < 0.6) break;
        if (!leave(0.35, () => page('/cart', 'Your cart'))) return;
      }
      page('/checkout', 'Checkout');
      event('begin_checkout', { step: 'shipping' });
      const x = r();
      if (x < 0.52) break; // pay
      if (x < 0.7 && round < 3) {
        page('/cart', 'Your cart'); // back-step: checkout → cart
        if (r() < 0.5) event('add_to_cart', { sku: pick(r, PRODUCTS).sku, qty: 1 });
        continue;
      }
      if (!leave(0.3, () => page('/cart', 'Your cart'))) return; // resumed in the cart: a back-step as well
    }
    buy(false);
    if (r() < 0.3) {
      newSession(between(r, 1 * DAY, 5 * DAY), 'email');
      page('/account/orders', 'Your orders', {
        channel: 'email',
        query: '?utm_source=newsletter&utm_medium=email&utm_campaign=order-shipped',
      });
      if (rich && r() < 0.5) event('order_delivered', { carrier: 'dhl' });
      if (rich && r() < 0.35) review();
    }
    if (rich) afterPurchase();
  };
  steps();
  v.sessions = session;

  // Make times absolute: first visits spread over the past days, the journey ending before `now`.
  const span = t;
  const latestStart = opts.now - span - MIN;
  const earliestStart = Math.max(opts.now - opts.days * DAY, latestStart - opts.days * DAY);
  const start = earliestStart + Math.floor(r() * Math.max(0, latestStart - earliestStart));
  for (const b of pages) for (const e of b) e.ts += start;
  v.batches = pages.filter((b) => b.length > 0);
  return v;
};

// ------------------------------------------------------------------------------------------------------------
// Truth
// ------------------------------------------------------------------------------------------------------------

const nearestRank = (sorted: number[], p: number): number | null =>
  sorted.length === 0 ? null : (sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number);

export const distribution = (values: number[], buckets: typeof TOUCH_BUCKETS): Distribution => {
  const sorted = [...values].sort((a, b) => a - b);
  const out: Distribution = {
    count: sorted.length,
    median: nearestRank(sorted, 0.5),
    p75: nearestRank(sorted, 0.75),
    min: sorted[0] ?? null,
    max: sorted[sorted.length - 1] ?? null,
    buckets: {},
  };
  for (const [label, min, max] of buckets)
    out.buckets[label] = sorted.filter((v) => v >= min && (max === null || v <= max)).length;
  return out;
};

export const truthOf = (visitors: SimVisitor[], opts: SimulateOptions): Truth => {
  const model = modelOf(opts.template);
  const names = model.names;
  const stages = names.map((stage) => ({
    stage,
    reached: 0,
    current: 0,
    entries: 0,
    furthest: 0,
    entryChannels: {} as Record<string, number>,
    feedback: { sum: 0, count: 0 },
    vitals: {} as Record<string, number[]>,
  }));
  const transitions = new Map<string, Truth['transitions'][number]>();
  const firstChannels: Record<string, number> = {};
  const stalls: Record<string, number> = {};
  const touches: number[] = [];
  const sessions: number[] = [];
  const perChannel = new Map<string, { journeys: number; touches: number[]; sessions: number[] }>();
  const backSteps = { journeys: 0, count: 0 };
  let events = 0;
  let requests = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const v of visitors) {
    for (const b of v.batches) {
      requests++;
      events += b.length;
      for (const e of b) {
        first = Math.min(first, e.ts);
        last = Math.max(last, e.ts);
      }
    }
    firstChannels[v.firstChannel] = (firstChannels[v.firstChannel] ?? 0) + 1;
    const ch = perChannel.get(v.firstChannel) ?? { journeys: 0, touches: [], sessions: [] };
    perChannel.set(v.firstChannel, ch);
    ch.journeys++;
    const seen = new Set<number>();
    const seenT = new Set<string>();
    let back = 0;
    for (const e of v.entries) {
      const s = stages[e.stage]!;
      s.entries++;
      if (!seen.has(e.stage)) {
        seen.add(e.stage);
        s.reached++;
        s.entryChannels[e.channel] = (s.entryChannels[e.channel] ?? 0) + 1;
      }
      if (e.from === null) continue;
      const key = `${e.from}>${e.stage}`;
      let tr = transitions.get(key);
      if (!tr)
        transitions.set(
          key,
          (tr = { from: names[e.from]!, to: names[e.stage]!, journeys: 0, count: 0, back: e.stage < e.from }),
        );
      tr.count++;
      if (!seenT.has(key)) {
        seenT.add(key);
        tr.journeys++;
      }
      if (e.stage < e.from) back++;
    }
    if (back) {
      backSteps.journeys++;
      backSteps.count += back;
    }
    stages[v.current]!.current++;
    stages[v.furthest]!.furthest++;
    if (!v.converted) stalls[names[v.current]!] = (stalls[names[v.current]!] ?? 0) + 1;
    else {
      touches.push(v.converted.touches);
      sessions.push(v.converted.sessions);
      ch.touches.push(v.converted.touches);
      ch.sessions.push(v.converted.sessions);
    }
    for (const f of v.feedback) {
      stages[f.stage]!.feedback.sum += f.value;
      stages[f.stage]!.feedback.count++;
    }
    for (const [stage, vitals] of v.vitals) {
      for (const [name, value] of Object.entries(vitals)) (stages[stage]!.vitals[name] ??= []).push(value);
    }
  }
  for (const s of stages) for (const list of Object.values(s.vitals)) list.sort((a, b) => a - b);
  return {
    seed: opts.seed,
    site: opts.site,
    template: opts.template ?? 'shop',
    conversionStage: names[model.conversion]!,
    now: opts.now,
    visitors: visitors.length,
    events,
    requests,
    firstEventAt: first,
    lastEventAt: last,
    journeys: visitors.length,
    converted: touches.length,
    stages,
    transitions: [...transitions.values()].sort(
      (a, b) => names.indexOf(a.from) - names.indexOf(b.from) || names.indexOf(a.to) - names.indexOf(b.to),
    ),
    backSteps,
    firstChannels,
    stalls,
    touchesToConversion: distribution(touches, TOUCH_BUCKETS),
    sessionsToConversion: distribution(sessions, SESSION_BUCKETS),
    byFirstChannel: Object.fromEntries(
      [...perChannel].map(([c, x]) => [
        c,
        {
          journeys: x.journeys,
          converted: x.touches.length,
          touches: distribution(x.touches, TOUCH_BUCKETS),
          sessions: distribution(x.sessions, SESSION_BUCKETS),
        },
      ]),
    ),
    identified: visitors.filter((v) => v.identified).length,
    returning: visitors.filter((v) => v.sessions > 1).length,
    timeToConvert: (() => {
      const byDevice: Record<string, { journeys: number; times: number[] }> = {};
      const all: number[] = [];
      for (const v of visitors) {
        const d = (byDevice[deviceClass(v.userAgent) ?? 'none'] ??= { journeys: 0, times: [] });
        d.journeys++;
        if (!v.converted) continue;
        all.push(v.converted.at - v.firstAt);
        d.times.push(v.converted.at - v.firstAt);
      }
      for (const d of Object.values(byDevice)) d.times.sort((a, b) => a - b);
      return { all: all.sort((a, b) => a - b), byDevice };
    })(),
    ...lifecycleTruth(visitors, opts.template ?? 'shop'),
  };
};

/** Generates the traffic and its truth, without sending anything. Pure: same options, same output. */
export const generate = (opts: SimulateOptions): { visitors: SimVisitor[]; truth: Truth } => {
  const visitors = [...visitorsOf(opts)];
  return { visitors, truth: truthOf(visitors, opts) };
};

/** The same visitors as `generate`, one at a time (for loads too large to hold in memory). */
export function* visitorsOf(opts: SimulateOptions): Generator<SimVisitor> {
  const r = rng(opts.seed);
  for (let i = 0; i < opts.visitors; i++) yield walk(r, i, opts);
}

// ------------------------------------------------------------------------------------------------------------
// Sending
// ------------------------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface SendOptions {
  url: string;
  site: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * How requests leave this machine. Against a collector on this machine (localhost / 127.0.0.1) each simulated visitor
 * gets its own loopback source address (127.0.0.2 … 127.0.0.254, Linux routes all of 127/8 to loopback), so the
 * collector's per-address rate limit sees many visitors, as it would in production, not one flooding address.
 * Elsewhere (or when that fails) requests go through fetch and are simply retried on 429.
 */
interface Transport {
  post(body: string, userAgent: string, slot: number): Promise<{ status: number; retryAfter: number; text: string }>;
  close(): void;
}

const fetchTransport = (url: string): Transport => ({
  async post(body, userAgent) {
    const res = await fetch(`${url}/collect`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': userAgent },
      body,
    });
    return { status: res.status, retryAfter: Number(res.headers.get('Retry-After')) || 0, text: await res.text() };
  },
  close() {},
});

const loopbackTransport = (url: URL): Transport => {
  const agents = new Map<number, Agent>();
  const agent = (slot: number) => {
    let a = agents.get(slot);
    if (!a)
      agents.set(
        slot,
        (a = new Agent({ keepAlive: true, maxSockets: 4, localAddress: `127.0.0.${2 + (slot % 253)}` })),
      );
    return a;
  };
  return {
    post: (body, userAgent, slot) =>
      new Promise((ok, fail) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: Number(url.port || 80),
            path: '/collect',
            method: 'POST',
            agent: agent(slot),
            headers: {
              Host: url.host,
              'Content-Type': 'text/plain',
              'User-Agent': userAgent,
              'Content-Length': Buffer.byteLength(body),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (d: Buffer) => chunks.push(d));
            res.on('end', () =>
              ok({
                status: res.statusCode ?? 0,
                retryAfter: Number(res.headers['retry-after']) || 0,
                text: Buffer.concat(chunks).toString(),
              }),
            );
            res.on('error', fail);
          },
        );
        req.on('error', fail);
        req.end(body);
      }),
    close: () => {
      for (const a of agents.values()) a.destroy();
    },
  };
};

/** The loopback transport when the collector is on this machine and source addresses can be chosen; else fetch. */
export const transportFor = async (url: string): Promise<Transport> => {
  const u = new URL(url);
  if (u.protocol !== 'http:' || !['localhost', '127.0.0.1'].includes(u.hostname)) return fetchTransport(url);
  const t = loopbackTransport(u);
  try {
    const probe = await t.post('{}', 'cjm-simulate probe', 0);
    if (probe.status > 0) return t;
  } catch {
    /* fall back */
  }
  t.close();
  return fetchTransport(url);
};

/** Posts one batch, retrying 429 (after Retry-After) and 5xx/network errors with backoff. Throws on other 4xx. */
const post = async (t: Transport, url: string, batch: WireBatch, userAgent: string, slot: number): Promise<void> => {
  const body = JSON.stringify(batch);
  for (let attempt = 0; ; attempt++) {
    let res: Awaited<ReturnType<Transport['post']>> | undefined;
    try {
      res = await t.post(body, userAgent, slot);
    } catch (e) {
      if (attempt >= 8)
        throw new Error(
          `[cjm simulate] cannot reach ${url}/collect (${(e as Error).message}); is the collector running (npm start)?`,
          { cause: e },
        );
    }
    if (res) {
      if (res.status === 202) return;
      if (res.status === 429 || res.status >= 500) {
        if (attempt >= 60) throw new Error(`[cjm simulate] ${url}/collect keeps answering ${res.status}: ${res.text}`);
        await sleep(res.retryAfter > 0 ? res.retryAfter * 1000 : 100 * 2 ** Math.min(attempt, 5));
        continue;
      }
      if (res.status === 404 && /site/.test(res.text)) {
        throw new Error(
          `[cjm simulate] the collector at ${url} has no site "${batch.site}": use --site demo, or create it with POST /api/sites (docs/api.md)`,
        );
      }
      throw new Error(`[cjm simulate] ${url}/collect answered ${res.status}: ${res.text}`);
    }
    await sleep(100 * 2 ** Math.min(attempt, 5));
  }
};

/** Sends every visitor's batches (each visitor in order, `concurrency` visitors at a time). */
export const send = async (visitors: SimVisitor[], o: SendOptions): Promise<void> => {
  const t = await transportFor(o.url);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const v = visitors[i];
      if (!v) return;
      for (const events of v.batches)
        await post(t, o.url, { site: o.site, visitor: v.id, sent: Date.now(), events }, v.userAgent, i);
      done++;
      o.onProgress?.(done, visitors.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 6) }, worker));
  } finally {
    t.close();
  }
};

/**
 * Gives the site the template's stage model through the admin API (`PUT /api/sites/:site` with its stages and
 * conversion), so the journeys fold under the model the truth is computed under.
 */
export const applyTemplateTo = async (url: string, site: string, template: string, token: string): Promise<void> => {
  const res = await fetch(`${url}/api/sites/${encodeURIComponent(site)}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(templatePatch(template)),
  });
  if (!res.ok) {
    throw new Error(
      `[cjm simulate] could not set the stage model of site "${site}" to the template "${template}": ${res.status} ${await res.text()}`,
    );
  }
};

/** Generates, sends, and returns the truth; with `template` and `adminToken`, first sets the site's model. */
export const simulate = async (
  opts: SimulateOptions & Omit<SendOptions, 'site'> & { adminToken?: string },
): Promise<Truth> => {
  const { visitors, truth } = generate(opts);
  if (opts.template !== undefined && opts.adminToken)
    await applyTemplateTo(opts.url, opts.site, opts.template, opts.adminToken);
  await send(visitors, { ...opts, site: opts.site });
  return truth;
};

// ------------------------------------------------------------------------------------------------------------
// CLI
// ------------------------------------------------------------------------------------------------------------

const USAGE = `usage: npm run simulate -- [--visitors 5000] [--seed 42] [--url http://localhost:8787] [--site demo]
                            [--truth ./data/simulate-truth.json] [--days 28] [--now <ms>] [--concurrency 6]
                            [--template <${STAGE_TEMPLATES.map((t) => t.id).join('|')}> [--token <admin token>]]

  --template  traffic with a life after the purchase, and the truth under that stage template; with --token (or
              CJM_ADMIN_TOKEN) the site's stage model is set to the template first (PUT /api/sites/:site)`;

export const parseArgs = (argv: string[]) => {
  const o = {
    visitors: 5000,
    seed: 42,
    url: 'http://localhost:8787',
    site: 'demo',
    truth: './data/simulate-truth.json',
    days: 28,
    now: Math.floor(Date.now() / HOUR) * HOUR,
    concurrency: 6,
    template: undefined as string | undefined,
    adminToken: process.env.CJM_ADMIN_TOKEN || undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`[cjm simulate] ${flag} needs a value\n${USAGE}`);
      return v;
    };
    const int = (min: number, max: number) => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new Error(`[cjm simulate] ${flag} must be an integer from ${min} to ${max}, not "${v}"`);
      return n;
    };
    switch (flag) {
      case '--visitors':
        o.visitors = int(1, 1_000_000);
        break;
      case '--seed':
        o.seed = int(0, 2 ** 32 - 1);
        break;
      case '--url':
        o.url = value().replace(/\/+$/, '');
        break;
      case '--site':
        o.site = value();
        break;
      case '--truth':
        o.truth = value();
        break;
      case '--days':
        o.days = int(1, 30);
        break;
      case '--now':
        o.now = int(0, Number.MAX_SAFE_INTEGER);
        break;
      case '--concurrency':
        o.concurrency = int(1, 64);
        break;
      case '--template':
        o.template = value();
        modelOf(o.template); // an unknown id fails here, naming the known ones
        break;
      case '--token':
        o.adminToken = value();
        break;
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`[cjm simulate] unknown option ${arg}\n${USAGE}`);
    }
  }
  return o;
};

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const o = parseArgs(process.argv.slice(2));
    const started = Date.now();
    console.log(
      `[cjm simulate] ${o.visitors} visitors (seed ${o.seed}) → ${o.url}/collect, site "${o.site}"${o.template ? `, template "${o.template}"` : ''}`,
    );
    if (o.template && !o.adminToken)
      console.log(
        `  no --token: the truth holds only if site "${o.site}" already uses the stage template "${o.template}"`,
      );
    let shown = 0;
    const truth = await simulate({
      ...o,
      onProgress: (done, total) => {
        const pct = Math.floor((100 * done) / total);
        if (pct >= shown + 10 || done === total) {
          shown = pct;
          process.stdout.write(`  ${done}/${total} visitors sent\n`);
        }
      },
    });
    mkdirSync(dirname(resolve(o.truth)), { recursive: true });
    writeFileSync(o.truth, `${JSON.stringify(truth, null, 2)}\n`);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`[cjm simulate] sent ${truth.events} events in ${truth.requests} requests in ${secs} s; ${truth.converted} of ${truth.journeys} journeys converted.
  ground truth: ${o.truth}
  dashboard:    ${o.url}/sites/${encodeURIComponent(o.site)}/map`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
