/**
 * The public API, shared by the script tag (tag.ts) and the ESM module (`import { createTracker } from 'cjm'`).
 * Importing this module has no side effects and never touches `window`; `createTracker` on the server
 * returns a tracker that does nothing.
 */
import type { EventType, WireBatch, WireEvent } from '../collector/core/protocol';
import { TAG } from './build';
import { CONSENT, VISITOR, consent, store, uid, visitor } from './context';
import { navigation } from './navigation';
import { outbox } from './outbox';
import { on, safe } from './safe';
import { post } from './transport';

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

/** An option that defaults to true: false, or the tag's attribute string "false", turns it off. */
const yes = (v: unknown) => v + '' != 'false';

/**
 * Starts tracking.
 *
 * @example
 * const cjm = createTracker({ site: 'shop', endpoint: 'https://cjm.example.com/collect' });
 * cjm.stage('checkout');
 * cjm.track('cart_abandoned', { sku: 'x' });
 */
export const createTracker = (o: Options): Tracker => {
  if (!TAG && typeof window == 'undefined')
    return {
      track: noop,
      stage: noop,
      page: noop,
      identify: noop,
      feedback: noop,
      optOut: noop,
      optIn: noop,
      flush: () => Promise.resolve(),
      visitorId: noop as () => undefined,
      vital: noop,
    };

  const d = document,
    local = o.storage != 'none',
    st = store(local),
    ok = () => consent(st, yes(o.respectDnt)),
    // No visitor id without storage (or consent): the collector then derives one.
    visitorId = () => (local && ok() ? visitor(st) : undefined),
    [put, soon, send] = outbox(
      st,
      'cjm.o.' + o.site,
      (events, dropped, beacon) => {
        const b: WireBatch = {
          site: o.site,
          visitor: visitorId(),
          sent: Date.now(),
          dropped: dropped || undefined,
          events,
        };
        return post(TAG ? o.endpoint! : o.endpoint || '/collect', JSON.stringify(b), beacon);
      },
      ok,
      o.flushInterval,
    );
  let current: string | undefined,
    // The external referrer goes with the first page view only (SPA views keep document.referrer).
    referrer = (d.referrer.split('/')[2] != location.host && d.referrer) || undefined;

  /**
   * Creates an event (id and ts fixed here for good) and queues it; sent at once if the page is hidden.
   * Every public method ends here, and nothing before can throw: no exception escapes them.
   */
  const push = safe((type: EventType, e: Partial<WireEvent>) => {
    if (ok()) {
      put({ id: uid(), type, ts: Date.now(), ...e });
      d.hidden ? send(1) : soon();
    }
  });

  /** `data-cjm-stage="…"` on an element of the page: a stage event, unless it is the current stage already. */
  const mark = () => {
    const s = d.querySelector<HTMLElement>('[data-cjm-stage]')?.dataset.cjmStage;
    if (s && s != current) t.stage(s);
  };

  const t: Tracker = {
    track: (name, props, value) => push('event', { name, props, value }),
    stage: (stage) => {
      current = stage;
      push('stage', { stage });
    },
    page: () => {
      // The full URL: the collector reads utm_* and click ids (gclid, fbclid, msclkid, yclid) from it.
      // Cut to the collector's limits (2,000 and 500 characters) rather than have the page view refused.
      push('page', { url: location.href.slice(0, 2e3), title: d.title.slice(0, 500), referrer });
      referrer = undefined;
      setTimeout(mark);
    },
    identify: (userId, props) => push('identify', { userId, props }),
    // A score the collector refuses (not an integer 1–5) is dropped alone and counted (see outbox).
    feedback: (value, comment) => push('feedback', { value, props: { comment: comment! }, stage: current }),
    optOut: () => {
      st(CONSENT, '0');
      st(VISITOR, '');
      // Every outbox of the origin (consent is per origin): event keys and dropped counts.
      st.k('cjm.o.').map((k) => st(k, ''));
    },
    optIn: () => st(CONSENT, '1'),
    flush: send,
    visitorId,
    vital: (name, value) => push('vital', { name, value, stage: current }),
  };
  // Going away: send everything by sendBeacon. Never `unload`/`beforeunload`.
  on(d, 'visibilitychange', () => d.hidden && send(1));
  on(window, 'pagehide', () => send(1));
  on(window, 'online', () => send());

  // Declarative events: one delegated listener; never preventDefault, never delays navigation.
  on(
    d,
    'click',
    (e) => {
      // `?.`: the target may be the document itself (a synthetic click), which has no closest().
      const el = (e.target as Element).closest?.<HTMLElement>('[data-cjm-event]');
      if (el) {
        const props: Props = {};
        for (const a of el.attributes) if (!a.name.indexOf('data-cjm-prop-')) props[a.name.slice(14)] = a.value;
        t.track(el.dataset.cjmEvent!, props);
      }
    },
    true,
  );

  if (yes(o.auto)) {
    t.page();
    navigation(o.hash, t.page);
    // A first page view made while the document is still loading finds its marker once it is parsed.
    on(d, 'DOMContentLoaded', mark);
  }
  // What earlier pages left unsent goes out soon.
  soon();
  if (!TAG && o.vitals) import('./vitals').then((v) => v.vitals(t.vital), noop);
  return t;
};

/** Alias of `createTracker`. */
export const init = createTracker;
