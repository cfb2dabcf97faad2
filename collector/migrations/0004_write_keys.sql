-- Server-side write keys (issue 9): per-site secrets for the Segment-compatible API under /v1.
-- Only the SHA-256 of a key is stored; `prefix` (its first characters) lets people tell keys apart in lists.
-- Revoking sets revoked_at and keeps the row, so a list shows which key was used when and until when.
CREATE TABLE IF NOT EXISTS write_keys (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS write_keys_by_site ON write_keys (site, created_at);
