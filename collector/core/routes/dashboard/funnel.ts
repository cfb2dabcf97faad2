/** The funnel tab: stage to stage conversion with back-steps, and the touches to conversion by channel. */
import { Hono } from 'hono';
import { h } from '../../dashboard/format';
import { emptyState } from '../../dashboard/layout';
import { funnelPage } from '../../dashboard/pages/funnel';
import type { AppEnv } from '../../http';
import { funnel, touches } from '../../reports';
import { dateRange, render, sitePage } from './page';

export const funnelRoutes = () => {
  const r = new Hono<AppEnv>();
  r.get('/sites/:site/funnel', sitePage, async (c) => {
    const { site, range, store } = c.var;
    const cohort = dateRange(range);
    const [fun, tch] = await Promise.all([funnel(store, site, cohort), touches(store, site, cohort)]);
    const body =
      fun.journeys === 0 ? emptyState('No journeys started in this range yet.', site.id) : funnelPage(fun, tch);
    return render(c, 'funnel', 'Funnel', body, {
      sub: h`<p class="muted small">Journeys that started in the ${range.label} · times in UTC</p>`,
    });
  });
  return r;
};
