/** The retention tab: weekly first-visit cohorts and the share of each still active week by week (views.ts). */
import { Hono } from 'hono';
import { render, sitePage, type SignedInEnv } from './page';
import { REPORT_VIEWS } from './views';

export const retentionRoutes = () => {
  const r = new Hono<SignedInEnv>();
  r.get('/sites/:site/retention', sitePage, async (c) => {
    const view = await REPORT_VIEWS.retention(c.var);
    return render(c, 'retention', view.title, view.body, { sub: view.sub });
  });
  return r;
};
