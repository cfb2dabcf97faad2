/**
 * The raw-event export (`GET /api/sites/:site/export`, docs/api.md): the columns, CSV cells safe from spreadsheet
 * formulas, and a stream that reads the store page by page so memory stays flat whatever the site's size.
 */
import { authorize, type Actor } from '../access';
import { CSV_COLUMNS, csvValues } from '../event-fields';
import type { SiteConfig } from '../stages';
import type { DateRange, Store, TimelineEvent } from '../store';

/** Export columns, in order (docs/protocol.md, "CSV export columns"), from the field table (core/event-fields.ts). */
export const EXPORT_COLUMNS: readonly string[] = CSV_COLUMNS.map((c) => c.column);

/**
 * What a spreadsheet may skip before it decides a cell is a formula: white space and invisible characters (space,
 * tab, CR, LF, NBSP, the BOM, the other Unicode spaces and zero-width characters), and ASCII control characters.
 */
// eslint-disable-next-line no-control-regex -- control characters are what a spreadsheet skips, so the guard does
const SKIPPED = /^[\s\u0000-\u001f\u007f\u00a0\u00ad\u180e\u200b-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]*/u;
/** Characters that start a formula, ASCII and full-width (`＝ ＋ － ＠`, which some spreadsheets fold to ASCII). */
const FORMULA_START = /^[=+\-@\uff1d\uff0b\uff0d\uff20]/u;

/**
 * One CSV cell (RFC 4180). NUL characters are removed (some readers cut the cell there). Text that a spreadsheet
 * could run as a formula — starting with `= + - @` or their full-width forms, after any leading white space or
 * invisible characters, or starting with a tab or a line break — is prefixed with `'`.
 */
export const csvCell = (v: string | number | null | undefined): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  const text = v.replace(/\u0000/g, ''); // eslint-disable-line no-control-regex -- NUL is what is removed
  const rest = text.replace(SKIPPED, '');
  const safe = FORMULA_START.test(rest) || /^[\t\r\n]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export const csvRow = (e: TimelineEvent): string => csvValues(e).map(csvCell).join(',') + '\r\n';

/** Rows per page read from the database while exporting. */
export const EXPORT_PAGE = 1000;

/** Streams a site's raw events page by page (memory stays flat), as CSV or NDJSON. */
export const exportStream = (
  store: Store,
  site: string,
  format: 'csv' | 'ndjson',
  range: DateRange,
): ReadableStream<Uint8Array> => {
  const enc = new TextEncoder();
  let after: number | null = 0;
  let header = format === 'csv';
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (header) {
        header = false;
        controller.enqueue(enc.encode(EXPORT_COLUMNS.join(',') + '\r\n'));
        return;
      }
      if (after === null) {
        controller.close();
        return;
      }
      const page = await store.exportEvents(site, after, EXPORT_PAGE, range);
      after = page.next;
      const text = page.events.map((e) => (format === 'csv' ? csvRow(e) : JSON.stringify(e) + '\n')).join('');
      if (text) controller.enqueue(enc.encode(text));
      if (after === null) controller.close();
    },
  });
};

/** The export of a site for an actor (analyst and up): the stream, or a 403/404 before anything is read. */
export const exportSite = (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  format: 'csv' | 'ndjson',
  range: DateRange,
): ReadableStream<Uint8Array> => {
  authorize(actor, site.id, 'export');
  return exportStream(store, site.id, format, range);
};
