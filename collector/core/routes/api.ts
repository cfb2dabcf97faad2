/**
 * The read and admin API under `/api`, behind `Authorization: Bearer <admin token>`. Documented in docs/api.md.
 */
import { Hono, type Context } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { jsonError, type AppEnv, type AppOptions } from '../app';
import { foldOptions } from '../ingest';
import { journeyView } from '../journey';
import type { SiteConfig } from '../stages';
import { BadCursorError, type VisitorQuery } from '../store';
import { BadQueryError, parseVisitorQuery } from './query';

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

export const apiRoutes = (options: Pick<AppOptions, 'getAdminToken'>) => {
  const r = new Hono<AppEnv>();
  r.use(
    '*',
    bearerAuth({
      verifyToken: async (token, c) => safeEqual(token, await options.getAdminToken(c)),
      noAuthenticationHeader: { message: { error: '[cjm] the API needs Authorization: Bearer <admin token>' } },
      invalidAuthenticationHeader: { message: { error: '[cjm] the Authorization header must be Bearer <admin token>' } },
      invalidToken: { message: { error: '[cjm] the admin token is wrong' } },
    }),
  );

  r.get('/sites/:site/visitors', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    let query: VisitorQuery;
    try {
      query = parseVisitorQuery(new URL(c.req.url).searchParams);
    } catch (e) {
      if (e instanceof BadQueryError) return jsonError(c, 400, e.message, e.path);
      throw e;
    }
    try {
      return c.json(await c.get('store').listVisitors(site.id, query));
    } catch (e) {
      if (e instanceof BadCursorError) return jsonError(c, 400, e.message, 'cursor');
      throw e;
    }
  });

  r.get('/sites/:site/visitors/:visitor', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const store = c.get('store');
    const id = c.req.param('visitor');
    const key = (await store.getLinks(site.id, [id])).get(id)?.journey ?? id;
    const record = (await store.getJourneys(site.id, [key])).get(key);
    if (!record) return jsonError(c, 404, `[cjm] no visitor "${id}" on site "${site.id}"`, 'visitor');
    const members = await store.visitorsOfJourney(site.id, key);
    const timeline = await store.eventsOfVisitors(site.id, members);
    return c.json({
      visitor: { id, journey: key, userId: record.journey.userId, visitors: members },
      journey: journeyView(key, record.journey, foldOptions(site).model),
      timeline,
    });
  });
  return r;
};
