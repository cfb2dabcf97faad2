/**
 * The journey map: one column per stage, rows for what a workshop map would hold (who, from where, what they do,
 * how it feels, how fast it is, where it hurts), all drawn from the funnel and journey-map reports.
 */
import type { Child } from 'hono/jsx';
import type { FunnelReport, JourneyMapReport, JourneyMapStage } from '../../reports';
import { Bar, EmotionCurve, VITAL_ORDER, VitalBadge, vitalRating } from '../charts';
import { channelLabel, duration, num, pct, qs, type Html } from '../format';
import { sitePath } from '../layout';

const TOP = 5;

/** Event names that mean an abandoned cart (the demo shop and most shops send `cart_abandoned`). */
const isAbandon = (name: string) => /abandon/i.test(name);

export interface MapPageProps {
  siteId: string;
  fun: FunnelReport;
  map: JourneyMapReport;
  rangeQuery: Record<string, string | undefined>;
  /** Link each stage's "in it now" to the visitors list (a role that sees visitors; never on a share link). */
  linkVisitors: boolean;
}

/** What one row of the map shows in the column of stage `i`. */
type CellRender = (s: JourneyMapStage, i: number) => Child;

/** One cell per stage (the last one without a right border). */
const Cells = ({ map, render }: { map: JourneyMapReport; render: CellRender }) => (
  <>
    {map.stages.map((s, i) => (
      <div class={`cell${i === map.stages.length - 1 ? ' last' : ''}`}>{render(s, i)}</div>
    ))}
  </>
);

/** A labelled row across all the stages. */
const Row = ({ label, map, render }: { label: string; map: JourneyMapReport; render: CellRender }) => (
  <>
    <div class="rowlabel">
      <span>{label}</span>
    </div>
    <Cells map={map} render={render} />
  </>
);

const none = (text = '–') => <span class="muted small">{text}</span>;

/** The vitals measured in a stage, the web-vitals ones first, as p75 badges. */
const StageVitals = ({ vitals }: { vitals: JourneyMapStage['vitals'] }) => {
  const names = [
    ...VITAL_ORDER.filter((x) => vitals[x]),
    ...Object.keys(vitals)
      .filter((x) => !VITAL_ORDER.includes(x))
      .sort(),
  ];
  if (!names.length) return none('no measurements');
  return (
    <div class="vitals">
      {names.map((name) => (
        <VitalBadge name={name} value={vitals[name]!.p75} extra={` · p75 of ${vitals[name]!.samples} journeys`} />
      ))}
    </div>
  );
};

/** Where a stage hurts: drop-offs, abandoned carts, back-steps, poor vitals, unhappy feedback. */
const PainPoints = ({ s, backSteps }: { s: JourneyMapStage; backSteps: FunnelReport['transitions'] }) => {
  const items: Html[] = [];
  if (s.dropOffs !== null && s.dropOffs > 0) {
    items.push(
      <div>
        <span class="n">{num(s.dropOffs)}</span> dropped off here{' '}
        <span class="muted">({pct(s.dropOffs, s.visitors, 0)})</span>
      </div>,
    );
  }
  for (const e of s.topEvents.filter((x) => isAbandon(x.name))) {
    items.push(
      <div>
        <span class="n">{num(e.journeys)}</span> {e.name.replace(/_/g, ' ')}
      </div>,
    );
  }
  for (const t of backSteps.filter((x) => x.from === s.stage)) {
    items.push(
      <div>
        <span class="n">{num(t.journeys)}</span> stepped back to {t.to}
      </div>,
    );
  }
  const poor = Object.entries(s.vitals)
    .filter(([name, v]) => vitalRating(name, v.p75) === 'poor')
    .map(([name]) => name);
  if (poor.length)
    items.push(
      <div>
        slow: <span class="n">{poor.join(', ')}</span>
      </div>,
    );
  if (s.feedback.average !== null && s.feedback.average < 3) {
    items.push(
      <div>
        unhappy: <span class="n">{s.feedback.average.toFixed(1)}</span> / 5
      </div>,
    );
  }
  return items.length ? <div class="pain">{items}</div> : none('none seen');
};

export const MapPage = ({ siteId, fun, map, rangeQuery, linkVisitors }: MapPageProps) => {
  const n = map.stages.length;
  const first = fun.stages[0]?.reached ?? 0;
  const backSteps = fun.transitions.filter((t) => t.back);
  const backJourneys = backSteps.reduce((s, t) => s + t.journeys, 0);
  const visitorsLink = (stage: string) => `${sitePath(siteId, 'visitors')}${qs({ ...rangeQuery, stage })}`;

  const head: CellRender = (s, i) => (
    <div class="stage-head">
      <div class="name">
        <span class="idx">{i + 1}</span>
        {s.stage}
        {fun.conversionStage === s.stage ? (
          <>
            {' '}
            <span class="badge good">conversion</span>
          </>
        ) : null}
      </div>
      <div class="big">{num(s.visitors)}</div>
      <div class="sub">reached · {pct(s.visitors, first)} of all</div>
      <div class="sub">
        in it now:{' '}
        {linkVisitors ? (
          <a href={visitorsLink(s.stage)}>{num(fun.stages[i]?.current ?? 0)}</a>
        ) : (
          num(fun.stages[i]?.current ?? 0)
        )}
      </div>
    </div>
  );

  const conversion: CellRender = (_, i) => {
    const next = fun.stages[i + 1];
    const here = fun.stages[i];
    if (!next || !here) return none('last stage');
    return (
      <>
        <div class="conv">
          <span class="arrow">→</span>
          {pct(next.reached, here.reached)}
          <span class="muted small">to {next.stage}</span>
        </div>
        <Bar value={next.reached} max={here.reached} kind="good" />
      </>
    );
  };

  const time: CellRender = (_, i) => {
    const f = fun.stages[i];
    if (!f || i === n - 1) return none();
    return (
      <>
        <strong>{duration(f.medianToNextMs)}</strong>{' '}
        <span class="muted small">{f.toNextSamples ? `${num(f.toNextSamples)} journeys` : ''}</span>
      </>
    );
  };

  const channels: CellRender = (s) => {
    const list = s.entryChannels.slice(0, 4);
    if (!list.length) return none();
    return list.map((c) => (
      <div class="chan-row">
        <div class="ch">
          <span>{channelLabel(c.channel)}</span>
          <span class="muted">{pct(c.journeys, s.visitors, 0)}</span>
        </div>
        <Bar value={c.journeys} max={s.visitors} />
      </div>
    ));
  };

  // Lifecycle numbers in the post-purchase columns: purchases in the conversion stage's column, returns in the next
  // one (both in the conversion column when it is the last).
  const life = map.lifecycle;
  const conv = map.stages.findIndex((s) => s.stage === fun.conversionStage);
  const purchaseNumbers = (
    <>
      <div>
        <span class="n">{num(life.customers)}</span> customers ·{' '}
        <span class="n">{life.purchasesPerCustomer === null ? '–' : life.purchasesPerCustomer.toFixed(2)}</span>{' '}
        purchases each
      </div>
      <div>
        repeat purchase: <span class="n">{pct(life.repeatCustomers, life.customers)}</span>{' '}
        <span class="muted small">({num(life.repeatCustomers)})</span>
      </div>
      <div>
        median to 2nd purchase: <span class="n">{duration(life.medianToSecondPurchaseMs)}</span>
      </div>
    </>
  );
  const returnNumbers = (
    <div>
      returned after converting: <span class="n">{pct(life.returnedAfterConversion, life.converted)}</span>{' '}
      <span class="muted small">
        ({num(life.returnedAfterConversion)} of {num(life.converted)})
      </span>
    </div>
  );
  const lifecycleCell: CellRender = (_, i) => {
    if (conv < 0 || i < conv) return none();
    const here = i === conv;
    const returns = i === conv + 1 || (here && conv === n - 1);
    if (!here && !returns) return none();
    return (
      <div class="lifecycle" data-testid={here ? 'lifecycle-purchases' : 'lifecycle-returns'}>
        {here ? purchaseNumbers : null}
        {returns ? returnNumbers : null}
      </div>
    );
  };

  const touchpoints: CellRender = (s) => {
    const pages = s.topPages.slice(0, TOP);
    const events = s.topEvents.filter((e) => !isAbandon(e.name)).slice(0, TOP);
    if (!pages.length && !events.length) return none();
    return (
      <ul class="toplist">
        {pages.map((p) => (
          <li title={`${p.path}: ${num(p.views)} views by ${num(p.journeys)} journeys`}>
            <span class="k">
              <span class="kind">▤</span>
              {p.path}
            </span>
            <span class="c">{num(p.views)}</span>
          </li>
        ))}
        {events.map((e) => (
          <li title={`${e.name}: ${num(e.count)} times by ${num(e.journeys)} journeys`}>
            <span class="k">
              <span class="kind">◆</span>
              {e.name}
            </span>
            <span class="c">{num(e.count)}</span>
          </li>
        ))}
      </ul>
    );
  };

  return (
    <>
      <div class="kpis">
        <div class="kpi">
          <div class="v">{num(map.journeys)}</div>
          <div class="l">journeys started in range</div>
        </div>
        <div class="kpi">
          <div class="v">{num(fun.converted)}</div>
          <div class="l">converted ({fun.conversionStage})</div>
        </div>
        <div class="kpi">
          <div class="v">{pct(fun.converted, fun.journeys)}</div>
          <div class="l">conversion rate</div>
        </div>
        <div class="kpi">
          <div class="v">{pct(life.repeatCustomers, life.customers)}</div>
          <div class="l">repeat-purchase rate</div>
        </div>
        <div class="kpi">
          <div class="v">{num(backJourneys)}</div>
          <div class="l">journeys with back-steps</div>
        </div>
      </div>
      <div class="card map-wrap" data-testid="journey-map">
        <div class={`map n${n}`}>
          <Cells map={map} render={head} />
          <Row label="Conversion to next stage" map={map} render={conversion} />
          <Row label="Median time to next stage" map={map} render={time} />
          <Row label="Top entry channels" map={map} render={channels} />
          <Row label="Touchpoints: pages and events" map={map} render={touchpoints} />
          <div class="rowlabel">
            <span>How it feels: average feedback (1–5)</span>
          </div>
          <div class="full">
            <EmotionCurve
              points={map.stages.map((s) => ({ stage: s.stage, average: s.feedback.average, count: s.feedback.count }))}
            />
          </div>
          <Row label="Web vitals (p75)" map={map} render={(s) => <StageVitals vitals={s.vitals} />} />
          <Row label="Pain points" map={map} render={(s) => <PainPoints s={s} backSteps={backSteps} />} />
          <Row label="After the purchase: repeat purchases and returns" map={map} render={lifecycleCell} />
        </div>
      </div>
    </>
  );
};

export const mapPage = (
  siteId: string,
  fun: FunnelReport,
  map: JourneyMapReport,
  rangeQuery: Record<string, string | undefined>,
  linkVisitors = true,
): Html => <MapPage siteId={siteId} fun={fun} map={map} rangeQuery={rangeQuery} linkVisitors={linkVisitors} />;
