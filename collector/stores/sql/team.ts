/**
 * Teams in SQL (migration 0030): users, memberships, sessions, personal API tokens, invites, share links and the
 * audit log — the TeamStore methods. Instance-wide tables, kept in the main database (the settings side) when sites
 * keep their data in databases of their own. Needs only shared.ts.
 *
 * Secrets never reach this file: the core hands over the SHA-256 of a session, token, invite or share-link secret,
 * and KDF hashes of passwords.
 */
import type { Role } from '../../core/access';
import type {
  ApiToken,
  AuditEntry,
  Invite,
  Membership,
  SessionRecord,
  ShareLink,
  ShareLinkRecord,
  TeamStore,
  User,
  UserRecord,
} from '../../core/store';
import { empty, query, raw, sql, type SqlConnector, type SqlStatement, type SqlValue } from './shared';

/** Activity (`last_seen_at`, `last_used_at`, `last_viewed_at`) is written at most this often per row. */
export const TOUCH_EVERY_MS = 60_000;

type Row = Record<string, SqlValue>;
const s = (v: SqlValue): string => v as string;
const n = (v: SqlValue): number => v as number;
const sOrNull = (v: SqlValue): string | null => (v === null ? null : (v as string));
const nOrNull = (v: SqlValue): number | null => (v === null ? null : (v as number));

const USER = raw('id, email, password_hash, instance_owner, created_at, password_changed_at');
const user = (r: Row): UserRecord => ({
  id: s(r.id!),
  email: s(r.email!),
  passwordHash: s(r.password_hash!),
  instanceOwner: r.instance_owner === 1,
  createdAt: n(r.created_at!),
  passwordChangedAt: n(r.password_changed_at!),
});
const publicUser = ({ passwordHash: _, ...u }: UserRecord): User => u;

const SESSION = raw('id, user_id, token_tag, created_at, last_seen_at, expires_at, revoked_at');
const session = (r: Row): SessionRecord => ({
  id: s(r.id!),
  userId: sOrNull(r.user_id!),
  tokenTag: sOrNull(r.token_tag!),
  createdAt: n(r.created_at!),
  lastSeenAt: n(r.last_seen_at!),
  expiresAt: n(r.expires_at!),
  revokedAt: nOrNull(r.revoked_at!),
});

const TOKEN = raw('id, user_id, name, prefix, role, site, created_at, expires_at, last_used_at, revoked_at');
const token = (r: Row): ApiToken => ({
  id: s(r.id!),
  userId: s(r.user_id!),
  name: s(r.name!),
  prefix: s(r.prefix!),
  role: s(r.role!) as Role,
  site: sOrNull(r.site!),
  createdAt: n(r.created_at!),
  expiresAt: nOrNull(r.expires_at!),
  lastUsedAt: nOrNull(r.last_used_at!),
  revokedAt: nOrNull(r.revoked_at!),
});

const INVITE = raw('id, site, role, created_by, created_at, expires_at, used_at, used_by, revoked_at');
const invite = (r: Row): Invite => ({
  id: s(r.id!),
  site: sOrNull(r.site!),
  role: s(r.role!) as Role,
  createdBy: s(r.created_by!),
  createdAt: n(r.created_at!),
  expiresAt: n(r.expires_at!),
  usedAt: nOrNull(r.used_at!),
  usedBy: sOrNull(r.used_by!),
  revokedAt: nOrNull(r.revoked_at!),
});

const SHARE = raw(
  'id, site, name, prefix, password_hash, created_by, created_at, expires_at, last_viewed_at, revoked_at',
);
const share = (r: Row): ShareLinkRecord => ({
  id: s(r.id!),
  site: s(r.site!),
  name: s(r.name!),
  prefix: s(r.prefix!),
  hasPassword: r.password_hash !== null,
  passwordHash: sOrNull(r.password_hash!),
  createdBy: s(r.created_by!),
  createdAt: n(r.created_at!),
  expiresAt: nOrNull(r.expires_at!),
  lastViewedAt: nOrNull(r.last_viewed_at!),
  revokedAt: nOrNull(r.revoked_at!),
});
const publicShare = ({ passwordHash: _, ...l }: ShareLinkRecord): ShareLink => l;

const audit = (r: Row): AuditEntry => ({
  id: n(r.id!),
  site: s(r.site!),
  at: n(r.at!),
  actor: s(r.actor!),
  actorLabel: s(r.actor_label!),
  action: s(r.action!),
  target: sOrNull(r.target!),
  detail: r.detail === null ? null : (JSON.parse(s(r.detail!)) as Record<string, unknown>),
});

/** A role's rank in SQL (viewer 0 … owner 3), for "the higher of two roles". */
const rankSql = (column: string) =>
  raw(`CASE ${column} WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'analyst' THEN 1 ELSE 0 END`);

/** The session conditions of "still live at `at`": not revoked, not past its absolute end. */
const liveAt = (at: number) => sql`revoked_at IS NULL AND expires_at > ${at}`;

/**
 * The team methods of the Store over a connector.
 *
 * @example
 * const team = sqlTeamStore(db)
 * await team.createSession({ id: sha256(secret), userId, tokenTag: null, createdAt: now, ... })
 */
export const sqlTeamStore = (db: SqlConnector): TeamStore => {
  const rows = (q: SqlStatement) => query<Row>(db, q);
  const first = async <T>(q: SqlStatement, map: (r: Row) => T): Promise<T | null> => {
    const [r] = await rows(q);
    return r ? map(r) : null;
  };
  return {
    // ----- users -----
    getUser: (id) => first(sql`SELECT ${USER} FROM users WHERE id = ${id}`, user),
    findUserByEmail: (email) => first(sql`SELECT ${USER} FROM users WHERE email = ${email}`, user),
    async listUsers() {
      return (await rows(sql`SELECT ${USER} FROM users ORDER BY email`)).map((r) => publicUser(user(r)));
    },
    async countUsers() {
      const [r] = await rows(sql`SELECT COUNT(*) AS n FROM users`);
      return n(r!.n!);
    },
    async setPasswordHash(userId, hash, at, revokeSessionsExcept) {
      const statements: SqlStatement[] = [
        sql`UPDATE users SET password_hash = ${hash}, password_changed_at = ${at} WHERE id = ${userId}`,
      ];
      if (revokeSessionsExcept !== undefined) {
        statements.push(
          sql`UPDATE sessions SET revoked_at = ${at}
              WHERE user_id = ${userId} AND revoked_at IS NULL AND id IS NOT ${revokeSessionsExcept}`,
        );
      }
      await db.batch(statements);
    },

    // ----- memberships -----
    async rolesOf(userId) {
      const list = await rows(sql`SELECT site, role FROM memberships WHERE user_id = ${userId}`);
      return new Map(list.map((r) => [s(r.site!), s(r.role!) as Role]));
    },
    async listMembers(site) {
      const list = await rows(
        sql`SELECT m.site, m.user_id, u.email, m.role, m.created_at FROM memberships m
            JOIN users u ON u.id = m.user_id WHERE m.site = ${site} ORDER BY u.email`,
      );
      return list.map((r): Membership => ({
        site: s(r.site!),
        userId: s(r.user_id!),
        email: s(r.email!),
        role: s(r.role!) as Role,
        createdAt: n(r.created_at!),
      }));
    },
    async setMemberRole(site, userId, role) {
      const exists = await rows(sql`SELECT 1 AS x FROM memberships WHERE site = ${site} AND user_id = ${userId}`);
      if (!exists.length) return false;
      await db.batch([sql`UPDATE memberships SET role = ${role} WHERE site = ${site} AND user_id = ${userId}`]);
      return true;
    },
    async removeMember(site, userId, at) {
      const exists = await rows(sql`SELECT 1 AS x FROM memberships WHERE site = ${site} AND user_id = ${userId}`);
      if (!exists.length) return false;
      await db.batch([
        sql`DELETE FROM memberships WHERE site = ${site} AND user_id = ${userId}`,
        sql`UPDATE api_tokens SET revoked_at = ${at} WHERE user_id = ${userId} AND site = ${site} AND revoked_at IS NULL`,
      ]);
      return true;
    },

    // ----- sessions -----
    async createSession(x) {
      await db.batch([
        sql`INSERT INTO sessions (id, user_id, token_tag, created_at, last_seen_at, expires_at, revoked_at)
            VALUES (${x.id}, ${x.userId}, ${x.tokenTag}, ${x.createdAt}, ${x.lastSeenAt}, ${x.expiresAt}, ${x.revokedAt})`,
      ]);
    },
    getSession: (id) => first(sql`SELECT ${SESSION} FROM sessions WHERE id = ${id}`, session),
    async touchSession(id, at) {
      await db.batch([
        sql`UPDATE sessions SET last_seen_at = ${at}
            WHERE id = ${id} AND revoked_at IS NULL AND last_seen_at <= ${at - TOUCH_EVERY_MS}`,
      ]);
    },
    async revokeSession(id, at) {
      await db.batch([sql`UPDATE sessions SET revoked_at = ${at} WHERE id = ${id} AND revoked_at IS NULL`]);
    },
    async revokeSessions(userId, at, except) {
      const who = userId === null ? sql`user_id IS NULL` : sql`user_id = ${userId}`;
      const [r] = await rows(
        sql`SELECT COUNT(*) AS n FROM sessions WHERE ${who} AND ${liveAt(at)} AND id IS NOT ${except ?? null}`,
      );
      await db.batch([
        sql`UPDATE sessions SET revoked_at = ${at} WHERE ${who} AND ${liveAt(at)} AND id IS NOT ${except ?? null}`,
      ]);
      return n(r!.n!);
    },
    async pruneSessions(before, limit) {
      const ids = await rows(
        sql`SELECT id FROM sessions WHERE expires_at < ${before} OR revoked_at < ${before} LIMIT ${limit}`,
      );
      if (!ids.length) return 0;
      await db.batch(ids.map((r) => sql`DELETE FROM sessions WHERE id = ${s(r.id!)}`));
      return ids.length;
    },

    // ----- personal API tokens -----
    async createApiToken(t, hash) {
      await db.batch([
        sql`INSERT INTO api_tokens (id, user_id, name, prefix, hash, role, site, created_at, expires_at)
            VALUES (${t.id}, ${t.userId}, ${t.name}, ${t.prefix}, ${hash}, ${t.role}, ${t.site}, ${t.createdAt}, ${t.expiresAt})`,
      ]);
    },
    async listApiTokens(userId) {
      return (
        await rows(sql`SELECT ${TOKEN} FROM api_tokens WHERE user_id = ${userId} ORDER BY created_at DESC, id DESC`)
      ).map(token);
    },
    findApiToken: (hash) => first(sql`SELECT ${TOKEN} FROM api_tokens WHERE hash = ${hash}`, token),
    async touchApiToken(id, at) {
      await db.batch([
        sql`UPDATE api_tokens SET last_used_at = ${at}
            WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at <= ${at - TOUCH_EVERY_MS})`,
      ]);
    },
    async revokeApiToken(userId, id, at) {
      await db.batch([
        sql`UPDATE api_tokens SET revoked_at = ${at} WHERE user_id = ${userId} AND id = ${id} AND revoked_at IS NULL`,
      ]);
      return first(sql`SELECT ${TOKEN} FROM api_tokens WHERE user_id = ${userId} AND id = ${id}`, token);
    },

    // ----- invites -----
    async createInvite(i, hash) {
      await db.batch([
        sql`INSERT INTO invites (id, hash, site, role, created_by, created_at, expires_at)
            VALUES (${i.id}, ${hash}, ${i.site}, ${i.role}, ${i.createdBy}, ${i.createdAt}, ${i.expiresAt})`,
      ]);
    },
    findInvite: (hash) => first(sql`SELECT ${INVITE} FROM invites WHERE hash = ${hash}`, invite),
    async listInvites(site) {
      const where = site === null ? sql`site IS NULL` : sql`site = ${site}`;
      return (await rows(sql`SELECT ${INVITE} FROM invites WHERE ${where} ORDER BY created_at DESC, id DESC`)).map(
        invite,
      );
    },
    async revokeInvite(site, id, at) {
      const where = site === null ? sql`site IS NULL` : sql`site = ${site}`;
      await db.batch([
        sql`UPDATE invites SET revoked_at = ${at} WHERE ${where} AND id = ${id} AND revoked_at IS NULL AND used_at IS NULL`,
      ]);
      return first(sql`SELECT ${INVITE} FROM invites WHERE ${where} AND id = ${id}`, invite);
    },
    async acceptInvite(inviteId, at, acceptance) {
      const userId = acceptance.kind === 'new-user' ? acceptance.user.id : acceptance.userId;
      const freeEmail =
        acceptance.kind === 'new-user'
          ? sql` AND NOT EXISTS (SELECT 1 FROM users WHERE email = ${acceptance.user.email})`
          : empty;
      // The claim: only one request can move used_at from NULL; every statement after it checks it is ours.
      const ours = sql`EXISTS (SELECT 1 FROM invites WHERE id = ${inviteId} AND used_by = ${userId} AND used_at = ${at})`;
      const statements: SqlStatement[] = [
        sql`UPDATE invites SET used_at = ${at}, used_by = ${userId}
            WHERE id = ${inviteId} AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ${at}${freeEmail}`,
      ];
      if (acceptance.kind === 'new-user') {
        const u = acceptance.user;
        statements.push(
          sql`INSERT INTO users (id, email, password_hash, instance_owner, created_at, password_changed_at)
              SELECT ${u.id}, ${u.email}, ${u.passwordHash},
                     (SELECT CASE WHEN site IS NULL THEN 1 ELSE 0 END FROM invites WHERE id = ${inviteId}),
                     ${u.createdAt}, ${u.passwordChangedAt}
              WHERE ${ours}`,
        );
      }
      // A role on the invite's site; an existing member keeps the higher of the two roles.
      statements.push(
        sql`INSERT INTO memberships (site, user_id, role, created_at)
            SELECT site, ${userId}, role, ${at} FROM invites WHERE id = ${inviteId} AND site IS NOT NULL AND ${ours}
            ON CONFLICT (site, user_id) DO UPDATE SET role = CASE
              WHEN ${rankSql('excluded.role')} > ${rankSql('memberships.role')} THEN excluded.role ELSE memberships.role END`,
      );
      if (acceptance.kind === 'existing-user') {
        statements.push(
          sql`UPDATE users SET instance_owner = 1 WHERE id = ${userId}
              AND EXISTS (SELECT 1 FROM invites WHERE id = ${inviteId} AND site IS NULL) AND ${ours}`,
        );
      }
      await db.batch(statements);
      const [r] = await rows(sql`SELECT used_by, used_at FROM invites WHERE id = ${inviteId}`);
      return r?.used_by === userId && r?.used_at === at;
    },

    // ----- share links -----
    async createShareLink(l, hash) {
      await db.batch([
        sql`INSERT INTO share_links (id, site, hash, name, prefix, password_hash, created_by, created_at, expires_at)
            VALUES (${l.id}, ${l.site}, ${hash}, ${l.name}, ${l.prefix}, ${l.passwordHash}, ${l.createdBy}, ${l.createdAt}, ${l.expiresAt})`,
      ]);
    },
    findShareLink: (hash) => first(sql`SELECT ${SHARE} FROM share_links WHERE hash = ${hash}`, share),
    async listShareLinks(site) {
      return (
        await rows(sql`SELECT ${SHARE} FROM share_links WHERE site = ${site} ORDER BY created_at DESC, id DESC`)
      ).map((r) => publicShare(share(r)));
    },
    async revokeShareLink(site, id, at) {
      await db.batch([
        sql`UPDATE share_links SET revoked_at = ${at} WHERE site = ${site} AND id = ${id} AND revoked_at IS NULL`,
      ]);
      const l = await first(sql`SELECT ${SHARE} FROM share_links WHERE site = ${site} AND id = ${id}`, share);
      return l ? publicShare(l) : null;
    },
    async touchShareLink(id, at) {
      await db.batch([
        sql`UPDATE share_links SET last_viewed_at = ${at}
            WHERE id = ${id} AND (last_viewed_at IS NULL OR last_viewed_at <= ${at - TOUCH_EVERY_MS})`,
      ]);
    },

    // ----- audit log -----
    async appendAudit(e) {
      await db.batch([
        sql`INSERT INTO audit_log (site, at, actor, actor_label, action, target, detail)
            VALUES (${e.site}, ${e.at}, ${e.actor}, ${e.actorLabel}, ${e.action}, ${e.target},
                    ${e.detail === null ? null : JSON.stringify(e.detail)})`,
      ]);
    },
    async listAudit(site, limit, before) {
      return (
        await rows(
          sql`SELECT id, site, at, actor, actor_label, action, target, detail FROM audit_log
              WHERE site = ${site} AND id < ${before ?? Number.MAX_SAFE_INTEGER} ORDER BY id DESC LIMIT ${limit}`,
        )
      ).map(audit);
    },
  };
};
