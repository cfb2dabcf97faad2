/**
 * Teams on Workers (issue 17): collector/worker.ts on a real local workerd with a local D1. A password hashed with
 * scrypt on Node signs in on the Worker (the plain-JavaScript scrypt there); the Worker writes PBKDF2-SHA-256 at
 * 600,000 iterations, which Node verifies; invites, personal tokens, share links and server-side sessions work
 * there as on Node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasswordKdf } from '../../collector/core/passwords';
import { nodeScrypt } from '../../collector/node';
import { createD1Store } from '../../collector/stores/d1';
import { openLocalD1 } from '../../scripts/worker';
import { startWorker, type LocalWorker } from './start';

const TOKEN = 'teams-worker-token-0123456789';
const NODE_PASSWORD = 'hashed on node, checked on workers';
const persistTo = mkdtempSync(join(tmpdir(), 'cjm-worker-teams-'));
const nodeKdf = createPasswordKdf({ scrypt: nodeScrypt });

describe('teams on workerd + D1', () => {
  let w: LocalWorker;

  beforeAll(async () => {
    // A user made on Node (production scrypt), in the D1 the Worker will open.
    const d1 = await openLocalD1(persistTo);
    const store = createD1Store(d1.db);
    const now = Date.now();
    await store.createInvite(
      {
        id: 'inv_node',
        site: 'demo',
        role: 'owner',
        createdBy: 'admin-token',
        createdAt: now,
        expiresAt: now + 3_600_000,
        usedAt: null,
        usedBy: null,
        revokedAt: null,
      },
      'hash-node',
    );
    const passwordHash = await nodeKdf.hash(NODE_PASSWORD);
    expect(passwordHash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    const user = { id: 'usr_node', email: 'node@teams.test', passwordHash, instanceOwner: false, createdAt: now };
    expect(
      await store.acceptInvite('inv_node', now, { kind: 'new-user', user: { ...user, passwordChangedAt: now } }),
    ).toBe(true);
    await d1.dispose();
    w = await startWorker({ adminToken: TOKEN, persistTo });
  }, 180_000);
  afterAll(async () => {
    await w?.stop();
    rmSync(persistTo, { recursive: true, force: true });
  });

  const post = (path: string, fields: Record<string, string>, cookie = '') =>
    fetch(`${w.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: w.url, Cookie: cookie },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
  const get = (path: string, cookie = '') =>
    fetch(`${w.url}${path}`, { headers: { Cookie: cookie }, redirect: 'manual' });
  const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0]!;

  it('signs in a user whose password Node hashed with scrypt', async () => {
    expect((await post('/login', { email: 'node@teams.test', password: 'not it at all' })).status).toBe(401);
    const res = await post('/login', { email: 'node@teams.test', password: NODE_PASSWORD, next: '/sites/demo/team' });
    expect(res.status).toBe(303);
    const page = await get('/sites/demo/team', cookieOf(res));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('node@teams.test');
  }, 60_000);

  it('makes accounts from invites with PBKDF2-SHA-256 600,000, which Node verifies; sessions end server-side', async () => {
    const made = await fetch(`${w.url}/api/sites/demo/invites`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'viewer' }),
    });
    expect(made.status).toBe(201);
    const path = new URL(((await made.json()) as { url: string }).url).pathname;
    const accepted = await post(path, { email: 'worker@teams.test', password: 'hashed on workers' });
    expect(accepted.status).toBe(303);
    const cookie = cookieOf(accepted);
    expect((await get('/sites/demo/map', cookie)).status).toBe(200);
    expect((await get('/sites/demo/visitors', cookie)).status).toBe(403);
    const second = cookieOf(await post('/login', { email: 'worker@teams.test', password: 'hashed on workers' }));
    expect((await get('/sites/demo/map', second)).status).toBe(200);
    expect((await post('/account/sign-out-everywhere', {}, cookie)).status).toBe(303);
    expect((await get('/sites/demo/map', second)).status).toBe(303);
    expect((await get('/sites/demo/map', cookie)).status).toBe(200);

    // A personal token made on the dashboard, capped at the viewer role, on the Worker's API.
    const page = await post('/account/tokens', { name: 'w', role: 'viewer', site: 'demo', expiresInDays: '' }, cookie);
    const token = /cjm_pat_[A-Za-z0-9_-]{43}/.exec(await page.text())![0];
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    expect((await fetch(`${w.url}/api/sites/demo/funnel`, auth)).status).toBe(200);
    expect((await fetch(`${w.url}/api/sites/demo/visitors`, auth)).status).toBe(403);

    // The hash the Worker wrote, read from its D1, verified by Node.
    const d1 = await openLocalD1(persistTo);
    const stored = (await createD1Store(d1.db).findUserByEmail('worker@teams.test'))!.passwordHash;
    await d1.dispose();
    expect(stored).toMatch(/^\$pbkdf2-sha256\$i=600000,c=100000\$/);
    expect(await nodeKdf.verify('hashed on workers', stored)).toBe(true);
  }, 120_000);

  it('serves share links read-only, with their headers', async () => {
    const made = await fetch(`${w.url}/api/sites/demo/shares`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'agency' }),
    });
    expect(made.status).toBe(201);
    const url = ((await made.json()) as { url: string }).url;
    const res = await fetch(`${w.url}${new URL(url).pathname}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-robots-tag')).toBe('noindex, nofollow');
    expect(await res.text()).toContain('Journey map');
  }, 60_000);
});
