/**
 * The store contract of teams (issue 17, TeamStore): users, memberships, sessions, personal API tokens, invites,
 * share links and the audit log — run against each driver (sqlite.test.ts, d1.test.ts), with `teamTranscript` for
 * the byte-for-byte comparison of the two.
 */
import { describe, expect, it } from 'vitest';
import type { ApiToken, Invite, SessionRecord, ShareLinkRecord, Store, UserRecord } from '../../collector/core/store';
import { TOUCH_EVERY_MS } from '../../collector/stores/sql/team';
import { T0, type StoreFactory } from './contract';

const DAY = 86_400_000;

const invite = (id: string, site: string | null, role: Invite['role'], fields: Partial<Invite> = {}): Invite => ({
  id,
  site,
  role,
  createdBy: 'admin-token',
  createdAt: T0,
  expiresAt: T0 + 7 * DAY,
  usedAt: null,
  usedBy: null,
  revokedAt: null,
  ...fields,
});

const user = (id: string, email: string): UserRecord => ({
  id,
  email,
  passwordHash: `$pbkdf2-sha256$i=1000,c=500$c2FsdHNhbHRzYWx0$${id}`,
  instanceOwner: false,
  createdAt: T0,
  passwordChangedAt: T0,
});

const session = (id: string, userId: string | null, fields: Partial<SessionRecord> = {}): SessionRecord => ({
  id,
  userId,
  tokenTag: userId === null ? 'tag' : null,
  createdAt: T0,
  lastSeenAt: T0,
  expiresAt: T0 + 14 * DAY,
  revokedAt: null,
  ...fields,
});

const token = (id: string, userId: string, fields: Partial<ApiToken> = {}): ApiToken => ({
  id,
  userId,
  name: `token ${id}`,
  prefix: `cjm_pat_${id}`,
  role: 'viewer',
  site: null,
  createdAt: T0,
  expiresAt: null,
  lastUsedAt: null,
  revokedAt: null,
  ...fields,
});

/** Two users on shop (ada owner, bob viewer), by invites, as the services make them. */
const seed = async (store: Store) => {
  await store.createInvite(invite('inv_a', 'shop', 'owner'), 'hash-a');
  await store.createInvite(invite('inv_b', 'shop', 'viewer'), 'hash-b');
  expect(await store.acceptInvite('inv_a', T0 + 1, { kind: 'new-user', user: user('usr_ada', 'ada@x.test') })).toBe(
    true,
  );
  expect(await store.acceptInvite('inv_b', T0 + 2, { kind: 'new-user', user: user('usr_bob', 'bob@x.test') })).toBe(
    true,
  );
};

export const teamContract = (driver: string, open: StoreFactory) => {
  describe(`Team store contract: ${driver}`, () => {
    it('an invite makes one user and one membership, once; a used, revoked or expired one does nothing', async () => {
      const { store } = await open();
      expect(await store.countUsers()).toBe(0);
      await seed(store);
      expect(await store.countUsers()).toBe(2);
      expect(await store.findUserByEmail('ada@x.test')).toEqual(user('usr_ada', 'ada@x.test'));
      expect(await store.getUser('usr_bob')).toMatchObject({ email: 'bob@x.test', instanceOwner: false });
      expect(await store.listUsers()).toEqual([
        { id: 'usr_ada', email: 'ada@x.test', instanceOwner: false, createdAt: T0, passwordChangedAt: T0 },
        { id: 'usr_bob', email: 'bob@x.test', instanceOwner: false, createdAt: T0, passwordChangedAt: T0 },
      ]);
      expect(await store.findInvite('hash-a')).toMatchObject({ id: 'inv_a', usedAt: T0 + 1, usedBy: 'usr_ada' });
      expect(await store.rolesOf('usr_ada')).toEqual(new Map([['shop', 'owner']]));
      // Used: a second acceptance (another tab) makes nothing.
      expect(await store.acceptInvite('inv_a', T0 + 3, { kind: 'new-user', user: user('usr_eve', 'eve@x.test') })).toBe(
        false,
      );
      expect(await store.getUser('usr_eve')).toBeNull();
      // Revoked, expired, or an e-mail taken by then: nothing, and the invite stays unused.
      await store.createInvite(invite('inv_r', 'shop', 'admin'), 'hash-r');
      expect(await store.revokeInvite('shop', 'inv_r', T0 + 4)).toMatchObject({ revokedAt: T0 + 4 });
      expect(await store.revokeInvite('shop', 'inv_r', T0 + 5)).toMatchObject({ revokedAt: T0 + 4 });
      expect(await store.revokeInvite('blog', 'inv_r', T0 + 5)).toBeNull();
      expect(await store.acceptInvite('inv_r', T0 + 6, { kind: 'existing-user', userId: 'usr_bob' })).toBe(false);
      await store.createInvite(invite('inv_x', 'shop', 'admin', { expiresAt: T0 + 10 }), 'hash-x');
      expect(await store.acceptInvite('inv_x', T0 + 10, { kind: 'existing-user', userId: 'usr_bob' })).toBe(false);
      await store.createInvite(invite('inv_t', 'shop', 'admin'), 'hash-t');
      expect(await store.acceptInvite('inv_t', T0 + 7, { kind: 'new-user', user: user('usr_two', 'ada@x.test') })).toBe(
        false,
      );
      expect(await store.findInvite('hash-t')).toMatchObject({ usedAt: null, usedBy: null });
      expect(await store.rolesOf('usr_bob')).toEqual(new Map([['shop', 'viewer']]));
      expect((await store.listInvites('shop')).map((i) => i.id).sort()).toEqual([
        'inv_a',
        'inv_b',
        'inv_r',
        'inv_t',
        'inv_x',
      ]);
    });

    it('an existing user keeps the higher of two roles; a bootstrap invite makes an instance owner', async () => {
      const { store } = await open();
      await seed(store);
      await store.createInvite(invite('inv_up', 'shop', 'admin'), 'hash-up');
      expect(await store.acceptInvite('inv_up', T0 + 5, { kind: 'existing-user', userId: 'usr_bob' })).toBe(true);
      expect(await store.rolesOf('usr_bob')).toEqual(new Map([['shop', 'admin']]));
      await store.createInvite(invite('inv_down', 'shop', 'viewer'), 'hash-down');
      expect(await store.acceptInvite('inv_down', T0 + 6, { kind: 'existing-user', userId: 'usr_bob' })).toBe(true);
      expect(await store.rolesOf('usr_bob')).toEqual(new Map([['shop', 'admin']]));
      await store.createInvite(invite('inv_blog', 'blog', 'analyst'), 'hash-blog');
      expect(await store.acceptInvite('inv_blog', T0 + 7, { kind: 'existing-user', userId: 'usr_bob' })).toBe(true);
      expect(await store.rolesOf('usr_bob')).toEqual(
        new Map([
          ['shop', 'admin'],
          ['blog', 'analyst'],
        ]),
      );
      await store.createInvite(invite('inv_boot', null, 'owner'), 'hash-boot');
      expect(await store.listInvites(null)).toHaveLength(1);
      expect(
        await store.acceptInvite('inv_boot', T0 + 8, { kind: 'new-user', user: user('usr_root', 'root@x.test') }),
      ).toBe(true);
      expect(await store.getUser('usr_root')).toMatchObject({ instanceOwner: true });
      expect(await store.rolesOf('usr_root')).toEqual(new Map());
    });

    it('members: listed with e-mails, roles changed, removed with their tokens for that site', async () => {
      const { store } = await open();
      await seed(store);
      expect(await store.listMembers('shop')).toEqual([
        { site: 'shop', userId: 'usr_ada', email: 'ada@x.test', role: 'owner', createdAt: T0 + 1 },
        { site: 'shop', userId: 'usr_bob', email: 'bob@x.test', role: 'viewer', createdAt: T0 + 2 },
      ]);
      expect(await store.setMemberRole('shop', 'usr_bob', 'analyst')).toBe(true);
      expect(await store.setMemberRole('blog', 'usr_bob', 'analyst')).toBe(false);
      expect(await store.rolesOf('usr_bob')).toEqual(new Map([['shop', 'analyst']]));
      await store.createApiToken(token('pat_shop', 'usr_bob', { site: 'shop' }), 'th-shop');
      await store.createApiToken(token('pat_all', 'usr_bob'), 'th-all');
      expect(await store.removeMember('shop', 'usr_bob', T0 + 9)).toBe(true);
      expect(await store.removeMember('shop', 'usr_bob', T0 + 9)).toBe(false);
      expect(await store.listMembers('shop')).toHaveLength(1);
      expect(await store.findApiToken('th-shop')).toMatchObject({ revokedAt: T0 + 9 });
      expect(await store.findApiToken('th-all')).toMatchObject({ revokedAt: null });
    });

    it('sessions: kept by id, touched at most once a minute, revoked one, all but one, or by a password change', async () => {
      const { store } = await open();
      await seed(store);
      await store.createSession(session('s1', 'usr_ada'));
      await store.createSession(session('s2', 'usr_ada'));
      await store.createSession(session('s3', 'usr_bob'));
      await store.createSession(session('s4', null));
      expect(await store.getSession('s1')).toEqual(session('s1', 'usr_ada'));
      expect(await store.getSession('nope')).toBeNull();
      await store.touchSession('s1', T0 + TOUCH_EVERY_MS - 1);
      expect((await store.getSession('s1'))!.lastSeenAt).toBe(T0);
      await store.touchSession('s1', T0 + TOUCH_EVERY_MS);
      expect((await store.getSession('s1'))!.lastSeenAt).toBe(T0 + TOUCH_EVERY_MS);
      expect(await store.revokeSessions('usr_ada', T0 + 100, 's1')).toBe(1);
      expect((await store.getSession('s2'))!.revokedAt).toBe(T0 + 100);
      expect((await store.getSession('s1'))!.revokedAt).toBeNull();
      expect(await store.revokeSessions(null, T0 + 100)).toBe(1);
      expect((await store.getSession('s4'))!.revokedAt).toBe(T0 + 100);
      expect((await store.getSession('s3'))!.revokedAt).toBeNull();
      await store.revokeSession('s3', T0 + 200);
      await store.revokeSession('s3', T0 + 300);
      expect((await store.getSession('s3'))!.revokedAt).toBe(T0 + 200);
      // A password change ends every other session of the user, and keeps the one making it.
      await store.createSession(session('s5', 'usr_ada'));
      await store.setPasswordHash('usr_ada', 'new-hash', T0 + 400, 's1');
      expect(await store.getUser('usr_ada')).toMatchObject({ passwordHash: 'new-hash', passwordChangedAt: T0 + 400 });
      expect((await store.getSession('s5'))!.revokedAt).toBe(T0 + 400);
      expect((await store.getSession('s1'))!.revokedAt).toBeNull();
      // A rehash on sign-in changes the hash only.
      await store.setPasswordHash('usr_ada', 'rehashed', T0 + 400);
      expect((await store.getSession('s1'))!.revokedAt).toBeNull();
      // Pruning deletes ended sessions only.
      await store.createSession(session('s6', 'usr_bob', { expiresAt: T0 + 50 }));
      expect(await store.pruneSessions(T0 + 1000, 100)).toBe(5);
      expect(await store.getSession('s1')).not.toBeNull();
      expect(await store.getSession('s6')).toBeNull();
    });

    it('personal API tokens: found by hash, listed newest first, touched at most once a minute, revoked once', async () => {
      const { store } = await open();
      await seed(store);
      await store.createApiToken(token('pat_1', 'usr_ada', { role: 'owner', expiresAt: T0 + DAY }), 'th-1');
      await store.createApiToken(token('pat_2', 'usr_ada', { createdAt: T0 + 1, site: 'shop' }), 'th-2');
      await store.createApiToken(token('pat_3', 'usr_bob'), 'th-3');
      expect(await store.findApiToken('th-1')).toEqual(
        token('pat_1', 'usr_ada', { role: 'owner', expiresAt: T0 + DAY }),
      );
      expect(await store.findApiToken('pat_1')).toBeNull();
      expect((await store.listApiTokens('usr_ada')).map((t) => t.id)).toEqual(['pat_2', 'pat_1']);
      await store.touchApiToken('pat_1', T0 + 5);
      await store.touchApiToken('pat_1', T0 + 6);
      expect((await store.findApiToken('th-1'))!.lastUsedAt).toBe(T0 + 5);
      await store.touchApiToken('pat_1', T0 + 5 + TOUCH_EVERY_MS);
      expect((await store.findApiToken('th-1'))!.lastUsedAt).toBe(T0 + 5 + TOUCH_EVERY_MS);
      expect(await store.revokeApiToken('usr_ada', 'pat_1', T0 + 9)).toMatchObject({ revokedAt: T0 + 9 });
      expect(await store.revokeApiToken('usr_ada', 'pat_1', T0 + 10)).toMatchObject({ revokedAt: T0 + 9 });
      // Another user's token is not theirs to revoke.
      expect(await store.revokeApiToken('usr_ada', 'pat_3', T0 + 10)).toBeNull();
      expect((await store.findApiToken('th-3'))!.revokedAt).toBeNull();
    });

    it('share links: found by hash with the password hash, listed without it, touched, revoked once', async () => {
      const { store } = await open();
      const link = (id: string, fields: Partial<ShareLinkRecord> = {}): ShareLinkRecord => ({
        id,
        site: 'shop',
        name: `link ${id}`,
        prefix: id.slice(0, 6),
        hasPassword: false,
        passwordHash: null,
        createdBy: 'user:usr_ada',
        createdAt: T0,
        expiresAt: null,
        lastViewedAt: null,
        revokedAt: null,
        ...fields,
      });
      await store.createShareLink(link('shr_1', { hasPassword: true, passwordHash: '$scrypt$x' }), 'sh-1');
      await store.createShareLink(link('shr_2', { createdAt: T0 + 1, expiresAt: T0 + DAY }), 'sh-2');
      expect(await store.findShareLink('sh-1')).toEqual(
        link('shr_1', { hasPassword: true, passwordHash: '$scrypt$x' }),
      );
      const listed = (l: ShareLinkRecord) => {
        const copy: Partial<ShareLinkRecord> = { ...l };
        delete copy.passwordHash;
        return copy;
      };
      expect(await store.listShareLinks('shop')).toEqual([
        listed(link('shr_2', { createdAt: T0 + 1, expiresAt: T0 + DAY })),
        listed(link('shr_1', { hasPassword: true })),
      ]);
      expect(await store.listShareLinks('blog')).toEqual([]);
      await store.touchShareLink('shr_1', T0 + 3);
      await store.touchShareLink('shr_1', T0 + 4);
      expect((await store.findShareLink('sh-1'))!.lastViewedAt).toBe(T0 + 3);
      expect(await store.revokeShareLink('shop', 'shr_1', T0 + 5)).toMatchObject({ revokedAt: T0 + 5 });
      expect(await store.revokeShareLink('shop', 'shr_1', T0 + 6)).toMatchObject({ revokedAt: T0 + 5 });
      expect(await store.revokeShareLink('blog', 'shr_2', T0 + 6)).toBeNull();
      expect(await store.revokeShareLink('shop', 'shr_1', T0 + 6)).not.toHaveProperty('passwordHash');
    });

    it('the audit log: appended per site, read newest first in pages, details kept as JSON', async () => {
      const { store } = await open();
      for (let i = 0; i < 5; i++) {
        await store.appendAudit({
          site: i % 2 ? 'blog' : 'shop',
          at: T0 + i,
          actor: 'user:usr_ada',
          actorLabel: 'ada@x.test',
          action: `thing.${i}`,
          target: i === 4 ? null : `t${i}`,
          detail: i === 0 ? null : { n: i, list: ['a', 'b'], nested: { ok: true }, text: 'ünï “q”' },
        });
      }
      const shop = await store.listAudit('shop', 10);
      expect(shop.map((e) => e.action)).toEqual(['thing.4', 'thing.2', 'thing.0']);
      expect(shop[1]).toMatchObject({
        site: 'shop',
        at: T0 + 2,
        actor: 'user:usr_ada',
        actorLabel: 'ada@x.test',
        target: 't2',
        detail: { n: 2, list: ['a', 'b'], nested: { ok: true }, text: 'ünï “q”' },
      });
      expect(shop[0]!.target).toBeNull();
      expect(shop[2]!.detail).toBeNull();
      const first = await store.listAudit('shop', 2);
      expect(first.map((e) => e.action)).toEqual(['thing.4', 'thing.2']);
      expect((await store.listAudit('shop', 2, first[1]!.id)).map((e) => e.action)).toEqual(['thing.0']);
      expect((await store.listAudit('blog', 10)).map((e) => e.action)).toEqual(['thing.3', 'thing.1']);
    });
  });
};

/** One fixed sequence of team calls, every result a line of JSON: two drivers must give the same lines. */
export const teamTranscript = async (store: Store): Promise<string[]> => {
  const out: string[] = [];
  const log = async (label: string, p: Promise<unknown>) => {
    const v = await p;
    out.push(`${label} ${JSON.stringify(v instanceof Map ? [...v.entries()].sort() : v)}`);
  };
  await seed(store);
  await store.createInvite(invite('inv_c', 'shop', 'admin'), 'hash-c');
  await log('accept', store.acceptInvite('inv_c', T0 + 3, { kind: 'existing-user', userId: 'usr_bob' }));
  await log('members', store.listMembers('shop'));
  await log('users', store.listUsers());
  await log('invites', store.listInvites('shop'));
  await store.createSession(session('s1', 'usr_ada'));
  await store.touchSession('s1', T0 + TOUCH_EVERY_MS);
  await log('session', store.getSession('s1'));
  await log('revoked', store.revokeSessions('usr_ada', T0 + 5));
  await store.createApiToken(token('pat_1', 'usr_bob', { site: 'shop', role: 'analyst' }), 'th-1');
  await log('tokens', store.listApiTokens('usr_bob'));
  await log('removed', store.removeMember('shop', 'usr_bob', T0 + 9));
  await log('token', store.findApiToken('th-1'));
  await store.appendAudit({
    site: 'shop',
    at: T0,
    actor: 'admin-token',
    actorLabel: 'admin token',
    action: 'site.update',
    target: 'shop',
    detail: { fields: ['name'], name: 'Shop “2”' },
  });
  await log('audit', store.listAudit('shop', 10));
  return out;
};
