/**
 * Dashboard sessions, revocable on the server: the cookie carries a random session secret (32 bytes), the `sessions`
 * table its SHA-256, who signed in (a user, or the admin token), when, when last seen, and when it ends. A session
 * ends at the first of: sign-out (this browser), sign-out everywhere or a password change (every other session of
 * the user), `idleMs` without a request (default 48 hours), `maxMs` after sign-in (default 14 days, whatever the
 * activity), and — for the admin token's sessions — a change of the admin token. A copied cookie dies with its
 * session.
 *
 * The cookie is also signed (hono/cookie's HMAC-SHA256) with a random per-deployment secret kept in the database
 * (`meta` `session_secret`), never derived from the admin token, so a forged value is refused before a lookup. It is
 * HttpOnly, SameSite=Strict, Secure over https.
 */
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { Actor } from '../access';
import type { AppEnv } from '../http';
import { sha256Hex } from '../privacy';
import { base64url, randomSecret } from '../secrets';
import type { SessionRecord, Store } from '../store';

export const SESSION_COOKIE = 'cjm_session';
/** The absolute cap of a session, in days. */
export const SESSION_DAYS = 14;
/** The idle timeout, in hours. */
export const SESSION_IDLE_HOURS = 48;

export interface SessionLimits {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, however active. */
  maxMs: number;
}
export const SESSION_LIMITS: SessionLimits = {
  idleMs: SESSION_IDLE_HOURS * 3_600_000,
  maxMs: SESSION_DAYS * 86_400_000,
};

const enc = new TextEncoder();

/** The deployment's cookie-signing secret: 32 random bytes, created on first use and kept in `meta`. */
export const sessionSecret = async (store: Store): Promise<string> =>
  (await store.getMeta('session_secret')) ??
  store.setMeta('session_secret', base64url(crypto.getRandomValues(new Uint8Array(32))), true);

/** A short tag of the admin token under the session secret: changes when the token does, reveals nothing of it. */
export const tokenTag = async (secret: string, adminToken: string): Promise<string> => {
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const mac = await crypto.subtle.sign('HMAC', key, enc.encode(`cjm admin token\u0000${adminToken}`));
  return base64url(new Uint8Array(mac).slice(0, 16));
};

const storeOf = (c: Context): Store => (c as Context<AppEnv>).var.store;
/** Over https (the request, or a trusted TLS proxy in front: AppOptions.isHttps). */
const isHttps = (c: Context): boolean => (c as Context<AppEnv>).var.https === true;

/** Who a new session is for: a user, or the admin token (its tag ties the session to it). */
export type SessionOwner = { userId: string } | { adminToken: string };

/**
 * Starts a session: a row in `sessions`, the cookie with its secret. Returns the session's id (the secret's hash).
 *
 * @example
 * await startSession(c, { userId: user.id }, now)
 */
export const startSession = async (
  c: Context,
  owner: SessionOwner,
  now: number,
  limits: SessionLimits = SESSION_LIMITS,
): Promise<string> => {
  const store = storeOf(c);
  const secret = await sessionSecret(store);
  const value = randomSecret();
  const id = await sha256Hex(value);
  await store.createSession({
    id,
    userId: 'userId' in owner ? owner.userId : null,
    tokenTag: 'adminToken' in owner ? await tokenTag(secret, owner.adminToken) : null,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + limits.maxMs,
    revokedAt: null,
  });
  await setSignedCookie(c, SESSION_COOKIE, `v3.${value}`, secret, {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    maxAge: Math.floor(limits.maxMs / 1000),
  });
  return id;
};

/** Deletes the cookie in the browser (the session row is ended by endSession). */
export const clearSessionCookie = (c: Context): void => {
  deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
};

/**
 * The live session of the request, or null: the cookie signed with this deployment's secret, its session known, not
 * revoked, not idle for `idleMs`, younger than `maxMs` (capped here whatever the row says), and — signed in with the
 * admin token — made with the current one. Records the activity (at most once a minute).
 */
export const currentSession = async (
  c: Context,
  adminToken: string,
  now: number,
  limits: SessionLimits = SESSION_LIMITS,
): Promise<SessionRecord | null> => {
  const store = storeOf(c);
  const secret = await sessionSecret(store);
  const value = await getSignedCookie(c, secret, SESSION_COOKIE);
  if (typeof value !== 'string') return null;
  const m = /^v3\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return null;
  const session = await store.getSession(await sha256Hex(m[1]!));
  if (!session || session.revokedAt !== null) return null;
  if (now >= Math.min(session.expiresAt, session.createdAt + limits.maxMs)) return null;
  if (now - session.lastSeenAt >= limits.idleMs) return null;
  if (session.userId === null && session.tokenTag !== (await tokenTag(secret, adminToken))) return null;
  await store.touchSession(session.id, now);
  return session;
};

/** Signs this browser out: revokes its session on the server and deletes the cookie. */
export const endSession = async (c: Context, session: SessionRecord | null, now: number): Promise<void> => {
  if (session) await storeOf(c).revokeSession(session.id, now);
  clearSessionCookie(c);
};

/** The actor of a live session: the admin token, or the user with their roles (null when the user is gone). */
export const sessionActor = async (store: Store, session: SessionRecord): Promise<Actor | null> => {
  if (session.userId === null) return { kind: 'admin-token', session: session.id };
  const user = await store.getUser(session.userId);
  if (!user) return null;
  return {
    kind: 'user',
    session: session.id,
    user: { id: user.id, email: user.email, instanceOwner: user.instanceOwner, roles: await store.rolesOf(user.id) },
  };
};
