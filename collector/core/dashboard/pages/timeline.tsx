/**
 * One visitor's timeline: a vertical list grouped by session (with the session's channel), stage changes as bands,
 * every page view and event with its properties, vitals and feedback; and the delete button.
 * Every string here came from a browser: hono/jsx escapes all of it, URLs are linked only when http(s) (`urlText`).
 */
import type { VisitorDetail } from '../../reports';
import type { TimelineEvent } from '../../store';
import { VitalBadge } from '../charts';
import { channelLabel, dateTime, duration, num, time, urlText, type Html } from '../format';
import { sitePath } from '../layout';

type Journey = VisitorDetail['journey'];
type StageEntry = Journey['entries'][number];

const Props = ({ e }: { e: TimelineEvent }) => {
  const entries = Object.entries(e.props ?? {});
  if (!entries.length) return null;
  return (
    <div class="props">
      {entries.map(([k, v]) => (
        <span>
          {k}={v === null ? 'null' : String(v)}
        </span>
      ))}
    </div>
  );
};

/** " in cart", after a vital or a feedback score that names its stage. */
const InStage = ({ stage }: { stage: string | null | undefined }) =>
  stage ? (
    <>
      {' '}
      <span class="muted small">in {stage}</span>
    </>
  ) : null;

const stars = (value: number) => {
  const full = Math.max(0, Math.min(5, value));
  return `${'★'.repeat(full)}${'☆'.repeat(Math.max(0, 5 - full))} ${value}/5`;
};

/** What one event says, by type. */
const EventBody = ({ e }: { e: TimelineEvent }) => {
  switch (e.type) {
    case 'page':
      return (
        <>
          <div>
            <span class="kind">page</span>
            <span class="what">{e.title || '(untitled)'}</span>
          </div>
          <div>{urlText(e.url)}</div>
          {e.referrer ? <div class="small muted">from {urlText(e.referrer)}</div> : null}
          <Props e={e} />
        </>
      );
    case 'event':
      return (
        <>
          <div>
            <span class="kind">event</span>
            <span class="what">{e.name ?? ''}</span>
            {typeof e.value === 'number' ? (
              <>
                {' '}
                <span class="muted">value {e.value}</span>
              </>
            ) : null}
          </div>
          {e.url ? <div class="small">{urlText(e.url)}</div> : null}
          <Props e={e} />
        </>
      );
    case 'vital':
      return (
        <div>
          <span class="kind">vital</span>
          {typeof e.value === 'number' && e.name ? <VitalBadge name={e.name} value={e.value} /> : (e.name ?? '')}
          <InStage stage={e.stage} />
        </div>
      );
    case 'feedback':
      return (
        <>
          <div>
            <span class="kind">feedback</span>
            <span class="what">{typeof e.value === 'number' ? stars(e.value) : ''}</span>
            <InStage stage={e.stage} />
          </div>
          <Props e={e} />
        </>
      );
    case 'identify':
      return (
        <div>
          <span class="kind">identify</span>
          <span class="what">{e.userId ?? ''}</span>
        </div>
      );
    case 'stage':
      return (
        <>
          <div>
            <span class="kind">stage</span>
            <span class="what">{e.stage ?? ''}</span>
          </div>
          <Props e={e} />
        </>
      );
    default:
      return (
        <>
          <div>
            <span class="kind">{e.type}</span>
            <span class="what">{e.name ?? ''}</span>
          </div>
          <Props e={e} />
        </>
      );
  }
};

const Time = ({ ts, tz }: { ts: number; tz: string }) => (
  <span class="t" title={`${dateTime(ts, tz)} ${tz}`}>
    {time(ts, tz)}
  </span>
);

/** Consecutive vitals (a page's measurements) share one row, each badge still one event. */
const VitalsRow = ({ row, tz }: { row: TimelineEvent[]; tz: string }) => {
  const first = row[0]!;
  const stage = first.stage;
  return (
    <li class="ev vital">
      <Time ts={first.ts} tz={tz} />
      <span class="dot"></span>
      <div class="body vgroup">
        <span class="kind">vitals</span>
        {row.map((v) => (
          <span data-type="vital" data-event={v.id}>
            {typeof v.value === 'number' && v.name ? (
              <VitalBadge name={v.name} value={v.value} />
            ) : (
              <span class="badge">{v.name ?? ''}</span>
            )}
          </span>
        ))}
        {stage && row.every((v) => v.stage === stage) ? <span class="muted small">in {stage}</span> : null}
      </div>
    </li>
  );
};

/** A stage change, before the event that caused it: forward ("→ entered") or back ("↩ back to"). */
const StageBand = ({ entry, back }: { entry: StageEntry; back: boolean }) => (
  <li class={`band${back ? ' back' : ''}`} data-stage={entry.stage}>
    {back ? '↩ back to' : '→ entered'} {entry.stage}
    {entry.from ? (
      <>
        {' '}
        <span class="muted">from {entry.from}</span>
      </>
    ) : null}
  </li>
);

const EventRow = ({
  e,
  entry,
  back,
  tz,
}: {
  e: TimelineEvent;
  entry: StageEntry | undefined;
  back: boolean;
  tz: string;
}) => (
  <>
    {entry ? <StageBand entry={entry} back={back} /> : null}
    <li class={`ev ${e.type}`} data-type={e.type} data-event={e.id}>
      <Time ts={e.ts} tz={tz} />
      <span class="dot"></span>
      <div class="body">
        <EventBody e={e} />
        {e.synthetic ? <div class="small muted">added by the collector</div> : null}
      </div>
    </li>
  </>
);

const Session = ({ d, i, events }: { d: VisitorDetail; i: number; events: TimelineEvent[] }) => {
  const j = d.journey;
  const info = j.sessions[i]!;
  const stageIndex = new Map(j.stages.map((s, n) => [s.name, n]));
  const entryByEvent = new Map(j.entries.map((e) => [e.event, e]));
  const src = [info.source, info.campaign].filter((x): x is string => !!x).join(' · ');
  const rows: Array<TimelineEvent | TimelineEvent[]> = [];
  for (const e of events) {
    const last = rows[rows.length - 1];
    if (e.type === 'vital' && Array.isArray(last)) last.push(e);
    else rows.push(e.type === 'vital' ? [e] : e);
  }
  const items = rows.map((row) => {
    if (Array.isArray(row)) return <VitalsRow row={row} tz={d.timezone} />;
    const entry = entryByEvent.get(row.id);
    const back =
      !!entry && entry.from !== null && (stageIndex.get(entry.stage) ?? 0) < (stageIndex.get(entry.from) ?? 0);
    return <EventRow e={row} entry={entry} back={back} tz={d.timezone} />;
  });
  return (
    <section class="session" data-session={i + 1}>
      <div class="session-head">
        <strong>Session {i + 1}</strong>
        <span class="badge accent">{channelLabel(info.channel)}</span>
        {src ? <span class="muted small">{src}</span> : null}
        {info.referrerHost ? <span class="muted small">via {info.referrerHost}</span> : null}
        <span class="muted small">
          {dateTime(info.start, d.timezone)} {d.timezone} · {duration(info.end - info.start)} · {num(info.touches)}{' '}
          touches
          {info.device ? ` · ${info.device}` : ''}
        </span>
      </div>
      <ol class="events">
        {items.length ? (
          items
        ) : (
          <li class="ev">
            <span></span>
            <span></span>
            <div class="muted small">events not shown (older than the latest {num(d.timeline.length)})</div>
          </li>
        )}
      </ol>
    </section>
  );
};

/** The head card: id, conversion, user, the stage strip, the journey's figures, vitals and feedback per stage. */
const VisitorHead = ({ d }: { d: VisitorDetail }) => {
  const j = d.journey;
  const vitals = j.stages.flatMap((st) => {
    const v = 'vitals' in st && st.vitals ? Object.entries(st.vitals) : [];
    return v.length
      ? [
          <div class="vgroup">
            <span class="muted small">{st.name}</span>
            {v.map(([name, value]) => (
              <VitalBadge name={name} value={value} extra={` in ${st.name}`} />
            ))}
          </div>,
        ]
      : [];
  });
  const feedback = j.stages
    .filter((st): st is typeof st & { feedback: number } => 'feedback' in st && typeof st.feedback === 'number')
    .map((st) => (
      <span class="badge">
        {st.name}: {st.feedback.toFixed(1)}/5
      </span>
    ));
  return (
    <div class="card" data-testid="visitor-head">
      <div class="tl-head">
        <h1 class="mono">{d.visitor.id}</h1>
        {j.converted ? (
          <span class="badge good">converted {dateTime(j.converted.at, d.timezone)}</span>
        ) : (
          <span class="badge">not converted</span>
        )}
        {j.userId ? <span class="badge accent">user {j.userId}</span> : null}
      </div>
      <div class="stage-strip">
        {j.stages.map((st) => (
          <span
            class={`s${st.reached ? ' reached' : ''}${st.name === j.currentStage ? ' current' : ''}`}
            title={st.reached ? 'reached' : 'not reached'}
          >
            {st.name}
          </span>
        ))}
      </div>
      <div class="kpis">
        <div class="kpi">
          <div class="v">{num(j.touches)}</div>
          <div class="l">touches ({num(j.pageviews)} page views)</div>
        </div>
        <div class="kpi">
          <div class="v">{num(j.sessions.length)}</div>
          <div class="l">sessions</div>
        </div>
        <div class="kpi">
          <div class="v">{channelLabel(j.firstChannel)}</div>
          <div class="l">
            first channel
            {j.lastChannel && j.lastChannel !== j.firstChannel ? ` · last ${channelLabel(j.lastChannel)}` : ''}
          </div>
        </div>
        <div class="kpi">
          <div class="v">{j.converted ? num(j.converted.touches) : '–'}</div>
          <div class="l">touches to convert</div>
        </div>
      </div>
      <dl class="kv">
        <dt>first seen</dt>
        <dd>
          {dateTime(j.firstSeen, d.timezone)} {d.timezone}
        </dd>
        <dt>last seen</dt>
        <dd>
          {dateTime(j.lastSeen, d.timezone)} {d.timezone}
        </dd>
        <dt>journey</dt>
        <dd class="mono">{j.key}</dd>
        <dt>devices</dt>
        <dd class="mono">{d.visitor.visitors.join(', ')}</dd>
        {vitals.length ? (
          <>
            <dt>vitals</dt>
            <dd>{vitals}</dd>
          </>
        ) : null}
        {feedback.length ? (
          <>
            <dt>feedback</dt>
            <dd class="vitals">{feedback}</dd>
          </>
        ) : null}
      </dl>
      {d.truncated ? (
        <p class="small muted">
          Showing the latest {num(d.timeline.length)} of {num(j.events)} events.
        </p>
      ) : null}
    </div>
  );
};

export const TimelinePage = ({ siteId, d, canErase }: { siteId: string; d: VisitorDetail; canErase: boolean }) => {
  const j = d.journey;
  // Sessions and events are both in time order: walk them together.
  const groups: TimelineEvent[][] = j.sessions.map(() => []);
  let s = 0;
  for (const e of d.timeline) {
    while (s + 1 < j.sessions.length && e.ts >= j.sessions[s + 1]!.start) s++;
    groups[s]?.push(e);
  }
  const devices = d.visitor.visitors.length;
  return (
    <>
      <VisitorHead d={d} />
      <div data-testid="timeline">
        {groups.map((events, i) => (
          <Session d={d} i={i} events={events} />
        ))}
      </div>
      {canErase ? (
        <div class="card danger-zone">
          <h2>Erase this visitor</h2>
          <p class="muted">
            Deletes every event of {devices > 1 ? `these ${devices} devices` : 'this visitor'}, the journey and its
            statistics, and ignores events that arrive for them later. This cannot be undone.
          </p>
          <form
            method="post"
            action={`${sitePath(siteId, 'visitors')}/${encodeURIComponent(d.visitor.id)}/delete`}
            data-confirm="Erase this visitor and all their events? This cannot be undone."
          >
            <button class="btn danger" type="submit" data-testid="delete">
              Erase visitor
            </button>
          </form>
        </div>
      ) : null}
    </>
  );
};

/** A visitor's timeline; the erase form only for a role that may erase (admin and up). */
export const timelinePage = (siteId: string, d: VisitorDetail, canErase = true): Html => (
  <TimelinePage siteId={siteId} d={d} canErase={canErase} />
);
