/**
 * Erasing a visitor (GDPR art. 17), from `DELETE /api/sites/:site/visitors/:visitor` and the dashboard's delete
 * button alike.
 */
import { erasedHash } from '../privacy';
import type { SiteConfig } from '../stages';
import type { Store } from '../store';

/**
 * Erases the journey a visitor belongs to everywhere and tombstones its visitor ids and user id (the semantics of
 * `DELETE /api/sites/:site/visitors/:visitor`, docs/api.md).
 */
export const eraseVisitor = async (
  store: Store,
  site: SiteConfig,
  id: string,
  now: number,
): Promise<{ journey: string; visitors: string[]; events: number }> => {
  const key = (await store.getLinks(site.id, [id])).get(id)?.journey ?? id;
  const record = (await store.getJourneys(site.id, [key])).get(key);
  const members = await store.visitorsOfJourney(site.id, key);
  const visitors = [...new Set(members.length ? members : [id])];
  const hashes = await Promise.all(visitors.map((v) => erasedHash(store, 'visitor', v)));
  const userId = record?.journey.userId ?? (key.startsWith('u:') ? key.slice(2) : null);
  if (userId) hashes.push(await erasedHash(store, 'user', userId));
  const events = await store.erase(site.id, key, visitors, hashes, now);
  // SQLite: the erased rows' pages are zeroed (secure_delete) and the log truncated, so the file keeps no copy.
  await store.scrub?.();
  return { journey: key, visitors, events };
};
