/** The journey map tab: per stage who got there, from where, what they did, how it felt. */
import { Hono } from 'hono';
import { h } from '../../dashboard/format';
import { emptyState } from '../../dashboard/layout';
import { mapPage } from '../../dashboard/pages/map';
import type { AppEnv } from '../../http';
import { funnelAndMap } from '../../reports';
import { dateRange, render, sitePage } from './page';

export const mapRoutes = () => {
  const r = new Hono<AppEnv>();
  r.get('/sites/:site/map', sitePage, async (c) => {
    const { site, range } = c.var;
    const { funnel, map } = await funnelAndMap(c.var.store, site, dateRange(range), 8);
    const body =
      map.journeys === 0
        ? emptyState('No journeys started in this range yet.', site.id)
        : mapPage(site.id, funnel, map, range.query);
    return render(c, 'map', 'Journey map', body, {
      sub: h`<p class="muted small">Journeys that started in the ${range.label}, and everything they did since · times in UTC</p>`,
    });
  });
  return r;
};
