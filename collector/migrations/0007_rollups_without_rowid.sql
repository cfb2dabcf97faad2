-- Dashboard at scale (issue 6): the cohort rollups become WITHOUT ROWID tables. Their primary key is then the
-- table's own order, so a report reads a site's days as one range of the key without looking each row up in a
-- second b-tree, and every upsert at ingest touches one b-tree instead of two. Same columns, same keys, same rows.

CREATE TABLE cohort_journeys_new (
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
) WITHOUT ROWID;
INSERT INTO cohort_journeys_new (site, day, current_stage, furthest_stage, converted, first_channel, conv_touches, conv_sessions, n) SELECT site, day, current_stage, furthest_stage, converted, first_channel, conv_touches, conv_sessions, n FROM cohort_journeys;
DROP TABLE cohort_journeys;
ALTER TABLE cohort_journeys_new RENAME TO cohort_journeys;

CREATE TABLE cohort_stages_new (
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
) WITHOUT ROWID;
INSERT INTO cohort_stages_new (site, day, stage, touches, sessions, channel, n, entries, feedback_sum, feedback_count, to_next_n) SELECT site, day, stage, touches, sessions, channel, n, entries, feedback_sum, feedback_count, to_next_n FROM cohort_stages;
DROP TABLE cohort_stages;
ALTER TABLE cohort_stages_new RENAME TO cohort_stages;

CREATE TABLE cohort_transitions_new (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  from_stage TEXT NOT NULL,
  to_stage TEXT NOT NULL,
  journeys INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (site, day, from_stage, to_stage)
) WITHOUT ROWID;
INSERT INTO cohort_transitions_new (site, day, from_stage, to_stage, journeys, count) SELECT site, day, from_stage, to_stage, journeys, count FROM cohort_transitions;
DROP TABLE cohort_transitions;
ALTER TABLE cohort_transitions_new RENAME TO cohort_transitions;

CREATE TABLE cohort_items_new (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  stage TEXT NOT NULL,
  kind TEXT NOT NULL,
  item TEXT NOT NULL,
  journeys INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (site, day, stage, kind, item)
) WITHOUT ROWID;
INSERT INTO cohort_items_new (site, day, stage, kind, item, journeys, count) SELECT site, day, stage, kind, item, journeys, count FROM cohort_items;
DROP TABLE cohort_items;
ALTER TABLE cohort_items_new RENAME TO cohort_items;

CREATE TABLE cohort_vitals_new (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  stage TEXT NOT NULL,
  name TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (site, day, stage, name)
) WITHOUT ROWID;
INSERT INTO cohort_vitals_new (site, day, stage, name, n) SELECT site, day, stage, name, n FROM cohort_vitals;
DROP TABLE cohort_vitals;
ALTER TABLE cohort_vitals_new RENAME TO cohort_vitals;
