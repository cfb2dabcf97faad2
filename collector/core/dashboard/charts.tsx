/**
 * Hand-written SVG charts. No inline styles (the CSP forbids them): sizes are SVG attributes, colours CSS classes.
 */
import { num, type Html } from './format';

export const scoreClass = (score: number): 'good' | 'ni' | 'poor' => (score >= 4 ? 'good' : score >= 3 ? 'ni' : 'poor');

/** A thin horizontal bar, `value / max` filled. */
export const Bar = ({ value, max, kind = '' }: { value: number; max: number; kind?: '' | 'good' | 'back' }) => {
  const w = max > 0 ? Math.max(0, Math.min(100, (100 * value) / max)) : 0;
  return (
    <svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
      <rect class="track" x="0" y="0" width="100" height="6" rx="3" />
      <rect class={`fill ${kind}`} x="0" y="0" width={w.toFixed(2)} height="6" rx="3" />
    </svg>
  );
};

export interface EmotionPoint {
  stage: string;
  average: number | null;
  count: number;
}

/**
 * The emotion curve: the average feedback (1–5) per stage, one point per column, joined where both ends have data.
 * x positions are percentages, so the points sit over the map's columns at any width without distorting the dots.
 */
export const EmotionCurve = ({ points }: { points: EmotionPoint[] }) => {
  const n = points.length;
  const H = 140;
  const top = 26;
  const bottom = 104;
  const y = (score: number) => bottom - ((score - 1) / 4) * (bottom - top);
  const x = (i: number) => `${(((i + 0.5) / n) * 100).toFixed(3)}%`;
  const lines = points.slice(0, -1).map((p, i) => {
    const a = p.average;
    const b = points[i + 1]!.average;
    return a !== null && b !== null ? (
      <line class="line" x1={x(i)} y1={y(a).toFixed(1)} x2={x(i + 1)} y2={y(b).toFixed(1)} />
    ) : null;
  });
  const dots = points.map((p, i) =>
    p.average === null ? (
      <text class="none" x={x(i)} y={y(3).toFixed(1)} text-anchor="middle">
        no feedback
      </text>
    ) : (
      <>
        <circle class={`dot ${scoreClass(p.average)}`} cx={x(i)} cy={y(p.average).toFixed(1)} r="7">
          <title>
            {p.stage}: {p.average.toFixed(2)} average of {p.count} scores
          </title>
        </circle>
        <text x={x(i)} y={(y(p.average) - 12).toFixed(1)} text-anchor="middle">
          {p.average.toFixed(1)}
        </text>
        <text class="lab" x={x(i)} y={(H - 8).toFixed(1)} text-anchor="middle">
          {num(p.count)} score{p.count === 1 ? '' : 's'}
        </text>
      </>
    ),
  );
  return (
    <svg class="emotion" height={H} role="img" aria-label="Average feedback per stage (1 to 5)">
      {[5, 3, 1].map((score) => (
        <line class="axis" x1="0" x2="100%" y1={y(score)} y2={y(score)} />
      ))}
      <text class="lab" x="4" y={y(5) - 4}>
        5 delighted
      </text>
      <text class="lab" x="4" y={y(1) - 4}>
        1 frustrated
      </text>
      {lines}
      {dots}
    </svg>
  );
};

/** web.dev thresholds: [good ≤, poor >]. */
export const VITAL_THRESHOLDS: Record<string, [number, number]> = {
  LCP: [2500, 4000],
  INP: [200, 500],
  CLS: [0.1, 0.25],
  FCP: [1800, 3000],
  TTFB: [800, 1800],
};
export const VITAL_ORDER = ['LCP', 'INP', 'CLS', 'FCP', 'TTFB'];

export const vitalRating = (name: string, value: number): 'good' | 'ni' | 'poor' | '' => {
  const t = VITAL_THRESHOLDS[name];
  if (!t) return '';
  return value <= t[0] ? 'good' : value > t[1] ? 'poor' : 'ni';
};

export const vitalValue = (name: string, value: number): string =>
  name === 'CLS' ? value.toFixed(2) : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;

const RATING_WORD = { good: 'good', ni: 'needs improvement', poor: 'poor', '': '' } as const;

/** A vital as a badge coloured by its rating; `extra` ends the tooltip (" in cart", " · p75 of 12 journeys"). */
export const VitalBadge = ({ name, value, extra = '' }: { name: string; value: number; extra?: string }) => {
  const r = vitalRating(name, value);
  return (
    <span class={`badge ${r}`} title={`${name} ${RATING_WORD[r]}${extra}`}>
      {name} {vitalValue(name, value)}
    </span>
  );
};

export interface FlowNode {
  stage: string;
  reached: number;
}
export interface FlowEdge {
  from: string;
  to: string;
  journeys: number;
  count: number;
  back: boolean;
}

/**
 * The stage-to-stage flow: stages as boxes on a line; forward moves to the next stage as straight bands, skips as
 * arcs above, back-steps as arcs below. Band widths are proportional to journeys.
 */
export const FlowDiagram = ({ nodes, edges }: { nodes: FlowNode[]; edges: FlowEdge[] }) => {
  const n = nodes.length;
  if (n === 0) return null;
  const W = 1000;
  const slot = W / n;
  const boxW = Math.min(150, slot - 40);
  const boxH = 56;
  const idx = (stage: string) => nodes.findIndex((node) => node.stage === stage);
  // Arc height by how many stages an edge spans; the space above/below the boxes fits the highest arc and its label.
  const level = (e: FlowEdge) => (e.back ? idx(e.from) - idx(e.to) : idx(e.to) - idx(e.from) - 1);
  const lift = (e: FlowEdge) => 28 + 30 * Math.min(level(e) - 1, 4);
  const arcs = edges.filter((e) => idx(e.from) >= 0 && idx(e.to) >= 0 && level(e) >= 1);
  const upSpace = Math.max(30, ...arcs.filter((e) => !e.back).map((e) => lift(e) + 36));
  const downSpace = Math.max(30, ...arcs.filter((e) => e.back).map((e) => lift(e) + 40));
  const cy = upSpace + boxH / 2;
  const H = upSpace + boxH + downSpace;
  const cx = (i: number) => slot * (i + 0.5);
  const maxJ = Math.max(1, ...edges.map((e) => e.journeys));
  const width = (j: number) => (2 + 20 * Math.sqrt(j / maxJ)).toFixed(1);
  const paths: Html[] = [];
  const labels: Html[] = [];
  for (const e of edges) {
    const a = idx(e.from);
    const b = idx(e.to);
    if (a < 0 || b < 0 || a === b) continue;
    const title = (
      <title>
        {e.from} → {e.to}: {num(e.journeys)} journeys, {num(e.count)} moves
      </title>
    );
    if (!e.back && b === a + 1) {
      const x1 = cx(a) + boxW / 2;
      const x2 = cx(b) - boxW / 2;
      paths.push(
        <path class="fwd" d={`M${x1.toFixed(1)} ${cy} L${x2.toFixed(1)} ${cy}`} stroke-width={width(e.journeys)}>
          {title}
        </path>,
      );
      labels.push(
        <text class="elabel" x={((x1 + x2) / 2).toFixed(1)} y={cy - 12} text-anchor="middle">
          {num(e.journeys)}
        </text>,
      );
    } else {
      const dir = e.back ? 1 : -1;
      const y0 = cy + dir * (boxH / 2);
      const x1 = cx(a) + (e.back ? -18 : 18);
      const x2 = cx(b) + (e.back ? 18 : -18);
      const peak = lift(e);
      // A cubic with both control points at yc peaks at 3/4 of the way.
      const yc = (y0 + (dir * peak) / 0.75).toFixed(1);
      const [from, to] = [x1.toFixed(1), x2.toFixed(1)];
      paths.push(
        <path
          class={e.back ? 'back' : 'skip'}
          d={`M${from} ${y0} C${from} ${yc} ${to} ${yc} ${to} ${y0}`}
          stroke-width={width(e.journeys)}
        >
          {title}
        </path>,
      );
      const half = Number(width(e.journeys)) / 2;
      const ly = e.back ? y0 + peak + half + 13 : y0 - peak - half - 5;
      labels.push(
        <text
          class={`elabel ${e.back ? 'back' : ''}`}
          x={((x1 + x2) / 2).toFixed(1)}
          y={ly.toFixed(1)}
          text-anchor="middle"
        >
          {e.back ? '↩ ' : ''}
          {num(e.journeys)}
        </text>,
      );
    }
  }
  const boxes = nodes.map((node, i) => (
    <>
      <rect
        class="node"
        x={(cx(i) - boxW / 2).toFixed(1)}
        y={cy - boxH / 2}
        width={boxW.toFixed(1)}
        height={boxH}
        rx="10"
      />
      <text class="node-label" x={cx(i).toFixed(1)} y={cy - 4} text-anchor="middle">
        {node.stage}
      </text>
      <text class="node-count" x={cx(i).toFixed(1)} y={cy + 15} text-anchor="middle">
        {num(node.reached)} reached
      </text>
    </>
  ));
  return (
    <svg class="flow" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Stage-to-stage flow, back-steps below">
      {paths}
      {boxes}
      {labels}
    </svg>
  );
};

/** Vertical bars of a histogram (labels below, counts above). */
export const Histogram = ({
  buckets,
  unit = 'touches',
}: {
  buckets: Array<{ label: string; count: number }>;
  /** What the buckets count, for the titles (`touches`, `to convert`). */
  unit?: string;
}) => {
  const W = 600;
  const H = 180;
  const slot = W / (buckets.length || 1);
  const max = Math.max(1, ...buckets.map((b) => b.count));
  return (
    <svg class="hist" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Distribution of ${unit} to conversion`}>
      {buckets.map((b, i) => {
        const bh = (b.count / max) * (H - 50);
        const x = i * slot + slot * 0.15;
        const y = H - 24 - bh;
        const mid = (x + slot * 0.35).toFixed(1);
        return (
          <>
            <rect
              class="hbar"
              x={x.toFixed(1)}
              y={y.toFixed(1)}
              width={(slot * 0.7).toFixed(1)}
              height={bh.toFixed(1)}
              rx="3"
            >
              <title>
                {b.label} {unit}: {num(b.count)}
              </title>
            </rect>
            <text class="hcount" x={mid} y={(y - 5).toFixed(1)} text-anchor="middle">
              {b.count ? num(b.count) : ''}
            </text>
            <text class="hlabel" x={mid} y={H - 8} text-anchor="middle">
              {b.label}
            </text>
          </>
        );
      })}
    </svg>
  );
};
