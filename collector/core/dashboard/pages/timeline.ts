/**
 * One visitor's timeline: a vertical list grouped by session (with the session's channel), stage changes as bands,
 * every page view and event with its properties, vitals and feedback; and the delete button.
 * Every string here came from a browser: all of it goes through `h` (escaped), URLs are linked only when http(s).
 */
import type { VisitorDetail } from '../../reports';
import type { TimelineEvent } from '../../store';
import { vitalBadge } from '../charts';
import { channelLabel, dateTime, duration, h, nothing, num, time, urlText, type Html } from '../format';
import { sitePath } from '../layout';

const props = (e: TimelineEvent): Html => {
  const entries = Object.entries(e.props ?? {});
  if (!entries.length) return nothing;
  return h`<div class="props">${entries.map(([k, v]) => h`<span>${k}=${v === null ? 'null' : String(v)}</span>`)}</div>`;
};

const eventBody = (e: TimelineEvent): Html => {
  switch (e.type) {
    case 'page':
      return h`<div><span class="kind">page</span><span class="what">${e.title || '(untitled)'}</span></div>
<div>${urlText(e.url)}</div>${e.referrer ? h`<div class="small muted">from ${urlText(e.referrer)}</div>` : nothing}${props(e)}`;
    case 'event':
      return h`<div><span class="kind">event</span><span class="what">${e.name ?? ''}</span>${typeof e.value === 'number' ? h` <span class="muted">value ${e.value}</span>` : nothing}</div>${e.url ? h`<div class="small">${urlText(e.url)}</div>` : nothing}${props(e)}`;
    case 'vital':
      return h`<div><span class="kind">vital</span>${typeof e.value === 'number' && e.name ? vitalBadge(e.name, e.value) : h`${e.name ?? ''}`}${e.stage ? h` <span class="muted small">in ${e.stage}</span>` : nothing}</div>`;
    case 'feedback':
      return h`<div><span class="kind">feedback</span><span class="what">${typeof e.value === 'number' ? `${'★'.repeat(Math.max(0, Math.min(5, e.value)))}${'☆'.repeat(Math.max(0, 5 - Math.max(0, Math.min(5, e.value))))} ${e.value}/5` : ''}</span>${e.stage ? h` <span class="muted small">in ${e.stage}</span>` : nothing}</div>${props(e)}`;
    case 'identify':
      return h`<div><span class="kind">identify</span><span class="what">${e.userId ?? ''}</span></div>`;
    case 'stage':
      return h`<div><span class="kind">stage</span><span class="what">${e.stage ?? ''}</span></div>${props(e)}`;
    default:
      return h`<div><span class="kind">${e.type}</span><span class="what">${e.name ?? ''}</span></div>${props(e)}`;
  }
};

export const timelinePage = (siteId: string, d: VisitorDetail): Html => {
  const j = d.journey;
  const stageIndex = new Map(j.stages.map((s, i) => [s.name, i]));
  const entryByEvent = new Map(j.entries.map((e) => [e.event, e]));
  // Sessions and events are both in time order: walk them together.
  const groups: Array<{ i: number; events: TimelineEvent[] }> = j.sessions.map((_, i) => ({ i, events: [] }));
  let s = 0;
  for (const e of d.timeline) {
    while (s + 1 < j.sessions.length && e.ts >= j.sessions[s + 1]!.start) s++;
    groups[s]?.events.push(e);
  }
  const sessions = groups.map(({ i, events }) => {
    const info = j.sessions[i]!;
    const src = [info.source, info.campaign].filter((x): x is string => !!x).join(' · ');
    // Consecutive vitals (a page's measurements) share one row, each badge still one event.
    const rows: Array<TimelineEvent | TimelineEvent[]> = [];
    for (const e of events) {
      const last = rows[rows.length - 1];
      if (e.type === 'vital' && Array.isArray(last)) last.push(e);
      else rows.push(e.type === 'vital' ? [e] : e);
    }
    const items = rows.map((row) => {
      if (Array.isArray(row)) {
        const first = row[0]!;
        const stage = first.stage;
        return h`<li class="ev vital"><span class="t" title="${dateTime(first.ts)} UTC">${time(first.ts)}</span><span class="dot"></span><div class="body vgroup"><span class="kind">vitals</span>${row.map(
          (v) =>
            h`<span data-type="vital" data-event="${v.id}">${typeof v.value === 'number' && v.name ? vitalBadge(v.name, v.value) : h`<span class="badge">${v.name ?? ''}</span>`}</span>`,
        )}${stage && row.every((v) => v.stage === stage) ? h`<span class="muted small">in ${stage}</span>` : nothing}</div></li>`;
      }
      const e = row;
      const entry = entryByEvent.get(e.id);
      const back =
        entry && entry.from !== null && (stageIndex.get(entry.stage) ?? 0) < (stageIndex.get(entry.from) ?? 0);
      const band = entry
        ? h`<li class="band${back ? ' back' : ''}" data-stage="${entry.stage}">${back ? '↩ back to' : '→ entered'} ${entry.stage}${entry.from ? h` <span class="muted">from ${entry.from}</span>` : nothing}</li>`
        : nothing;
      return h`${band}<li class="ev ${e.type}" data-type="${e.type}" data-event="${e.id}"><span class="t" title="${dateTime(e.ts)} UTC">${time(e.ts)}</span><span class="dot"></span><div class="body">${eventBody(e)}${e.synthetic ? h`<div class="small muted">added by the collector</div>` : nothing}</div></li>`;
    });
    return h`<section class="session" data-session="${i + 1}">
<div class="session-head"><strong>Session ${i + 1}</strong><span class="badge accent">${channelLabel(info.channel)}</span>${src ? h`<span class="muted small">${src}</span>` : nothing}${info.referrerHost ? h`<span class="muted small">via ${info.referrerHost}</span>` : nothing}<span class="muted small">${dateTime(info.start)} UTC · ${duration(info.end - info.start)} · ${num(info.touches)} touches${info.device ? ` · ${info.device}` : ''}</span></div>
<ol class="events">${items.length ? items : h`<li class="ev"><span></span><span></span><div class="muted small">events not shown (older than the latest ${num(d.timeline.length)})</div></li>`}</ol>
</section>`;
  });
  const strip = j.stages.map(
    (st) =>
      h`<span class="s${st.reached ? ' reached' : ''}${st.name === j.currentStage ? ' current' : ''}" title="${st.reached ? 'reached' : 'not reached'}">${st.name}</span>`,
  );
  const vitals = j.stages.flatMap((st) => {
    const v = 'vitals' in st && st.vitals ? Object.entries(st.vitals) : [];
    return v.length
      ? [
          h`<div class="vgroup"><span class="muted small">${st.name}</span>${v.map(([name, value]) => vitalBadge(name, value, ` in ${st.name}`))}</div>`,
        ]
      : [];
  });
  const feedback = j.stages
    .filter((st): st is typeof st & { feedback: number } => 'feedback' in st && typeof st.feedback === 'number')
    .map((st) => h`<span class="badge">${st.name}: ${st.feedback.toFixed(1)}/5</span>`);
  const visitorsUrl = sitePath(siteId, 'visitors');
  return h`<div class="card" data-testid="visitor-head">
<div class="tl-head"><h1 class="mono">${d.visitor.id}</h1>${j.converted ? h`<span class="badge good">converted ${dateTime(j.converted.at)}</span>` : h`<span class="badge">not converted</span>`}${j.userId ? h`<span class="badge accent">user ${j.userId}</span>` : nothing}</div>
<div class="stage-strip">${strip}</div>
<div class="kpis">
<div class="kpi"><div class="v">${num(j.touches)}</div><div class="l">touches (${num(j.pageviews)} page views)</div></div>
<div class="kpi"><div class="v">${num(j.sessions.length)}</div><div class="l">sessions</div></div>
<div class="kpi"><div class="v">${channelLabel(j.firstChannel)}</div><div class="l">first channel${j.lastChannel && j.lastChannel !== j.firstChannel ? ` · last ${channelLabel(j.lastChannel)}` : ''}</div></div>
<div class="kpi"><div class="v">${j.converted ? num(j.converted.touches) : '–'}</div><div class="l">touches to convert</div></div>
</div>
<dl class="kv">
<dt>first seen</dt><dd>${dateTime(j.firstSeen)} UTC</dd>
<dt>last seen</dt><dd>${dateTime(j.lastSeen)} UTC</dd>
<dt>journey</dt><dd class="mono">${j.key}</dd>
<dt>devices</dt><dd class="mono">${d.visitor.visitors.join(', ')}</dd>
${vitals.length ? h`<dt>vitals</dt><dd>${vitals}</dd>` : nothing}
${feedback.length ? h`<dt>feedback</dt><dd class="vitals">${feedback}</dd>` : nothing}
</dl>
${d.truncated ? h`<p class="small muted">Showing the latest ${num(d.timeline.length)} of ${num(j.events)} events.</p>` : nothing}
</div>
<div data-testid="timeline">${sessions}</div>
<div class="card danger-zone"><h2>Erase this visitor</h2>
<p class="muted">Deletes every event of ${d.visitor.visitors.length > 1 ? `these ${d.visitor.visitors.length} devices` : 'this visitor'}, the journey and its statistics, and ignores events that arrive for them later. This cannot be undone.</p>
<form method="post" action="${visitorsUrl}/${encodeURIComponent(d.visitor.id)}/delete" data-confirm="Erase this visitor and all their events? This cannot be undone.">
<button class="btn danger" type="submit" data-testid="delete">Erase visitor</button></form>
</div>`;
};
