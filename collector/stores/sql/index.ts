/**
 * The Store over any SQLite-dialect connector. better-sqlite3 (stores/sqlite.ts) and D1 (stores/d1.ts) only
 * provide a connector; all SQL lives here once, one file per area, so both drivers give byte-for-byte the same
 * results (db0's model).
 *
 * Layers (no file imports one above it): shared.ts (connector, `sql` template, chunks) ← rollups.ts ← journeys.ts
 * (a journey's rows) and automation.ts ← privacy.ts ← events.ts; reports.ts, keys.ts, sites.ts and team.ts need only
 * shared.ts (and rollups.ts); rekey.ts (earlier versions' unkeyed hashes) needs journeys.ts. This file composes them.
 */
import type { Store } from '../../core/store';
import { sqlAutomationStore } from './automation';
import { sqlEventStore } from './events';
import { sqlKeyStore } from './keys';
import { sqlPrivacyStore } from './privacy';
import { sqlRekeyStore } from './rekey';
import { sqlReportStore } from './reports';
import type { SqlConnector } from './shared';
import { sqlSiteStore } from './sites';
import { sqlTeamStore } from './team';

export type { SqlConnector, SqlStatement, SqlValue } from './shared';

/**
 * Builds the Store from a connector: one part per area of the Store interface (core/store.ts).
 *
 * @example
 * const store = createSqlStore({ all: async (sql, p) => db.prepare(sql).all(...p), batch: ... })
 */
export const createSqlStore = (db: SqlConnector): Store => ({
  ...sqlEventStore(db),
  ...sqlReportStore(db),
  ...sqlPrivacyStore(db),
  ...sqlKeyStore(db),
  ...sqlAutomationStore(db),
  ...sqlSiteStore(db),
  ...sqlRekeyStore(db),
  ...sqlTeamStore(db),
});
