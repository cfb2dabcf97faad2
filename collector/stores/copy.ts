/**
 * The table-generic copy of one site's rows between two databases of the same schema, for `npm run move-site`
 * (stores/move.ts). The tables and their columns are read from the databases themselves (`sqlite_master`,
 * `pragma_table_info`, both allowed on D1), so a migration that adds a table or a column needs no change here — as
 * long as the table has a `site` column. Tables without one are listed in `TABLE_RULES`, the one place that says how
 * a move treats them; a table found in neither makes the move refuse to start, naming it.
 *
 * Rows are read in key order in chunks (`rowid` for ordinary tables, so events keep their arrival order and the
 * export's order; the primary key for WITHOUT ROWID tables) and written with `INSERT OR IGNORE` in statements of at
 * most 100 bound values (D1's limit), so a copy interrupted at any point is resumed by running it again.
 */
import type { SqlConnector, SqlStatement, SqlValue } from './sql';
import { query, sql } from './sql/shared';

/** How a move treats a table that has no `site` column, or whose rows stay with the settings. */
export type TableRule =
  /** Not copied: values of one database. */
  | { kind: 'skip'; why: string }
  /**
   * A site's settings (in the main database): left where they are by a move between D1 databases, copied into the
   * main database by a move out of a Node SQLite file. `column` holds the site id.
   */
  | { kind: 'settings'; column: string }
  /** Rows of a site found through a parent table: `column` IN (SELECT `parentKey` FROM `parent` WHERE site = ?). */
  | { kind: 'via'; column: string; parent: string; parentKey: string };

/**
 * Every table a move does not copy by its `site` column. A new table without a `site` column (a dictionary shared by
 * the sites of a database, say) must be added here with how to copy it, or move-site refuses to run.
 */
export const TABLE_RULES: Readonly<Record<string, TableRule>> = {
  meta: { kind: 'skip', why: 'values of one database: the admin token, salts, the routing table, moves' },
  d1_migrations: { kind: 'skip', why: 'the schema record: each database is migrated by wrangler or by cjm' },
  sites: { kind: 'settings', column: 'id' },
  write_keys: { kind: 'settings', column: 'site' },
  // Teams (migration 0030): accounts are the instance's, not a site's — a move carries none of them (the members of
  // a site moved out of a Node file are invited again on the target); a site's share links and audit log are its
  // settings.
  users: { kind: 'skip', why: "the instance's accounts" },
  memberships: { kind: 'skip', why: "roles of the instance's accounts (they need their users)" },
  sessions: { kind: 'skip', why: 'dashboard sessions of this instance' },
  api_tokens: { kind: 'skip', why: "personal tokens of the instance's accounts" },
  invites: { kind: 'skip', why: "invites to the instance's accounts" },
  share_links: { kind: 'settings', column: 'site' },
  audit_log: { kind: 'settings', column: 'site' },
  automation_attempts: {
    kind: 'via',
    column: 'delivery',
    parent: 'automation_deliveries',
    parentKey: 'id',
  },
};

/** Meta rows that are a site's settings (copied with the site out of a Node SQLite file; `salt:` days too). */
export const siteMetaKeys = (site: string): string[] => [`automation.settings:${site}`, `automation.secret:${site}`];
/** Meta rows shared by all sites that a move out of a Node file takes along unless the target has its own. */
export const SHARED_META_PREFIXES = ['salt:'] as const;
/**
 * The keyed hashes' secret (when kept in the database) and its check value (core/privacy.ts): tombstones and
 * server-side visitor ids copied out of a Node file only match under the file's secret.
 */
export const HASH_META = { secret: 'hash_secret', check: 'hash_secret_check' } as const;

/** One table as a move sees it. */
export interface TablePlan {
  name: string;
  columns: string[];
  /** Primary key columns, in key order (WITHOUT ROWID tables are paged by them). */
  pk: string[];
  /** An ordinary table (paged by rowid); false for WITHOUT ROWID. */
  rowid: boolean;
  rule: 'site' | 'via' | 'settings';
  /** For `via`: its parent rule; for `settings`: the site column. */
  via?: Extract<TableRule, { kind: 'via' }>;
  siteColumn: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const q = (name: string): string => {
  if (!IDENT.test(name)) throw new Error(`[cjm] move-site: the table or column name "${name}" is not a plain name`);
  return `"${name}"`;
};

/** Tables SQLite and D1 keep for themselves. */
const internal = (name: string) => name.startsWith('sqlite_') || name.startsWith('_cf_');

/**
 * The tables of a database and how a move copies each, in copy order (parents before the tables copied through
 * them). Throws, naming the table, for a table that has no `site` column and is not in `TABLE_RULES`.
 */
export const planTables = async (db: SqlConnector): Promise<TablePlan[]> => {
  const tables = await query<{ name: string; sql: string | null }>(
    db,
    sql`SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name`,
  );
  const out: TablePlan[] = [];
  for (const t of tables) {
    if (internal(t.name)) continue;
    const rule = TABLE_RULES[t.name];
    if (rule?.kind === 'skip') continue;
    const cols = await query<{ name: string; pk: number }>(
      db,
      sql`SELECT name, pk FROM pragma_table_info(${t.name}) ORDER BY cid`,
    );
    const columns = cols.map((c) => c.name);
    const pk = cols
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    const rowid = !/\bWITHOUT\s+ROWID\b/i.test(t.sql ?? '');
    if (!rowid && pk.length === 0) throw new Error(`[cjm] move-site: table ${t.name} has no primary key`);
    if (rule?.kind === 'settings') {
      out.push({ name: t.name, columns, pk, rowid, rule: 'settings', siteColumn: rule.column });
    } else if (rule?.kind === 'via') {
      out.push({ name: t.name, columns, pk, rowid, rule: 'via', via: rule, siteColumn: rule.column });
    } else if (columns.includes('site')) {
      out.push({ name: t.name, columns, pk, rowid, rule: 'site', siteColumn: 'site' });
    } else {
      throw new Error(
        `[cjm] move-site: table ${t.name} has no site column and collector/stores/copy.ts TABLE_RULES does not say how to move it; add it there (skip, settings, or via a parent table)`,
      );
    }
  }
  // Copy order: a `via` table after its parent; deletion runs in the reverse order.
  const rank = (p: TablePlan) => (p.rule === 'via' ? 1 : 0);
  return out.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
};

/** `WHERE …` selecting the site's rows of a table, and its parameters. */
const siteWhere = (t: TablePlan, site: string): SqlStatement =>
  t.rule === 'via' && t.via
    ? {
        sql: `${q(t.via.column)} IN (SELECT ${q(t.via.parentKey)} FROM ${q(t.via.parent)} WHERE site = ?)`,
        params: [site],
      }
    : { sql: `${q(t.siteColumn)} = ?`, params: [site] };

/** How many rows of the site a table holds. */
export const countRows = async (db: SqlConnector, t: TablePlan, site: string): Promise<number> => {
  const w = siteWhere(t, site);
  const [row] = await db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM ${q(t.name)} WHERE ${w.sql}`, w.params);
  return row?.n ?? 0;
};

const valueOf = (v: unknown, table: string, column: string): SqlValue => {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  throw new Error(`[cjm] move-site: ${table}.${column} holds a ${typeof v}; only text, numbers and null are copied`);
};

export interface CopyProgress {
  table: string;
  copied: number;
}

/**
 * Copies the site's rows of one table from `from` to `to`, `chunk` rows per read and per write batch; rows the
 * target has already (same primary key) are kept. `progress` is called after each chunk (it may throw: the copy
 * stops there, and running it again goes on). Returns the rows read.
 */
export const copyTable = async (
  from: SqlConnector,
  to: SqlConnector,
  t: TablePlan,
  site: string,
  chunk = 500,
  progress?: (p: CopyProgress) => void | Promise<void>,
): Promise<number> => {
  const w = siteWhere(t, site);
  const cols = t.columns.map(q).join(', ');
  const perStatement = Math.max(1, Math.floor(100 / t.columns.length));
  let copied = 0;
  let after: SqlValue[] | null = null;
  for (;;) {
    let text: string;
    const params: SqlValue[] = [...w.params];
    if (t.rowid) {
      text = `SELECT rowid AS "cjm_pos", ${cols} FROM ${q(t.name)} WHERE ${w.sql} AND rowid > ? ORDER BY rowid LIMIT ?`;
      params.push(after?.[0] ?? 0, chunk);
    } else {
      const key = t.pk.map(q).join(', ');
      const cond = after ? ` AND (${key}) > (${t.pk.map(() => '?').join(', ')})` : '';
      if (after) params.push(...after);
      text = `SELECT ${cols} FROM ${q(t.name)} WHERE ${w.sql}${cond} ORDER BY ${key} LIMIT ?`;
      params.push(chunk);
    }
    const rows = await from.all<Record<string, unknown>>(text, params);
    if (rows.length === 0) return copied;
    const statements: SqlStatement[] = [];
    for (let i = 0; i < rows.length; i += perStatement) {
      const part = rows.slice(i, i + perStatement);
      const values: SqlValue[] = [];
      for (const r of part) for (const c of t.columns) values.push(valueOf(r[c], t.name, c));
      const row = `(${t.columns.map(() => '?').join(', ')})`;
      statements.push({
        sql: `INSERT OR IGNORE INTO ${q(t.name)} (${cols}) VALUES ${part.map(() => row).join(', ')}`,
        params: values,
      });
    }
    await to.batch(statements);
    copied += rows.length;
    const last = rows[rows.length - 1] as Record<string, unknown>;
    after = t.rowid ? [valueOf(last.cjm_pos, t.name, 'rowid')] : t.pk.map((c) => valueOf(last[c], t.name, c));
    await progress?.({ table: t.name, copied });
    if (rows.length < chunk) return copied;
  }
};

/**
 * Deletes the site's rows of one table, `chunk` rows per statement (each a short transaction: SQLite's writers and
 * D1's single thread are never held long). Returns the rows deleted.
 */
export const deleteRows = async (
  db: SqlConnector,
  t: TablePlan,
  site: string,
  chunk = 500,
  progress?: (p: CopyProgress) => void | Promise<void>,
): Promise<number> => {
  const w = siteWhere(t, site);
  const key = t.rowid ? 'rowid' : `(${t.pk.map(q).join(', ')})`;
  const pick = t.rowid ? 'rowid' : t.pk.map(q).join(', ');
  let deleted = 0;
  for (let left = await countRows(db, t, site); left > 0; left = await countRows(db, t, site)) {
    await db.batch([
      {
        sql: `DELETE FROM ${q(t.name)} WHERE ${key} IN (SELECT ${pick} FROM ${q(t.name)} WHERE ${w.sql} LIMIT ?)`,
        params: [...w.params, chunk],
      },
    ]);
    deleted += Math.min(left, chunk);
    await progress?.({ table: t.name, copied: deleted });
  }
  return deleted;
};
