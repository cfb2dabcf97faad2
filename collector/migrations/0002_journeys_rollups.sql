-- Journeys (issue 4), third step: per-site, per-cohort-day rollups of the derived rows, kept exact at every journey
-- write by adding the new journey's contribution and subtracting the previous one (collector/stores/sql-rollups.ts).
-- Reports read whole days here and only partial edge days from the per-journey tables. Key columns are never NULL
-- ('' / -1 stand for none) so that upserts always meet their row.

CREATE TABLE IF NOT EXISTS cohort_journeys (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  current_stage TEXT NOT NULL,
  furthest_stage TEXT NOT NULL,
  converted INTEGER NOT NULL,
  first_channel TEXT NOT NULL,
  conv_touches INTEGER NOT NULL,
  conv_sessions INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (site, day, current_stage, furthest_stage, converted, first_channel, conv_touches, conv_sessions)
);

CREATE TABLE IF NOT EXISTS cohort_stages (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  stage TEXT NOT NULL,
  touches INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  channel TEXT NOT NULL,
  n INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  feedback_sum REAL NOT NULL,
  feedback_count INTEGER NOT NULL,
  to_next_n INTEGER NOT NULL,
  PRIMARY KEY (site, day, stage, touches, sessions, channel)
);

CREATE TABLE IF NOT EXISTS cohort_transitions (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  from_stage TEXT NOT NULL,
  to_stage TEXT NOT NULL,
  journeys INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (site, day, from_stage, to_stage)
);

CREATE TABLE IF NOT EXISTS cohort_items (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  stage TEXT NOT NULL,
  kind TEXT NOT NULL,
  item TEXT NOT NULL,
  journeys INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (site, day, stage, kind, item)
);

CREATE TABLE IF NOT EXISTS cohort_vitals (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  stage TEXT NOT NULL,
  name TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (site, day, stage, name)
);
