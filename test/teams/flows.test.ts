/**
 * Teams end to end through `app.request()` (issue 17): sign-in per user beside the admin token, brute-force limits
 * per account and per address, server-side sessions (sign-out, sign-out everywhere, password change, idle timeout,
 * absolute cap), invites, personal API tokens, share links (read-only, password, expiry, revocation, rate limit,
 * noindex, no referrer), the audit log, what each role's pages show, escaping, CSRF on every form, and bad input
 * answered 4xx naming the field.
 */
import { describe, expect, it } from 'vitest';
import { SESSION_LIMITS } from '../../collector/core/dashboard/auth';
import { sha256Hex } from '../../collector/core/privacy';
import { maintenance } from '../../collector/core/sites';
import { TOKEN } from '../helpers';
import { CANARY, cookieOf, makeTeam, ORIGIN, PASSWORD } from './fixture';

const json = (method: string, body: unknown, auth: string) => ({
  method,
  headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${auth}` },
  body: JSON.stringify(body),
});
const bearer = (auth: string) => ({ headers: { Authorization: `Bearer ${auth}` } });
const html = async (res: Response) => res.text();

/** The link of a page's `data-testid` snippet (an invite or share link shown once). */
const snippet = (page: string, id: string): string => {
  const m = new RegExp(`data-testid="${id}">\\s*([^<\\s]+)`).exec(page);
  if (!m) throw new Error(`no ${id} on the page`);
  return new URL(m[1]!).pathname;
};

describe('sign-in per user, beside the admin token', () => {
  it('signs a user in by e-mail (any case) and password; a wrong password or unknown e-mail is one answer', async () => {
    const t = await makeTeam();
    const ok = await t.signIn('ANALYST@team.test');
    expect(ok.status).toBe(303);
    expect((await t.get('/sites/demo/visitors', cookieOf(ok))).status).toBe(200);
    const wrong = await t.signIn('analyst@team.test', 'not the password');
    const unknown = await t.signIn('nobody@team.test', 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = /role="alert">([^<]+)</;
    expect(message.exec(await html(wrong))![1]).toBe(message.exec(await html(unknown))![1]);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    // The admin token keeps working, on the form and on the API.
    expect((await t.post('/login', { token: TOKEN, next: '/' })).status).toBe(303);
    expect((await t.api('/api/sites/demo/visitors')).status).toBe(200);
  });

  it('keeps only the hash of a session secret; sign-out revokes it on the server, so a copied cookie dies', async () => {
    const t = await makeTeam();
    const cookie = t.viewer.cookie;
    const secret = decodeURIComponent(cookie.split('=')[1]!).split('.')[1]!;
    expect(await t.store.getSession(secret)).toBeNull();
    expect(await t.store.getSession(await sha256Hex(secret))).toMatchObject({ userId: t.viewer.id });
    expect((await t.post('/logout', {}, { Cookie: cookie })).status).toBe(303);
    expect((await t.get('/sites/demo/map', cookie)).status).toBe(303);
  });

  it('a sign-in in a browser that had a session ends that one on the server', async () => {
    const t = await makeTeam();
    const before = t.analyst.cookie;
    const again = await t.post(
      '/login',
      { email: 'analyst@team.test', password: PASSWORD, next: '/' },
      { Cookie: before },
    );
    expect(again.status).toBe(303);
    expect(cookieOf(again)).not.toBe(before);
    expect((await t.get('/sites/demo/map', before)).status).toBe(303);
    expect((await t.get('/sites/demo/map', cookieOf(again))).status).toBe(200);
  });

  it('sign-out everywhere ends every other session of the user, and keeps this one', async () => {
    const t = await makeTeam();
    const second = cookieOf(await t.signIn('viewer@team.test'));
    const other = t.analyst.cookie;
    const res = await t.post('/account/sign-out-everywhere', {}, { Cookie: t.viewer.cookie });
    expect(res.status).toBe(303);
    expect((await t.get('/sites/demo/map', second)).status).toBe(303);
    expect((await t.get('/sites/demo/map', t.viewer.cookie)).status).toBe(200);
    expect((await t.get('/sites/demo/map', other)).status).toBe(200);
    // The admin token's sessions too.
    const admin2 = cookieOf(await t.post('/login', { token: TOKEN, next: '/' }));
    expect((await t.post('/account/sign-out-everywhere', {}, { Cookie: t.adminCookie })).status).toBe(303);
    expect((await t.get('/sites/demo/map', admin2)).status).toBe(303);
    expect((await t.get('/sites/demo/map', t.adminCookie)).status).toBe(200);
  });

  it('a password change needs the current one, ends the other sessions, and the new one signs in', async () => {
    const t = await makeTeam();
    const second = cookieOf(await t.signIn('admin@team.test'));
    const bad = await t.post(
      '/account/password',
      { current: 'wrong wrong', password: 'a new password!' },
      { Cookie: t.admin.cookie },
    );
    expect(bad.status).toBe(403);
    expect(await html(bad)).toContain('the current password is wrong');
    const short = await t.post(
      '/account/password',
      { current: PASSWORD, password: 'short' },
      { Cookie: t.admin.cookie },
    );
    expect(short.status).toBe(400);
    expect(await html(short)).toContain('10 to 200 characters');
    const ok = await t.post(
      '/account/password',
      { current: PASSWORD, password: 'a new password!' },
      { Cookie: t.admin.cookie },
    );
    expect(ok.status).toBe(303);
    expect((await t.get('/sites/demo/settings', second)).status).toBe(303);
    expect((await t.get('/sites/demo/settings', t.admin.cookie)).status).toBe(200);
    expect((await t.signIn('admin@team.test')).status).toBe(401);
    expect((await t.signIn('admin@team.test', 'a new password!')).status).toBe(303);
    // The admin token has no password to change.
    expect(
      (await t.post('/account/password', { current: 'x', password: 'y'.repeat(12) }, { Cookie: t.adminCookie })).status,
    ).toBe(403);
  });

  it('ends a session after the idle timeout, and after 14 days however active', async () => {
    const t = await makeTeam();
    const cookie = t.viewer.cookie;
    t.clock.now += SESSION_LIMITS.idleMs - 60_000;
    expect((await t.get('/sites/demo/map', cookie)).status).toBe(200);
    t.clock.now += SESSION_LIMITS.idleMs - 60_000;
    expect((await t.get('/sites/demo/map', cookie)).status).toBe(200);
    for (let d = 0; d < 14; d++) {
      t.clock.now += 86_400_000;
      await t.get('/sites/demo/map', cookie);
    }
    expect((await t.get('/sites/demo/map', cookie)).status).toBe(303);
  });
});

describe('brute force', () => {
  const limited = () =>
    makeTeam({
      signInLimit: {
        perAddress: { burst: 10, perSecond: 0.2 },
        global: { burst: 1000, perSecond: 10 },
        perAccount: { burst: 5, perSecond: 1 / 60 },
      },
      clientIp: (c) => c.req.header('x-test-ip') ?? null,
    });

  it('limits guesses on one account from many addresses, and exempts an address that signed in to it', async () => {
    const t = await limited();
    const from = (ip: string, password = 'a wrong guess') =>
      t.post('/login', { email: 'viewer@team.test', password, next: '/' }, { 'x-test-ip': ip });
    expect((await from('10.0.0.100', PASSWORD)).status).toBe(303); // the owner of the account, earlier
    for (let i = 0; i < 5; i++) expect((await from(`10.0.1.${i}`)).status).toBe(401);
    const locked = await from('10.0.2.1', PASSWORD);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account is not locked; the address that signed in before still gets in.
    expect(
      (await t.post('/login', { email: 'admin@team.test', password: PASSWORD, next: '/' }, { 'x-test-ip': '10.0.2.1' }))
        .status,
    ).toBe(303);
    expect((await from('10.0.0.100', PASSWORD)).status).toBe(303);
    t.clock.now += 61_000;
    expect((await from('10.0.2.1', PASSWORD)).status).toBe(303);
  });

  it('limits one address across accounts, and the API shares its budget', async () => {
    const t = await limited();
    for (let i = 0; i < 10; i++) {
      const res = await t.post(
        '/login',
        { email: `x${i}@team.test`, password: 'a wrong guess', next: '/' },
        { 'x-test-ip': '10.9.9.9' },
      );
      expect(res.status).toBe(401);
    }
    expect(
      (
        await t.post(
          '/login',
          { email: 'viewer@team.test', password: PASSWORD, next: '/' },
          { 'x-test-ip': '10.9.9.9' },
        )
      ).status,
    ).toBe(429);
    const api = await t.app.request('/api/me', {
      headers: { Authorization: `Bearer ${t.viewer.token}`, 'x-test-ip': '10.9.9.9' },
    });
    expect(api.status).toBe(429);
    expect(
      (
        await t.app.request('/api/me', {
          headers: { Authorization: `Bearer ${t.viewer.token}`, 'x-test-ip': '10.1.1.1' },
        })
      ).status,
    ).toBe(200);
  });
});

describe('invites', () => {
  it('an admin makes a link shown once; it makes one account, signed in, with the role, and works once', async () => {
    const t = await makeTeam();
    const page = await t.post('/sites/demo/team/invites', { role: 'analyst' }, { Cookie: t.admin.cookie });
    expect(page.status).toBe(200);
    const path = snippet(await html(page), 'new-invite');
    expect(path).toMatch(/^\/invite\/[A-Za-z0-9_-]{43}$/);
    const open = await t.get(path);
    expect(open.status).toBe(200);
    expect(open.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await html(open)).toContain('analyst');
    const bad = await t.post(path, { email: 'new@team.test', password: 'short' });
    expect(bad.status).toBe(400);
    const taken = await t.post(path, { email: 'viewer@team.test', password: 'long enough password' });
    expect(taken.status).toBe(409);
    expect(await html(taken)).toContain('sign in first');
    const made = await t.post(path, { email: 'New@team.test', password: 'long enough password' });
    expect(made.status).toBe(303);
    expect(made.headers.get('location')).toBe('/sites/demo/map');
    const cookie = cookieOf(made);
    expect((await t.get('/sites/demo/visitors', cookie)).status).toBe(200);
    expect((await t.get('/sites/demo/settings', cookie)).status).toBe(403);
    expect((await t.get(path)).status).toBe(404);
    expect((await t.post(path, { email: 'again@team.test', password: 'long enough password' })).status).toBe(404);
    // Who joined is in the audit log.
    const audit = await html(await t.api('/api/sites/demo/audit'));
    expect(audit).toMatch(/"actorLabel":"new@team.test","action":"member.join"/);
  });

  it("gives a signed-in user the role; refuses an invite above one's role; expired and revoked links are gone", async () => {
    const t = await makeTeam();
    const over = await t.api('/api/sites/demo/invites', json('POST', { role: 'owner' }, t.admin.token));
    expect(over.status).toBe(403);
    expect(await over.json()).toMatchObject({ path: 'role' });
    const made = await t.app.request('/api/sites/other/invites', json('POST', { role: 'analyst' }, t.stranger.token));
    const { url } = (await made.json()) as { url: string };
    const path = new URL(url).pathname;
    const accept = await t.post(path, { accept: '1' }, { Cookie: t.viewer.cookie });
    expect(accept.status).toBe(303);
    expect(await t.store.rolesOf(t.viewer.id)).toEqual(
      new Map([
        ['demo', 'viewer'],
        ['other', 'analyst'],
      ]),
    );
    const late = (await (
      await t.app.request('/api/sites/demo/invites', json('POST', { role: 'viewer' }, t.admin.token))
    ).json()) as { url: string };
    t.clock.now += 7 * 86_400_000;
    expect(await html(await t.get(new URL(late.url).pathname))).toContain('expired');
    const gone = (await (
      await t.app.request('/api/sites/demo/invites', json('POST', { role: 'viewer' }, t.admin.token))
    ).json()) as {
      url: string;
      invite: { id: string };
    };
    expect(
      (await t.app.request(`/api/sites/demo/invites/${gone.invite.id}`, { method: 'DELETE', ...bearer(t.admin.token) }))
        .status,
    ).toBe(200);
    const revoked = await t.get(new URL(gone.url).pathname);
    expect(revoked.status).toBe(404);
    expect(await html(revoked)).toContain('revoked');
  });
});

describe('personal API tokens', () => {
  it('are shown once, stored hashed, listed with last use, capped at the role, revocable', async () => {
    const t = await makeTeam();
    const page = await t.post(
      '/account/tokens',
      { name: 'weekly <b>report</b>', role: 'viewer', site: 'demo', expiresInDays: '30' },
      { Cookie: t.analyst.cookie },
    );
    expect(page.status).toBe(200);
    const body = await html(page);
    const token = /cjm_pat_[A-Za-z0-9_-]{43}/.exec(body)![0];
    expect(body).toContain('weekly &lt;b&gt;report&lt;/b&gt;');
    expect(body).not.toContain('<b>report</b>');
    const listed = (await t.store.listApiTokens(t.analyst.id)).find((x) => x.name.startsWith('weekly'))!;
    expect(listed).toMatchObject({ role: 'viewer', site: 'demo', lastUsedAt: null });
    expect(await t.store.findApiToken(await sha256Hex(token))).toMatchObject({ id: listed.id });
    expect(await t.store.findApiToken(token)).toBeNull();
    // Shown once: the account page lists the prefix only.
    const again = await html(await t.get('/account', t.analyst.cookie));
    expect(again).not.toContain(token);
    expect(again).toContain(listed.prefix);

    expect((await t.api('/api/sites/demo/funnel', bearer(token))).status).toBe(200);
    expect((await t.store.findApiToken(await sha256Hex(token)))!.lastUsedAt).toBe(t.clock.now);
    expect((await t.api('/api/sites/demo/visitors', bearer(token))).status).toBe(403);
    const capped = await t.api('/api/sites/demo/visitors', bearer(token));
    expect(((await capped.json()) as { error: string }).error).toMatch(/needs the analyst role; this token is viewer/);

    const above = await t.api('/api/tokens', json('POST', { name: 'x', role: 'admin' }, t.analyst.token));
    expect(above.status).toBe(403);
    expect(await above.json()).toMatchObject({ path: 'role' });
    const days = await t.api(
      '/api/tokens',
      json('POST', { name: 'x', role: 'viewer', expiresInDays: 0 }, t.analyst.token),
    );
    expect(days.status).toBe(400);
    expect(await days.json()).toMatchObject({ path: 'expiresInDays' });
    const role = await t.api('/api/tokens', json('POST', { name: 'x', role: 'god' }, t.analyst.token));
    expect(await role.json()).toMatchObject({ path: 'role' });
    const name = await t.api('/api/tokens', json('POST', { name: 'n'.repeat(101), role: 'viewer' }, t.analyst.token));
    expect(await name.json()).toMatchObject({ path: 'name' });

    expect((await t.post(`/account/tokens/${listed.id}/revoke`, {}, { Cookie: t.analyst.cookie })).status).toBe(303);
    const refused = await t.api('/api/sites/demo/funnel', bearer(token));
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: '[cjm] this personal API token is revoked' });
  });

  it("lose their access with their user: a removed member's token sees no site, at once", async () => {
    const t = await makeTeam();
    expect((await t.api('/api/sites/demo/map'.replace('map', 'funnel'), bearer(t.target.token))).status).toBe(200);
    expect(
      (await t.api(`/api/sites/demo/members/${t.target.id}`, { method: 'DELETE', ...bearer(t.owner.token) })).status,
    ).toBe(200);
    expect((await t.api('/api/sites/demo/funnel', bearer(t.target.token))).status).toBe(404);
    expect(((await (await t.api('/api/sites', bearer(t.target.token))).json()) as { sites: unknown[] }).sites).toEqual(
      [],
    );
  });
});

describe('share links', () => {
  it('show the journey map and funnel signed out: aggregates only, noindex, no referrer, nothing else reachable', async () => {
    const t = await makeTeam();
    const base = `/share/${t.ids.shareSecret}`;
    for (const path of [base, `${base}/funnel`, `${base}/retention`]) {
      const res = await t.get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-robots-tag')).toBe('noindex, nofollow');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await html(res);
      expect(body).toContain('<meta name="robots" content="noindex, nofollow"/>');
      expect(body).toContain('<meta name="referrer" content="no-referrer"/>');
      expect(body).not.toContain(CANARY.visitor);
      expect(body).not.toMatch(/href="\/(sites|account|login)/);
      expect(body).not.toContain('Sign out');
    }
    expect(await html(await t.get(base))).toContain('Journey map');
    // Nothing else under the link, and the link is no session for the dashboard or the API.
    expect((await t.get(`${base}/visitors`)).status).toBe(404);
    expect((await t.app.request('/api/sites/demo/funnel', bearer(t.ids.shareSecret))).status).toBe(401);
    expect((await t.get(base)).headers.get('set-cookie')).toBeNull();
  });

  it('with a password: asked for, limited, then remembered for this link only', async () => {
    const t = await makeTeam({
      signInLimit: {
        perAddress: { burst: 50, perSecond: 1 },
        global: { burst: 1000, perSecond: 10 },
        perAccount: { burst: 3, perSecond: 1 / 60 },
      },
      clientIp: (c) => c.req.header('x-test-ip') ?? null,
    });
    const made = await t.api(
      '/api/sites/demo/shares',
      json('POST', { name: 'locked', password: 'share password 1', expiresInDays: 2 }, t.admin.token),
    );
    expect(made.status).toBe(201);
    const { url, share } = (await made.json()) as { url: string; share: { hasPassword: boolean; expiresAt: number } };
    expect(share.hasPassword).toBe(true);
    expect(share.expiresAt).toBe(t.clock.now + 2 * 86_400_000);
    const path = new URL(url).pathname;
    const ask = await t.get(path);
    expect(ask.status).toBe(401);
    expect(await html(ask)).toContain('protected by a password');
    for (let i = 0; i < 3; i++)
      expect((await t.post(path, { password: 'nope nope nope' }, { 'x-test-ip': `10.3.0.${i}` })).status).toBe(401);
    expect((await t.post(path, { password: 'share password 1' }, { 'x-test-ip': '10.3.1.1' })).status).toBe(429);
    t.clock.now += 61_000;
    const open = await t.post(path, { password: 'share password 1' }, { 'x-test-ip': '10.3.1.1' });
    expect(open.status).toBe(303);
    const cookie = open.headers.get('set-cookie')!;
    expect(cookie).toContain(`Path=${path}`);
    expect(cookie).toContain('HttpOnly');
    const pass = cookie.split(';')[0]!;
    expect((await t.get(path, pass)).status).toBe(200);
    expect((await t.get(`${path}/funnel`, pass)).status).toBe(200);
    // The cookie opens this link only, and no dashboard page.
    expect((await t.get(`/share/${t.ids.shareSecret}`, pass)).status).toBe(200); // that one has no password
    expect((await t.get('/sites/demo/map', pass)).status).toBe(303);
    // Expired: the same answer as unknown.
    t.clock.now += 2 * 86_400_000;
    expect((await t.get(path, pass)).status).toBe(404);
  });

  it('stop at once when revoked, answer unknown ones alike, and are rate-limited per address', async () => {
    const t = await makeTeam({
      shareRateLimit: { burst: 5, perSecond: 0.1 },
      clientIp: (c) => c.req.header('x-test-ip') ?? null,
    });
    const base = `/share/${t.ids.shareSecret}`;
    expect((await t.get(base)).status).toBe(200);
    expect((await t.api(`/api/sites/demo/shares/${t.ids.share}`, { method: 'DELETE' })).status).toBe(200);
    const gone = await t.get(base);
    expect(gone.status).toBe(404);
    const unknown = await t.get(`/share/${'A'.repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(await html(gone)).toBe(await html(unknown));
    const from = (ip: string) => t.app.request(`/share/${'B'.repeat(43)}`, { headers: { 'x-test-ip': ip } });
    for (let i = 0; i < 5; i++) expect((await from('10.4.4.4')).status).toBe(404);
    const limited = await from('10.4.4.4');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-robots-tag')).toBe('noindex, nofollow');
    expect((await from('10.4.4.5')).status).toBe(404);
  });

  it('are listed for admins without their secret; bad input names the field', async () => {
    const t = await makeTeam();
    const list = await html(await t.api('/api/sites/demo/shares'));
    expect(list).not.toContain(t.ids.shareSecret);
    expect(list).toContain(t.ids.shareSecret.slice(0, 6));
    for (const [body, path] of [
      [{ name: '' }, 'name'],
      [{ name: 'x', password: 'short' }, 'password'],
      [{ name: 'x', expiresInDays: 'soon' }, 'expiresInDays'],
    ] as const) {
      const res = await t.api('/api/sites/demo/shares', json('POST', body, TOKEN));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ path });
    }
  });
});

describe('the audit log', () => {
  it('records who changed settings, stages, rules, keys, members, shares and who erased, append-only, exported', async () => {
    const t = await makeTeam();
    await t.api('/api/sites/demo', json('PUT', { name: 'Demo 2' }, t.admin.token));
    await t.api(`/api/sites/demo/rules/${t.ids.rule}`, { method: 'DELETE', ...bearer(t.admin.token) });
    await t.api(`/api/sites/demo/members/${t.target.id}`, json('PUT', { role: 'analyst' }, t.owner.token));
    expect((await t.post(`/sites/demo/visitors/${CANARY.visitor}/delete`, {}, { Cookie: t.admin.cookie })).status).toBe(
      303,
    );
    const res = await t.api('/api/sites/demo/audit');
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const entries = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; actorLabel: string; target: string | null; detail: unknown });
    const actions = entries.map((e) => `${e.actorLabel} ${e.action}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'admin token rule.create',
        'admin token key.create',
        'admin token invite.create',
        'admin token share.create',
        `admin@team.test (token ${(await t.store.findApiToken(await sha256Hex(t.admin.token)))!.id}) site.update`,
        expect.stringMatching(/^admin@team.test \(token pat_.+\) rule.delete$/),
        expect.stringMatching(/^owner@team.test \(token pat_.+\) member.role$/),
        'admin@team.test visitor.erase',
      ]),
    );
    // Oldest first; the erased visitor by its tombstone's keyed hash, never by its id.
    expect(entries[0]!.action).toBe('invite.create');
    const ids = entries.map((e) => (e as unknown as { id: number }).id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const erase = entries.find((e) => e.action === 'visitor.erase')!;
    expect(JSON.stringify(erase)).not.toContain(CANARY.visitor);
    expect(erase.target).toMatch(/^k1:/);
    expect(entries.find((e) => e.action === 'member.role')!.detail).toMatchObject({ from: 'viewer', to: 'analyst' });
    // Shown on the settings page (escaped), to admins only.
    const settings = await html(await t.get('/sites/demo/settings', t.admin.cookie));
    expect(settings).toContain('data-testid="audit"');
    expect(settings).toContain('visitor.erase');
    expect((await t.api('/api/sites/demo/audit', bearer(t.analyst.token))).status).toBe(403);
  });
});

describe('what each role sees', () => {
  const tabs = (page: string) => [...page.matchAll(/<nav class="nav"[^]*?<\/nav>/g)][0]![0];

  it('a viewer: the map and funnel, no visitors tab, no visitor links, no export button, no settings', async () => {
    const t = await makeTeam();
    const map = await html(await t.get('/sites/demo/map', t.viewer.cookie));
    expect(tabs(map)).toContain('Journey map');
    expect(tabs(map)).toContain('Funnel');
    expect(tabs(map)).not.toContain('Visitors');
    expect(tabs(map)).not.toContain('Settings');
    expect(tabs(map)).not.toContain('Team');
    expect(map).not.toContain('/sites/demo/visitors');
    expect(map).not.toContain('data-testid="export"');
    expect(map).toContain('viewer@team.test');
  });

  it('an analyst: visitors, timelines and the export button, but no erase and no settings', async () => {
    const t = await makeTeam();
    const map = await html(await t.get('/sites/demo/map', t.analyst.cookie));
    expect(tabs(map)).toContain('Visitors');
    expect(tabs(map)).not.toContain('Settings');
    expect(map).toContain('data-testid="export"');
    const timeline = await html(await t.get(`/sites/demo/visitors/${CANARY.visitor}`, t.analyst.cookie));
    expect(timeline).not.toContain('data-testid="delete"');
    const csv = await t.get('/sites/demo/export?range=30d', t.analyst.cookie);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(await csv.text()).toContain(CANARY.visitor);
  });

  it('an admin: settings, team, the erase button; only an owner changes members', async () => {
    const t = await makeTeam();
    const admin = await html(await t.get('/sites/demo/team', t.admin.cookie));
    expect(tabs(admin)).toContain('Settings');
    expect(admin).not.toContain('/members/');
    const owner = await html(await t.get('/sites/demo/team', t.owner.cookie));
    expect(owner).toContain(`/sites/demo/team/members/${t.target.id}/role`);
    const timeline = await html(await t.get(`/sites/demo/visitors/${CANARY.visitor}`, t.admin.cookie));
    expect(timeline).toContain('data-testid="delete"');
  });

  it("another site's member: no trace of demo in the picker, the API or a page", async () => {
    const t = await makeTeam();
    const page = await html(await t.get('/sites/other/map', t.stranger.cookie));
    expect(page).not.toContain('Demo');
    expect(page).not.toContain('/sites/demo');
    const sites = (await (await t.app.request('/api/sites', bearer(t.stranger.token))).json()) as {
      sites: Array<{ id: string }>;
    };
    expect(sites.sites.map((s) => s.id)).toEqual(['other']);
    const viewerSites = (await (await t.app.request('/api/sites', bearer(t.viewer.token))).json()) as {
      sites: object[];
    };
    // A viewer gets the id and name of its site, not its configuration.
    expect(viewerSites.sites).toEqual([{ id: 'demo', name: 'Demo shop' }]);
  });
});

describe('escaping and CSRF', () => {
  it('escapes every user-given string on the team, account, settings and share pages', async () => {
    const t = await makeTeam();
    const evil = '<img src=x onerror=alert(1)>';
    await t.api('/api/sites/demo', json('PUT', { name: evil }, TOKEN));
    const made = (await (await t.api('/api/sites/demo/shares', json('POST', { name: evil }, TOKEN))).json()) as {
      url: string;
    };
    await t.post(
      '/account/tokens',
      { name: evil, role: 'viewer', site: '', expiresInDays: '' },
      { Cookie: t.owner.cookie },
    );
    for (const [path, cookie] of [
      ['/sites/demo/team', t.owner.cookie],
      ['/account', t.owner.cookie],
      ['/sites/demo/settings', t.owner.cookie],
      [new URL(made.url).pathname, undefined],
    ] as const) {
      const body = await html(await t.get(path, cookie));
      expect(body, path).not.toContain(evil);
      expect(body, path).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });

  it('refuses every new form posted from another origin', async () => {
    const t = await makeTeam();
    const evil = { Origin: 'https://evil.test' };
    const invite = snippet(
      await html(await t.post('/sites/demo/team/invites', { role: 'viewer' }, { Cookie: t.owner.cookie })),
      'new-invite',
    );
    for (const [path, fields, cookie] of [
      ['/sites/demo/team/invites', { role: 'viewer' }, t.owner.cookie],
      [`/sites/demo/team/invites/${t.ids.invite}/revoke`, {}, t.owner.cookie],
      [`/sites/demo/team/members/${t.target.id}/role`, { role: 'admin' }, t.owner.cookie],
      [`/sites/demo/team/members/${t.target.id}/remove`, {}, t.owner.cookie],
      ['/sites/demo/team/shares', { name: 'x', password: '', expiresInDays: '' }, t.owner.cookie],
      [`/sites/demo/team/shares/${t.ids.share}/revoke`, {}, t.owner.cookie],
      ['/account/password', { current: PASSWORD, password: 'another password' }, t.owner.cookie],
      ['/account/sign-out-everywhere', {}, t.owner.cookie],
      ['/account/tokens', { name: 'x', role: 'viewer', site: '', expiresInDays: '' }, t.owner.cookie],
      [`/account/tokens/${t.owner.spareToken}/revoke`, {}, t.owner.cookie],
      ['/account/owner-invite', {}, t.adminCookie],
      [invite, { email: 'csrf@team.test', password: 'long enough password' }, undefined],
      [`/share/${t.ids.shareSecret}`, { password: 'whatever password' }, undefined],
      ['/login', { email: 'owner@team.test', password: PASSWORD }, undefined],
    ] as const) {
      const res = await t.post(path, fields, { ...evil, ...(cookie ? { Cookie: cookie } : {}) });
      expect(res.status, path).toBe(403);
    }
    // Nothing happened.
    expect(await t.store.rolesOf(t.target.id)).toEqual(new Map([['demo', 'viewer']]));
    expect(await t.store.findUserByEmail('csrf@team.test')).toBeNull();
    expect((await t.signIn('owner@team.test')).status).toBe(303);
    expect((await t.get('/sites/demo/map', t.owner.cookie)).status).toBe(200);
    expect(ORIGIN).toBe('http://localhost');
  });

  it('answers bad input on the teams API with 4xx JSON naming the field', async () => {
    const t = await makeTeam();
    for (const [method, path, body, field] of [
      ['POST', '/api/sites/demo/invites', { role: 'boss' }, 'role'],
      ['PUT', `/api/sites/demo/members/${t.target.id}`, { role: 7 }, 'role'],
      ['PUT', '/api/sites/demo/members/usr_nobody', { role: 'viewer' }, 'user'],
      ['DELETE', '/api/sites/demo/invites/inv_nope', undefined, 'id'],
      ['DELETE', '/api/sites/demo/shares/shr_nope', undefined, 'id'],
      ['POST', '/api/sites/nope/invites', { role: 'viewer' }, 'site'],
    ] as const) {
      const res = await t.api(path, body === undefined ? { method } : json(method, body, TOKEN));
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(await res.json(), path).toMatchObject({ path: field });
    }
    const notObject = await t.api('/api/tokens', json('POST', ['x'], t.viewer.token));
    expect(notObject.status).toBe(400);
  });
});

describe('maintenance', () => {
  it('deletes the rows of ended sessions, keeps live ones', async () => {
    const t = await makeTeam();
    expect((await t.post('/logout', {}, { Cookie: t.viewer.cookie })).status).toBe(303);
    t.clock.now += 1000;
    const { sessions } = await maintenance(t.store, t.clock.now);
    expect(sessions).toBe(1);
    expect((await t.get('/sites/demo/map', t.analyst.cookie)).status).toBe(200);
    t.clock.now += SESSION_LIMITS.maxMs;
    expect((await maintenance(t.store, t.clock.now)).sessions).toBe(6); // the other five members' and the admin token's
    expect((await t.get('/sites/demo/map', t.analyst.cookie)).status).toBe(303);
  });
});

describe('owners', () => {
  it('the last owner of a site can be neither demoted nor removed; with a second owner, either can go', async () => {
    const t = await makeTeam();
    const demote = await t.api(`/api/sites/demo/members/${t.owner.id}`, json('PUT', { role: 'admin' }, t.owner.token));
    expect(demote.status).toBe(409);
    expect(await demote.json()).toMatchObject({ path: 'role', error: expect.stringMatching(/only owner/) });
    const remove = await t.api(`/api/sites/demo/members/${t.owner.id}`, { method: 'DELETE', ...bearer(TOKEN) });
    expect(remove.status).toBe(409);
    expect(await remove.json()).toMatchObject({ path: 'user' });
    expect(await t.store.rolesOf(t.owner.id)).toEqual(new Map([['demo', 'owner']]));
    // The dashboard's form says the same (a 409 page, nothing changed).
    const form = await t.post(
      `/sites/demo/team/members/${t.owner.id}/role`,
      { role: 'viewer' },
      { Cookie: t.owner.cookie },
    );
    expect(form.status).toBe(409);
    expect(await t.store.rolesOf(t.owner.id)).toEqual(new Map([['demo', 'owner']]));
    await t.api(`/api/sites/demo/members/${t.admin.id}`, json('PUT', { role: 'owner' }, t.owner.token));
    expect(
      (await t.api(`/api/sites/demo/members/${t.owner.id}`, json('PUT', { role: 'admin' }, t.owner.token))).status,
    ).toBe(200);
  });
});
