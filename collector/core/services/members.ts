/**
 * Members of a site and the invites that make them: one-time links that expire (INVITE_DAYS), created by a site's
 * admin or owner for a role no higher than their own; members' roles changed and members removed by an owner. The
 * bootstrap invite (site null) makes the first user, an instance owner: `npm start` prints one while no user exists,
 * and the instance owner can ask for one with `POST /api/invites` (the Worker prints nothing).
 *
 * Changes go to the site's audit log: invite.create, invite.revoke, member.join, member.role, member.remove.
 */
import {
  actorId,
  atLeast,
  authorize,
  authorizeInstance,
  isRole,
  roleOf,
  ROLES,
  type Actor,
  type Role,
} from '../access';
import { randomId, randomSecret } from '../secrets';
import { InputError } from '../errors';
import type { PasswordKdf } from '../passwords';
import { sha256Hex } from '../privacy';
import type { SiteConfig } from '../stages';
import type { Invite, Membership, Store } from '../store';
import { audit } from './audit';
import { checkEmail, checkNewPassword } from './users';

/** How long an invite link works. */
export const INVITE_DAYS = 7;
/** How long the bootstrap invite printed at start works. */
export const BOOTSTRAP_INVITE_HOURS = 24;

/** The path of an invite link (the secret is its last segment). */
export const invitePath = (secret: string) => `/invite/${secret}`;

const checkRole = (input: unknown, path = 'role'): Role => {
  if (!isRole(input)) throw new InputError(400, `[cjm] role must be one of ${ROLES.join(', ')}`, path);
  return input;
};

/**
 * Creates an invite to `site` for `role` (admin and up; an owner's role only from an owner). Returns the secret of
 * the link, shown once.
 */
export const createInvite = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  roleInput: unknown,
  now: number,
): Promise<{ secret: string; invite: Invite }> => {
  authorize(actor, site.id, 'members.invite');
  const role = checkRole(roleInput);
  if (!atLeast(roleOf(actor, site.id), role)) {
    throw new InputError(
      403,
      `[cjm] you can invite up to your own role (${roleOf(actor, site.id)}), not ${role}`,
      'role',
    );
  }
  const secret = randomSecret();
  const invite: Invite = {
    id: randomId('inv_'),
    site: site.id,
    role,
    createdBy: actorId(actor),
    createdAt: now,
    expiresAt: now + INVITE_DAYS * 86_400_000,
    usedAt: null,
    usedBy: null,
    revokedAt: null,
  };
  await store.createInvite(invite, await sha256Hex(secret));
  await audit(store, actor, site.id, now, 'invite.create', invite.id, { role });
  return { secret, invite };
};

/**
 * The bootstrap invite: one link that makes an instance owner. Earlier unused bootstrap invites are revoked, so only
 * the latest printed link works. `actor` null: the start-up banner (no user exists yet).
 */
export const createBootstrapInvite = async (
  actor: Actor | null,
  store: Store,
  now: number,
): Promise<{ secret: string; invite: Invite }> => {
  if (actor) authorizeInstance(actor, 'an instance-owner invite');
  for (const old of await store.listInvites(null)) {
    if (old.usedAt === null && old.revokedAt === null) await store.revokeInvite(null, old.id, now);
  }
  const secret = randomSecret();
  const invite: Invite = {
    id: randomId('inv_'),
    site: null,
    role: 'owner',
    createdBy: actor ? actorId(actor) : 'bootstrap',
    createdAt: now,
    expiresAt: now + BOOTSTRAP_INVITE_HOURS * 3_600_000,
    usedAt: null,
    usedBy: null,
    revokedAt: null,
  };
  await store.createInvite(invite, await sha256Hex(secret));
  return { secret, invite };
};

/** A site's invites not yet used, revoked or expired (admin and up). */
export const pendingInvites = async (actor: Actor, store: Store, site: SiteConfig, now: number): Promise<Invite[]> => {
  authorize(actor, site.id, 'members.invite');
  return (await store.listInvites(site.id)).filter(
    (i) => i.usedAt === null && i.revokedAt === null && i.expiresAt > now,
  );
};

export const revokeInvite = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  id: string,
  now: number,
): Promise<Invite> => {
  authorize(actor, site.id, 'members.invite');
  const invite = await store.revokeInvite(site.id, id, now);
  if (!invite) throw new InputError(404, `[cjm] site "${site.id}" has no invite "${id}"`, 'id');
  if (invite.revokedAt === now) await audit(store, actor, site.id, now, 'invite.revoke', id, { role: invite.role });
  return invite;
};

/** The invite of a link, while it can be used; otherwise a 404 that says why it no longer works. */
export const openInvite = async (store: Store, secret: string, now: number): Promise<Invite> => {
  const invite = /^[A-Za-z0-9_-]{43}$/.test(secret) ? await store.findInvite(await sha256Hex(secret)) : null;
  if (!invite) throw new InputError(404, '[cjm] this invite link is not known; ask for a new one');
  if (invite.usedAt !== null) throw new InputError(404, '[cjm] this invite link was used already; ask for a new one');
  if (invite.revokedAt !== null) throw new InputError(404, '[cjm] this invite link was revoked; ask for a new one');
  if (invite.expiresAt <= now) throw new InputError(404, '[cjm] this invite link has expired; ask for a new one');
  return invite;
};

/**
 * Uses an invite: a new account (`email`, `password`) or, for a signed-in user, the invite's role for them. One-time
 * and atomic (store.acceptInvite): two tabs accepting the same link make one account. Returns the user's id.
 */
export const acceptInvite = async (
  store: Store,
  kdf: PasswordKdf,
  secret: string,
  who: { email: unknown; password: unknown } | { userId: string },
  now: number,
): Promise<{ userId: string; invite: Invite }> => {
  const invite = await openInvite(store, secret, now);
  let userId: string;
  let email: string;
  if ('userId' in who) {
    const user = await store.getUser(who.userId);
    if (!user) throw new InputError(404, '[cjm] that account no longer exists');
    userId = user.id;
    email = user.email;
    if (!(await store.acceptInvite(invite.id, now, { kind: 'existing-user', userId }))) {
      throw new InputError(404, '[cjm] this invite link was used already; ask for a new one');
    }
  } else {
    email = checkEmail(who.email);
    const password = checkNewPassword(who.password);
    if (await store.findUserByEmail(email)) {
      throw new InputError(
        409,
        '[cjm] an account with this e-mail exists: sign in first, then open the link again',
        'email',
      );
    }
    userId = randomId('usr_');
    const user = { id: userId, email, passwordHash: await kdf.hash(password), instanceOwner: false, createdAt: now };
    const ok = await store.acceptInvite(invite.id, now, {
      kind: 'new-user',
      user: { ...user, passwordChangedAt: now },
    });
    if (!ok) throw new InputError(404, '[cjm] this invite link was used already; ask for a new one');
  }
  if (invite.site !== null) {
    const joined: Actor = {
      kind: 'user',
      session: '',
      user: { id: userId, email, instanceOwner: false, roles: new Map([[invite.site, invite.role]]) },
    };
    await audit(store, joined, invite.site, now, 'member.join', userId, { role: invite.role, invite: invite.id });
  }
  return { userId, invite };
};

/**
 * A site keeps at least one member who is its owner: the last one can be neither demoted nor removed (a 409 naming
 * `path`) — make someone else owner first. (The instance owner can always step in; a site without any owner member,
 * made by the admin token, has nothing to keep.)
 */
const keepAnOwner = (site: SiteConfig, members: Membership[], member: Membership, path: string): void => {
  if (member.role !== 'owner') return;
  if (members.some((m) => m.role === 'owner' && m.userId !== member.userId)) return;
  throw new InputError(
    409,
    `[cjm] ${member.email} is the only owner of site "${site.id}": make another member owner first`,
    path,
  );
};

/** A site's members (admin and up). */
export const listMembers = async (actor: Actor, store: Store, site: SiteConfig): Promise<Membership[]> => {
  authorize(actor, site.id, 'members.invite');
  return store.listMembers(site.id);
};

/** Changes a member's role (owner). */
export const setMemberRole = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  userId: string,
  roleInput: unknown,
  now: number,
): Promise<Membership> => {
  authorize(actor, site.id, 'members.manage');
  const role = checkRole(roleInput);
  const members = await store.listMembers(site.id);
  const before = members.find((m) => m.userId === userId);
  if (before && role !== 'owner') keepAnOwner(site, members, before, 'role');
  if (!before || !(await store.setMemberRole(site.id, userId, role))) {
    throw new InputError(404, `[cjm] site "${site.id}" has no member "${userId}"`, 'user');
  }
  await audit(store, actor, site.id, now, 'member.role', userId, { email: before.email, from: before.role, to: role });
  return { ...before, role };
};

/** Removes a member (owner); their tokens scoped to the site are revoked with it. */
export const removeMember = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  userId: string,
  now: number,
): Promise<void> => {
  authorize(actor, site.id, 'members.manage');
  const members = await store.listMembers(site.id);
  const before = members.find((m) => m.userId === userId);
  if (before) keepAnOwner(site, members, before, 'user');
  if (!before || !(await store.removeMember(site.id, userId, now))) {
    throw new InputError(404, `[cjm] site "${site.id}" has no member "${userId}"`, 'user');
  }
  await audit(store, actor, site.id, now, 'member.remove', userId, { email: before.email, role: before.role });
};
