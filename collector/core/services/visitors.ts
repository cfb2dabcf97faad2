/**
 * Reading visitors, for the API and the dashboard: a page of the list (a cursor the store did not hand out is a
 * 400 naming `cursor`) and one visitor's journey and timeline (a 404 naming `visitor`). Analysts and up.
 */
import { authorize, type Actor } from '../access';
import { InputError } from '../errors';
import { visitorDetail, type VisitorDetail, type VisitorsPage } from '../reports';
import type { SiteConfig } from '../stages';
import { BadCursorError, type Store, type VisitorQuery } from '../store';

export const listVisitors = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  query: VisitorQuery,
): Promise<VisitorsPage> => {
  authorize(actor, site.id, 'visitors.read');
  try {
    return await store.listVisitors(site.id, query);
  } catch (e) {
    // The store's own signal (stores/ throw it); to a client it is a bad parameter.
    if (e instanceof BadCursorError) throw new InputError(400, e.message, 'cursor');
    throw e;
  }
};

export const getVisitor = async (actor: Actor, store: Store, site: SiteConfig, id: string): Promise<VisitorDetail> => {
  authorize(actor, site.id, 'visitors.read');
  const detail = await visitorDetail(store, site, id);
  if (!detail) throw new InputError(404, `[cjm] no visitor "${id}" on site "${site.id}"`, 'visitor');
  return detail;
};
