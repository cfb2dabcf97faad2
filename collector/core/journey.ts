/**
 * The journey fold: a pure function from a visitor's (or a user's) events, in `(ts, id)` order, to their journey.
 *
 * Order independence comes from one rule: events are always folded in `(ts, id)` order. The ingest path folds new
 * events onto the stored journey when they all come after the last folded event (the common case), and otherwise
 * refolds the journey from its stored events. Both give the same journey, so the result does not depend on the
 * order or the number of times events arrive.
 */
import { channelFromName, classifyChannel, type Channel } from './channels';
import type { EventFields } from './event-fields';
import { pathOf, type StageModel } from './stages';

/**
 * An event as stored (after validation and timestamp correction): every field of the field table (event-fields.ts)
 * but `receivedAt`, which the store keeps beside it. `id`, `visitor`, `type`, `ts` always; the others when set.
 */
export type StoredEvent = Omit<EventFields, 'receivedAt'>;

export interface StageEntry {
  stage: string;
  /** Previous stage, null for the first entry. */
  from: string | null;
  at: number;
  /** 1-based session number in which the stage was entered. */
  session: number;
  /** The event that caused the entry. */
  event: string;
}

export interface StageStats {
  firstAt: number;
  entries: number;
  /** Milliseconds spent in the stage over all completed stays (the current stay is `lastSeen − last entry`). */
  timeMs: number;
  /** Touches (page views and events), the entering one included, up to the first entry. */
  touches: number;
  /** Session number of the first entry (1 = reached in the first session). */
  sessions: number;
  /** First entry into the next stage in the model, minus `firstAt`; null until the next stage is reached. */
  toNextMs: number | null;
  feedback: { sum: number; count: number } | null;
  /** Latest value of each web vital measured while in this stage. */
  vitals: Record<string, number>;
  /** Page views while in this stage, by path (at most MAX_ITEMS distinct, the rest under `(other)`). */
  pages: Record<string, number>;
  /** Events while in this stage, by name (at most MAX_ITEMS distinct, the rest under `(other)`). */
  events: Record<string, number>;
}

/** Distinct paths / event names kept per journey and stage; more are counted under OTHER. */
export const MAX_ITEMS = 50;
export const OTHER = '(other)';

export interface SessionInfo {
  start: number;
  end: number;
  /** Touches in the session. */
  touches: number;
  channel: Channel;
  source: string | null;
  campaign: string | null;
  referrerHost: string | null;
  /** Device class of the session's first event that had one. */
  device: string | null;
}

/**
 * Version of the Journey shape; a stored journey of another version is refolded from its events when it receives
 * one. Bumping it needs the store to subtract the rollup contributions of stored journeys of older versions (today it
 * subtracts only those of this version, see collector/stores/sql/rollups.ts `rollupStatements`); an additive change
 * that comes with a FOLD_VERSION bump does not need it (see `counts`).
 */
export const JOURNEY_VERSION = 3;

/**
 * Version of the fold's own rules, those that are code rather than site configuration: the channel model
 * (core/channels.ts) and the semantics of stage rules (core/stages.ts). A journey folded under an older version is
 * stale like one folded under an older stage model: `maintenance` refolds it in bounded chunks and ingest refolds it
 * when it receives an event (core/ingest.ts `journeyRevision`). Bump it whenever a change alters what a set of events
 * folds to.
 *
 * 1. maps, forum and retargeting channels; stage rules `nth`, `where`, `returnAfter`, `afterStage`; when rules of
 *    several stages match one event, the furthest stage in the model wins (it was the first); `counts`.
 * 2. `purchases` (the lifecycle numbers and the cohort retention rollups, migration 0032).
 */
export const FOLD_VERSION = 2;

export interface Journey {
  v: typeof JOURNEY_VERSION;
  /** `(ts, id)` of the last folded event: events after it can be folded incrementally. */
  last: [number, string] | null;
  visitors: string[];
  userId: string | null;
  firstSeen: number;
  lastSeen: number;
  /** Every event folded (all types). */
  events: number;
  /** Page views and events: the contacts counted as touches. */
  touches: number;
  pageviews: number;
  sessions: SessionInfo[];
  current: string | null;
  furthest: string | null;
  entries: StageEntry[];
  stages: Record<string, StageStats>;
  converted: { at: number; touches: number; sessions: number } | null;
  firstChannel: Channel | null;
  /** Channel of the latest session that was not direct (last non-direct touch), else direct. */
  lastChannel: Channel | null;
  /**
   * Qualifying occurrences of each stage rule with `nth` ≥ 2 (stage name → count), in fold order. Journeys stored
   * before FOLD_VERSION 1 lack it; they are never extended in place (their revision is stale), only refolded.
   */
  counts: Record<string, number>;
  /**
   * Purchases (`StageModel.isPurchase`): how many, and the times of the first two. Journeys stored before
   * FOLD_VERSION 2 lack it (they are only refolded, as for `counts`); the rollups of migration 0032 count a journey
   * only once it has it, so a journey of an older fold adds to them nothing it could later take away.
   */
  purchases?: Purchases;
  /**
   * The site's time zone the journey was folded under (absent: UTC, as for every journey folded before zones): the
   * rollups count it on the local day of its first event (stores/sql/rollups.ts), so a write subtracts exactly what
   * the stored state added even after the site's zone changed (the change makes the journey stale; its refold moves it).
   */
  tz?: string;
}

export interface Purchases {
  count: number;
  /** Times of the first two purchases. */
  at: number[];
}

export interface FoldOptions {
  model: StageModel;
  sessionTimeoutMs: number;
  /** Hosts of the site, whose referrers are internal. */
  siteHosts?: readonly string[];
  /** The site's time zone (absent or `UTC`: the journey's state carries none). */
  timezone?: string;
}

export const emptyJourney = (): Journey => ({
  v: JOURNEY_VERSION,
  last: null,
  visitors: [],
  userId: null,
  firstSeen: 0,
  lastSeen: 0,
  events: 0,
  touches: 0,
  pageviews: 0,
  sessions: [],
  current: null,
  furthest: null,
  entries: [],
  stages: {},
  converted: null,
  firstChannel: null,
  lastChannel: null,
  counts: {},
  purchases: { count: 0, at: [] },
});

const purchase = (j: Journey, at: number) => {
  const p = (j.purchases ??= { count: 0, at: [] });
  p.count++;
  if (p.at.length < 2) p.at.push(at);
};

/** Total order of events: by timestamp, then id. */
export const compareEvents = (a: { ts: number; id: string }, b: { ts: number; id: string }): number =>
  a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** True when the event sorts after the journey's last folded event, so it can be folded incrementally. */
export const comesAfter = (j: Journey, e: { ts: number; id: string }): boolean =>
  j.last === null || compareEvents(e, { ts: j.last[0], id: j.last[1] }) > 0;

const isTouch = (type: string) => type === 'page' || type === 'event';

const sessionChannel = (
  e: StoredEvent,
  opts: FoldOptions,
): Omit<SessionInfo, 'start' | 'end' | 'touches' | 'device'> => {
  const given = channelFromName(e.channel ?? undefined);
  if (given) return { channel: given, source: null, campaign: null, referrerHost: null };
  const t = classifyChannel({ url: e.url ?? undefined, referrer: e.referrer ?? undefined, siteHosts: opts.siteHosts });
  return {
    channel: t.channel,
    source: t.source ?? null,
    campaign: t.campaign ?? null,
    referrerHost: t.referrerHost ?? null,
  };
};

const bump = (items: Record<string, number>, key: string) => {
  const k = key in items || Object.keys(items).length < MAX_ITEMS ? key : OTHER;
  items[k] = (items[k] ?? 0) + 1;
};

const enter = (j: Journey, stage: string, e: StoredEvent, opts: FoldOptions) => {
  const { model } = opts;
  const prev = j.entries[j.entries.length - 1];
  if (prev) {
    const ps = j.stages[prev.stage];
    if (ps) ps.timeMs += e.ts - prev.at;
  }
  const session = j.sessions.length;
  j.entries.push({ stage, from: j.current, at: e.ts, session, event: e.id });
  j.current = stage;
  const idx = model.index(stage);
  let st = j.stages[stage];
  if (!st) {
    st = {
      firstAt: e.ts,
      entries: 0,
      timeMs: 0,
      touches: j.touches,
      sessions: session,
      toNextMs: null,
      feedback: null,
      vitals: {},
      pages: {},
      events: {},
    };
    j.stages[stage] = st;
    const before = model.names[idx - 1];
    const bs = before === undefined ? undefined : j.stages[before];
    if (bs && bs.toNextMs === null) bs.toNextMs = e.ts - bs.firstAt;
  }
  st.entries++;
  if (model.isPurchase === null && idx === model.conversionIndex) purchase(j, e.ts);
  if (idx > model.index(j.furthest ?? undefined)) j.furthest = stage;
  if (!j.converted && model.conversionIndex >= 0 && idx >= model.conversionIndex) {
    j.converted = { at: e.ts, touches: j.touches, sessions: session };
  }
};

/**
 * Folds one event onto a journey (mutating it) and returns it. The caller guarantees `(ts, id)` order.
 *
 * @example
 * const j = events.sort(compareEvents).reduce((j, e) => foldEvent(j, e, opts), emptyJourney())
 */
export const foldEvent = (j: Journey, e: StoredEvent, opts: FoldOptions): Journey => {
  if (opts.timezone !== undefined && opts.timezone !== 'UTC' && j.tz !== opts.timezone) j.tz = opts.timezone;
  if (!j.visitors.includes(e.visitor)) j.visitors.push(e.visitor);
  if (e.synthetic) {
    // What the collector adds itself (a stall rule firing, the link of a server-side message) stays in the
    // timeline but is no contact with the customer: no touch, no session, no stage, no activity time (so a
    // win-back "idle for 60 days" rule is not reset by its own firing).
    if (j.events === 0) j.firstSeen = j.lastSeen = e.ts;
    j.events++;
    j.last = [e.ts, e.id];
    if (e.type === 'identify' && e.userId && j.userId === null) j.userId = e.userId;
    return j;
  }
  if (j.events === 0) j.firstSeen = e.ts;
  const prevSeen = j.lastSeen;
  j.lastSeen = e.ts;
  j.events++;
  j.last = [e.ts, e.id];

  // Sessions: a gap of inactivity longer than the timeout starts a new one.
  let session = j.sessions[j.sessions.length - 1];
  if (!session || e.ts - prevSeen > opts.sessionTimeoutMs) {
    session = { start: e.ts, end: e.ts, touches: 0, ...sessionChannel(e, opts), device: e.device ?? null };
    j.sessions.push(session);
    if (j.firstChannel === null) j.firstChannel = session.channel;
    if (session.channel !== 'direct' || j.lastChannel === null) j.lastChannel = session.channel;
  }
  session.end = e.ts;
  if (session.device === null && e.device) session.device = e.device;

  const touch = isTouch(e.type);
  if (touch) {
    j.touches++;
    session.touches++;
    if (e.type === 'page') j.pageviews++;
  }
  if (e.type === 'identify' && e.userId && j.userId === null) j.userId = e.userId;

  const previous = j.sessions[j.sessions.length - 2];
  const target =
    opts.model.stageOf(e, {
      stages: j.stages,
      counts: opts.model.counting ? (j.counts ??= {}) : j.counts,
      returnGap: previous ? session.start - previous.end : null,
      firstTouch: touch && session.touches === 1,
    }) ?? (j.current === null && touch ? opts.model.names[0] : undefined);
  if (target !== undefined && target !== j.current) enter(j, target, e, opts);
  if (touch && opts.model.isPurchase?.(e)) purchase(j, e.ts);

  const here = j.current === null ? undefined : j.stages[j.current];
  if (here && e.type === 'page') bump(here.pages, pathOf(e.url ?? undefined) ?? '(unknown)');
  else if (here && e.type === 'event' && e.name) bump(here.events, e.name);

  if (e.type === 'feedback' || e.type === 'vital') {
    const stage = e.stage && opts.model.index(e.stage) >= 0 ? e.stage : j.current;
    const st = stage ? j.stages[stage] : undefined;
    if (st && typeof e.value === 'number') {
      if (e.type === 'feedback') {
        st.feedback ??= { sum: 0, count: 0 };
        st.feedback.sum += e.value;
        st.feedback.count++;
      } else if (e.name) {
        st.vitals[e.name] = e.value;
      }
    }
  }
  return j;
};

/** Folds events (any order; sorted here) onto a journey, from scratch when `from` is omitted. */
export const foldEvents = (
  events: readonly StoredEvent[],
  opts: FoldOptions,
  from: Journey = emptyJourney(),
): Journey => [...events].sort(compareEvents).reduce((j, e) => foldEvent(j, e, opts), from);

/** Time spent in each stage so far, the current stay counted up to the last event. */
export const timeInStages = (j: Journey): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [name, st] of Object.entries(j.stages)) out[name] = st.timeMs;
  const lastEntry = j.entries[j.entries.length - 1];
  if (lastEntry && out[lastEntry.stage] !== undefined) out[lastEntry.stage]! += j.lastSeen - lastEntry.at;
  return out;
};

/** Stage-to-stage transitions (including back-steps) with their counts. */
export const transitions = (j: Journey): Array<{ from: string; to: string; count: number }> => {
  const counts = new Map<string, { from: string; to: string; count: number }>();
  for (const e of j.entries) {
    if (e.from === null) continue;
    const k = `${e.from}\u0000${e.stage}`;
    const t = counts.get(k);
    if (t) t.count++;
    else counts.set(k, { from: e.from, to: e.stage, count: 1 });
  }
  return [...counts.values()];
};

/** The journey as the read API shows it: stages in model order, averages computed, internals left out. */
export const journeyView = (key: string, j: Journey, model: StageModel) => {
  const time = timeInStages(j);
  return {
    key,
    visitors: j.visitors,
    userId: j.userId,
    currentStage: j.current,
    furthestStage: j.furthest,
    converted: j.converted,
    firstSeen: j.firstSeen,
    lastSeen: j.lastSeen,
    events: j.events,
    touches: j.touches,
    pageviews: j.pageviews,
    firstChannel: j.firstChannel,
    lastChannel: j.lastChannel,
    sessions: j.sessions,
    stages: model.names.map((name) => {
      const st = j.stages[name];
      return st
        ? {
            name,
            reached: true,
            firstAt: st.firstAt,
            entries: st.entries,
            timeMs: time[name] ?? 0,
            touches: st.touches,
            sessions: st.sessions,
            toNextMs: st.toNextMs,
            feedback: st.feedback ? st.feedback.sum / st.feedback.count : null,
            feedbackCount: st.feedback?.count ?? 0,
            vitals: st.vitals,
          }
        : { name, reached: false };
    }),
    entries: j.entries,
    transitions: transitions(j),
  };
};

/** The journey as the read API shows it (`journey` in `GET /api/sites/:site/visitors/:visitor`). */
export type JourneyView = ReturnType<typeof journeyView>;
