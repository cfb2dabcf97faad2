/**
 * Reading visitors, for the API and the dashboard: a page of the list (a cursor the store did not hand out is a
 * 400 naming `cursor`) and one visitor's journey and timeline (a 404 naming `visitor`). Analysts and up.
 */
import { authorize, type Actor } from '../access';
import { InputError } from '../errors';
import { visitorDetail, type VisitorDetail, type VisitorsPage } from '../reports';
import { days, expiryNote, reportRange } from '../retention';
import type { SiteConfig } from '../stages';
import { BadCursorError, type Store, type VisitorQuery } from '../store';

export const listVisitors = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  query: VisitorQuery,
  now: number,
): Promise<VisitorsPage> => {
  authorize(actor, site.id, 'visitors.read');
  // A site with a retention says whether the range reaches before its horizon (journeys inactive since are gone).
  const note = expiryNote(
    site,
    await reportRange(store, site, query.from === undefined ? {} : { from: query.from }, now),
  );
  try {
    return { ...(await store.listVisitors(site.id, query)), ...note };
  } catch (e) {
    // The store's own signal (stores/ throw it); to a client it is a bad parameter.
    if (e instanceof BadCursorError) throw new InputError(400, e.message, 'cursor');
    throw e;
  }
};

export const getVisitor = async (actor: Actor, store: Store, site: SiteConfig, id: string): Promise<VisitorDetail> => {
  authorize(actor, site.id, 'visitors.read');
  const detail = await visitorDetail(store, site, id);
  if (!detail) {
    // No record of an expired visitor is kept (it would be the per-visitor row the retention deletes): the answer
    // names the retention instead of telling expired from never seen.
    const kept =
      site.retentionDays == null
        ? ''
        : ` (erased, never seen, or expired: this site keeps visitor details ${days(site.retentionDays)} after a journey's last activity, retentionDays)`;
    throw new InputError(404, `[cjm] no visitor "${id}" on site "${site.id}"${kept}`, 'visitor');
  }
  return detail;
};
