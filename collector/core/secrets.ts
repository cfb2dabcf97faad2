/**
 * Random secrets and ids (WebCrypto), for sessions, personal API tokens, invites and share links: the secret is
 * handed out once, only its SHA-256 (core/privacy.ts `sha256Hex`) is stored.
 */

export const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** A new random secret: `prefix` and 32 random bytes in base64url (43 characters). */
export const randomSecret = (prefix = ''): string => prefix + base64url(crypto.getRandomValues(new Uint8Array(32)));

/** A short random id (`usr_…`, `pat_…`): 9 random bytes, 12 characters. */
export const randomId = (prefix: string): string => prefix + base64url(crypto.getRandomValues(new Uint8Array(9)));

/** The shape of a secret made by randomSecret (without its prefix). */
export const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;
