-- Lifecycle numbers (issue 18): purchases per journey and the cohort retention rollup. Both count only journeys
-- folded under FOLD_VERSION 2 (those whose state has `purchases`); older ones are refolded by the site's maintenance
-- and start counting then, so every write still subtracts exactly what the previous state added
-- (collector/stores/sql/rollups.ts).

-- Per journey (NULL: folded before purchases were counted): purchases, first to second purchase, and 1 when a session
-- started after the conversion. The partial edge days of a range read them; the index (of repeat customers only)
-- serves the exact median time to the second purchase.
ALTER TABLE journeys ADD COLUMN purchases INTEGER;
ALTER TABLE journeys ADD COLUMN second_purchase_ms INTEGER;
ALTER TABLE journeys ADD COLUMN returned INTEGER;
CREATE INDEX IF NOT EXISTS journeys_second_purchase ON journeys (site, second_purchase_ms, first_seen)
  WHERE second_purchase_ms IS NOT NULL;

-- Per cohort day (the journey's first event): journeys with a purchase or a conversion, by purchases, the bucket of
-- the time from the first to the second purchase (valueBucket; -2: no second purchase), conversion and return.
CREATE TABLE IF NOT EXISTS cohort_lifecycle (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  purchases INTEGER NOT NULL,
  second_bucket INTEGER NOT NULL,
  converted INTEGER NOT NULL,
  returned INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (site, day, purchases, second_bucket, converted, returned)
) WITHOUT ROWID;

-- Cohort retention: per ISO week (UTC, its Monday) of a journey's first session and week since (0 = that week,
-- up to 52), the journeys with a session starting in that week. Week 0 holds the whole cohort.
CREATE TABLE IF NOT EXISTS cohort_retention (
  site TEXT NOT NULL,
  week TEXT NOT NULL,
  week_offset INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (site, week, week_offset)
) WITHOUT ROWID;
