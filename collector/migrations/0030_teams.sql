-- Teams (issue 17): users, their roles per site, dashboard sessions, personal API tokens, invites, share links and
-- the audit log. Instance-wide tables: with a database per site they stay in the main database (settings side).
-- No secret is stored: sessions, tokens, invites and share links by the SHA-256 of theirs, passwords (of users and
-- of share links) as KDF hashes that name their algorithm and parameters (collector/core/passwords.ts).

-- No comment inside a CREATE TABLE: wrangler strips them on D1, and both runtimes must keep the same schema text.
-- users.instance_owner: made by the bootstrap invite, owner of every site, may create sites.
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  instance_owner INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS memberships (
  site TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_by_user ON memberships (user_id, site);

-- A session ends at expires_at (the absolute cap), after the idle timeout since last_seen_at, or when revoked.
-- user_id NULL: signed in with the admin token; token_tag then ties the session to that token.
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
  token_tag TEXT,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);

CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
  site TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS api_tokens_by_user ON api_tokens (user_id, created_at);

-- invites.site NULL: the bootstrap invite of the first user (an instance owner).
CREATE TABLE IF NOT EXISTS invites (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  site TEXT,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  used_by TEXT,
  revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS invites_by_site ON invites (site, created_at);

CREATE TABLE IF NOT EXISTS share_links (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  password_hash TEXT,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_viewed_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS share_links_by_site ON share_links (site, created_at);

-- Append-only: the triggers refuse any change or deletion of an entry, whoever asks.
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site TEXT NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  actor_label TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_by_site ON audit_log (site, id);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
