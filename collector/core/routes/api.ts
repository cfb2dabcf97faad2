/**
 * The read and admin API of sites, visitors, reports and the export, mounted under `/api` by app.ts behind the
 * bearer check (`Authorization: Bearer <admin token | personal API token>`); each service authorizes the actor
 * (core/access.ts). Documented in docs/api.md.
 */
import { Hono } from 'hono';
import { jsonBody, searchParams, withSite, type ApiEnv } from '../http';
import { InputError } from '../errors';
import { eraseVisitor } from '../services/erasure';
import { exportSite } from '../services/export';
import { DEFAULT_RETENTION_WEEKS, MAX_RETENTION_WEEKS, type VisitorsPage } from '../reports';
import { RANGE_REPORTS, readJourneyMap, readRetention, SEGMENTED_REPORTS } from '../services/reports';
import { createSite, listSitesFor, siteAnswer, updateSite } from '../services/sites';
import { applySiteTemplate, listTemplates } from '../services/templates';
import { getVisitor, listVisitors } from '../services/visitors';
import { timezoneOf } from '../timezone';
import { parseExport, parseIntParam, parseRange, parseReportOptions, parseVisitorQuery, SEGMENT_PARAMS } from './query';

export const apiRoutes = () => {
  const r = new Hono<ApiEnv>();

  // ----- sites -----
  r.get('/sites', async (c) => c.json({ sites: await listSitesFor(c.var.actor, c.var.store) }));

  r.post('/sites', jsonBody({ expected: 'a site configuration' }), async (c) =>
    c.json(await createSite(c.var.actor, c.var.store, c.var.body, c.var.now(), c.var.storage.probe?.names), 201),
  );

  r.get('/sites/:site', withSite, async (c) => c.json(await siteAnswer(c.var.actor, c.var.store, c.var.site)));

  r.put('/sites/:site', withSite, jsonBody({ expected: 'the fields of the site to change' }), async (c) =>
    c.json(await updateSite(c.var.actor, c.var.store, c.var.site, c.var.body, c.var.now())),
  );

  // ----- stage templates -----
  r.get('/templates', (c) => c.json({ templates: listTemplates() }));

  r.put(
    '/sites/:site/template',
    withSite,
    jsonBody({ maxBytes: 4096, expected: '{ "template": "<id>" }' }),
    async (c) => c.json(await applySiteTemplate(c.var.actor, c.var.store, c.var.site, c.var.body, c.var.now())),
  );

  // ----- visitors -----
  r.get('/sites/:site/visitors', withSite, async (c) =>
    c.json<VisitorsPage>(
      await listVisitors(
        c.var.actor,
        c.var.store,
        c.var.site,
        parseVisitorQuery(searchParams(c), timezoneOf(c.var.site)),
        c.var.now(),
      ),
    ),
  );

  r.get('/sites/:site/visitors/:visitor', withSite, async (c) =>
    c.json(await getVisitor(c.var.actor, c.var.store, c.var.site, c.req.param('visitor'))),
  );

  r.delete('/sites/:site/visitors/:visitor', withSite, async (c) =>
    c.json({ deleted: await eraseVisitor(c.var.actor, c.var.store, c.var.site, c.req.param('visitor'), c.var.now()) }),
  );

  // ----- reports -----
  for (const [name, report] of Object.entries(RANGE_REPORTS)) {
    r.get(`/sites/:site/${name}`, withSite, async (c) => {
      const p = searchParams(c);
      const options = parseReportOptions(
        p,
        c.var.site.stages.map((s) => s.name),
      );
      if (options.segment && !SEGMENTED_REPORTS.has(name)) {
        const given = SEGMENT_PARAMS.find((k) => p.has(k)) ?? 'firstChannel';
        throw new InputError(
          400,
          `[cjm] ${name} does not take segments yet (its day rollups are not kept per segment); time-to-convert and the visitors list do`,
          given,
        );
      }
      return c.json(
        await report(c.var.actor, c.var.store, c.var.site, parseRange(p, timezoneOf(c.var.site)), c.var.now(), options),
      );
    });
  }

  r.get('/sites/:site/journey-map', withSite, async (c) => {
    const p = searchParams(c);
    const range = parseRange(p, timezoneOf(c.var.site));
    const top = parseIntParam(p, 'top', 10, 1, 50);
    return c.json(await readJourneyMap(c.var.actor, c.var.store, c.var.site, range, top, c.var.now()));
  });

  r.get('/sites/:site/retention', withSite, async (c) => {
    const p = searchParams(c);
    const range = parseRange(p, timezoneOf(c.var.site));
    const weeks = parseIntParam(p, 'weeks', DEFAULT_RETENTION_WEEKS, 1, MAX_RETENTION_WEEKS);
    return c.json(await readRetention(c.var.actor, c.var.store, c.var.site, range, weeks, c.var.now()));
  });

  // ----- export -----
  r.get('/sites/:site/export', withSite, (c) => {
    const { format, range } = parseExport(searchParams(c), timezoneOf(c.var.site));
    const site = c.var.site;
    const file = `cjm-${site.id}-events.${format === 'csv' ? 'csv' : 'ndjson'}`;
    return new Response(exportSite(c.var.actor, c.var.store, site, format, range), {
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
