/**
 * Dashboard sessions: sign in with the admin token, get a signed, stateless session cookie (HMAC-SHA256 via
 * hono/cookie's signed cookies), so it works on Workers without session storage.
 *
 * The signing key is a random per-deployment secret kept in the database (`meta` `session_secret`), never derived
 * from the admin token: a leaked cookie is no offline oracle for the token. The cookie carries its expiry and a tag
 * of the admin token (an HMAC under that secret), so rotating the admin token still signs everyone out. The expiry
 * is capped on the server: a cookie promising more than SESSION_DAYS from now is refused, however it was signed.
 */
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { AppEnv } from '../http';
import type { Store } from '../store';

export const SESSION_COOKIE = 'cjm_session';
/** How long a sign-in lasts. */
export const SESSION_DAYS = 14;
const SESSION_MS = SESSION_DAYS * 86_400_000;

const enc = new TextEncoder();
const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** The deployment's cookie-signing secret: 32 random bytes, created on first use and kept in `meta`. */
export const sessionSecret = async (store: Store): Promise<string> =>
  (await store.getMeta('session_secret')) ??
  store.setMeta('session_secret', base64url(crypto.getRandomValues(new Uint8Array(32))), true);

/** A short tag of the admin token under the session secret: changes when the token does, reveals nothing of it. */
const tokenTag = async (secret: string, adminToken: string): Promise<string> => {
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const mac = await crypto.subtle.sign('HMAC', key, enc.encode(`cjm admin token\u0000${adminToken}`));
  return base64url(new Uint8Array(mac).slice(0, 16));
};

const storeOf = (c: Context): Store => (c as Context<AppEnv>).var.store;
/** Over https (the request, or a trusted TLS proxy in front: AppOptions.isHttps). */
const isHttps = (c: Context): boolean => (c as Context<AppEnv>).var.https === true;

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure over https. */
export const startSession = async (c: Context, adminToken: string, now: number): Promise<void> => {
  const secret = await sessionSecret(storeOf(c));
  const expires = now + SESSION_MS;
  await setSignedCookie(c, SESSION_COOKIE, `v2.${expires}.${await tokenTag(secret, adminToken)}`, secret, {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    maxAge: SESSION_DAYS * 86_400,
  });
};

export const endSession = (c: Context): void => {
  deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
};

/**
 * True when the request carries a valid session cookie: signed with this deployment's secret, for this admin token,
 * unexpired, and expiring no later than SESSION_DAYS from now.
 */
export const hasSession = async (c: Context, adminToken: string, now: number): Promise<boolean> => {
  const secret = await sessionSecret(storeOf(c));
  const value = await getSignedCookie(c, secret, SESSION_COOKIE);
  if (typeof value !== 'string') return false;
  const m = /^v2\.(\d{1,16})\.([A-Za-z0-9_-]{22})$/.exec(value);
  if (!m) return false;
  const expires = Number(m[1]);
  if (expires <= now || expires > now + SESSION_MS) return false;
  return m[2] === (await tokenTag(secret, adminToken));
};
