-- Dashboard at scale (issue 6): per-site, per-cohort-day histograms of the values whose quantiles the reports show
-- (time to the next stage: name '', and each web vital by name), kept exact like the other rollups
-- (collector/stores/sql-rollups.ts). A quantile sums the buckets of the range to find the bucket holding the k-th
-- value, then reads only that bucket's rows in order: exact, without walking every journey of a stage.
--
-- The bucket of a value v (valueBucket in sql-rollups.ts; the same expression in SQL there and below):
--   u = CAST(MIN(MAX(v, -1e12), 1e12) * 1000 AS INTEGER)
--   u < 0 → -1;  u < 10 → u;  otherwise 20 × (digits of u) + (first two digits of u) / 5
-- i.e. 18 buckets per decade, each at most 1.5× wide, monotonic in v. WITHOUT ROWID: the key is the table's order, so
-- a report reads a site's histograms as one range, already grouped, without looking rows up.

CREATE TABLE IF NOT EXISTS cohort_values (
  site TEXT NOT NULL,
  stage TEXT NOT NULL,
  name TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  day TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (site, name, stage, bucket, day)
) WITHOUT ROWID;

-- Backfill from the journeys already stored (the rollups hold journeys of the current state version, 3).
INSERT INTO cohort_values (site, stage, name, bucket, day, n)
SELECT s.site, s.stage, '',
  CASE WHEN u < 0 THEN -1 WHEN u < 10 THEN u
       ELSE 20 * length(CAST(u AS TEXT)) + CAST(substr(CAST(u AS TEXT), 1, 2) AS INTEGER) / 5 END,
  strftime('%Y-%m-%d', s.cohort_at / 1000, 'unixepoch'), COUNT(*)
FROM (SELECT site, key, stage, cohort_at, CAST(MIN(MAX(to_next_ms, -1e12), 1e12) * 1000 AS INTEGER) AS u
      FROM journey_stages WHERE to_next_ms IS NOT NULL) AS s
JOIN journeys AS j ON j.site = s.site AND j.key = s.key AND json_extract(j.state, '$.v') = 3
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO cohort_values (site, stage, name, bucket, day, n)
SELECT s.site, s.stage, s.name,
  CASE WHEN u < 0 THEN -1 WHEN u < 10 THEN u
       ELSE 20 * length(CAST(u AS TEXT)) + CAST(substr(CAST(u AS TEXT), 1, 2) AS INTEGER) / 5 END,
  strftime('%Y-%m-%d', s.cohort_at / 1000, 'unixepoch'), COUNT(*)
FROM (SELECT site, key, stage, name, cohort_at, CAST(MIN(MAX(value, -1e12), 1e12) * 1000 AS INTEGER) AS u
      FROM journey_stage_vitals) AS s
JOIN journeys AS j ON j.site = s.site AND j.key = s.key AND json_extract(j.state, '$.v') = 3
GROUP BY 1, 2, 3, 4, 5;
