/**
 * The read and admin API under `/api`, behind `Authorization: Bearer <admin token>`. Documented in docs/api.md.
 */
import { Hono, type Context } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { jsonError, type AppEnv, type AppOptions } from '../app';
import { CSV_COLUMNS, csvValues } from '../event-fields';
import { counters, funnel, journeyMap, touches, visitorDetail, type VisitorsPage } from '../reports';
import {
  createSite,
  eraseVisitor,
  pendingRefolds,
  saveSite,
  checkSitePatch,
  SiteExistsError,
  SiteInputError,
} from '../sites';
import type { SiteConfig } from '../stages';
import { BadCursorError, type DateRange, type Store, type TimelineEvent, type VisitorQuery } from '../store';
import { BadQueryError, parseIntParam, parseRange, parseVisitorQuery } from './query';

/** Compares two strings in time independent of where they differ. */
export const safeEqual = (a: string, b: string): boolean => {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
};

/** Loads `:site` or answers 404. */
export const loadSite = async (c: Context<AppEnv>): Promise<SiteConfig | Response> => {
  const id = c.req.param('site') ?? '';
  const site = await c.get('store').getSite(id);
  return site ?? jsonError(c, 404, `[cjm] unknown site "${id}"`, 'site');
};

/** Parses a query with `parse`, or answers 400 naming the parameter. */
const query = <T>(c: Context<AppEnv>, parse: (p: URLSearchParams) => T): T | Response => {
  try {
    return parse(new URL(c.req.url).searchParams);
  } catch (e) {
    if (e instanceof BadQueryError) return jsonError(c, 400, e.message, e.path);
    throw e;
  }
};

/** A JSON body, or a 400. */
const jsonBody = async (c: Context<AppEnv>): Promise<unknown> => {
  try {
    return await c.req.json<unknown>();
  } catch {
    return undefined;
  }
};

/** Export columns, in order (docs/api.md), from the field table (core/event-fields.ts). */
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

export const apiRoutes = (options: Pick<AppOptions, 'getAdminToken'>) => {
  const r = new Hono<AppEnv>();
  r.use(
    '*',
    bearerAuth({
      verifyToken: async (token, c) => safeEqual(token, await options.getAdminToken(c)),
      noAuthenticationHeader: { message: { error: '[cjm] the API needs Authorization: Bearer <admin token>' } },
      invalidAuthenticationHeader: {
        message: { error: '[cjm] the Authorization header must be Bearer <admin token>' },
      },
      invalidToken: { message: { error: '[cjm] the admin token is wrong' } },
    }),
  );

  // ----- sites -----
  r.get('/sites', async (c) => c.json({ sites: await c.get('store').listSites() }));

  r.post('/sites', async (c) => {
    const body = await jsonBody(c);
    if (body === undefined) return jsonError(c, 400, '[cjm] the body must be JSON (a site configuration)');
    try {
      return c.json(await createSite(c.get('store'), body), 201);
    } catch (e) {
      if (e instanceof SiteInputError) return jsonError(c, 400, `[cjm] ${e.message}`, e.path);
      if (e instanceof SiteExistsError) return jsonError(c, 409, e.message, 'id');
      throw e;
    }
  });

  r.get('/sites/:site', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    return c.json({ site, refold: { pending: await pendingRefolds(c.get('store'), site) } });
  });

  r.put('/sites/:site', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const body = await jsonBody(c);
    if (body === undefined) return jsonError(c, 400, '[cjm] the body must be JSON (the fields of the site to change)');
    try {
      const b = body as Record<string, unknown>;
      if (b && typeof b === 'object' && b.id !== undefined && b.id !== site.id) {
        return jsonError(c, 400, '[cjm] id cannot be changed; create a new site with POST /api/sites', 'id');
      }
      if (b && typeof b === 'object' && b.revision !== undefined && b.revision !== site.revision) {
        return jsonError(c, 400, '[cjm] revision is set by the server', 'revision');
      }
      return c.json(await saveSite(c.get('store'), site, checkSitePatch(body), c.get('now')()));
    } catch (e) {
      if (e instanceof SiteInputError) return jsonError(c, 400, `[cjm] ${e.message}`, e.path);
      throw e;
    }
  });

  // ----- visitors -----
  r.get('/sites/:site/visitors', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const q = query<VisitorQuery>(c, parseVisitorQuery);
    if (q instanceof Response) return q;
    try {
      return c.json<VisitorsPage>(await c.get('store').listVisitors(site.id, q));
    } catch (e) {
      if (e instanceof BadCursorError) return jsonError(c, 400, e.message, 'cursor');
      throw e;
    }
  });

  r.get('/sites/:site/visitors/:visitor', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const id = c.req.param('visitor');
    const detail = await visitorDetail(c.get('store'), site, id);
    if (!detail) return jsonError(c, 404, `[cjm] no visitor "${id}" on site "${site.id}"`, 'visitor');
    return c.json(detail);
  });

  r.delete('/sites/:site/visitors/:visitor', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const deleted = await eraseVisitor(c.get('store'), site, c.req.param('visitor'), c.get('now')());
    return c.json({ deleted });
  });

  // ----- reports -----
  // Reports that take only a date range (`from`, `to`).
  const rangeReports: Record<string, (store: Store, site: SiteConfig, range: DateRange) => Promise<unknown>> = {
    funnel,
    touches,
    counters,
  };
  for (const [name, report] of Object.entries(rangeReports)) {
    r.get(`/sites/:site/${name}`, async (c) => {
      const site = await loadSite(c);
      if (site instanceof Response) return site;
      const range = query(c, parseRange);
      if (range instanceof Response) return range;
      return c.json(await report(c.get('store'), site, range));
    });
  }

  r.get('/sites/:site/journey-map', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const q = query(c, (p) => ({ range: parseRange(p), top: parseIntParam(p, 'top', 10, 1, 50) }));
    if (q instanceof Response) return q;
    return c.json(await journeyMap(c.get('store'), site, q.range, q.top));
  });

  // ----- export -----
  r.get('/sites/:site/export', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const q = query(c, (p) => {
      const format = p.get('format') || 'ndjson';
      if (format !== 'csv' && format !== 'ndjson') throw new BadQueryError('format must be csv or ndjson', 'format');
      return { format: format as 'csv' | 'ndjson', range: parseRange(p) };
    });
    if (q instanceof Response) return q;
    const file = `cjm-${site.id}-events.${q.format === 'csv' ? 'csv' : 'ndjson'}`;
    return new Response(exportStream(c.get('store'), site.id, q.format, q.range), {
      headers: {
        'Content-Type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="${file.replace(/[^\w.-]/g, '_')}"`,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });
  return r;
};
