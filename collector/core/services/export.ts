/**
 * The raw-event export (`GET /api/sites/:site/export`, docs/api.md): the columns, CSV cells safe from spreadsheet
 * formulas, and a stream that reads the store page by page so memory stays flat whatever the site's size.
 */
import { CSV_COLUMNS, csvValues } from '../event-fields';
import type { DateRange, Store, TimelineEvent } from '../store';

/** Export columns, in order (docs/protocol.md, "CSV export columns"), from the field table (core/event-fields.ts). */
export const EXPORT_COLUMNS: readonly string[] = CSV_COLUMNS.map((c) => c.column);

/**
 * One CSV cell (RFC 4180). Text that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
 * return) is prefixed with `'`.
 */
export const csvCell = (v: string | number | null | undefined): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
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
