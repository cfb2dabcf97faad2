/**
 * Write keys in SQL (table `write_keys`, migration 0004): the Store methods of the server-side API, spread into
 * `createSqlStore` so every driver (better-sqlite3, D1) runs the same statements.
 *
 * A key is `cjm_wk_` + 32 random bytes in base64url. Only its SHA-256 (Web Crypto, hex) is stored, with its first
 * characters as `prefix` so a list can tell keys apart; the secret itself is returned once, by `createWriteKey`.
 * A hash lookup needs no constant-time comparison: the attacker would have to guess a 256-bit preimage.
 */
import type { Store, WriteKey } from '../core/store';
import type { SqlConnector, SqlValue } from './sql';

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

const COLUMNS = 'id, site, name, prefix, created_at, last_used_at, revoked_at';

const fromRow = (r: KeyRow): WriteKey => ({
  id: r.id,
  site: r.site,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

type KeyMethods = Pick<Store, 'createWriteKey' | 'listWriteKeys' | 'revokeWriteKey' | 'findWriteKey' | 'touchWriteKey'>;

/**
 * The write-key methods of the Store over a connector.
 *
 * @example
 * const store = { ...sqlKeyMethods(db), ...otherMethods }
 * const { key } = await store.createWriteKey('shop', 'billing backend') // show `key` once
 */
export const sqlKeyMethods = (db: SqlConnector): KeyMethods => {
  const one = async (sql: string, params: SqlValue[]): Promise<WriteKey | null> => {
    const rows = await db.all<KeyRow>(sql, params);
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
      await db.batch([
        {
          sql: `INSERT INTO write_keys (id, site, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
          params: [id, site, name, writeKey.prefix, await sha256Hex(key), now],
        },
      ]);
      return { key, writeKey };
    },

    async listWriteKeys(site) {
      const rows = await db.all<KeyRow>(
        `SELECT ${COLUMNS} FROM write_keys WHERE site = ? ORDER BY created_at DESC, id DESC`,
        [site],
      );
      return rows.map(fromRow);
    },

    async revokeWriteKey(site, id, now = Date.now()) {
      await db.batch([
        {
          sql: 'UPDATE write_keys SET revoked_at = ? WHERE site = ? AND id = ? AND revoked_at IS NULL',
          params: [now, site, id],
        },
      ]);
      return one(`SELECT ${COLUMNS} FROM write_keys WHERE site = ? AND id = ?`, [site, id]);
    },

    async findWriteKey(key) {
      if (typeof key !== 'string' || key.length === 0 || key.length > 200) return null;
      return one(`SELECT ${COLUMNS} FROM write_keys WHERE hash = ?`, [await sha256Hex(key)]);
    },

    async touchWriteKey(id, at) {
      await db.batch([
        {
          sql: 'UPDATE write_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)',
          params: [at, id, at - TOUCH_EVERY_MS],
        },
      ]);
    },
  };
};
