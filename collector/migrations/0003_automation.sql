-- Journey automation (collector/core/automation, docs/automation.md): rules, armed stalls, the webhook delivery
-- queue and its log. Valid on SQLite and D1.

-- One row per rule; the rule (trigger, action) as JSON.
CREATE TABLE IF NOT EXISTS automation_rules (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  rule TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site, id)
);

-- A stall per entry into a stalled rule's stages, armed at ingest; the periodic pass reads only the due ones.
CREATE TABLE IF NOT EXISTS automation_stalls (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  rule TEXT NOT NULL,
  visitor TEXT NOT NULL,
  entry_event TEXT NOT NULL,
  entry_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, id)
);
CREATE INDEX IF NOT EXISTS automation_stalls_due ON automation_stalls (due_at) WHERE status = 'armed';
CREATE INDEX IF NOT EXISTS automation_stalls_by_rule ON automation_stalls (site, rule, status);
-- Pruning of retired stalls (fired, progressed, superseded, cancelled) after the retention period.
CREATE INDEX IF NOT EXISTS automation_stalls_retired ON automation_stalls (updated_at) WHERE status <> 'armed';

-- The delivery queue and log: one row per (rule, triggering event); next_at doubles as the lease of a claim.
CREATE TABLE IF NOT EXISTS automation_deliveries (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  rule TEXT NOT NULL,
  event TEXT NOT NULL,
  visitor TEXT NOT NULL,
  status TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  next_at INTEGER NOT NULL,
  done_at INTEGER,
  last_status INTEGER,
  last_error TEXT,
  claim TEXT
);
CREATE INDEX IF NOT EXISTS automation_deliveries_due ON automation_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS automation_deliveries_by_rule ON automation_deliveries (site, rule, created_at);
CREATE INDEX IF NOT EXISTS automation_deliveries_by_site ON automation_deliveries (site, created_at);
-- Erasure of a visitor (their deliveries carry their journey).
CREATE INDEX IF NOT EXISTS automation_deliveries_by_visitor ON automation_deliveries (site, visitor);
CREATE INDEX IF NOT EXISTS automation_stalls_by_visitor ON automation_stalls (site, visitor);
-- Pruning of finished deliveries (and their attempts) after the retention period.
CREATE INDEX IF NOT EXISTS automation_deliveries_done ON automation_deliveries (done_at) WHERE done_at IS NOT NULL;

-- Every attempt of a delivery: when, the HTTP status or the error, how long it took.
CREATE TABLE IF NOT EXISTS automation_attempts (
  delivery TEXT NOT NULL,
  n INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery, n)
);
