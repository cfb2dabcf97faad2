/**
 * A team on a fresh app (issue 17): the demo site with an owner, an admin, an analyst and a viewer, a member to act
 * on, and a stranger who owns another site only; their passwords, dashboard sessions and personal API tokens; a
 * visitor, a rule, a write key, an invite and a share link to act on. Canary strings mark the data a refused answer
 * must never carry.
 */
import type { Actor, Role } from '../../collector/core/access';
import { createPasswordKdf, TEST_KDF_COST } from '../../collector/core/passwords';
import { createWriteKey } from '../../collector/core/services/keys';
import { acceptInvite, createInvite } from '../../collector/core/services/members';
import { createRule } from '../../collector/core/services/rules';
import { createShareLink } from '../../collector/core/services/shares';
import { createApiToken } from '../../collector/core/services/tokens';
import { defaultSiteConfig, type SiteConfig } from '../../collector/core/stages';
import type { AppOptions } from '../../collector/core/app';
import { batch, ev, makeApp, page, TOKEN, type TestApp } from '../helpers';

export const ORIGIN = 'http://localhost';
export const PASSWORD = 'correct horse battery';
export const ADMIN: Actor = { kind: 'admin-token' };

/** Strings of the demo site's data that no refused answer may contain. */
export const CANARY = {
  visitor: 'v-canary-0001',
  page: '/canary-page',
  webhook: 'https://hooks.canary.test/w',
  rule: 'Canary rule',
  key: 'canary key',
};

export const kdf = createPasswordKdf({ cost: TEST_KDF_COST });

export const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

export interface Member {
  email: string;
  id: string;
  role: Role | null;
  /** The dashboard session cookie (`cjm_session=…`). */
  cookie: string;
  /** A personal API token at the user's role on every site. */
  token: string;
  /** The id of a second token of theirs (to revoke). */
  spareToken: string;
}

export interface Team extends TestApp {
  demo: SiteConfig;
  owner: Member;
  admin: Member;
  analyst: Member;
  viewer: Member;
  /** Owner of site "other", no role on demo. */
  stranger: Member;
  /** A viewer of demo whose role and membership the matrix changes. */
  target: Member;
  adminCookie: string;
  ids: { rule: string; key: string; invite: string; share: string; shareSecret: string };
  post: (path: string, fields: Record<string, string>, headers?: Record<string, string>) => Promise<Response>;
  get: (path: string, cookie?: string) => Promise<Response>;
  signIn: (email: string, password?: string) => Promise<Response>;
}

export const cookieOf = (res: Response): string => {
  const set = res.headers.get('set-cookie') ?? '';
  if (!/^cjm_session=/.test(set)) throw new Error(`no session cookie in ${res.status} ${set}`);
  return set.split(';')[0]!;
};

export const makeTeam = async (extra: Partial<AppOptions> = {}): Promise<Team> => {
  const t = await makeApp(undefined, { kdf: { cost: TEST_KDF_COST }, signInLimit: false, ...extra });
  const now = t.clock.now;
  await t.store.putSite(defaultSiteConfig('other', { name: 'Other' }));
  const demo = (await t.store.getSite('demo'))!;
  const other = (await t.store.getSite('other'))!;

  const post = async (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    t.app.request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN, ...headers },
      body: form(fields),
    });
  const get = async (path: string, cookie?: string) =>
    t.app.request(path, { headers: cookie ? { Cookie: cookie } : {} });
  const signIn = async (email: string, password = PASSWORD) => post('/login', { email, password, next: '/' });

  const member = async (name: string, site: SiteConfig, role: Role): Promise<Member> => {
    const email = `${name}@team.test`;
    const { secret } = await createInvite(ADMIN, t.store, site, role, now);
    const { userId } = await acceptInvite(t.store, kdf, secret, { email, password: PASSWORD }, now);
    const res = await signIn(email);
    if (res.status !== 303) throw new Error(`sign-in of ${email}: ${res.status}`);
    const user = (await t.store.getUser(userId))!;
    const actor: Actor = {
      kind: 'user',
      session: '',
      user: { id: userId, email, instanceOwner: false, roles: await t.store.rolesOf(userId) },
    };
    const { token } = await createApiToken(actor, t.store, { name: 'matrix', role }, now);
    const spare = await createApiToken(actor, t.store, { name: 'spare', role: 'viewer' }, now);
    return {
      email: user.email,
      id: userId,
      role: site.id === 'demo' ? role : null,
      cookie: cookieOf(res),
      token,
      spareToken: spare.apiToken.id,
    };
  };

  const owner = await member('owner', demo, 'owner');
  const admin = await member('admin', demo, 'admin');
  const analyst = await member('analyst', demo, 'analyst');
  const viewer = await member('viewer', demo, 'viewer');
  const target = await member('target', demo, 'viewer');
  const stranger = await member('stranger', other, 'owner');
  const adminCookie = cookieOf(await post('/login', { token: TOKEN, next: '/' }));

  // Data on demo to read and change.
  await t.collect(
    batch(CANARY.visitor, [page(CANARY.page), ev('event', { name: 'add_to_cart', url: 'https://shop.test/cart' })]),
  );
  const rule = await createRule(
    ADMIN,
    t.store,
    demo,
    {
      name: CANARY.rule,
      trigger: { type: 'stage_entered', stage: 'cart' },
      action: { type: 'webhook', url: CANARY.webhook },
    },
    now,
  );
  const key = await createWriteKey(ADMIN, t.store, demo, CANARY.key, now);
  const invite = await createInvite(ADMIN, t.store, demo, 'viewer', now);
  const share = await createShareLink(ADMIN, t.store, kdf, demo, { name: 'agency' }, now);

  return {
    ...t,
    demo,
    owner,
    admin,
    analyst,
    viewer,
    stranger,
    target,
    adminCookie,
    ids: {
      rule: rule.id,
      key: key.writeKey.id,
      invite: invite.invite.id,
      share: share.link.id,
      shareSecret: share.secret,
    },
    post,
    get,
    signIn,
  };
};
