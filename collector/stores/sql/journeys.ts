/**
 * The statements that write a journey: its row in `journeys`, the derived rows the reports aggregate (stages,
 * transitions, pages/events, vitals; migration 0002), its rollup sums (rollups.ts), and the version guard that makes
 * a concurrent writer's commit fail as a whole. Used by the ingest commit (events.ts) and by erasure (privacy.ts).
 */
import { JOURNEY_VERSION, transitions, type Journey } from '../../core/journey';
import type { JourneyRecord } from '../../core/store';
import { lifecycleOf, rollupStatements } from './rollups';
import { chunks, join, list, query, raw, sql, type Sql, type SqlConnector, type SqlValue } from './shared';

/** One derived row of a journey: its table, primary key and full insert. */
interface DerivedRow {
  table: string;
  pk: Record<string, SqlValue>;
  values: Record<string, SqlValue>;
}

/** The tables of a journey's derived rows, each keyed by `(site, key, …)`. */
export const DERIVED_TABLES = [
  'journey_stages',
  'journey_transitions',
  'journey_stage_items',
  'journey_stage_vitals',
] as const;

/** Every derived row of a journey (what the funnel and the journey map aggregate), each with its cohort. */
export const derivedRows = (site: string, key: string, j: Journey): DerivedRow[] => {
  const cohort = j.firstSeen;
  const rows: DerivedRow[] = [];
  for (const [stage, st] of Object.entries(j.stages)) {
    rows.push({
      table: 'journey_stages',
      pk: { site, key, stage },
      values: {
        first_at: st.firstAt,
        entries: st.entries,
        touches: st.touches,
        sessions: st.sessions,
        time_ms: st.timeMs,
        to_next_ms: st.toNextMs,
        cohort_at: cohort,
        channel: j.sessions[st.sessions - 1]?.channel ?? null,
        feedback_sum: st.feedback?.sum ?? 0,
        feedback_count: st.feedback?.count ?? 0,
      },
    });
    for (const [kind, items] of [
      ['page', st.pages],
      ['event', st.events],
    ] as const) {
      for (const [item, count] of Object.entries(items ?? {})) {
        rows.push({
          table: 'journey_stage_items',
          pk: { site, key, stage, kind, item },
          values: { count, cohort_at: cohort },
        });
      }
    }
    for (const [name, value] of Object.entries(st.vitals)) {
      rows.push({
        table: 'journey_stage_vitals',
        pk: { site, key, stage, name },
        values: { value, cohort_at: cohort },
      });
    }
  }
  for (const t of transitions(j)) {
    rows.push({
      table: 'journey_transitions',
      pk: { site, key, from_stage: t.from, to_stage: t.to },
      values: { count: t.count, cohort_at: cohort },
    });
  }
  return rows;
};

const rowId = (r: DerivedRow) => JSON.stringify([r.table, Object.values(r.pk)]);
const upsertRow = (r: DerivedRow): Sql => {
  const cols = raw([...Object.keys(r.pk), ...Object.keys(r.values)].join(', '));
  const values = list([...Object.values(r.pk), ...Object.values(r.values)]);
  return sql`INSERT OR REPLACE INTO ${raw(r.table)} (${cols}) VALUES ${values}`;
};
const deleteRow = (r: DerivedRow): Sql => {
  const where = join(
    Object.entries(r.pk).map(([col, v]) => sql`${raw(col)} = ${v}`),
    ' AND ',
  );
  return sql`DELETE FROM ${raw(r.table)} WHERE ${where}`;
};

/**
 * Statements that write a journey and its derived rows (stages, transitions, pages/events, vitals). With
 * `r.previous` (the stored journey whose derived rows are in the database), only the rows that changed are written;
 * otherwise all derived rows of the key are replaced.
 */
export const writeJourney = (site: string, r: JourneyRecord): Sql[] => {
  const j = r.journey;
  const life = lifecycleOf(j);
  const out: Sql[] = [
    sql`INSERT INTO journeys (site, key, version, visitor, visitor_count, user_id, current_stage, furthest_stage, converted,
         converted_at, first_seen, last_seen, first_channel, last_channel, touches, sessions, state, revision,
         conv_touches, conv_sessions, device, purchases, second_purchase_ms, returned)
       VALUES (${site}, ${r.key}, ${r.version}, ${j.visitors[0] ?? r.key}, ${j.visitors.length}, ${j.userId},
         ${j.current}, ${j.furthest}, ${j.converted ? 1 : 0}, ${j.converted?.at}, ${j.firstSeen}, ${j.lastSeen},
         ${j.firstChannel}, ${j.lastChannel}, ${j.touches}, ${j.sessions.length}, ${JSON.stringify(j)},
         ${r.revision ?? 0}, ${j.converted?.touches}, ${j.converted?.sessions},
         ${j.sessions[j.sessions.length - 1]?.device}, ${life?.purchases}, ${life?.secondMs},
         ${life ? (life.returned ? 1 : 0) : null})
       ON CONFLICT (site, key) DO UPDATE SET version = excluded.version, visitor = excluded.visitor,
         visitor_count = excluded.visitor_count, user_id = excluded.user_id, current_stage = excluded.current_stage,
         furthest_stage = excluded.furthest_stage, converted = excluded.converted, converted_at = excluded.converted_at,
         first_seen = excluded.first_seen, last_seen = excluded.last_seen, first_channel = excluded.first_channel,
         last_channel = excluded.last_channel, touches = excluded.touches, sessions = excluded.sessions,
         state = excluded.state, revision = excluded.revision, conv_touches = excluded.conv_touches,
         conv_sessions = excluded.conv_sessions, device = excluded.device, purchases = excluded.purchases,
         second_purchase_ms = excluded.second_purchase_ms, returned = excluded.returned`,
  ];
  out.push(...rollupStatements(site, r.previous, j));
  const next = derivedRows(site, r.key, j);
  if (r.previous && r.previous.v === JOURNEY_VERSION) {
    const before = new Map(derivedRows(site, r.key, r.previous).map((row) => [rowId(row), row]));
    for (const row of next) {
      const id = rowId(row);
      const old = before.get(id);
      before.delete(id);
      if (!old || JSON.stringify(old.values) !== JSON.stringify(row.values)) out.push(upsertRow(row));
    }
    for (const gone of before.values()) out.push(deleteRow(gone));
  } else {
    // previous === null: the writer knows nothing is stored for the key (a new journey): nothing to delete.
    if (r.previous !== null)
      for (const t of DERIVED_TABLES) out.push(sql`DELETE FROM ${raw(t)} WHERE site = ${site} AND key = ${r.key}`);
    for (const row of next) out.push(upsertRow(row));
  }
  return out;
};

/** Statements that delete a journey and its derived rows (its rollup sums are the caller's: `rollupStatements`). */
export const deleteJourney = (site: string, key: string): Sql[] => [
  sql`DELETE FROM journeys WHERE site = ${site} AND key = ${key}`,
  ...DERIVED_TABLES.map((t) => sql`DELETE FROM ${raw(t)} WHERE site = ${site} AND key = ${key}`),
];

/**
 * Optimistic concurrency for a journey write: fails the whole batch (a NOT NULL violation on `meta.value`, no row
 * is ever inserted) unless the stored journey is still the one the writer read (`version - 1`; absent for version
 * 1), or is already exactly this record (the same commit repeated after a lost answer, which stays a no-op).
 */
export const journeyGuard = (site: string, r: JourneyRecord): Sql =>
  sql`INSERT INTO meta (key, value) SELECT 'cjm:stale-journey', NULL
     WHERE COALESCE((SELECT version FROM journeys WHERE site = ${site} AND key = ${r.key}), 0) <> ${r.version - 1}
       AND NOT EXISTS (SELECT 1 FROM journeys WHERE site = ${site} AND key = ${r.key} AND version = ${r.version}
         AND state = ${JSON.stringify(r.journey)})`;

/** The stored states of journeys (for the rollups of journeys written without their previous state). */
export const storedStates = async (
  db: SqlConnector,
  site: string,
  keys: readonly string[],
): Promise<Map<string, Journey>> => {
  const out = new Map<string, Journey>();
  for (const part of chunks(keys)) {
    const rows = await query<{ key: string; state: string }>(
      db,
      sql`SELECT key, state FROM journeys WHERE site = ${site} AND key IN ${list(part)}`,
    );
    for (const r of rows) out.set(r.key, JSON.parse(r.state) as Journey);
  }
  return out;
};
