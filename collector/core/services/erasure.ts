/**
 * Erasing a visitor (GDPR art. 17), from `DELETE /api/sites/:site/visitors/:visitor` and the dashboard's delete
 * button alike (admin; written to the audit log by the tombstone's keyed hash).
 */
import { authorize, type Actor } from '../access';
import { erasedHash } from '../privacy';
import type { SiteConfig } from '../stages';
import type { Store } from '../store';
import { audit } from './audit';

/**
 * Erases the journey a visitor belongs to everywhere and tombstones its visitor ids and user id (the semantics of
 * `DELETE /api/sites/:site/visitors/:visitor`, docs/api.md).
 */
export const eraseVisitor = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  id: string,
  now: number,
): Promise<{ journey: string; visitors: string[]; events: number }> => {
  authorize(actor, site.id, 'visitors.erase');
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
  // Who erased, by the keyed hash of the tombstone (the log keeps no id the erasure removed).
  await audit(store, actor, site.id, now, 'visitor.erase', hashes[0] ?? null, { events, visitors: visitors.length });
  return { journey: key, visitors, events };
};
