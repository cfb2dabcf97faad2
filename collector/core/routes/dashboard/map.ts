/** The journey map tab: per stage who got there, from where, what they did, how it felt (views.ts). */
import { Hono } from 'hono';
import { render, sitePage, type SignedInEnv } from './page';
import { REPORT_VIEWS } from './views';

export const mapRoutes = () => {
  const r = new Hono<SignedInEnv>();
  r.get('/sites/:site/map', sitePage, async (c) => {
    const view = await REPORT_VIEWS.map(c.var);
    return render(c, 'map', view.title, view.body, { sub: view.sub, exportable: true });
  });
  return r;
};
