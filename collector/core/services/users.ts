/**
 * User accounts: e-mail and password (hashed by core/passwords.ts), signing in (with a KDF run even for an unknown
 * e-mail, so the answer's timing tells nothing), changing the password (which ends every other session), and the
 * access-check view of a user (their roles per site).
 */
import { authorizeInstance, type Actor, type ActorUser } from '../access';
import { InputError } from '../errors';
import type { PasswordKdf } from '../passwords';
import type { Store, User, UserRecord } from '../store';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 200;
const EMAIL = /^[^\s@<>"',;]+@[^\s@<>"',;]+\.[^\s@<>"',;]+$/;

/** An e-mail as stored: trimmed, lower-cased, at most 254 characters; a 400 naming `path` otherwise. */
export const checkEmail = (input: unknown, path = 'email'): string => {
  const email = typeof input === 'string' ? input.trim().toLowerCase() : '';
  if (email.length > 254 || !EMAIL.test(email)) throw new InputError(400, '[cjm] that is not an e-mail address', path);
  return email;
};

/** A new password: PASSWORD_MIN to PASSWORD_MAX characters; a 400 naming `path` otherwise. */
export const checkNewPassword = (input: unknown, path = 'password'): string => {
  const password = typeof input === 'string' ? input : '';
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new InputError(400, `[cjm] a password has ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`, path);
  }
  return password;
};

/** The access-check view of a user: their roles read now (a removed member loses access at the next request). */
export const actorUserOf = async (store: Store, user: UserRecord): Promise<ActorUser> => ({
  id: user.id,
  email: user.email,
  instanceOwner: user.instanceOwner,
  roles: await store.rolesOf(user.id),
});

/**
 * The user whose e-mail and password these are, or null. A hash below this runtime's cost (or PBKDF2 where scrypt is
 * available) is replaced on the way.
 */
export const verifyPassword = async (
  store: Store,
  kdf: PasswordKdf,
  emailInput: string,
  password: string,
): Promise<UserRecord | null> => {
  const email = emailInput.trim().toLowerCase();
  const user = email.length <= 254 && password.length <= 4 * PASSWORD_MAX ? await store.findUserByEmail(email) : null;
  if (!user) {
    await kdf.burn(password.slice(0, 4 * PASSWORD_MAX));
    return null;
  }
  if (!(await kdf.verify(password, user.passwordHash))) return null;
  if (kdf.needsRehash(user.passwordHash)) {
    await store.setPasswordHash(user.id, await kdf.hash(password), user.passwordChangedAt);
  }
  return user;
};

/**
 * Changes a user's password (the current one required) and ends every other session of theirs: a stolen cookie or a
 * browser left signed in somewhere stops working. The session making the change stays.
 */
export const changePassword = async (
  actor: Actor,
  store: Store,
  kdf: PasswordKdf,
  current: string,
  next: unknown,
  now: number,
): Promise<void> => {
  if (actor.kind !== 'user') {
    throw new InputError(403, '[cjm] only a signed-in user has a password to change (not the admin token)');
  }
  const user = await store.getUser(actor.user.id);
  if (!user || !(await kdf.verify(current, user.passwordHash))) {
    throw new InputError(403, '[cjm] the current password is wrong', 'current');
  }
  const password = checkNewPassword(next, 'password');
  await store.setPasswordHash(user.id, await kdf.hash(password), now, actor.session);
};

/** Ends every session of the actor (the user's, or the admin token's) but the current one; returns how many. */
export const signOutEverywhere = async (actor: Actor, store: Store, now: number, keep?: string): Promise<number> => {
  if (actor.kind === 'user') return store.revokeSessions(actor.user.id, now, keep);
  if (actor.kind === 'admin-token') return store.revokeSessions(null, now, keep);
  throw new InputError(403, '[cjm] signing out everywhere is for a dashboard session');
};

/** Every user of the instance (the instance owner only). */
export const listUsers = async (actor: Actor, store: Store): Promise<User[]> => {
  authorizeInstance(actor, 'the user list');
  return store.listUsers();
};
