/** The funnel tab: stage to stage conversion with back-steps, and the touches to conversion by channel (views.ts). */
import { Hono } from 'hono';
import { render, sitePage, type SignedInEnv } from './page';
import { REPORT_VIEWS } from './views';

export const funnelRoutes = () => {
  const r = new Hono<SignedInEnv>();
  r.get('/sites/:site/funnel', sitePage, async (c) => {
    const view = await REPORT_VIEWS.funnel(c.var);
    return render(c, 'funnel', view.title, view.body, { sub: view.sub, exportable: true });
  });
  return r;
};
