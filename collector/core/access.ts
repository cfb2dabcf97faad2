/**
 * Who may do what: the roles per site, the actions, who is asking (`Actor`), and `authorize(actor, site, action)` —
 * the one check every service calls before it reads or changes anything, for the API and the dashboard alike.
 *
 * Roles (docs/api.md, "Roles"), each with everything of the ones below it:
 * - `viewer`: aggregate reports only (journey map, funnel, touches, counters); no visitor-level data, no export,
 *   no settings.
 * - `analyst`: every report, the visitors list and timelines, the raw export.
 * - `admin`: the site's settings, stage model, rules, write keys, share links, invites (up to admin), erasing
 *   visitors, the audit log.
 * - `owner`: everything: members (roles, removal), invites of owners. (cjm has no way to delete a site yet; when it
 *   has one, it is an owner's action here.)
 *
 * The instance owner — the admin token, or a user made by the bootstrap invite — is owner of every site and the only
 * one who creates sites. A personal API token acts as its user with at most its own role (`cap`), optionally on one
 * site only. Someone without a role on a site is told the site does not exist (404, as for an unknown id), so site
 * ids are no oracle; someone whose role is too low gets a 403 naming the role needed.
 */
import { InputError } from './errors';

export const ROLES = ['viewer', 'analyst', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);
export const roleRank = (role: Role): number => ROLES.indexOf(role);
/** The lower of two roles. */
export const lowerRole = (a: Role, b: Role): Role => (roleRank(a) <= roleRank(b) ? a : b);
export const atLeast = (role: Role | null, needed: Role): boolean =>
  role !== null && roleRank(role) >= roleRank(needed);

/** Every action on a site, and the least role that may do it. */
export const ACTIONS = {
  /** Aggregate reports: journey map, funnel, touches, counters (dashboard map and funnel tabs, share links). */
  'reports.read': 'viewer',
  /** The visitors list and a visitor's timeline. */
  'visitors.read': 'analyst',
  /** The raw-event export. */
  export: 'analyst',
  /** The site's configuration, rules, deliveries, write-key list, automation settings. */
  'settings.read': 'admin',
  /** Name, origins, session timeout, stage model, automation settings. */
  'settings.write': 'admin',
  'rules.write': 'admin',
  /** Create and revoke write keys; read and rotate the webhook signing secret. */
  'keys.write': 'admin',
  'visitors.erase': 'admin',
  'shares.manage': 'admin',
  /** Create invites (of a role no higher than one's own) and list pending ones; list members. */
  'members.invite': 'admin',
  'audit.read': 'admin',
  /** Change a member's role, remove a member. */
  'members.manage': 'owner',
} as const satisfies Record<string, Role>;
export type Action = keyof typeof ACTIONS;

/** A signed-in user (or a token's user) as access checks see them. */
export interface ActorUser {
  id: string;
  email: string;
  /** Made by the bootstrap invite: owner of every site, may create sites. */
  instanceOwner: boolean;
  /** The user's role per site. */
  roles: ReadonlyMap<string, Role>;
}

export type Actor =
  /** The admin token (a script's bearer token, or a dashboard session signed in with it). */
  | { kind: 'admin-token'; session?: string }
  /** A user with a dashboard session. */
  | { kind: 'user'; user: ActorUser; session: string }
  /** A personal API token: its user, at most `cap`, on `site` only when set. */
  | { kind: 'token'; user: ActorUser; token: { id: string; cap: Role; site: string | null } }
  /** A visitor of a share link: the reports of one site, nothing else. */
  | { kind: 'share'; site: string; link: string };

/** The actor's role on a site, or null for none. */
export const roleOf = (actor: Actor, site: string): Role | null => {
  switch (actor.kind) {
    case 'admin-token':
      return 'owner';
    case 'user':
      return actor.user.instanceOwner ? 'owner' : (actor.user.roles.get(site) ?? null);
    case 'token': {
      if (actor.token.site !== null && actor.token.site !== site) return null;
      const own = actor.user.instanceOwner ? 'owner' : actor.user.roles.get(site);
      return own ? lowerRole(own, actor.token.cap) : null;
    }
    case 'share':
      // A share link shows reports, nothing else: below the viewer role in what it may do (see authorize).
      return actor.site === site ? 'viewer' : null;
  }
};

/** True when the actor is the instance owner (creates sites, sees every user). */
export const isInstanceOwner = (actor: Actor): boolean =>
  actor.kind === 'admin-token' ||
  (actor.kind === 'user' && actor.user.instanceOwner) ||
  (actor.kind === 'token' && actor.user.instanceOwner && actor.token.cap === 'owner' && actor.token.site === null);

/** True when the actor may do `action` on `site`. */
export const can = (actor: Actor, site: string, action: Action): boolean => {
  if (actor.kind === 'share') return actor.site === site && action === 'reports.read';
  return atLeast(roleOf(actor, site), ACTIONS[action]);
};

/** A label of the actor for the audit log and messages: an e-mail, `admin token`, `token pat_… of ada@…`. */
export const actorLabel = (actor: Actor): string => {
  switch (actor.kind) {
    case 'admin-token':
      return 'admin token';
    case 'user':
      return actor.user.email;
    case 'token':
      return `${actor.user.email} (token ${actor.token.id})`;
    case 'share':
      return `share link ${actor.link}`;
  }
};

/** The id stored with an audit entry: `user:<id>`, `token:<id>`, `admin-token`. */
export const actorId = (actor: Actor): string => {
  switch (actor.kind) {
    case 'admin-token':
      return 'admin-token';
    case 'user':
      return `user:${actor.user.id}`;
    case 'token':
      return `token:${actor.token.id}`;
    case 'share':
      return `share:${actor.link}`;
  }
};

/** The 404 of a site the actor has no role on: the same words as for a site that does not exist. */
export const unknownSite = (site: string): InputError => new InputError(404, `[cjm] unknown site "${site}"`, 'site');

/**
 * The one access check: returns when the actor may do `action` on `site`; otherwise throws a 404 (no role on the
 * site: the same answer as an unknown site) or a 403 naming the role needed. Services call it first.
 *
 * @example
 * authorize(actor, site.id, 'visitors.erase') // before erasing anything
 */
export const authorize = (actor: Actor, site: string, action: Action): void => {
  const role = roleOf(actor, site);
  if (role === null) throw unknownSite(site);
  if (can(actor, site, action)) return;
  const needed = ACTIONS[action];
  const who = actor.kind === 'token' && roleRank(actor.token.cap) < roleRank(needed) ? 'this token is' : 'you are';
  throw new InputError(
    403,
    actor.kind === 'share'
      ? '[cjm] a share link shows the journey map and the funnel only'
      : `[cjm] ${action} on site "${site}" needs the ${needed} role; ${who} ${actor.kind === 'token' && who === 'this token is' ? actor.token.cap : role}`,
  );
};

/** Instance-wide actions (creating a site): the instance owner only, a 403 otherwise. */
export const authorizeInstance = (actor: Actor, what: string): void => {
  if (!isInstanceOwner(actor)) {
    throw new InputError(403, `[cjm] ${what} needs the instance owner (the admin token, or its first user)`);
  }
};
