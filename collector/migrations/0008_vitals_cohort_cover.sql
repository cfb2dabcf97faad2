-- Dashboard at scale (issue 6): the partial first and last day of a range read the vitals of their journeys (counts
-- and bucket histograms per stage and vital) from this covering index instead of looking every row up in the table
-- (journey map over 7 days at 100k visitors: those reads 97 → see docs/benchmarks.md).
DROP INDEX IF EXISTS journey_stage_vitals_by_cohort;
CREATE INDEX IF NOT EXISTS journey_stage_vitals_by_cohort_cover ON journey_stage_vitals (site, cohort_at, stage, name, value);
