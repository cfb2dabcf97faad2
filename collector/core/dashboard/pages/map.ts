/**
 * The journey map: one column per stage, rows for what a workshop map would hold (who, from where, what they do,
 * how it feels, how fast it is, where it hurts), all drawn from the funnel and journey-map reports.
 */
import type { FunnelReport, JourneyMapReport } from '../../reports';
import { bar, emotionCurve, VITAL_ORDER, vitalBadge, vitalRating } from '../charts';
import { channelLabel, duration, h, nothing, num, pct, qs, type Html } from '../format';
import { sitePath } from '../layout';

const TOP = 5;

/** Event names that mean an abandoned cart (the demo shop and most shops send `cart_abandoned`). */
const isAbandon = (name: string) => /abandon/i.test(name);

export const mapPage = (
  siteId: string,
  fun: FunnelReport,
  map: JourneyMapReport,
  rangeQuery: Record<string, string | undefined>,
): Html => {
  const n = map.stages.length;
  const first = fun.stages[0]?.reached ?? 0;
  const backSteps = fun.transitions.filter((t) => t.back);
  const backJourneys = backSteps.reduce((s, t) => s + t.journeys, 0);
  const cells = (render: (i: number) => Html) =>
    map.stages.map((_, i) => h`<div class="cell${i === n - 1 ? ' last' : ''}">${render(i)}</div>`);
  const row = (label: string, render: (i: number) => Html) =>
    h`<div class="rowlabel"><span>${label}</span></div>${cells(render)}`;
  const visitorsLink = (stage: string) => `${sitePath(siteId, 'visitors')}${qs({ ...rangeQuery, stage })}`;

  const head = cells((i) => {
    const s = map.stages[i]!;
    const f = fun.stages[i];
    return h`<div class="stage-head">
<div class="name"><span class="idx">${i + 1}</span>${s.stage}${fun.conversionStage === s.stage ? h` <span class="badge good">conversion</span>` : nothing}</div>
<div class="big">${num(s.visitors)}</div>
<div class="sub">reached · ${pct(s.visitors, first)} of all</div>
<div class="sub">in it now: <a href="${visitorsLink(s.stage)}">${num(f?.current ?? 0)}</a></div>
</div>`;
  });

  const conversion = row('Conversion to next stage', (i) => {
    const next = fun.stages[i + 1];
    const here = fun.stages[i];
    if (!next || !here) return h`<span class="muted small">last stage</span>`;
    return h`<div class="conv"><span class="arrow">→</span>${pct(next.reached, here.reached)}<span class="muted small">to ${next.stage}</span></div>${bar(next.reached, here.reached, 'good')}`;
  });

  const time = row('Median time to next stage', (i) => {
    const f = fun.stages[i];
    if (!f || i === n - 1) return h`<span class="muted small">–</span>`;
    return h`<strong>${duration(f.medianToNextMs)}</strong> <span class="muted small">${f.toNextSamples ? `${num(f.toNextSamples)} journeys` : ''}</span>`;
  });

  const channels = row('Top entry channels', (i) => {
    const s = map.stages[i]!;
    const list = s.entryChannels.slice(0, 4);
    if (!list.length) return h`<span class="muted small">–</span>`;
    const max = s.visitors;
    return h`${list.map((c) => h`<div class="chan-row"><div class="ch"><span>${channelLabel(c.channel)}</span><span class="muted">${pct(c.journeys, max, 0)}</span></div>${bar(c.journeys, max)}</div>`)}`;
  });

  const touchpoints = row('Touchpoints: pages and events', (i) => {
    const s = map.stages[i]!;
    const pages = s.topPages.slice(0, TOP);
    const events = s.topEvents.filter((e) => !isAbandon(e.name)).slice(0, TOP);
    if (!pages.length && !events.length) return h`<span class="muted small">–</span>`;
    return h`<ul class="toplist">
${pages.map((p) => h`<li title="${p.path}: ${num(p.views)} views by ${num(p.journeys)} journeys"><span class="k"><span class="kind">▤</span>${p.path}</span><span class="c">${num(p.views)}</span></li>`)}
${events.map((e) => h`<li title="${e.name}: ${num(e.count)} times by ${num(e.journeys)} journeys"><span class="k"><span class="kind">◆</span>${e.name}</span><span class="c">${num(e.count)}</span></li>`)}
</ul>`;
  });

  const emotion = h`<div class="rowlabel"><span>How it feels: average feedback (1–5)</span></div><div class="full">${emotionCurve(
    map.stages.map((s) => ({ stage: s.stage, average: s.feedback.average, count: s.feedback.count })),
  )}</div>`;

  const vitals = row('Web vitals (p75)', (i) => {
    const v = map.stages[i]!.vitals;
    const names = [
      ...VITAL_ORDER.filter((x) => v[x]),
      ...Object.keys(v)
        .filter((x) => !VITAL_ORDER.includes(x))
        .sort(),
    ];
    if (!names.length) return h`<span class="muted small">no measurements</span>`;
    return h`<div class="vitals">${names.map((name) => vitalBadge(name, v[name]!.p75, ` · p75 of ${v[name]!.samples} journeys`))}</div>`;
  });

  const pain = row('Pain points', (i) => {
    const s = map.stages[i]!;
    const items: Html[] = [];
    if (s.dropOffs !== null && s.dropOffs > 0) {
      items.push(
        h`<div><span class="n">${num(s.dropOffs)}</span> dropped off here <span class="muted">(${pct(s.dropOffs, s.visitors, 0)})</span></div>`,
      );
    }
    for (const e of s.topEvents.filter((x) => isAbandon(x.name))) {
      items.push(h`<div><span class="n">${num(e.journeys)}</span> ${e.name.replace(/_/g, ' ')}</div>`);
    }
    for (const t of backSteps.filter((x) => x.from === s.stage)) {
      items.push(h`<div><span class="n">${num(t.journeys)}</span> stepped back to ${t.to}</div>`);
    }
    const poor = Object.entries(s.vitals)
      .filter(([name, v]) => vitalRating(name, v.p75) === 'poor')
      .map(([name]) => name);
    if (poor.length) items.push(h`<div>slow: <span class="n">${poor.join(', ')}</span></div>`);
    if (s.feedback.average !== null && s.feedback.average < 3) {
      items.push(h`<div>unhappy: <span class="n">${s.feedback.average.toFixed(1)}</span> / 5</div>`);
    }
    return items.length ? h`<div class="pain">${items}</div>` : h`<span class="muted small">none seen</span>`;
  });

  return h`<div class="kpis">
<div class="kpi"><div class="v">${num(map.journeys)}</div><div class="l">journeys started in range</div></div>
<div class="kpi"><div class="v">${num(fun.converted)}</div><div class="l">converted (${fun.conversionStage})</div></div>
<div class="kpi"><div class="v">${pct(fun.converted, fun.journeys)}</div><div class="l">conversion rate</div></div>
<div class="kpi"><div class="v">${num(backJourneys)}</div><div class="l">journeys with back-steps</div></div>
</div>
<div class="card map-wrap" data-testid="journey-map"><div class="map n${n}">
${head}${conversion}${time}${channels}${touchpoints}${emotion}${vitals}${pain}
</div></div>`;
};
