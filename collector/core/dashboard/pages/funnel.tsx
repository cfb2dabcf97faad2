/**
 * The funnel: reached per stage, the stage-to-stage flow with skips and back-steps, and how many touches (and
 * sessions) converted journeys needed, per first channel.
 */
import type { Distribution, FunnelReport, TimeToConvertReport, TouchesReport } from '../../reports';
import { FlowDiagram, Histogram } from '../charts';
import { channelLabel, day, duration, num, pct, type Html } from '../format';

const heatLevel = (count: number, max: number) =>
  count === 0 ? 0 : Math.min(5, 1 + Math.floor((4.999 * count) / Math.max(1, max)));

const dist = (d: Distribution) => (d.median === null ? '–' : `${d.median}`);

/** One stage's bar: reached, its share of the first stage, and what it kept of the stage before. */
const StageBar = ({ fun, i }: { fun: FunnelReport; i: number }) => {
  const s = fun.stages[i]!;
  const first = fun.stages[0]?.reached ?? 0;
  const w = first > 0 ? (100 * s.reached) / first : 0;
  const prev = fun.stages[i - 1];
  const lost = prev ? prev.reached - s.reached : 0;
  return (
    <div class="funnel-row" data-stage={s.stage}>
      <div class="name">{s.stage}</div>
      <svg viewBox="0 0 100 26" preserveAspectRatio="none" aria-hidden="true">
        <rect class="track" x="0" y="0" width="100" height="26" />
        <rect class="fill" x="0" y="0" width={Math.max(w, 0.5).toFixed(2)} height="26" />
      </svg>
      <div class="stat">
        <strong>{num(s.reached)}</strong> · {pct(s.reached, first)}
        {prev ? (
          <>
            <br />
            <span class="muted">
              {pct(s.reached, prev.reached)} of {prev.stage}
            </span>
            {lost > 0 ? (
              <>
                {' '}
                <span class="drop">−{num(lost)}</span>
              </>
            ) : null}
          </>
        ) : null}
      </div>
    </div>
  );
};

const TransitionKind = ({ fun, t }: { fun: FunnelReport; t: FunnelReport['transitions'][number] }) => {
  const at = (stage: string) => fun.stages.findIndex((s) => s.stage === stage);
  if (t.back) return <span class="badge poor">back-step</span>;
  if (at(t.to) - at(t.from) > 1) return <span class="badge accent">skip</span>;
  return <span class="badge good">forward</span>;
};

/** Converted journeys by first channel: median touches, the touches histogram as a heat row, median sessions. */
const TouchesByChannel = ({ tch }: { tch: TouchesReport }) => {
  const maxCell = Math.max(1, ...tch.byFirstChannel.flatMap((c) => c.touches.buckets.map((b) => b.count)));
  return (
    <div class="table-wrap">
      <table class="heat" data-testid="touches-by-channel">
        <thead>
          <tr>
            <th>first channel</th>
            <th class="num">converted</th>
            <th class="num">median touches</th>
            {tch.touches.buckets.map((b) => (
              <th class="num">{b.label}</th>
            ))}
            <th class="num">median sessions</th>
          </tr>
        </thead>
        <tbody>
          {tch.byFirstChannel.map((c) => (
            <tr data-channel={c.channel}>
              <th scope="row">{channelLabel(c.channel)}</th>
              <td class="num">{num(c.converted)}</td>
              <td class="num">{dist(c.touches)}</td>
              {c.touches.buckets.map((b) => (
                <td class={`h h${heatLevel(b.count, maxCell)}`}>{b.count || '·'}</td>
              ))}
              <td class="num">{dist(c.sessions)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
};

/** A bucket of the time-to-convert histogram as a label: `<1h`, `1h–1d`, `≥30d`. */
const bucketLabel = (fromMs: number, toMs: number | null) => {
  const short = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${ms / 3_600_000}h`);
  if (fromMs === 0 && toMs !== null) return `<${short(toMs)}`;
  return toMs === null ? `≥${short(fromMs)}` : `${short(fromMs)}–${short(toMs)}`;
};

/** From the first visit to the conversion: median, p90, a histogram, and the share converted within 1/7/30 days. */
/** The time to convert of each device class: who converts, and how fast. */
const ByDevice = ({ rows }: { rows: readonly TimeToConvertReport[] }) => (
  <div class="table-wrap">
    <table data-testid="time-to-convert-by-device">
      <thead>
        <tr>
          <th>device</th>
          <th class="num">journeys</th>
          <th class="num">converted</th>
          <th class="num">median</th>
          <th class="num">p90</th>
          <th class="num">within 7 days</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr data-device={r.segment.device ?? ''}>
            <th scope="row">{r.segment.device ?? '–'}</th>
            <td class="num">{num(r.journeys)}</td>
            <td class="num">
              {num(r.converted)} · {pct(r.converted, r.journeys)}
            </td>
            <td class="num">{duration(r.medianMs)}</td>
            <td class="num">{duration(r.p90Ms)}</td>
            <td class="num">{num(r.windows.find((w) => w.withinMs === 7 * 86_400_000)?.converted ?? 0)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

const TimeToConvert = ({ ttc, byDevice }: { ttc: TimeToConvertReport; byDevice: readonly TimeToConvertReport[] }) => (
  <div class="card" data-testid="time-to-convert">
    <h2>Time to convert</h2>
    {ttc.converted === 0 ? (
      <p class="muted">No conversions in this range yet.</p>
    ) : (
      <>
        {ttc.countedFrom !== null ? (
          <p class="muted small" data-testid="ttc-expired">
            Visitor details before {day(ttc.countedFrom, ttc.range.timezone)} expired: these times count the journeys
            first seen since.
          </p>
        ) : null}
        <p class="muted small">
          From the first visit to the conversion, for the {num(ttc.converted)} converted journeys. Median{' '}
          <strong>{duration(ttc.medianMs)}</strong>, p90 {duration(ttc.p90Ms)}.
        </p>
        <Histogram
          buckets={ttc.buckets.map((b) => ({ label: bucketLabel(b.fromMs, b.toMs), count: b.journeys }))}
          unit="time"
        />
        <div class="table-wrap">
          <table data-testid="conversion-windows">
            <thead>
              <tr>
                <th>converted within</th>
                <th class="num">journeys</th>
                <th class="num">of all journeys</th>
              </tr>
            </thead>
            <tbody>
              {ttc.windows.map((w) => (
                <tr data-within={String(w.withinMs)}>
                  <th scope="row">{duration(w.withinMs)} of the first visit</th>
                  <td class="num">{num(w.converted)}</td>
                  <td class="num">{pct(w.converted, ttc.journeys)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {byDevice.length > 1 ? (
          <>
            <h3>By device</h3>
            <ByDevice rows={byDevice} />
          </>
        ) : null}
      </>
    )}
  </div>
);

export const FunnelPage = ({
  fun,
  tch,
  ttc,
  byDevice = [],
}: {
  fun: FunnelReport;
  tch: TouchesReport;
  ttc?: TimeToConvertReport;
  byDevice?: readonly TimeToConvertReport[];
}) => (
  <>
    <div class="kpis">
      <div class="kpi">
        <div class="v">{num(fun.journeys)}</div>
        <div class="l">journeys started in range</div>
      </div>
      <div class="kpi">
        <div class="v">{num(fun.converted)}</div>
        <div class="l">converted · {pct(fun.converted, fun.journeys)}</div>
      </div>
      <div class="kpi">
        <div class="v">{dist(tch.touches)}</div>
        <div class="l">median touches to convert</div>
      </div>
      <div class="kpi">
        <div class="v">{dist(tch.sessions)}</div>
        <div class="l">median sessions to convert</div>
      </div>
    </div>
    <div class="card" data-testid="funnel">
      <h2>Reached each stage</h2>
      {fun.stages.map((_, i) => (
        <StageBar fun={fun} i={i} />
      ))}
    </div>
    <div class="card">
      <h2>Flow between stages</h2>
      <FlowDiagram nodes={fun.stages.map((s) => ({ stage: s.stage, reached: s.reached }))} edges={fun.transitions} />
      <div class="legend">
        <span>
          <i class="fwd"></i>forward to the next stage
        </span>
        <span>
          <i class="skip"></i>skipping stages
        </span>
        <span>
          <i class="back"></i>back-steps
        </span>
        <span>band width: journeys</span>
      </div>
      <details>
        <summary class="muted small">All transitions</summary>
        <div class="table-wrap">
          <table data-testid="transitions">
            <thead>
              <tr>
                <th>from</th>
                <th>to</th>
                <th>kind</th>
                <th class="num">journeys</th>
                <th class="num">moves</th>
              </tr>
            </thead>
            <tbody>
              {fun.transitions.map((t) => (
                <tr>
                  <td>{t.from}</td>
                  <td>{t.to}</td>
                  <td>
                    <TransitionKind fun={fun} t={t} />
                  </td>
                  <td class="num">{num(t.journeys)}</td>
                  <td class="num">{num(t.count)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
    <div class="card">
      <h2>Touches to conversion</h2>
      {tch.converted === 0 ? (
        <p class="muted">No conversions in this range yet.</p>
      ) : (
        <>
          <p class="muted small">
            Page views and events up to and including the converting one, for the {num(tch.converted)} converted
            journeys. Median {dist(tch.touches)}, p75 {tch.touches.p75 ?? '–'}, max {tch.touches.max ?? '–'}.
          </p>
          <Histogram buckets={tch.touches.buckets} />
          <h3>By first channel</h3>
          <TouchesByChannel tch={tch} />
        </>
      )}
    </div>
    {ttc ? <TimeToConvert ttc={ttc} byDevice={byDevice} /> : null}
  </>
);

export const funnelPage = (
  fun: FunnelReport,
  tch: TouchesReport,
  ttc?: TimeToConvertReport,
  byDevice: readonly TimeToConvertReport[] = [],
): Html => <FunnelPage fun={fun} tch={tch} byDevice={byDevice} {...(ttc ? { ttc } : {})} />;
