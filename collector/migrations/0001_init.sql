-- cjm schema, one for SQLite (applied by collector/node.ts at start) and D1 (wrangler d1 migrations apply).

-- Key/value settings kept in the database: the admin token, salts.
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- One row per site; the stage model and allowed origins as JSON (see collector/core/stages.ts SiteConfig).
CREATE TABLE IF NOT EXISTS sites (
  id TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Raw events, exactly as accepted (after timestamp correction). (site, id) is the idempotency key.
CREATE TABLE IF NOT EXISTS events (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  visitor TEXT NOT NULL,
  type TEXT NOT NULL,
  ts INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  name TEXT,
  stage TEXT,
  url TEXT,
  referrer TEXT,
  title TEXT,
  user_id TEXT,
  value REAL,
  props TEXT,
  channel TEXT,
  synthetic INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site, id)
);
CREATE INDEX IF NOT EXISTS events_by_visitor ON events (site, visitor, ts, id);

-- Which journey each visitor belongs to: their own, or an identified user's (key 'u:<userId>').
CREATE TABLE IF NOT EXISTS visitors (
  site TEXT NOT NULL,
  visitor TEXT NOT NULL,
  journey TEXT NOT NULL,
  user_id TEXT,
  identified_at INTEGER,
  identify_event TEXT,
  PRIMARY KEY (site, visitor)
);
CREATE INDEX IF NOT EXISTS visitors_by_journey ON visitors (site, journey);

-- Each journey, kept up to date at ingest: the folded state as JSON plus the columns lists and filters need.
CREATE TABLE IF NOT EXISTS journeys (
  site TEXT NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  visitor TEXT NOT NULL,
  visitor_count INTEGER NOT NULL,
  user_id TEXT,
  current_stage TEXT,
  furthest_stage TEXT,
  converted INTEGER NOT NULL,
  converted_at INTEGER,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  first_channel TEXT,
  last_channel TEXT,
  touches INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (site, key)
);
CREATE INDEX IF NOT EXISTS journeys_by_last_seen ON journeys (site, last_seen, key);
CREATE INDEX IF NOT EXISTS journeys_by_first_seen ON journeys (site, first_seen);
CREATE INDEX IF NOT EXISTS journeys_by_stage ON journeys (site, current_stage);

-- Per journey and stage: first entry, entries, touches and sessions to reach it; what the funnel aggregates.
CREATE TABLE IF NOT EXISTS journey_stages (
  site TEXT NOT NULL,
  key TEXT NOT NULL,
  stage TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  touches INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  to_next_ms INTEGER,
  PRIMARY KEY (site, key, stage)
);
CREATE INDEX IF NOT EXISTS journey_stages_by_stage ON journey_stages (site, stage, first_at);

-- Per journey: stage-to-stage transitions including back-steps.
CREATE TABLE IF NOT EXISTS journey_transitions (
  site TEXT NOT NULL,
  key TEXT NOT NULL,
  from_stage TEXT NOT NULL,
  to_stage TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (site, key, from_stage, to_stage)
);
