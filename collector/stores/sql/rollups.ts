/**
 * Cohort-day rollups (migration 0002_journeys_rollups): what each journey contributes to the per-site, per-day sums
 * the reports read, and the statements that move the sums from a journey's previous state to its new one. A journey
 * contributes to the day of its first event (its cohort). Exact by construction: every write subtracts exactly what
 * the previous state added (the previous state is the stored one, guarded by the journey version).
 */
import { localDay, startOfDay, startOfNextDay, weekIndex as localWeek, weekMonday } from '../../core/timezone';
import { JOURNEY_VERSION, transitions, type Journey } from '../../core/journey';
import { list, raw, sql, type SqlStatement, type SqlValue } from './shared';

interface Contribution {
  table: string;
  key: Record<string, SqlValue>;
  add: Record<string, number>;
}

/**
 * The histogram bucket of a value (migration 0006_value_histograms): 18 buckets per decade, each at most 1.5× wide,
 * monotonic in the value. `bucketSql` is the same function in SQL; both clamp to ±1e12 and scale to thousandths, so
 * JavaScript and SQLite do the same IEEE multiplication and truncation and agree on every finite double.
 */
export const valueBucket = (v: number): number => {
  const u = Math.trunc(Math.min(Math.max(v, -1e12), 1e12) * 1000) + 0; // + 0: no -0
  if (u < 0) return -1;
  if (u < 10) return u;
  const digits = String(u);
  return 20 * digits.length + Math.floor(Number(digits.slice(0, 2)) / 5);
};

/** `valueBucket` of a column, in SQL. */
export const bucketSql = (col: string): string => {
  const u = `CAST(MIN(MAX(${col}, -1e12), 1e12) * 1000 AS INTEGER)`;
  return `(CASE WHEN ${u} < 0 THEN -1 WHEN ${u} < 10 THEN ${u}
    ELSE 20 * length(CAST(${u} AS TEXT)) + CAST(substr(CAST(${u} AS TEXT), 1, 2) AS INTEGER) / 5 END)`;
};

const TOP_BUCKET = valueBucket(1e12);

/** The smallest double whose bucket is at least `b` (0 ≤ b ≤ TOP_BUCKET), found by bisection with `valueBucket`. */
const firstOfBucket = (b: number): number => {
  // Buckets 10–41 and 20k, 20k + 1 never occur: the next one that does starts where they would.
  const len = Math.floor(b / 20);
  const [u] = b < 10 ? [b] : b < 42 ? [10] : b % 20 < 2 ? [10 * 10 ** (len - 2)] : [(b % 20) * 5 * 10 ** (len - 2)];
  // valueBucket(v) starts being ≥ b where trunc(v · 1000) reaches u: within a thousandth of u / 1000.
  let lo = (u! - 1) / 1000;
  let hi = (u! + 1) / 1000;
  for (;;) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) return hi;
    if (valueBucket(mid) >= b) hi = mid;
    else lo = mid;
  }
};

/**
 * The exact value range `[lo, hi)` of bucket `b`: a value v is in it exactly when valueBucket(v) = b (null: that
 * side is open). Reads of one bucket are then a plain range of a sorted index.
 */
export const bucketRange = (b: number): { lo: number | null; hi: number | null } => ({
  lo: b <= -1 ? null : firstOfBucket(b),
  hi: b >= TOP_BUCKET ? null : firstOfBucket(b + 1),
});

/** Weeks since the first-visit week the cohort retention rollup counts (0 … MAX_RETENTION_WEEKS). */
export const MAX_RETENTION_WEEKS = 52;

/** The zone a journey's rollups are keyed in: the one it was folded under (core/timezone.ts). */
const zoneOf = (j: Journey): string => j.tz ?? 'UTC';

/** The local ISO week of a time in `tz` (default UTC), as the number of whole weeks since the Monday 1969-12-29. */
export const weekIndex = (ms: number, tz = 'UTC'): number => localWeek(ms, tz);

/** The Monday (`YYYY-MM-DD`, a local day) starting week `weekIndex`. */
export const weekDay = (week: number): string => weekMonday(week);

/**
 * A journey's lifecycle numbers (the journeys columns and `cohort_lifecycle` of migration 0032): null for a journey
 * folded before purchases were counted (FOLD_VERSION 2), which counts nowhere until it is refolded.
 */
export const lifecycleOf = (
  j: Journey,
): { purchases: number; secondMs: number | null; converted: boolean; returned: boolean } | null => {
  const p = j.purchases;
  if (!p) return null;
  const [first, second] = p.at;
  const conv = j.converted;
  return {
    purchases: p.count,
    secondMs: first !== undefined && second !== undefined ? second - first : null,
    converted: conv !== null,
    returned: conv !== null && j.sessions.some((s) => s.start > conv.at),
  };
};

/** The weeks since its first-visit week in which a journey started a session (each once, ascending, ≤ 52). */
export const activeWeeks = (j: Journey): number[] => {
  const first = j.sessions[0];
  if (!first) return [];
  const tz = zoneOf(j);
  const w0 = weekIndex(first.start, tz);
  const out: number[] = [];
  for (const s of j.sessions) {
    const k = weekIndex(s.start, tz) - w0;
    if (k <= MAX_RETENTION_WEEKS && out[out.length - 1] !== k) out.push(k);
  }
  return out;
};

/** What one journey adds to the rollups. */
export const contributions = (site: string, j: Journey): Contribution[] => {
  if (j.events === 0) return [];
  const day = localDay(j.firstSeen, zoneOf(j));
  const out: Contribution[] = [
    {
      table: 'cohort_journeys',
      key: {
        site,
        day,
        current_stage: j.current ?? '',
        furthest_stage: j.furthest ?? '',
        converted: j.converted ? 1 : 0,
        first_channel: j.firstChannel ?? '',
        conv_touches: j.converted?.touches ?? -1,
        conv_sessions: j.converted?.sessions ?? -1,
      },
      add: { n: 1 },
    },
  ];
  for (const [stage, st] of Object.entries(j.stages)) {
    out.push({
      table: 'cohort_stages',
      key: {
        site,
        day,
        stage,
        touches: st.touches,
        sessions: st.sessions,
        channel: j.sessions[st.sessions - 1]?.channel ?? '',
      },
      add: {
        n: 1,
        entries: st.entries,
        feedback_sum: st.feedback?.sum ?? 0,
        feedback_count: st.feedback?.count ?? 0,
        to_next_n: st.toNextMs === null ? 0 : 1,
      },
    });
    for (const [kind, items] of [
      ['page', st.pages],
      ['event', st.events],
    ] as const) {
      for (const [item, count] of Object.entries(items ?? {})) {
        out.push({ table: 'cohort_items', key: { site, day, stage, kind, item }, add: { journeys: 1, count } });
      }
    }
    for (const [name, value] of Object.entries(st.vitals)) {
      out.push({ table: 'cohort_vitals', key: { site, day, stage, name }, add: { n: 1 } });
      out.push({ table: 'cohort_values', key: { site, name, stage, bucket: valueBucket(value), day }, add: { n: 1 } });
    }
    if (st.toNextMs !== null) {
      out.push({
        table: 'cohort_values',
        key: { site, name: '', stage, bucket: valueBucket(st.toNextMs), day },
        add: { n: 1 },
      });
    }
  }
  for (const t of transitions(j)) {
    out.push({
      table: 'cohort_transitions',
      key: { site, day, from_stage: t.from, to_stage: t.to },
      add: { journeys: 1, count: t.count },
    });
  }
  const life = lifecycleOf(j);
  if (life && (life.purchases > 0 || life.converted)) {
    out.push({
      table: 'cohort_lifecycle',
      key: {
        site,
        day,
        purchases: life.purchases,
        second_bucket: life.secondMs === null ? -2 : valueBucket(life.secondMs),
        converted: life.converted ? 1 : 0,
        returned: life.returned ? 1 : 0,
      },
      add: { n: 1 },
    });
  }
  if (life) {
    const week = weekDay(weekIndex(j.sessions[0]?.start ?? 0, zoneOf(j)));
    for (const k of activeWeeks(j))
      out.push({ table: 'cohort_retention', key: { site, week, week_offset: k }, add: { n: 1 } });
  }
  return out;
};

/**
 * Statements that move the rollups from `prev` (null: the journey did not exist, or was stored before rollups) to
 * `next` (null: the journey is deleted). Unchanged sums are not written.
 */
export const rollupStatements = (
  site: string,
  prev: Journey | null | undefined,
  next: Journey | null,
): SqlStatement[] => {
  const delta = new Map<string, Contribution>();
  const apply = (cs: Contribution[], sign: 1 | -1) => {
    for (const c of cs) {
      const id = JSON.stringify([c.table, Object.values(c.key)]);
      const d = delta.get(id);
      if (!d)
        delta.set(id, {
          table: c.table,
          key: c.key,
          add: Object.fromEntries(Object.entries(c.add).map(([k, v]) => [k, sign * v])),
        });
      else for (const [k, v] of Object.entries(c.add)) d.add[k] = (d.add[k] ?? 0) + sign * v;
    }
  };
  if (prev && prev.v === JOURNEY_VERSION) apply(contributions(site, prev), -1);
  if (next) apply(contributions(site, next), 1);
  const out: SqlStatement[] = [];
  for (const d of delta.values()) {
    if (Object.values(d.add).every((v) => v === 0)) continue;
    const keys = Object.keys(d.key);
    const adds = Object.keys(d.add);
    const cols = raw([...keys, ...adds].join(', '));
    const sums = raw(adds.map((a) => `${a} = ${a} + excluded.${a}`).join(', '));
    const values = list([...Object.values(d.key), ...Object.values(d.add)]);
    out.push(
      sql`INSERT INTO ${raw(d.table)} (${cols}) VALUES ${values}
          ON CONFLICT (${raw(keys.join(', '))}) DO UPDATE SET ${sums}`,
    );
  }
  return out;
};

/** A cohort range split into whole UTC days (read from the rollups) and partial edges (read per journey). */
export interface RangeParts {
  /** Whole days `[fromDay, toDay]` (inclusive; null = open), or null when the range holds no whole day. */
  days: { from: string | null; to: string | null } | null;
  /** Partial-day ranges `[from, to]` (ms, inclusive). */
  raw: Array<{ from: number; to: number }>;
}

/**
 * Splits a cohort range at the local day boundaries of `tz` (default UTC; a local day lasts 23–25 hours). With
 * `detailsFrom` (a retention horizon, a day start), an edge before it is rounded out to its whole day: those days are
 * read from the rollups alone, their per-journey rows being gone or going.
 */
export const splitRange = (asked: { from?: number; to?: number; detailsFrom?: number }, tz = 'UTC'): RangeParts => {
  const range = { ...asked };
  if (asked.detailsFrom !== undefined) {
    if (range.from !== undefined && range.from < asked.detailsFrom) range.from = startOfDay(range.from, tz);
    if (range.to !== undefined && range.to < asked.detailsFrom) range.to = startOfNextDay(range.to, tz) - 1;
  }
  // The first whole day's start, and the end (exclusive) of the last whole day.
  const start =
    range.from === undefined
      ? undefined
      : startOfDay(range.from, tz) === range.from
        ? range.from
        : startOfNextDay(range.from, tz);
  const end = range.to === undefined ? undefined : startOfDay(range.to + 1, tz);
  if (start !== undefined && end !== undefined && start >= end) {
    return { days: null, raw: range.from! <= range.to! ? [{ from: range.from!, to: range.to! }] : [] };
  }
  const raw: RangeParts['raw'] = [];
  if (range.from !== undefined && start !== undefined && range.from < start)
    raw.push({ from: range.from, to: start - 1 });
  if (range.to !== undefined && end !== undefined && range.to >= end) raw.push({ from: end, to: range.to });
  return {
    days: {
      from: start === undefined ? null : localDay(start, tz),
      to: end === undefined ? null : localDay(end - 1, tz),
    },
    raw,
  };
};
