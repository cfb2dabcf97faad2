-- Journeys (issue 4), second step: covering indexes so that the reports read index pages only.

-- Totals, current/furthest stage counts and touches-to-conversion of a cohort, from one index.
DROP INDEX IF EXISTS journeys_by_cohort;
DROP INDEX IF EXISTS journeys_by_first_seen;
CREATE INDEX IF NOT EXISTS journeys_by_cohort_cover ON journeys
  (site, first_seen, converted, current_stage, furthest_stage, first_channel, conv_touches, conv_sessions);

-- Per-stage sums and the touches/sessions histograms of a cohort.
DROP INDEX IF EXISTS journey_stages_by_cohort;
CREATE INDEX IF NOT EXISTS journey_stages_by_cohort_cover ON journey_stages
  (site, cohort_at, stage, touches, sessions, entries, feedback_sum, feedback_count, channel, to_next_ms);

-- Nearest-rank p75 of a vital: sorted values per stage and vital.
CREATE INDEX IF NOT EXISTS journey_stage_vitals_by_value ON journey_stage_vitals (site, stage, name, value, cohort_at);

-- Top items: the count read from the index.
DROP INDEX IF EXISTS journey_stage_items_by_cohort;
CREATE INDEX IF NOT EXISTS journey_stage_items_by_cohort_cover ON journey_stage_items (site, cohort_at, stage, kind, item, count);

-- Transitions: summed from the index.
DROP INDEX IF EXISTS journey_transitions_by_cohort;
CREATE INDEX IF NOT EXISTS journey_transitions_by_cohort_cover ON journey_transitions (site, cohort_at, from_stage, to_stage, count);
