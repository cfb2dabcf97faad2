/**
 * A site's server-side write keys (docs/server-side.md), from the admin API and the dashboard's settings alike: the
 * secret is returned once, by createWriteKey, and never stored (the store keeps its SHA-256).
 */
import { InputError } from '../errors';
import type { SiteConfig } from '../stages';
import type { Store, WriteKey } from '../store';

/** Longest name of a key. */
export const KEY_NAME_LENGTH = 100;

/** Creates a key named `name` (trimmed; at most KEY_NAME_LENGTH characters, a 400 naming `name` otherwise). */
export const createWriteKey = async (
  store: Store,
  site: SiteConfig,
  name: unknown,
  now: number,
): Promise<{ key: string; writeKey: WriteKey }> => {
  if (typeof name !== 'string' || name.length > KEY_NAME_LENGTH) {
    throw new InputError(400, `[cjm] name must be a string of at most ${KEY_NAME_LENGTH} characters`, 'name');
  }
  return store.createWriteKey(site.id, name.trim(), now);
};

/** Revokes a key of the site (idempotent: a revoked key keeps its first `revokedAt`); a 404 naming `id`. */
export const revokeWriteKey = async (store: Store, site: SiteConfig, id: string, now: number): Promise<WriteKey> => {
  const writeKey = await store.revokeWriteKey(site.id, id, now);
  if (!writeKey) throw new InputError(404, `[cjm] site "${site.id}" has no write key "${id}"`, 'id');
  return writeKey;
};
