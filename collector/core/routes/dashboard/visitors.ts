/** The visitors tab: the filtered, paged list; one visitor's timeline; erasing a visitor. */
import { Hono } from 'hono';
import { CHANNELS } from '../../channels';
import { h } from '../../dashboard/format';
import { sitePath } from '../../dashboard/layout';
import { timelinePage } from '../../dashboard/pages/timeline';
import { visitorsPage, type VisitorFilters } from '../../dashboard/pages/visitors';
import { InputError } from '../../errors';
import { formBody, type AppEnv } from '../../http';
import type { VisitorsPage } from '../../reports';
import { eraseVisitor } from '../../services/erasure';
import { getVisitor, listVisitors } from '../../services/visitors';
import type { VisitorQuery } from '../../store';
import { dateRange, flashOf, render, sitePage } from './page';

export const visitorRoutes = () => {
  const r = new Hono<AppEnv>();

  r.get('/sites/:site/visitors', sitePage, async (c) => {
    const { site, range, store } = c.var;
    const q = c.req.query();
    // A dashboard link never dead-ends: unknown filter values are left out rather than refused.
    const filters: VisitorFilters = {};
    if (q.stage && site.stages.some((s) => s.name === q.stage)) filters.stage = q.stage;
    if (q.channel && (CHANNELS as readonly string[]).includes(q.channel)) filters.channel = q.channel;
    if (q.converted === 'true' || q.converted === 'false') filters.converted = q.converted === 'true';
    if (q.q && q.q.trim()) filters.q = q.q.trim().slice(0, 200);
    const query: VisitorQuery = { limit: 50, ...filters, ...dateRange(range) };
    if (q.cursor) query.cursor = q.cursor.slice(0, 1000);
    let page: VisitorsPage;
    let flash = flashOf(c);
    try {
      page = await listVisitors(store, site, query);
    } catch (e) {
      if (!(e instanceof InputError && e.path === 'cursor')) throw e;
      delete query.cursor;
      page = await listVisitors(store, site, query);
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
      sub: h`<p class="muted small">Active in the ${range.label}, newest activity first · times in UTC</p>`,
    });
  });

  r.get('/sites/:site/visitors/:visitor', sitePage, async (c) => {
    const site = c.var.site;
    const id = c.req.param('visitor');
    let detail;
    try {
      detail = await getVisitor(c.var.store, site, id);
    } catch (e) {
      if (!(e instanceof InputError && e.status === 404)) throw e;
      c.status(404);
      return render(
        c,
        'visitors',
        'Visitor not found',
        h`<div class="card empty"><p>No visitor “${id}” on this site (erased, or never seen).</p><p><a href="${sitePath(site.id, 'visitors')}">All visitors</a></p></div>`,
        { range: false },
      );
    }
    return render(c, 'visitors', 'Visitor timeline', timelinePage(site.id, detail), {
      range: false,
      sub: h`<p class="muted small"><a href="${sitePath(site.id, 'visitors')}">← all visitors</a> · times in UTC</p>`,
    });
  });

  r.post('/sites/:site/visitors/:visitor/delete', sitePage, formBody(), async (c) => {
    const site = c.var.site;
    const erased = await eraseVisitor(c.var.store, site, c.req.param('visitor'), c.var.now());
    return c.redirect(`${sitePath(site.id, 'visitors')}?erased=${erased.events}`, 303);
  });
  return r;
};
