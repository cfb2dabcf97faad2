/**
 * The read and admin API of sites, visitors, reports and the export, mounted under `/api` by app.ts behind the
 * admin token (`Authorization: Bearer <admin token>`). Documented in docs/api.md.
 */
import { Hono } from 'hono';
import { jsonBody, searchParams, withSite, type AppEnv } from '../http';
import { counters, funnel, journeyMap, touches, type VisitorsPage } from '../reports';
import { eraseVisitor } from '../services/erasure';
import { exportStream } from '../services/export';
import { createSite, siteAnswer, updateSite } from '../services/sites';
import { applySiteTemplate, listTemplates } from '../services/templates';
import { getVisitor, listVisitors } from '../services/visitors';
import type { SiteConfig } from '../stages';
import type { DateRange, Store } from '../store';
import { parseExport, parseIntParam, parseRange, parseVisitorQuery } from './query';

/** Reports that take only a date range (`from`, `to`). */
const RANGE_REPORTS: Record<string, (store: Store, site: SiteConfig, range: DateRange) => Promise<unknown>> = {
  funnel,
  touches,
  counters,
};

export const apiRoutes = () => {
  const r = new Hono<AppEnv>();

  // ----- sites -----
  r.get('/sites', async (c) => c.json({ sites: await c.var.store.listSites() }));

  r.post('/sites', jsonBody({ expected: 'a site configuration' }), async (c) =>
    c.json(await createSite(c.var.store, c.var.body, c.var.storage.probe?.names), 201),
  );

  r.get('/sites/:site', withSite, async (c) => c.json(await siteAnswer(c.var.store, c.var.site)));

  r.put('/sites/:site', withSite, jsonBody({ expected: 'the fields of the site to change' }), async (c) =>
    c.json(await updateSite(c.var.store, c.var.site, c.var.body, c.var.now())),
  );

  // ----- stage templates -----
  r.get('/templates', (c) => c.json({ templates: listTemplates() }));

  r.put(
    '/sites/:site/template',
    withSite,
    jsonBody({ maxBytes: 4096, expected: '{ "template": "<id>" }' }),
    async (c) => c.json(await applySiteTemplate(c.var.store, c.var.site, c.var.body, c.var.now())),
  );

  // ----- visitors -----
  r.get('/sites/:site/visitors', withSite, async (c) =>
    c.json<VisitorsPage>(await listVisitors(c.var.store, c.var.site, parseVisitorQuery(searchParams(c)))),
  );

  r.get('/sites/:site/visitors/:visitor', withSite, async (c) =>
    c.json(await getVisitor(c.var.store, c.var.site, c.req.param('visitor'))),
  );

  r.delete('/sites/:site/visitors/:visitor', withSite, async (c) =>
    c.json({ deleted: await eraseVisitor(c.var.store, c.var.site, c.req.param('visitor'), c.var.now()) }),
  );

  // ----- reports -----
  for (const [name, report] of Object.entries(RANGE_REPORTS)) {
    r.get(`/sites/:site/${name}`, withSite, async (c) =>
      c.json(await report(c.var.store, c.var.site, parseRange(searchParams(c)))),
    );
  }

  r.get('/sites/:site/journey-map', withSite, async (c) => {
    const p = searchParams(c);
    const range = parseRange(p);
    return c.json(await journeyMap(c.var.store, c.var.site, range, parseIntParam(p, 'top', 10, 1, 50)));
  });

  // ----- export -----
  r.get('/sites/:site/export', withSite, (c) => {
    const { format, range } = parseExport(searchParams(c));
    const site = c.var.site;
    const file = `cjm-${site.id}-events.${format === 'csv' ? 'csv' : 'ndjson'}`;
    return new Response(exportStream(c.var.store, site.id, format, range), {
      headers: {
        'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="${file.replace(/[^\w.-]/g, '_')}"`,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });
  return r;
};
