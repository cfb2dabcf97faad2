/**
 * Personal API tokens (`Authorization: Bearer cjm_pat_…` on /api, beside the admin token): created by a user for
 * themselves, at most their own role (a `role` cap, optionally one `site`), with an optional expiry; the secret is
 * returned once and only its SHA-256 kept; listed with their last use; revocable. What a token may do is decided
 * at each request from its user's current roles, lowered to its cap (core/access.ts), so removing a member takes
 * their tokens' access with it.
 */
import { atLeast, isRole, roleOf, ROLES, roleRank, type Actor, type Role } from '../access';
import { randomId, randomSecret } from '../secrets';
import { InputError } from '../errors';
import { sha256Hex } from '../privacy';
import type { ApiToken, Store } from '../store';
import { actorUserOf } from './users';

export const API_TOKEN_PREFIX = 'cjm_pat_';
/** Characters of a token shown in lists: `cjm_pat_` and 6 of the secret. */
export const API_TOKEN_SHOWN = API_TOKEN_PREFIX.length + 6;
export const TOKEN_NAME_LENGTH = 100;
/** The longest expiry a token may be given. */
export const TOKEN_MAX_DAYS = 3650;
/** Tokens a user may hold (revoked ones included in the count: they are kept for the list). */
export const MAX_TOKENS = 100;

export interface TokenInput {
  name?: unknown;
  role?: unknown;
  site?: unknown;
  /** Days until it expires; absent or null: never. */
  expiresInDays?: unknown;
}

/** The user behind a session or a token; the admin token and share links have none. */
const userOf = (actor: Actor) => {
  if (actor.kind === 'user' || actor.kind === 'token') return actor.user;
  throw new InputError(
    403,
    '[cjm] personal API tokens belong to users: sign in with your e-mail (the admin token is a token already)',
  );
};

/** The highest role the actor has anywhere (the cap a new token may take). */
const highestRole = (actor: Actor): Role | null => {
  const user = userOf(actor);
  let best: Role | null = user.instanceOwner ? 'owner' : null;
  for (const r of user.roles.values()) if (best === null || roleRank(r) > roleRank(best)) best = r;
  if (actor.kind === 'token' && best !== null && roleRank(actor.token.cap) < roleRank(best)) best = actor.token.cap;
  return best;
};

/** Creates a token for the actor's user. A token acting may make tokens no wider than itself. */
export const createApiToken = async (
  actor: Actor,
  store: Store,
  input: TokenInput,
  now: number,
): Promise<{ token: string; apiToken: ApiToken }> => {
  const user = userOf(actor);
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name || name.length > TOKEN_NAME_LENGTH) {
    throw new InputError(400, `[cjm] name must be 1 to ${TOKEN_NAME_LENGTH} characters`, 'name');
  }
  if (!isRole(input.role)) throw new InputError(400, `[cjm] role must be one of ${ROLES.join(', ')}`, 'role');
  const role = input.role;
  let site: string | null = null;
  if (input.site !== undefined && input.site !== null && input.site !== '') {
    if (typeof input.site !== 'string') throw new InputError(400, '[cjm] site must be a site id', 'site');
    site = input.site;
  }
  if (actor.kind === 'token' && actor.token.site !== null && site !== actor.token.site) {
    throw new InputError(
      403,
      `[cjm] this token works on site "${actor.token.site}" only; so do the tokens it makes`,
      'site',
    );
  }
  const most = site === null ? highestRole(actor) : roleOf(actor, site);
  if (site !== null && most === null) throw new InputError(404, `[cjm] unknown site "${site}"`, 'site');
  if (!atLeast(most, role)) {
    throw new InputError(403, `[cjm] a token can have at most your role (${most ?? 'none'}), not ${role}`, 'role');
  }
  let expiresAt: number | null = null;
  if (input.expiresInDays !== undefined && input.expiresInDays !== null && input.expiresInDays !== '') {
    const days = Number(input.expiresInDays);
    if (!Number.isInteger(days) || days < 1 || days > TOKEN_MAX_DAYS) {
      throw new InputError(
        400,
        `[cjm] expiresInDays must be a whole number from 1 to ${TOKEN_MAX_DAYS}`,
        'expiresInDays',
      );
    }
    expiresAt = now + days * 86_400_000;
  }
  if ((await store.listApiTokens(user.id)).length >= MAX_TOKENS) {
    throw new InputError(409, `[cjm] you have ${MAX_TOKENS} tokens, the most allowed; revoke one first`);
  }
  const token = randomSecret(API_TOKEN_PREFIX);
  const apiToken: ApiToken = {
    id: randomId('pat_'),
    userId: user.id,
    name,
    prefix: token.slice(0, API_TOKEN_SHOWN),
    role,
    site,
    createdAt: now,
    expiresAt,
    lastUsedAt: null,
    revokedAt: null,
  };
  await store.createApiToken(apiToken, await sha256Hex(token));
  return { token, apiToken };
};

export const listApiTokens = (actor: Actor, store: Store): Promise<ApiToken[]> => store.listApiTokens(userOf(actor).id);

export const revokeApiToken = async (actor: Actor, store: Store, id: string, now: number): Promise<ApiToken> => {
  const t = await store.revokeApiToken(userOf(actor).id, id, now);
  if (!t) throw new InputError(404, `[cjm] you have no token "${id}"`, 'id');
  return t;
};

/** Why a bearer token that looks like a personal one was refused (the 401's message). */
export type TokenRefusal = 'unknown' | 'revoked' | 'expired';

/**
 * The actor of a personal API token, or why it is refused. Records its use (at most once a minute).
 */
export const tokenActor = async (
  store: Store,
  secret: string,
  now: number,
): Promise<{ actor: Actor } | { refused: TokenRefusal }> => {
  if (!secret.startsWith(API_TOKEN_PREFIX) || secret.length > 100) return { refused: 'unknown' };
  const t = await store.findApiToken(await sha256Hex(secret));
  if (!t) return { refused: 'unknown' };
  if (t.revokedAt !== null) return { refused: 'revoked' };
  if (t.expiresAt !== null && t.expiresAt <= now) return { refused: 'expired' };
  const user = await store.getUser(t.userId);
  if (!user) return { refused: 'revoked' };
  await store.touchApiToken(t.id, now);
  return {
    actor: { kind: 'token', user: await actorUserOf(store, user), token: { id: t.id, cap: t.role, site: t.site } },
  };
};
