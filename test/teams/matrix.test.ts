/**
 * The authorization matrix (issue 17): every route of the app — read from the app's own route table, so a route
 * added without a row here fails — × every kind of caller: the admin token, an owner, an admin, an analyst and a
 * viewer of the site, a member of another site only, no credentials, a wrong, revoked or expired token, an
 * idle-expired or signed-out session, a token capped below its user's role. Each answer has the expected status, and
 * no refused answer carries any of the site's data (the canaries of fixture.ts).
 */
import { describe, expect, it } from 'vitest';
import { ACTIONS, roleRank, type Action, type Role } from '../../collector/core/access';
import { SESSION_LIMITS } from '../../collector/core/dashboard/auth';
import { createApiToken, revokeApiToken } from '../../collector/core/services/tokens';
import { TOKEN } from '../helpers';
import { CANARY, makeTeam, ORIGIN, type Member, type Team } from './fixture';

/** Who may call a route. */
type Need =
  | { site: Action } // a role on the site that allows the action
  | 'signed-in' // any authenticated caller
  | 'instance-owner' // the admin token (or the first user)
  | 'user'; // a user (a session or a personal token), not the admin token

interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The route as the app registers it. */
  route: string;
  need: Need;
  /** The request's path (defaults to the route with :site = demo). */
  path?: (t: Team, who: Caller) => string;
  body?: (t: Team, who: Caller) => unknown;
  /** The status when allowed. */
  ok: number;
}

const rule = {
  name: 'Matrix rule',
  trigger: { type: 'stage_entered', stage: 'cart' },
  action: { type: 'webhook', url: 'https://hooks.example.com/m' },
};

/** Every /api route; order matters only within one caller's app (destructive ones last). */
const API: RouteCase[] = [
  { method: 'GET', route: '/api/me', need: 'signed-in', ok: 200 },
  { method: 'GET', route: '/api/sites', need: 'signed-in', ok: 200 },
  { method: 'GET', route: '/api/users', need: 'instance-owner', ok: 200 },
  { method: 'GET', route: '/api/health', need: 'instance-owner', ok: 200 },
  { method: 'GET', route: '/api/templates', need: 'signed-in', ok: 200 },
  { method: 'POST', route: '/api/sites', need: 'instance-owner', body: () => ({ id: 'made' }), ok: 201 },
  { method: 'GET', route: '/api/sites/:site', need: { site: 'settings.read' }, ok: 200 },
  { method: 'PUT', route: '/api/sites/:site', need: { site: 'settings.write' }, body: () => ({ name: 'D' }), ok: 200 },
  { method: 'GET', route: '/api/sites/:site/visitors', need: { site: 'visitors.read' }, ok: 200 },
  {
    method: 'GET',
    route: '/api/sites/:site/visitors/:visitor',
    need: { site: 'visitors.read' },
    path: () => `/api/sites/demo/visitors/${CANARY.visitor}`,
    ok: 200,
  },
  { method: 'GET', route: '/api/sites/:site/funnel', need: { site: 'reports.read' }, ok: 200 },
  { method: 'GET', route: '/api/sites/:site/touches', need: { site: 'reports.read' }, ok: 200 },
  { method: 'GET', route: '/api/sites/:site/time-to-convert', need: { site: 'reports.read' }, ok: 200 },
  { method: 'GET', route: '/api/sites/:site/counters', need: { site: 'reports.read' }, ok: 200 },
  { method: 'GET', route: '/api/sites/:site/journey-map', need: { site: 'reports.read' }, ok: 200 },
  { method: 'GET', route: '/api/sites/:site/retention', need: { site: 'reports.read' }, ok: 200 },
  { method: 'GET', route: '/api/sites/:site/export', need: { site: 'export' }, ok: 200 },
  {
    method: 'POST',
    route: '/api/sites/:site/keys',
    need: { site: 'keys.write' },
    body: () => ({ name: 'k' }),
    ok: 201,
  },
  { method: 'GET', route: '/api/sites/:site/keys', need: { site: 'settings.read' }, ok: 200 },
  { method: 'GET', route: '/api/sites/:site/rules', need: { site: 'settings.read' }, ok: 200 },
  { method: 'POST', route: '/api/sites/:site/rules', need: { site: 'rules.write' }, body: () => rule, ok: 201 },
  {
    method: 'GET',
    route: '/api/sites/:site/rules/:id',
    need: { site: 'settings.read' },
    path: (t) => `/api/sites/demo/rules/${t.ids.rule}`,
    ok: 200,
  },
  {
    method: 'PUT',
    route: '/api/sites/:site/rules/:id',
    need: { site: 'rules.write' },
    path: (t) => `/api/sites/demo/rules/${t.ids.rule}`,
    body: () => rule,
    ok: 200,
  },
  {
    method: 'GET',
    route: '/api/sites/:site/rules/:id/deliveries',
    need: { site: 'settings.read' },
    path: (t) => `/api/sites/demo/rules/${t.ids.rule}/deliveries`,
    ok: 200,
  },
  { method: 'GET', route: '/api/sites/:site/deliveries', need: { site: 'settings.read' }, ok: 200 },
  { method: 'GET', route: '/api/sites/:site/automation', need: { site: 'settings.read' }, ok: 200 },
  {
    method: 'PUT',
    route: '/api/sites/:site/automation',
    need: { site: 'settings.write' },
    body: () => ({ allowPrivateWebhooks: false }),
    ok: 200,
  },
  { method: 'GET', route: '/api/sites/:site/webhook-secret', need: { site: 'keys.write' }, ok: 200 },
  { method: 'POST', route: '/api/sites/:site/webhook-secret', need: { site: 'keys.write' }, ok: 200 },
  { method: 'GET', route: '/api/sites/:site/members', need: { site: 'members.invite' }, ok: 200 },
  {
    method: 'PUT',
    route: '/api/sites/:site/members/:user',
    need: { site: 'members.manage' },
    path: (t) => `/api/sites/demo/members/${t.target.id}`,
    body: () => ({ role: 'analyst' }),
    ok: 200,
  },
  {
    method: 'POST',
    route: '/api/sites/:site/invites',
    need: { site: 'members.invite' },
    body: () => ({ role: 'viewer' }),
    ok: 201,
  },
  { method: 'GET', route: '/api/sites/:site/invites', need: { site: 'members.invite' }, ok: 200 },
  { method: 'POST', route: '/api/invites', need: 'instance-owner', body: () => ({}), ok: 201 },
  { method: 'GET', route: '/api/tokens', need: 'user', ok: 200 },
  {
    method: 'POST',
    route: '/api/tokens',
    need: 'user',
    body: (_, who) => ({ name: 'n', role: 'viewer', site: who.site }),
    ok: 201,
  },
  { method: 'GET', route: '/api/sites/:site/shares', need: { site: 'shares.manage' }, ok: 200 },
  {
    method: 'POST',
    route: '/api/sites/:site/shares',
    need: { site: 'shares.manage' },
    body: () => ({ name: 'matrix' }),
    ok: 201,
  },
  { method: 'GET', route: '/api/sites/:site/audit', need: { site: 'audit.read' }, ok: 200 },
  // Changes the stage model (after the rules, which name its stages).
  {
    method: 'PUT',
    route: '/api/sites/:site/template',
    need: { site: 'settings.write' },
    body: () => ({ template: 'post-purchase' }),
    ok: 200,
  },
  // Destructive, last.
  {
    method: 'DELETE',
    route: '/api/tokens/:id',
    need: 'user',
    path: (_, who) => `/api/tokens/${who.member?.spareToken ?? 'pat_none'}`,
    ok: 200,
  },
  {
    method: 'DELETE',
    route: '/api/sites/:site/shares/:id',
    need: { site: 'shares.manage' },
    path: (t) => `/api/sites/demo/shares/${t.ids.share}`,
    ok: 200,
  },
  {
    method: 'DELETE',
    route: '/api/sites/:site/invites/:id',
    need: { site: 'members.invite' },
    path: (t) => `/api/sites/demo/invites/${t.ids.invite}`,
    ok: 200,
  },
  {
    method: 'DELETE',
    route: '/api/sites/:site/members/:user',
    need: { site: 'members.manage' },
    path: (t) => `/api/sites/demo/members/${t.target.id}`,
    ok: 200,
  },
  {
    method: 'DELETE',
    route: '/api/sites/:site/keys/:id',
    need: { site: 'keys.write' },
    path: (t) => `/api/sites/demo/keys/${t.ids.key}`,
    ok: 200,
  },
  {
    method: 'DELETE',
    route: '/api/sites/:site/rules/:id',
    need: { site: 'rules.write' },
    path: (t) => `/api/sites/demo/rules/${t.ids.rule}`,
    ok: 200,
  },
  {
    method: 'DELETE',
    route: '/api/sites/:site/visitors/:visitor',
    need: { site: 'visitors.erase' },
    path: () => `/api/sites/demo/visitors/${CANARY.visitor}`,
    ok: 200,
  },
];

/** Every signed-in dashboard route (form posts as forms, with the collector's own Origin). */
const DASHBOARD: RouteCase[] = [
  { method: 'GET', route: '/', need: 'signed-in', ok: 303 },
  { method: 'GET', route: '/go', need: 'signed-in', path: () => '/go?site=demo&tab=funnel', ok: 303 },
  { method: 'GET', route: '/sites/:site', need: 'signed-in', ok: 303 },
  { method: 'GET', route: '/sites/:site/map', need: { site: 'reports.read' }, ok: 200 },
  { method: 'GET', route: '/sites/:site/funnel', need: { site: 'reports.read' }, ok: 200 },
  { method: 'GET', route: '/sites/:site/retention', need: { site: 'reports.read' }, ok: 200 },
  { method: 'GET', route: '/sites/:site/visitors', need: { site: 'visitors.read' }, ok: 200 },
  {
    method: 'GET',
    route: '/sites/:site/visitors/:visitor',
    need: { site: 'visitors.read' },
    path: () => `/sites/demo/visitors/${CANARY.visitor}`,
    ok: 200,
  },
  { method: 'GET', route: '/sites/:site/export', need: { site: 'export' }, ok: 200 },
  { method: 'GET', route: '/sites/:site/team', need: { site: 'members.invite' }, ok: 200 },
  { method: 'GET', route: '/sites/:site/settings', need: { site: 'settings.read' }, ok: 200 },
  { method: 'GET', route: '/account', need: 'signed-in', ok: 200 },
  {
    method: 'POST',
    route: '/sites/:site/team/invites',
    need: { site: 'members.invite' },
    body: () => ({ role: 'viewer' }),
    ok: 200,
  },
  {
    method: 'POST',
    route: '/sites/:site/team/members/:user/role',
    need: { site: 'members.manage' },
    path: (t) => `/sites/demo/team/members/${t.target.id}/role`,
    body: () => ({ role: 'analyst' }),
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/team/shares',
    need: { site: 'shares.manage' },
    body: () => ({ name: 'matrix', password: '', expiresInDays: '' }),
    ok: 200,
  },
  {
    method: 'POST',
    route: '/sites/:site/settings/site',
    need: { site: 'settings.write' },
    body: () => ({ name: 'Demo', origins: '', sessionTimeoutMinutes: '30' }),
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/settings/stages',
    need: { site: 'settings.write' },
    body: () => ({
      stage_name: 'landing',
      stage_urls: '/**',
      stage_events: 'x',
      stage_nth: '',
      stage_after: '',
      stage_return_n: '',
      stage_return_unit: 'days',
      stage_where_rows: '0',
      conversion: 'landing',
    }),
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/settings/keys',
    need: { site: 'keys.write' },
    body: () => ({ name: 'k' }),
    ok: 200,
  },
  {
    method: 'POST',
    route: '/sites/:site/settings/rules',
    need: { site: 'rules.write' },
    body: () => ({ name: 'r', type: 'stage_entered', stage: 'landing', url: 'https://hooks.example.com/d' }),
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/settings/rules/:id/toggle',
    need: { site: 'rules.write' },
    path: (t) => `/sites/demo/settings/rules/${t.ids.rule}/toggle`,
    ok: 303,
  },
  {
    method: 'POST',
    route: '/account/password',
    need: 'user',
    body: () => ({ current: 'correct horse battery', password: 'correct horse battery' }),
    ok: 303,
  },
  {
    method: 'POST',
    route: '/account/tokens',
    need: 'user',
    body: () => ({ name: 't', role: 'viewer', site: '', expiresInDays: '' }),
    ok: 200,
  },
  { method: 'POST', route: '/account/owner-invite', need: 'instance-owner', ok: 200 },
  // Changes the stage model (after the rules, which name its stages).
  {
    method: 'POST',
    route: '/sites/:site/settings/template',
    need: { site: 'settings.write' },
    body: () => ({ template: 'post-purchase' }),
    ok: 303,
  },
  // Destructive, last.
  {
    method: 'POST',
    route: '/account/tokens/:id/revoke',
    need: 'user',
    path: (_, who) => `/account/tokens/${who.member?.spareToken ?? 'pat_none'}/revoke`,
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/team/invites/:id/revoke',
    need: { site: 'members.invite' },
    path: (t) => `/sites/demo/team/invites/${t.ids.invite}/revoke`,
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/team/shares/:id/revoke',
    need: { site: 'shares.manage' },
    path: (t) => `/sites/demo/team/shares/${t.ids.share}/revoke`,
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/team/members/:user/remove',
    need: { site: 'members.manage' },
    path: (t) => `/sites/demo/team/members/${t.target.id}/remove`,
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/settings/keys/:id/revoke',
    need: { site: 'keys.write' },
    path: (t) => `/sites/demo/settings/keys/${t.ids.key}/revoke`,
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/settings/rules/:id/delete',
    need: { site: 'rules.write' },
    path: (t) => `/sites/demo/settings/rules/${t.ids.rule}/delete`,
    ok: 303,
  },
  {
    method: 'POST',
    route: '/sites/:site/visitors/:visitor/delete',
    need: { site: 'visitors.erase' },
    path: () => `/sites/demo/visitors/${CANARY.visitor}/delete`,
    ok: 303,
  },
  // Signs the caller out of the rest: the very last.
  { method: 'POST', route: '/account/sign-out-everywhere', need: 'signed-in', ok: 303 },
];

/**
 * Routes outside the matrix, and why: public by design (tested in their own files), or authenticated otherwise
 * (the Segment API by write key: test/segment/).
 */
const PUBLIC = new Set([
  'POST /collect',
  'GET /login',
  'POST /login',
  'POST /logout',
  'GET /invite/:secret',
  'POST /invite/:secret',
  'GET /share/:secret',
  'GET /share/:secret/funnel',
  'GET /share/:secret/retention',
  'POST /share/:secret',
  'GET /demo',
  'GET /demo/*',
  'GET /cjm.js',
  'GET /cjm.vitals.js',
  'GET /cjm.markup.js',
  'GET /assets/favicon.svg',
  'GET /assets/:file',
  'POST /v1/track',
  'POST /v1/identify',
  'POST /v1/page',
  'POST /v1/screen',
  'POST /v1/group',
  'POST /v1/alias',
  'POST /v1/batch',
  'POST /v1/import',
]);

/** A kind of caller, and how it authenticates. */
interface Caller {
  name: string;
  /** Its role on demo (null: none); `instance`: the instance owner. */
  role: Role | null;
  instance?: boolean;
  /** A user (session or token), not the admin token. */
  user?: boolean;
  /** Refused before any route: 401 on the API, the sign-in redirect on the dashboard. */
  anonymous?: boolean;
  member?: Member;
  /** A personal token's one site: the tokens it makes must say it too. */
  site?: string;
  /** The member whose spare token the caller may revoke. */
  memberName?: 'owner' | 'admin' | 'analyst' | 'viewer' | 'stranger';
  auth: (t: Team) => Promise<Record<string, string>>;
}

const expected = (c: RouteCase, who: Caller, api: boolean): number => {
  if (who.anonymous) return api ? 401 : 303;
  if (c.need === 'signed-in') return c.ok;
  if (c.need === 'instance-owner') return who.instance ? c.ok : 403;
  if (c.need === 'user') return who.user ? c.ok : 403;
  const need = ACTIONS[c.need.site];
  if (who.role === null) return 404;
  return roleRank(who.role) >= roleRank(need) ? c.ok : 403;
};

const memberCallers = (kind: 'token' | 'session'): Caller[] =>
  (['owner', 'admin', 'analyst', 'viewer', 'stranger'] as const).map((name) => ({
    name: `${name} (${kind})`,
    role: name === 'stranger' ? null : name,
    user: true,
    memberName: name,
    auth: async (t: Team): Promise<Record<string, string>> => {
      const m = t[name];
      return kind === 'token' ? { Authorization: `Bearer ${m.token}` } : { Cookie: m.cookie };
    },
  }));

/** Fills `member` in once the team exists (the matrix makes a fresh team per caller). */
const bind = (who: Caller, t: Team): Caller => {
  return who.memberName ? { ...who, member: t[who.memberName] } : who;
};

const API_CALLERS: Caller[] = [
  { name: 'admin token', role: 'owner', instance: true, auth: async () => ({ Authorization: `Bearer ${TOKEN}` }) },
  ...memberCallers('token'),
  {
    name: "owner's token capped at viewer",
    role: 'viewer',
    user: true,
    memberName: 'owner',
    auth: async (t) => {
      const actor = { kind: 'user' as const, session: '', user: await userActor(t, t.owner) };
      const { token } = await createApiToken(actor, t.store, { name: 'capped', role: 'viewer' }, t.clock.now);
      return { Authorization: `Bearer ${token}` };
    },
  },
  {
    name: "stranger's token for site other only",
    role: null,
    user: true,
    memberName: 'stranger',
    site: 'other',
    auth: async (t) => {
      const actor = { kind: 'user' as const, session: '', user: await userActor(t, t.stranger) };
      const { token } = await createApiToken(
        actor,
        t.store,
        { name: 'other', role: 'owner', site: 'other' },
        t.clock.now,
      );
      return { Authorization: `Bearer ${token}` };
    },
  },
  { name: 'no credentials', role: null, anonymous: true, auth: async () => ({}) },
  { name: 'a wrong token', role: null, anonymous: true, auth: async () => ({ Authorization: 'Bearer cjm_pat_nope' }) },
  {
    name: 'a revoked token',
    role: null,
    anonymous: true,
    auth: async (t) => {
      const actor = { kind: 'user' as const, session: '', user: await userActor(t, t.owner) };
      const { token, apiToken } = await createApiToken(actor, t.store, { name: 'gone', role: 'owner' }, t.clock.now);
      await revokeApiToken(actor, t.store, apiToken.id, t.clock.now);
      return { Authorization: `Bearer ${token}` };
    },
  },
  {
    name: 'an expired token',
    role: null,
    anonymous: true,
    auth: async (t) => {
      const actor = { kind: 'user' as const, session: '', user: await userActor(t, t.owner) };
      const { token } = await createApiToken(
        actor,
        t.store,
        { name: 'old', role: 'owner', expiresInDays: 1 },
        t.clock.now - 2 * 86_400_000,
      );
      return { Authorization: `Bearer ${token}` };
    },
  },
];

const DASHBOARD_CALLERS: Caller[] = [
  { name: 'admin-token session', role: 'owner', instance: true, auth: async (t) => ({ Cookie: t.adminCookie }) },
  ...memberCallers('session'),
  { name: 'no session', role: null, anonymous: true, auth: async () => ({}) },
  {
    name: 'a signed-out session',
    role: null,
    anonymous: true,
    auth: async (t) => {
      const cookie = t.owner.cookie;
      expect((await t.post('/logout', {}, { Cookie: cookie })).status).toBe(303);
      return { Cookie: cookie };
    },
  },
  {
    name: 'an idle session',
    role: null,
    anonymous: true,
    auth: async (t) => {
      t.clock.now += SESSION_LIMITS.idleMs + 1;
      return { Cookie: t.owner.cookie };
    },
  },
];

const userActor = async (t: Team, m: Member) => ({
  id: m.id,
  email: m.email,
  instanceOwner: false,
  roles: await t.store.rolesOf(m.id),
});

/** The request of a case for a caller. */
const request = async (t: Team, c: RouteCase, who: Caller, auth: Record<string, string>, api: boolean) => {
  const path = c.path ? c.path(t, who) : c.route.replace(':site', 'demo');
  const body = c.body?.(t, who);
  const headers: Record<string, string> = { ...auth };
  let init: RequestInit = { method: c.method, headers };
  if (api) {
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init = { ...init, body: JSON.stringify(body) };
    }
  } else if (c.method === 'POST') {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers.Origin = ORIGIN;
    init = { ...init, body: new URLSearchParams((body ?? {}) as Record<string, string>).toString() };
  }
  return { path, res: await t.app.request(path, init) };
};

/** The data of demo that a refused answer must not show (a member's e-mail: not the caller's own, in the top bar). */
const leaks = (text: string): string[] =>
  [CANARY.visitor, CANARY.page, CANARY.webhook, CANARY.rule, CANARY.key, 'target@team.test'].filter((s) =>
    text.includes(s),
  );

const walk = async (cases: RouteCase[], callers: Caller[], api: boolean) => {
  const rows: string[] = [];
  const wrong: string[] = [];
  for (const base of callers) {
    const t = await makeTeam();
    const who = bind(base, t);
    const auth = await who.auth(t);
    for (const c of cases) {
      const want = expected(c, who, api);
      const { path, res } = await request(t, c, who, auth, api);
      const text = await res.text();
      rows.push(`${who.name} ${c.method} ${path} ${res.status}`);
      if (res.status !== want)
        wrong.push(`${who.name}: ${c.method} ${path} → ${res.status}, expected ${want}: ${text.slice(0, 200)}`);
      if (want !== c.ok) {
        // A refusal: JSON naming the reason on the API, no data of the site anywhere.
        const leaked = leaks(text);
        if (leaked.length) wrong.push(`${who.name}: ${c.method} ${path} (${res.status}) leaks ${leaked.join(', ')}`);
        if (api) expect(JSON.parse(text), `${who.name} ${c.method} ${path}`).toHaveProperty('error');
        if (!api && want === 303) expect(res.headers.get('location')).toMatch(/^\/login\?next=/);
      }
    }
  }
  return { rows, wrong };
};

describe('authorization matrix', () => {
  it('every route of the app is in the matrix or named public', async () => {
    const t = await makeTeam();
    const seen = new Set<string>();
    for (const r of t.app.routes) if (r.method !== 'ALL') seen.add(`${r.method} ${r.path}`);
    const covered = new Set([...API, ...DASHBOARD].map((c) => `${c.method} ${c.route}`));
    const missing = [...seen].filter((r) => !covered.has(r) && !PUBLIC.has(r));
    expect(missing).toEqual([]);
    // And every row is a real route (no typo hides a route from the matrix).
    expect([...covered].filter((r) => !seen.has(r))).toEqual([]);
    expect(seen.size).toBeGreaterThan(80);
  });

  it('the API: every route × every caller', async () => {
    const { rows, wrong } = await walk(API, API_CALLERS, true);
    expect(wrong).toEqual([]);
    expect(rows.length).toBe(API.length * API_CALLERS.length);
  }, 120_000);

  it('the dashboard: every signed-in route × every caller', async () => {
    const { rows, wrong } = await walk(DASHBOARD, DASHBOARD_CALLERS, false);
    expect(wrong).toEqual([]);
    expect(rows.length).toBe(DASHBOARD.length * DASHBOARD_CALLERS.length);
  }, 120_000);
});
