-- Dashboard at scale (issue 6): the partial first and last day of a range read the vitals of their journeys (counts
-- and bucket histograms per stage and vital) from this covering index instead of looking every row up in the table
-- (at 100k visitors, two partial days: the bucket histogram 66 → 35 ms and the counts 32 → 21 ms).
DROP INDEX IF EXISTS journey_stage_vitals_by_cohort;
CREATE INDEX IF NOT EXISTS journey_stage_vitals_by_cohort_cover ON journey_stage_vitals (site, cohort_at, stage, name, value);
