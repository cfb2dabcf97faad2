/**
 * Rekeys what earlier versions stored with unkeyed hashes, in place, on SQLite and D1 alike (issue 14, item 12):
 * - tombstones, plain SHA-256 of `visitor:<id>` / `user:<id>`, become `k1:` + an HMAC of that hash under the
 *   deployment's secret — exactly what erasedHash now gives for the same id, so erased visitors stay erased;
 * - server-side visitor ids `srv:`/`srva:` + 32 hex digits of SHA-256 become the keyed form (keyedServerVisitor),
 *   renamed everywhere they are stored; Segment messages map onto the keyed form (core/segment.ts), and those of a
 *   visitor erased before the upgrade still meet its (rekeyed) tombstone through the legacy id.
 *
 * Runs at start (Node's start(), the Worker's boot) and in the periodic maintenance for an hour after it completed
 * (a Worker version still running the previous code during a deploy may write a few more). Each page is one atomic
 * batch, so a run stopped part-way resumes where it was; a finished run is recorded in `meta` (`hashes_keyed_at`).
 */
import { hashKey, keyedServerVisitor, keyedTombstone } from './privacy';
import type { Store } from './store';

const DONE_META = 'hashes_keyed_at';
/** How long after completion the maintenance keeps looking for rows written by a previous version. */
const RECHECK_MS = 3_600_000;

export interface RekeyResult {
  tombstones: number;
  visitors: number;
  /** False when the budget ran out first (the next run goes on). */
  done: boolean;
}

/**
 * Rekeys up to `budget` rows. Refuses to run (throws) when the store's hashing secret does not match the database's.
 *
 * @example
 * await rekeyLegacyHashes(store, Date.now()) // { tombstones: 12, visitors: 3, done: true }
 */
export const rekeyLegacyHashes = async (store: Store, now: number, budget = 20_000): Promise<RekeyResult> => {
  const out: RekeyResult = { tombstones: 0, visitors: 0, done: false };
  const finished = await store.getMeta(DONE_META);
  if (finished && now - Number(finished) > RECHECK_MS) return { ...out, done: true };
  await hashKey(store); // a wrong secret stops here, before anything is written
  for (;;) {
    const rows = await store.legacyTombstones(200);
    if (rows.length === 0) break;
    const rekeyed = await Promise.all(
      rows.map(async (r) => ({ site: r.site, from: r.hash, to: await keyedTombstone(store, r.hash) })),
    );
    await store.rekeyTombstones(rekeyed);
    out.tombstones += rows.length;
    if (out.tombstones + out.visitors >= budget) return out;
  }
  for (const site of await store.listSites()) {
    for (;;) {
      const ids = await store.legacyServerVisitors(site.id, 30);
      if (ids.length === 0) break;
      const renames = await Promise.all(ids.map(async (from) => ({ from, to: await keyedServerVisitor(store, from) })));
      await store.renameVisitors(site.id, renames);
      out.visitors += ids.length;
      if (out.tombstones + out.visitors >= budget) return out;
    }
  }
  if (!finished) await store.setMeta(DONE_META, String(now));
  return { ...out, done: true };
};
