/**
 * One error for a full database, whatever the driver: better-sqlite3 throws `SqliteError` with code `SQLITE_FULL`
 * ("database or disk is full": the disk, or `PRAGMA max_page_count`); D1 rejects a write that would grow a database
 * past its size limit (10 GB on Workers Paid, 500 MB on Free) with "D1_ERROR: Exceeded maximum DB size", and a local
 * workerd D1 with "D1_ERROR: database or disk is full: SQLITE_FULL". Each connector passes its errors through
 * `storeError`, so the app sees one `StoreFullError` (core/store.ts) and answers 503.
 */
import { StoreFullError } from '../core/store';

/** The messages and codes of a full database, as better-sqlite3, workerd and D1 report them. */
const FULL = /SQLITE_FULL|database or disk is full|Exceeded maximum DB size/i;

const texts = (e: unknown, depth = 0): string[] => {
  if (depth > 3 || typeof e !== 'object' || e === null) return typeof e === 'string' ? [e] : [];
  const x = e as { message?: unknown; code?: unknown; cause?: unknown };
  return [
    ...(typeof x.code === 'string' ? [x.code] : []),
    ...(typeof x.message === 'string' ? [x.message] : []),
    ...texts(x.cause, depth + 1),
  ];
};

/** Whether a driver's error says the disk or the database is full. */
export const isFullError = (e: unknown): boolean =>
  !(e instanceof StoreFullError) && texts(e).some((t) => FULL.test(t));

/**
 * The error a connector rethrows: a `StoreFullError` for a full disk or database (the driver's error as `cause`),
 * anything else as it came.
 */
export const storeError = (e: unknown): unknown => {
  if (!isFullError(e)) return e;
  const detail = texts(e)
    .filter((t) => FULL.test(t))
    .join('; ');
  const err = new StoreFullError(
    `[cjm] the database is full (${detail}): nothing of this write was stored; free space, raise the limit or move large sites to their own database (npm run move-site)`,
  );
  (err as { cause?: unknown }).cause = e;
  return err;
};
