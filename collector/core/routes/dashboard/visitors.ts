/**
 * The visitors tab (analysts and up): the filtered, paged list; one visitor's timeline; erasing a visitor (admins);
 * the export button's CSV download of a range (analysts).
 */
import { Hono } from 'hono';
import { can } from '../../access';
import { CHANNELS } from '../../channels';
import { day, h } from '../../dashboard/format';
import { sitePath } from '../../dashboard/layout';
import { timelinePage } from '../../dashboard/pages/timeline';
import { DEVICE_CLASSES, visitorsPage, type VisitorFilters } from '../../dashboard/pages/visitors';
import { InputError } from '../../errors';
import { formBody } from '../../http';
import type { VisitorsPage } from '../../reports';
import { days } from '../../retention';
import { eraseVisitor } from '../../services/erasure';
import { exportSite } from '../../services/export';
import { getVisitor, listVisitors } from '../../services/visitors';
import type { VisitorQuery } from '../../store';
import { dateRange, flashOf, render, sitePage, type SignedInEnv } from './page';
import { timezoneOf } from '../../timezone';

export const visitorRoutes = () => {
  const r = new Hono<SignedInEnv>();

  r.get('/sites/:site/visitors', sitePage, async (c) => {
    const { site, range, store } = c.var;
    const q = c.req.query();
    // A dashboard link never dead-ends: unknown filter values are left out rather than refused.
    const filters: VisitorFilters = {};
    if (q.stage && site.stages.some((s) => s.name === q.stage)) filters.stage = q.stage;
    if (q.channel && (CHANNELS as readonly string[]).includes(q.channel)) filters.channel = q.channel;
    if (q.lastChannel && (CHANNELS as readonly string[]).includes(q.lastChannel)) filters.lastChannel = q.lastChannel;
    if (q.device && (DEVICE_CLASSES as readonly string[]).includes(q.device)) filters.device = q.device;
    if (q.identified === 'true' || q.identified === 'false') filters.identified = q.identified === 'true';
    if (q.converted === 'true' || q.converted === 'false') filters.converted = q.converted === 'true';
    if (q.q && q.q.trim()) filters.q = q.q.trim().slice(0, 200);
    const query: VisitorQuery = { limit: 50, ...filters, ...dateRange(range) };
    if (q.cursor) query.cursor = q.cursor.slice(0, 1000);
    let page: VisitorsPage;
    let flash = flashOf(c);
    try {
      page = await listVisitors(c.var.actor, store, site, query, c.var.now());
    } catch (e) {
      if (!(e instanceof InputError && e.path === 'cursor')) throw e;
      delete query.cursor;
      page = await listVisitors(c.var.actor, store, site, query, c.var.now());
      flash = h`<div class="error">That page link has expired; showing the first page.</div>`;
    }
    const body = visitorsPage({
      site,
      filters,
      rangeQuery: range.query,
      visitors: page.visitors,
      cursor: page.cursor,
      paged: !!query.cursor,
      now: c.var.now(),
      flash,
    });
    return render(c, 'visitors', 'Visitors', body, {
      sub: h`<p class="muted small">Active in the ${range.label}, newest activity first · times in ${timezoneOf(site)}</p>${
        page.expired && page.detailsFrom !== undefined
          ? h`<p class="expired-note" data-testid="expired-note">Visitor details expired before ${day(page.detailsFrom, timezoneOf(site))}: this site keeps them ${days(page.retentionDays ?? 0)} after a journey's last activity, so visitors inactive since then are no longer listed. The journey map and funnel keep their numbers.</p>`
          : ''
      }`,
      exportable: true,
    });
  });

  r.get('/sites/:site/visitors/:visitor', sitePage, async (c) => {
    const site = c.var.site;
    const id = c.req.param('visitor');
    let detail;
    try {
      detail = await getVisitor(c.var.actor, c.var.store, site, id);
    } catch (e) {
      if (!(e instanceof InputError && e.status === 404)) throw e;
      c.status(404);
      return render(
        c,
        'visitors',
        'Visitor not found',
        h`<div class="card empty"><p>No visitor “${id}” on this site (erased, or never seen${site.retentionDays == null ? '' : h`, or expired: this site keeps visitor details ${days(site.retentionDays)} after a journey's last activity`}).</p><p><a href="${sitePath(site.id, 'visitors')}">All visitors</a></p></div>`,
        { range: false },
      );
    }
    const canErase = can(c.var.actor, site.id, 'visitors.erase');
    return render(c, 'visitors', 'Visitor timeline', timelinePage(site.id, detail, canErase), {
      range: false,
      sub: h`<p class="muted small"><a href="${sitePath(site.id, 'visitors')}">← all visitors</a> · times in ${timezoneOf(site)}</p>`,
    });
  });

  r.post('/sites/:site/visitors/:visitor/delete', sitePage, formBody(), async (c) => {
    const site = c.var.site;
    const erased = await eraseVisitor(c.var.actor, c.var.store, site, c.req.param('visitor'), c.var.now());
    return c.redirect(`${sitePath(site.id, 'visitors')}?erased=${erased.events}`, 303);
  });

  // The export button: the page's range, as CSV (the same stream as GET /api/sites/:site/export).
  r.get('/sites/:site/export', sitePage, (c) => {
    const site = c.var.site;
    const format = c.req.query('format') === 'ndjson' ? 'ndjson' : 'csv';
    const stream = exportSite(c.var.actor, c.var.store, site, format, dateRange(c.var.range));
    const file = `cjm-${site.id}-events.${format}`.replace(/[^\w.-]/g, '_');
    return new Response(stream, {
      headers: {
        'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="${file}"`,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });
  return r;
};
