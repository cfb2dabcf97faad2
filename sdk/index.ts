/**
 * The public API, shared by the script tag (tag.ts) and the ESM module (`import { createTracker } from 'cjm'`).
 * Importing this module has no side effects and never touches `window`; `createTracker` on the server
 * returns a tracker that does nothing.
 */
import { markup } from './markup';
import { tracker } from './tracker';

/** Event properties: flat scalars (the collector refuses nested objects). */
export type Props = Record<string, string | number | boolean | null>;

export interface Options {
  /** Site id, as configured on the collector. */
  site: string;
  /** Collect URL. Default `/collect` (the tag defaults to `<origin of its src>/collect`). */
  endpoint?: string;
  /** Automatic page views: the first one, then pushState/replaceState/popstate. Default true. */
  auto?: boolean;
  /** Hash routing: hash changes are page views too. Default false. */
  hash?: boolean;
  /** 'none' keeps nothing on the device: no localStorage, no visitor id sent. Default 'local'. */
  storage?: 'local' | 'none';
  /** Honour Global Privacy Control and Do Not Track (send nothing). Default true. */
  respectDnt?: boolean;
  /** Report web vitals (LCP, INP, CLS, FCP, TTFB) from a lazily loaded chunk. Default false. */
  vitals?: boolean;
  /**
   * Read the page's markup (markup.ts, bundled): clicks on `data-cjm-event` elements become events with their
   * `data-cjm-prop-*` as props, and `data-cjm-stage` enters a stage when the stage it names changes. Default false.
   */
  markup?: boolean;
  /** Milliseconds between an event and its send (batching). Default 1000. */
  flushInterval?: number;
}

export interface Tracker {
  /** A named event (`type: 'event'`); `value` is e.g. an order value. */
  track(name: string, props?: Props, value?: number): void;
  /** The visitor entered a stage; it stays the current stage for vitals and feedback. */
  stage(stage: string): void;
  /** A page view of the current URL. */
  page(): void;
  /** The visitor is a known user; `traits` are sent as props. */
  identify(userId: string, traits?: Props): void;
  /** A satisfaction score: an integer 1–5 (the collector refuses others), with an optional comment. */
  feedback(score: number, comment?: string): void;
  /** Stop tracking on this device (persisted); forgets the visitor id and unsent events. */
  optOut(): void;
  /** Track on this device even with GPC/DNT (persisted). */
  optIn(): void;
  /** Sends unsent events now; resolves when the attempt is over (never rejects). */
  flush(): Promise<void>;
  /** The persisted visitor id; undefined without storage or consent. */
  visitorId(): string | undefined;
  /** A web vital (used by the vitals chunk). */
  vital(name: string, value: number): void;
}

const noop = () => {};

/**
 * Starts tracking.
 *
 * @example
 * const cjm = createTracker({ site: 'shop', endpoint: 'https://cjm.example.com/collect' });
 * cjm.stage('checkout');
 * cjm.track('cart_abandoned', { sku: 'x' });
 */
export const createTracker = (o: Options): Tracker => {
  if (typeof window == 'undefined')
    return {
      track: noop,
      stage: noop,
      page: noop,
      identify: noop,
      feedback: noop,
      optOut: noop,
      optIn: noop,
      flush: () => Promise.resolve(),
      visitorId: () => undefined,
      vital: noop,
    };
  const t = tracker(o.site, o.endpoint || '/collect', {
    auto: o.auto === false ? 'false' : undefined,
    hash: o.hash ? '' : undefined,
    storage: o.storage,
    respectDnt: o.respectDnt === false ? 'false' : undefined,
    flushInterval: o.flushInterval?.toString(),
  });
  if (o.markup) markup(t);
  if (o.vitals) import('./vitals').then((v) => v.vitals(t.vital), noop);
  return t;
};

/** Alias of `createTracker`. */
export const init = createTracker;
