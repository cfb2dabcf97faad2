/**
 * What every SQL area file shares (and it imports none of them): the connector a driver provides, the `sql` tagged
 * template that keeps each statement's text and parameters together, and chunking for IN-lists.
 *
 * @example
 * const q = sql`SELECT id FROM events WHERE site = ${site} AND id IN ${list(part)}`
 * // → { sql: 'SELECT id FROM events WHERE site = ? AND id IN (?,?,?)', params: ['shop', 'e1', 'e2', 'e3'] }
 * const rows = await query<{ id: string }>(db, q)
 */

export type SqlValue = string | number | null;
export interface SqlStatement {
  sql: string;
  params: SqlValue[];
}

/** What a driver provides: reads, and an atomic batch of writes. */
export interface SqlConnector {
  all<T = Record<string, SqlValue>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs all statements in one transaction: all of them or none. */
  batch(statements: readonly SqlStatement[]): Promise<void>;
}

/** D1 binds at most 100 parameters per statement. */
export const MAX_PARAMS = 100;
/** Largest IN-list we bind (a few of D1's 100 parameters go to other columns). */
export const CHUNK = 90;

export const chunks = <T>(items: readonly T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** A piece of SQL with its parameters: what `sql`, `raw` and `list` return; interpolated into `sql` as-is. */
export class Sql implements SqlStatement {
  constructor(
    readonly sql: string,
    readonly params: SqlValue[],
  ) {}
}

/** What `sql` accepts between the backquotes: a value to bind (undefined binds null, as D1 wants), or a piece. */
export type SqlPart = SqlValue | undefined | Sql;

const bind = (v: SqlValue | undefined): SqlValue => (v === undefined ? null : v);

/** The text of templates that interpolate only values, per call site: the same string every call (its hash too). */
const texts = new WeakMap<TemplateStringsArray, string>();

/**
 * A statement from a template: each `${value}` becomes a `?` bound to the value (undefined binds null), each
 * `${piece}` (from `sql`, `raw`, `list`) its text and parameters. Throws past D1's 100 parameters.
 */
export const sql = (strings: TemplateStringsArray, ...parts: readonly SqlPart[]): Sql => {
  const params: SqlValue[] = [];
  let pieces = false;
  for (const p of parts) {
    if (p instanceof Sql) {
      pieces = true;
      for (const v of p.params) params.push(v);
    } else params.push(bind(p));
  }
  if (params.length > MAX_PARAMS)
    throw new Error(`[cjm] a statement binds ${params.length} parameters; D1 allows ${MAX_PARAMS}: chunk the list`);
  if (!pieces) {
    let text = texts.get(strings);
    if (text === undefined) texts.set(strings, (text = strings.join('?')));
    return new Sql(text, params);
  }
  let text = strings[0] ?? '';
  parts.forEach((p, i) => {
    text += (p instanceof Sql ? p.sql : '?') + (strings[i + 1] ?? '');
  });
  return new Sql(text, params);
};

/** SQL text written by the code (a table or column name, a fixed clause), never a value from input. */
export const raw = (text: string): Sql => new Sql(text, []);

/** Nothing: for an optional clause (`${cond ? sql`AND x = ${x}` : empty}`). */
export const empty = raw('');

/** `(?,?,…)` bound to `values`: an IN-list or a VALUES row; at most `CHUNK` values (chunk longer lists). */
export const list = (values: readonly (SqlValue | undefined)[]): Sql => {
  if (values.length > CHUNK) throw new Error(`[cjm] an IN-list of ${values.length} values; chunk it to ${CHUNK}`);
  return new Sql(`(${values.map(() => '?').join(',')})`, values.map(bind));
};

/** Pieces joined by `separator` (e.g. conditions by ' AND '). */
export const join = (pieces: readonly Sql[], separator: string): Sql =>
  new Sql(
    pieces.map((p) => p.sql).join(separator),
    pieces.flatMap((p) => p.params),
  );

/**
 * ` AND col >= ? AND col <= ?` for a range of ms (inclusive). Both bounds are always bound (open ends as ±2^53) so
 * the planner picks the same indexes (the cohort indexes, which cover the report queries) whatever the range.
 */
export const within = (col: string, range: { from?: number; to?: number }): Sql => {
  const c = raw(col);
  return sql` AND ${c} >= ${range.from ?? -Number.MAX_SAFE_INTEGER} AND ${c} <= ${range.to ?? Number.MAX_SAFE_INTEGER}`;
};

/** Rows of a query. */
export const query = <T>(db: SqlConnector, q: SqlStatement): Promise<T[]> => db.all<T>(q.sql, q.params);
