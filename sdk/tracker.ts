import type { EventType, WireBatch, WireEvent } from '../collector/core/protocol';
import { LIMITS } from './build';
import { CONSENT, VISITOR, consent, store, uid, visitor } from './context';
import type { Tracker } from './index';
import { navigation } from './navigation';
import { outbox } from './outbox';
import { on, safe } from './safe';
import { post } from './transport';

/**
 * A tracker's settings as the script tag's data-* attributes carry them: tag.ts passes its `dataset`, createTracker
 * (index.ts) maps its Options onto them. "false" turns `auto` and `respectDnt` off; `hash` works by presence.
 */
export interface Attributes {
  /** "false": no automatic page views (the first one, then single-page-app navigations). */
  auto?: string;
  /** Present: hash routing (hash changes are page views too). */
  hash?: string;
  /** "none": no localStorage (memory only, no visitor id sent). */
  storage?: string;
  /** "false": send even with Global Privacy Control or Do Not Track on. */
  respectDnt?: string;
  /** Milliseconds between an event and its send (default 1000). */
  flushInterval?: string;
}

/** What a method sets on an event; id, type and ts are set when it is made. */
type Fields = Omit<WireEvent, 'id' | 'type' | 'ts'>;

/**
 * A tracker on this page that sends to `endpoint` for `site`: the core shared by the script tag and `createTracker`. It
 * sends the first page view (unless `auto` is "false"), listens for single-page-app navigations and the page going
 * away, and sends what earlier pages left unsent. What the page's markup says is markup.ts's, opt-in.
 */
export const tracker = (site: string, endpoint: string | URL, attributes: Attributes): Tracker => {
  const d = document;
  const local = attributes.storage != 'none';
  const st = store(local);
  const ok = () => consent(st, attributes.respectDnt != 'false');
  // No visitor id without storage (or consent): the collector then derives one.
  const visitorId = () => (local && ok() ? visitor(st) : undefined);
  const box = outbox(
    st,
    'cjm.o.' + site,
    (events, dropped, beacon) => {
      const batch: WireBatch = {
        site,
        visitor: visitorId(),
        sent: Date.now(),
        dropped: dropped || undefined,
        events,
      };
      return post(endpoint, JSON.stringify(batch), beacon);
    },
    ok,
    Number(attributes.flushInterval ?? 1e3),
  );
  /** The stage the visitor is in (the last one entered), sent with vitals and feedback. */
  let current: string | undefined;
  // The referrer goes with the first page view only (SPA views keep document.referrer), as it is: the collector tells
  // an internal one (the page's own host) from an external one. Cut to the collector's limit, like the URL.
  let referrer = d.referrer.slice(0, LIMITS.urlLength) || undefined;

  /**
   * Makes an event (id and ts fixed here for good) and queues it; sent at once if the page is hidden.
   * Every public method ends here, and nothing before can throw: no exception escapes them.
   */
  const push = safe((type: EventType, fields: Fields) => {
    if (ok()) {
      box._put({ id: uid(), type, ts: Date.now(), ...fields });
      if (d.hidden) void box._flush(true);
      else box._soon();
    }
  });

  const t: Tracker = {
    track: (name, props, value) => push('event', { name, props, value }),
    stage: (stage) => {
      current = stage;
      push('stage', { stage });
    },
    page: () => {
      // The full URL: the collector reads utm_* and click ids (gclid, fbclid, msclkid, yclid) from it.
      // Cut to the collector's limits rather than have the page view refused.
      push('page', {
        url: location.href.slice(0, LIMITS.urlLength),
        title: d.title.slice(0, LIMITS.titleLength),
        referrer,
      });
      referrer = undefined;
    },
    identify: (userId, props) => push('identify', { userId, props }),
    // A score the collector refuses (not an integer 1–5) is dropped alone and counted (see outbox). Without a
    // comment, props is {}.
    feedback: (value, comment) =>
      push('feedback', { value, props: comment === undefined ? {} : { comment }, stage: current }),
    optOut: () => {
      st._set(CONSENT, '0');
      st._set(VISITOR, '');
      // Every outbox of the origin (consent is per origin): event keys and dropped counts.
      for (const k of st._keys('cjm.o.')) st._set(k, '');
    },
    optIn: () => st._set(CONSENT, '1'),
    flush: () => box._flush(),
    visitorId,
    vital: (name, value) => push('vital', { name, value, stage: current }),
  };

  // Going away: send everything by sendBeacon. Never `unload`/`beforeunload`.
  on(d, 'visibilitychange', () => {
    if (d.hidden) void box._flush(true);
  });
  on(window, 'pagehide', () => box._flush(true));
  on(window, 'online', () => box._flush());

  if (attributes.auto != 'false') {
    t.page();
    navigation(attributes.hash != null, t.page);
  }
  // What earlier pages left unsent goes out soon.
  box._soon();
  return t;
};
