/**
 * Dashboard sessions: sign in with the admin token, get a signed, stateless session cookie (HMAC-SHA256 via
 * hono/cookie's signed cookies, with a key derived from the admin token), so it works on Workers without storage.
 * Rotating the admin token signs everyone out.
 */
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';

export const SESSION_COOKIE = 'cjm_session';
/** How long a sign-in lasts. */
export const SESSION_DAYS = 14;

const hex = (buf: ArrayBuffer) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

/** The cookie-signing key: SHA-256 of a label and the admin token (never the token itself). */
export const sessionKey = async (adminToken: string): Promise<string> =>
  hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`cjm dashboard session\u0000${adminToken}`)));

const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:';

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure on https. */
export const startSession = async (c: Context, adminToken: string, now: number): Promise<void> => {
  const expires = now + SESSION_DAYS * 86_400_000;
  await setSignedCookie(c, SESSION_COOKIE, `v1.${expires}`, await sessionKey(adminToken), {
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

/** True when the request carries a valid, unexpired session cookie signed with this admin token. */
export const hasSession = async (c: Context, adminToken: string, now: number): Promise<boolean> => {
  const value = await getSignedCookie(c, await sessionKey(adminToken), SESSION_COOKIE);
  if (typeof value !== 'string') return false;
  const m = /^v1\.(\d{1,16})$/.exec(value);
  return m !== null && Number(m[1]) > now;
};
