/**
 * A site's server-side write keys (docs/server-side.md), from the admin API and the dashboard's settings alike: the
 * secret is returned once, by createWriteKey, and never stored (the store keeps its SHA-256).
 */
import { authorize, type Actor } from '../access';
import { InputError } from '../errors';
import type { SiteConfig } from '../stages';
import type { Store, WriteKey } from '../store';
import { audit } from './audit';

/** Longest name of a key. */
export const KEY_NAME_LENGTH = 100;

/** Creates a key named `name` (trimmed; at most KEY_NAME_LENGTH characters, a 400 naming `name` otherwise). */
export const createWriteKey = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  name: unknown,
  now: number,
): Promise<{ key: string; writeKey: WriteKey }> => {
  authorize(actor, site.id, 'keys.write');
  if (typeof name !== 'string' || name.length > KEY_NAME_LENGTH) {
    throw new InputError(400, `[cjm] name must be a string of at most ${KEY_NAME_LENGTH} characters`, 'name');
  }
  const created = await store.createWriteKey(site.id, name.trim(), now);
  await audit(store, actor, site.id, now, 'key.create', created.writeKey.id, {
    name: created.writeKey.name,
    prefix: created.writeKey.prefix,
  });
  return created;
};

/** A site's keys, newest first (admin). */
export const listWriteKeys = async (actor: Actor, store: Store, site: SiteConfig): Promise<WriteKey[]> => {
  authorize(actor, site.id, 'settings.read');
  return store.listWriteKeys(site.id);
};

/** Revokes a key of the site (idempotent: a revoked key keeps its first `revokedAt`); a 404 naming `id`. */
export const revokeWriteKey = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  id: string,
  now: number,
): Promise<WriteKey> => {
  authorize(actor, site.id, 'keys.write');
  const writeKey = await store.revokeWriteKey(site.id, id, now);
  if (!writeKey) throw new InputError(404, `[cjm] site "${site.id}" has no write key "${id}"`, 'id');
  if (writeKey.revokedAt === now) await audit(store, actor, site.id, now, 'key.revoke', id, { name: writeKey.name });
  return writeKey;
};
