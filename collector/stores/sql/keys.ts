/**
 * Write keys in SQL (table `write_keys`, migration 0004): the KeyStore methods of the server-side API.
 *
 * A key is `cjm_wk_` + 32 random bytes in base64url. Only its SHA-256 (Web Crypto, hex) is stored, with its first
 * characters as `prefix` so a list can tell keys apart; the secret itself is returned once, by `createWriteKey`.
 * A hash lookup needs no constant-time comparison: the attacker would have to guess a 256-bit preimage.
 */
import type { KeyStore, WriteKey } from '../../core/store';
import { query, raw, sql, type SqlConnector, type SqlStatement } from './shared';

export const WRITE_KEY_PREFIX = 'cjm_wk_';
/** Characters of a key shown in lists: `cjm_wk_` and 6 random ones. */
export const SHOWN_PREFIX_LENGTH = WRITE_KEY_PREFIX.length + 6;
/** `last_used_at` is written at most this often per key, so a busy key does not cost a write per request. */
export const TOUCH_EVERY_MS = 60_000;

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** SHA-256 of a string, as lower-case hex. */
export const sha256Hex = async (s: string): Promise<string> => {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
};

interface KeyRow {
  id: string;
  site: string;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

const COLUMNS = raw('id, site, name, prefix, created_at, last_used_at, revoked_at');

const fromRow = (r: KeyRow): WriteKey => ({
  id: r.id,
  site: r.site,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

/**
 * The write-key methods of the Store over a connector.
 *
 * @example
 * const keys = sqlKeyStore(db)
 * const { key } = await keys.createWriteKey('shop', 'billing backend') // show `key` once
 */
export const sqlKeyStore = (db: SqlConnector): KeyStore => {
  const one = async (q: SqlStatement): Promise<WriteKey | null> => {
    const rows = await query<KeyRow>(db, q);
    return rows[0] ? fromRow(rows[0]) : null;
  };
  return {
    async createWriteKey(site, name, now = Date.now()) {
      const key = WRITE_KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
      const id = `wk_${base64url(crypto.getRandomValues(new Uint8Array(9)))}`;
      const writeKey: WriteKey = {
        id,
        site,
        name,
        prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null,
      };
      const hash = await sha256Hex(key);
      await db.batch([
        sql`INSERT INTO write_keys (id, site, name, prefix, hash, created_at)
            VALUES (${id}, ${site}, ${name}, ${writeKey.prefix}, ${hash}, ${now})`,
      ]);
      return { key, writeKey };
    },

    async listWriteKeys(site) {
      const rows = await query<KeyRow>(
        db,
        sql`SELECT ${COLUMNS} FROM write_keys WHERE site = ${site} ORDER BY created_at DESC, id DESC`,
      );
      return rows.map(fromRow);
    },

    async revokeWriteKey(site, id, now = Date.now()) {
      await db.batch([
        sql`UPDATE write_keys SET revoked_at = ${now} WHERE site = ${site} AND id = ${id} AND revoked_at IS NULL`,
      ]);
      return one(sql`SELECT ${COLUMNS} FROM write_keys WHERE site = ${site} AND id = ${id}`);
    },

    async findWriteKey(key) {
      if (typeof key !== 'string' || key.length === 0 || key.length > 200) return null;
      const hash = await sha256Hex(key);
      return one(sql`SELECT ${COLUMNS} FROM write_keys WHERE hash = ${hash}`);
    },

    async touchWriteKey(id, at) {
      await db.batch([
        sql`UPDATE write_keys SET last_used_at = ${at}
            WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at <= ${at - TOUCH_EVERY_MS})`,
      ]);
    },
  };
};
