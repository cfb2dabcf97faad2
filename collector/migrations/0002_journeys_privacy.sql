-- Journeys and privacy (issue 4): derived tables for the funnel and the journey map, cardinality bounds, ingest
-- counters, tombstones of erased visitors. Every derived row carries `cohort_at` (its journey's first_seen) so that
-- reports filter the cohort without joining; all of them are rewritten with their journey, so they stay exact.

-- The User-Agent is kept only as a device class (desktop, mobile, tablet, other).
ALTER TABLE events ADD COLUMN device TEXT;

-- The site revision (stage model) a journey was folded under; older ones are refolded (docs/api.md).
ALTER TABLE journeys ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
-- Touches and sessions up to the conversion (the "touches to conversion" report).
ALTER TABLE journeys ADD COLUMN conv_touches INTEGER;
ALTER TABLE journeys ADD COLUMN conv_sessions INTEGER;
-- Device class of the latest session.
ALTER TABLE journeys ADD COLUMN device TEXT;
CREATE INDEX IF NOT EXISTS journeys_by_cohort ON journeys (site, first_seen, converted);

ALTER TABLE journey_stages ADD COLUMN cohort_at INTEGER NOT NULL DEFAULT 0;
-- Channel of the session in which the stage was first entered.
ALTER TABLE journey_stages ADD COLUMN channel TEXT;
ALTER TABLE journey_stages ADD COLUMN feedback_sum REAL NOT NULL DEFAULT 0;
ALTER TABLE journey_stages ADD COLUMN feedback_count INTEGER NOT NULL DEFAULT 0;
DROP INDEX IF EXISTS journey_stages_by_stage;
CREATE INDEX IF NOT EXISTS journey_stages_by_cohort ON journey_stages (site, cohort_at);
-- Sorted access for the median time to the next stage.
CREATE INDEX IF NOT EXISTS journey_stages_to_next ON journey_stages (site, stage, to_next_ms, cohort_at);

ALTER TABLE journey_transitions ADD COLUMN cohort_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS journey_transitions_by_cohort ON journey_transitions (site, cohort_at);

-- Per journey and stage: page views by path and events by name while in the stage (≤ 50 distinct each, then '(other)').
CREATE TABLE IF NOT EXISTS journey_stage_items (
  site TEXT NOT NULL,
  key TEXT NOT NULL,
  stage TEXT NOT NULL,
  kind TEXT NOT NULL,
  item TEXT NOT NULL,
  count INTEGER NOT NULL,
  cohort_at INTEGER NOT NULL,
  PRIMARY KEY (site, key, stage, kind, item)
);
CREATE INDEX IF NOT EXISTS journey_stage_items_by_cohort ON journey_stage_items (site, cohort_at);

-- Per journey and stage: the latest value of each web vital measured in the stage.
CREATE TABLE IF NOT EXISTS journey_stage_vitals (
  site TEXT NOT NULL,
  key TEXT NOT NULL,
  stage TEXT NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  cohort_at INTEGER NOT NULL,
  PRIMARY KEY (site, key, stage, name)
);
CREATE INDEX IF NOT EXISTS journey_stage_vitals_by_cohort ON journey_stage_vitals (site, cohort_at);

-- Distinct event names ('event') and property keys ('prop') admitted per site (the cardinality bound).
CREATE TABLE IF NOT EXISTS site_names (
  site TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (site, kind, name)
);

-- Per site and UTC day: what /collect did not store as sent (dropped by the tag, bots, too old, erased, '(other)').
CREATE TABLE IF NOT EXISTS site_counters (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  name TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (site, day, name)
);

-- Erased visitors and users: SHA-256 of 'visitor:<id>' / 'user:<id>', so later events for them are dropped.
CREATE TABLE IF NOT EXISTS tombstones (
  site TEXT NOT NULL,
  hash TEXT NOT NULL,
  deleted_at INTEGER NOT NULL,
  PRIMARY KEY (site, hash)
);
