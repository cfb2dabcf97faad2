/**
 * Admin API for write keys: create (secret shown once), list (prefix only), revoke; only a hash is stored.
 */
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultSiteConfig } from '../../collector/core/stages';
import type { WriteKey } from '../../collector/core/store';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { makeApp, type TestApp } from '../helpers';

let t: TestApp;
let db: ReturnType<typeof openSqlite>;
beforeEach(async () => {
  db = openSqlite(':memory:');
  t = await makeApp(createSqliteStore(db));
});

const create = async (name?: string, site = 'demo') => {
  const res = await t.api(`/api/sites/${site}/keys`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: name === undefined ? '' : JSON.stringify({ name }),
  });
  return { res, json: (await res.json()) as { key: string; writeKey: WriteKey; error?: string; path?: string } };
};

const basic = (key: string) => `Basic ${btoa(`${key}:`)}`;
const track = (key: string) =>
  t.app.request('/v1/track', {
    method: 'POST',
    headers: { Authorization: basic(key), 'Content-Type': 'application/json' },
    body: JSON.stringify({ anonymousId: 'v1', event: 'signup' }),
  });

describe('write keys admin API', () => {
  it('needs the admin token on every method', async () => {
    for (const [method, path] of [
      ['POST', '/api/sites/demo/keys'],
      ['GET', '/api/sites/demo/keys'],
      ['DELETE', '/api/sites/demo/keys/wk_x'],
    ] as const) {
      const res = await t.app.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(((await res.json()) as { error: string }).error).toMatch(/admin token/);
      const wrong = await t.app.request(path, { method, headers: { Authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
    }
    expect(db.prepare('SELECT count(*) AS n FROM write_keys').get()).toEqual({ n: 0 });
  });

  it('creates a key, shows the secret once and stores only its SHA-256', async () => {
    const { res, json } = await create('billing backend');
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(json.key).toMatch(/^cjm_wk_[A-Za-z0-9_-]{43}$/);
    expect(json.writeKey).toEqual({
      id: expect.stringMatching(/^wk_/),
      site: 'demo',
      name: 'billing backend',
      prefix: json.key.slice(0, 13),
      createdAt: t.clock.now,
      lastUsedAt: null,
      revokedAt: null,
    });
    const rows = db.prepare('SELECT * FROM write_keys').all() as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.hash).toBe(createHash('sha256').update(json.key).digest('hex'));
    expect(Object.values(rows[0]!)).not.toContain(json.key);

    const list = await t.api('/api/sites/demo/keys');
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).not.toContain(json.key);
    expect(JSON.parse(text)).toEqual({ keys: [json.writeKey] });
  });

  it('accepts an empty body (no name) and lists newest first', async () => {
    const a = await create();
    expect(a.res.status).toBe(201);
    expect(a.json.writeKey.name).toBe('');
    t.clock.now += 1000;
    const b = await create('second');
    const { keys } = (await (await t.api('/api/sites/demo/keys')).json()) as { keys: WriteKey[] };
    expect(keys.map((k) => k.id)).toEqual([b.json.writeKey.id, a.json.writeKey.id]);
    expect(a.json.key).not.toBe(b.json.key);
  });

  it.each([
    ['a name that is not a string', JSON.stringify({ name: 5 }), 'name'],
    ['a name too long', JSON.stringify({ name: 'x'.repeat(101) }), 'name'],
    ['not JSON', '{nope', undefined],
    ['an array', '[]', undefined],
  ])('refuses %s with 400', async (_, body, path) => {
    const res = await t.api('/api/sites/demo/keys', { method: 'POST', body });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string; path?: string };
    expect(json.error).toMatch(/^\[cjm\]/);
    expect(json.path).toBe(path);
  });

  it('answers 404 for an unknown site', async () => {
    expect((await create('x', 'nope')).res.status).toBe(404);
    expect((await t.api('/api/sites/nope/keys')).status).toBe(404);
  });

  it('revokes a key (idempotent), keeps it listed, and refuses it from then on', async () => {
    const { json } = await create('crm');
    expect((await track(json.key)).status).toBe(200);
    t.clock.now += 5000;
    const res = await t.api(`/api/sites/demo/keys/${json.writeKey.id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const revoked = ((await res.json()) as { writeKey: WriteKey }).writeKey;
    expect(revoked.revokedAt).toBe(t.clock.now);
    t.clock.now += 5000;
    const again = await t.api(`/api/sites/demo/keys/${json.writeKey.id}`, { method: 'DELETE' });
    expect(((await again.json()) as { writeKey: WriteKey }).writeKey.revokedAt).toBe(revoked.revokedAt);
    const { keys } = (await (await t.api('/api/sites/demo/keys')).json()) as { keys: WriteKey[] };
    expect(keys).toEqual([revoked]);
    const refused = await track(json.key);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toMatch(/revoked/);
  });

  it('answers 404 for an unknown key id, and for a key of another site', async () => {
    await t.store.putSite(defaultSiteConfig('shop'));
    const { json } = await create('shop key', 'shop');
    expect((await t.api('/api/sites/demo/keys/wk_nope', { method: 'DELETE' })).status).toBe(404);
    const other = await t.api(`/api/sites/demo/keys/${json.writeKey.id}`, { method: 'DELETE' });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { path: string }).path).toBe('id');
    expect((await track(json.key)).status).toBe(200);
  });

  it('records when a key was last used, at most once a minute', async () => {
    const { json } = await create('app');
    const used = async () =>
      ((await (await t.api('/api/sites/demo/keys')).json()) as { keys: WriteKey[] }).keys[0]!.lastUsedAt;
    const first = t.clock.now;
    await track(json.key);
    expect(await used()).toBe(first);
    t.clock.now += 30_000;
    await track(json.key);
    expect(await used()).toBe(first);
    t.clock.now += 31_000;
    await track(json.key);
    expect(await used()).toBe(t.clock.now);
  });

  it('store methods work for the dashboard without the HTTP API', async () => {
    const { key, writeKey } = await t.store.createWriteKey('demo', 'from settings');
    expect(await t.store.findWriteKey(key)).toEqual(writeKey);
    expect(await t.store.findWriteKey(`${key}x`)).toBeNull();
    expect(await t.store.findWriteKey('')).toBeNull();
    expect((await t.store.listWriteKeys('demo')).map((k) => k.id)).toEqual([writeKey.id]);
    const revoked = await t.store.revokeWriteKey('demo', writeKey.id);
    expect(revoked?.revokedAt).toEqual(expect.any(Number));
    expect((await t.store.findWriteKey(key))?.revokedAt).toBe(revoked?.revokedAt);
    expect(await t.store.revokeWriteKey('other', writeKey.id)).toBeNull();
  });
});
