/**
 * Privacy: daily salts and derived visitor ids (the tag's no-storage mode), keyed hashes (tombstones of erased
 * visitors, server-side visitor ids) under a per-deployment secret, and the User-Agent reduced to a device class. The
 * IP and the User-Agent themselves are never stored. Web Crypto only, so the same code runs on Node and Workers.
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

// ----- keyed hashes: tombstones and server-side visitor ids -----

const SECRET_META = 'hash_secret';
const CHECK_META = 'hash_secret_check';
const given = new WeakMap<Store, string>();
const keys = new WeakMap<Store, Promise<CryptoKey>>();

/**
 * Gives a store the deployment's hashing secret (`CJM_SECRET`; on Node without it, the file beside the database).
 * Without one, a secret is created and kept in the database (`meta` `hash_secret`): weaker, since a copy of the
 * database then holds it too. Call before the store is used (node.ts start, worker.ts).
 */
export const useHashSecret = (store: Store, secret: string): Store => {
  if (secret.length < 24) throw new Error('[cjm] CJM_SECRET must be at least 24 characters (openssl rand -hex 32)');
  given.set(store, secret);
  keys.delete(store);
  return store;
};

/** Gives a store the key another store of the same database resolved (a Worker builds a store per request). */
export const useHashKey = (store: Store, key: Promise<CryptoKey>): Store => {
  keys.set(store, key);
  return store;
};

const hmac = async (key: CryptoKey, s: string): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(s)));

const importKey = (secret: string) =>
  crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);

/**
 * The HMAC key of a store's keyed hashes. The database keeps a check value of the secret (`hash_secret_check`), so a
 * process started with another secret than the one the data was written with stops here instead of writing
 * tombstones that match nothing: erased visitors would come back.
 */
export const hashKey = (store: Store): Promise<CryptoKey> => {
  let key = keys.get(store);
  if (!key) {
    key = (async () => {
      let secret = given.get(store) ?? (await store.getMeta(SECRET_META));
      const check = await store.getMeta(CHECK_META);
      if (!secret) {
        if (check) {
          throw new Error(
            '[cjm] this database was written with a hashing secret kept outside it (CJM_SECRET, or the .secret file beside the database); start with that secret',
          );
        }
        secret = await store.setMeta(SECRET_META, base64url(crypto.getRandomValues(new Uint8Array(32))), true);
      }
      const k = await importKey(secret);
      const mine = base64url((await hmac(k, 'cjm hash secret check')).slice(0, 16));
      const kept = check ?? (await store.setMeta(CHECK_META, mine, true));
      if (kept !== mine) {
        throw new Error(
          '[cjm] the hashing secret (CJM_SECRET) differs from the one this database was written with; restore it (tombstones and server-side visitor ids depend on it)',
        );
      }
      return k;
    })();
    key.catch(() => keys.delete(store));
    keys.set(store, key);
  }
  return key;
};

/** Tombstones written by versions before keyed hashes: plain SHA-256 hex of `kind:id`. */
export const LEGACY_TOMBSTONE = /^[0-9a-f]{64}$/;
const TOMBSTONE_PREFIX = 'k1:';

/** A tombstone of an earlier version (SHA-256 hex of `kind:id`) under the key: what erasedHash gives for that id. */
export const keyedTombstone = async (store: Store, legacy: string): Promise<string> =>
  `${TOMBSTONE_PREFIX}${base64url(await hmac(await hashKey(store), `tombstone\u0000${legacy}`))}`;

/**
 * The tombstone hash of an erased visitor id or user id (only this hash is kept, never the id): `k1:` and an
 * HMAC-SHA256 under the deployment's secret (of the SHA-256 earlier versions kept, so their tombstones are rekeyed
 * in place by core/rekey.ts). Without the secret, a known e-mail cannot be tested against the tombstones.
 */
export const erasedHash = async (store: Store, kind: 'visitor' | 'user', id: string): Promise<string> => {
  // Every ingest asks for its visitor's hash (two WebCrypto jobs, about a tenth of a request's CPU on Node): kept per
  // key (a new secret starts afresh), the oldest forgotten past ERASED_HASHES_KEPT.
  const key = hashKey(store);
  let cache = erasedHashes.get(key);
  if (!cache) erasedHashes.set(key, (cache = new Map()));
  const name = `${kind}:${id}`;
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const hash = await keyedTombstone(store, await sha256Hex(name));
  cache.set(name, hash);
  if (cache.size > ERASED_HASHES_KEPT) cache.delete(cache.keys().next().value as string);
  return hash;
};

/** Hashes of visitor and user ids kept per hashing key (erasedHash). */
const ERASED_HASHES_KEPT = 20_000;
const erasedHashes = new WeakMap<Promise<CryptoKey>, Map<string, string>>();

/** Server-side visitor ids of earlier versions: `srv:`/`srva:` and 32 hex digits of SHA-256 of the user/anonymous id. */
export const LEGACY_SERVER_VISITOR = /^srva?:[0-9a-f]{32}$/;

/**
 * The keyed form of a server-side visitor id of earlier versions: the same prefix (`srv:`, `srva:`) and 22 base64url
 * characters of an HMAC under the deployment's secret. Segment messages map onto it (core/segment.ts); core/rekey.ts
 * renames stored visitors with it.
 *
 * @example
 * await keyedServerVisitor(store, 'srv:0a1b…') // 'srv:Xq3…' (22 characters after the prefix)
 */
export const keyedServerVisitor = async (store: Store, legacy: string): Promise<string> => {
  const prefix = legacy.slice(0, legacy.indexOf(':') + 1);
  return `${prefix}${base64url(await hmac(await hashKey(store), `visitor\u0000${legacy}`)).slice(0, 22)}`;
};

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
