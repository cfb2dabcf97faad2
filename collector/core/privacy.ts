/**
 * Privacy: daily salts and derived visitor ids (the tag's no-storage mode), tombstone hashes of erased visitors, and
 * the User-Agent reduced to a device class. The IP and the User-Agent themselves are never stored.
 * Web Crypto only, so the same code runs on Node and Workers.
 */
import type { Store } from './store';

/** UTC day of a time, `YYYY-MM-DD`. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

const DAY_MS = 86_400_000;
const SALT_PREFIX = 'salt:';

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const sha256 = async (s: string): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s)));

/** SHA-256 of a string as lower-case hex. */
export const sha256Hex = async (s: string): Promise<string> =>
  Array.from(await sha256(s), (b) => b.toString(16).padStart(2, '0')).join('');

/** The tombstone hash of an erased visitor id or user id (only this hash is kept, never the id). */
export const erasedHash = (kind: 'visitor' | 'user', id: string): Promise<string> => sha256Hex(`${kind}:${id}`);

/**
 * The secret salt of a UTC day, created (random, 32 bytes) the first time it is needed. Kept in `meta` as
 * `salt:YYYY-MM-DD`; `rotateSalts` deletes salts older than two days, after which ids of that day cannot be
 * recomputed by anyone.
 */
export const saltOf = async (store: Store, day: string): Promise<string> => {
  const key = `${SALT_PREFIX}${day}`;
  const stored = await store.getMeta(key);
  if (stored) return stored;
  return store.setMeta(key, base64url(crypto.getRandomValues(new Uint8Array(32))), true);
};

/**
 * Deletes the salts of days before yesterday (UTC): a salt lives for its own day and the next (late events of the
 * outbox), then is gone. The runtimes call it periodically (Node: timer; Workers: cron) and ingest calls it when it
 * creates a new day's salt. Returns the deleted keys.
 */
export const rotateSalts = async (store: Store, now: number): Promise<string[]> => {
  const keep = new Set([dayOf(now), dayOf(now - DAY_MS)]);
  const old = (await store.listMeta(SALT_PREFIX))
    .map((r) => r.key)
    .filter((k) => !keep.has(k.slice(SALT_PREFIX.length)));
  if (old.length > 0) await store.deleteMeta(old);
  return old;
};

/**
 * The pseudonymous visitor id of a request without one: `d:` + 22 base64url characters of
 * SHA-256(salt of the day ‖ site ‖ IP ‖ User-Agent). Stable for a day per site, browser and address; unlinkable
 * across days once the salt is deleted.
 *
 * @example
 * const visitor = await derivedVisitorId(store, 'shop', '203.0.113.7', navigator.userAgent, Date.now())
 */
export const derivedVisitorId = async (
  store: Store,
  site: string,
  ip: string,
  userAgent: string,
  now: number,
): Promise<string> => {
  const day = dayOf(now);
  const key = `${SALT_PREFIX}${day}`;
  let salt = await store.getMeta(key);
  if (!salt) {
    salt = await saltOf(store, day);
    await rotateSalts(store, now);
  }
  const digest = await sha256(`${salt}\u0000${site}\u0000${ip}\u0000${userAgent}`);
  return `d:${base64url(digest).slice(0, 22)}`;
};

export type DeviceClass = 'desktop' | 'mobile' | 'tablet' | 'other';

/**
 * The device class of a User-Agent — all that is kept of it.
 *
 * @example
 * deviceClass('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) …') // → 'mobile'
 */
export const deviceClass = (ua: string | undefined | null): DeviceClass | null => {
  if (!ua) return null;
  if (/iPad|Tablet|PlayBook|Silk|Kindle|Nexus (7|9|10)\b/i.test(ua) || (/Android/i.test(ua) && !/Mobile/i.test(ua))) {
    return 'tablet';
  }
  if (/Mobi|iPhone|iPod|Android|Windows Phone|IEMobile|Opera Mini|BlackBerry/i.test(ua)) return 'mobile';
  if (/Windows NT|Macintosh|Mac OS X|X11|Linux|CrOS/i.test(ua)) return 'desktop';
  return 'other';
};
