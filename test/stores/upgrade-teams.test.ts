/**
 * Migration 0030 (teams) in place, on SQLite: a database written by the previous version (the fixture of
 * before-keyed-hashes.sql, on the schema of migrations 0001–0008) is migrated by `start()`, keeps every row it had,
 * still answers the admin token on the API and the dashboard, and prints a first-user invite that makes an instance
 * owner; once a user exists, a restart prints none. upgrade-teams-d1.test.ts does the same on D1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_KDF_COST } from '../../collector/core/passwords';
import { start, type Running } from '../../collector/node';
import { MIGRATIONS_TABLE, readMigrations, runMigrations } from '../../collector/stores/migrate';
import { sqliteMigrationDb } from '../../collector/stores/sqlite';
import { fixtureStatements } from './rekey';

const TOKEN = 'upgrade-test-token-0123456789';
const BEFORE = readMigrations().filter((f) => f.name < '0030');
const dir = mkdtempSync(join(tmpdir(), 'cjm-upgrade-'));
const file = join(dir, 'cjm.db');
const running: Running[] = [];
afterAll(async () => {
  for (const c of running) await c.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Row counts of every table the previous version had. */
const counts = (db: Database.Database, tables: string[]) =>
  Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number }).n]));

describe('migration 0030 on a database of the previous version (SQLite)', () => {
  it('runs in place at start, keeps every row, and keeps the admin token working', async () => {
    const old = new Database(file);
    expect(runMigrations(sqliteMigrationDb(old), BEFORE)).toEqual(BEFORE.map((f) => f.name));
    for (const sql of fixtureStatements()) old.exec(sql);
    const tables = (
      old.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as {
        name: string;
      }[]
    )
      .map((r) => r.name)
      .filter((t) => t !== MIGRATIONS_TABLE);
    expect(tables).not.toContain('users');
    const before = counts(old, tables);
    expect(before.events).toBe(4);
    old.close();

    const c = await start({ port: 0, db: file, adminToken: TOKEN, automation: false, kdfCost: TEST_KDF_COST });
    running.push(c);
    const applied = (c.db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`).all() as { name: string }[]).map(
      (r) => r.name,
    );
    expect(applied).toEqual(readMigrations().map((f) => f.name));
    expect(applied).toContain('0030_teams.sql');
    const after = counts(c.db, tables);
    // The rows of the previous version are all there (the rekey at start rewrites ids in place, adds no row).
    for (const t of tables) expect(after[t], t).toBeGreaterThanOrEqual(before[t]!);
    expect(after.events).toBe(before.events);
    expect(after.journeys).toBe(before.journeys);

    const api = await fetch(`${c.url}/api/sites/demo/visitors`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(200);
    expect(((await api.json()) as { visitors: unknown[] }).visitors.length).toBe(3);
    const me = await fetch(`${c.url}/api/me`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(await me.json()).toMatchObject({ kind: 'admin-token', instanceOwner: true, sites: [{ id: 'demo' }] });
    const signIn = await fetch(`${c.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: c.url },
      body: new URLSearchParams({ token: TOKEN, next: '/sites/demo/visitors' }).toString(),
    });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const visitors = await fetch(`${c.url}/sites/demo/visitors`, { headers: { Cookie: cookie }, redirect: 'manual' });
    expect(visitors.status).toBe(200);
  });

  it('prints a first-user invite that makes an instance owner; a restart with a user prints none', async () => {
    const c = running[0]!;
    expect(c.firstUserInvite).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
    const url = new URL(c.firstUserInvite!);
    const origin = `http://${url.host}`;
    const accept = await fetch(`${origin}${url.pathname}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
      body: new URLSearchParams({ email: 'First@Example.test', password: 'a long first password' }).toString(),
    });
    expect(accept.status).toBe(303);
    const cookie = accept.headers.get('set-cookie')!.split(';')[0]!;
    const page = await fetch(`${origin}/sites/demo/settings`, { headers: { Cookie: cookie }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('first@example.test');
    expect(await c.store.findUserByEmail('first@example.test')).toMatchObject({ instanceOwner: true });
    // The link was for one use.
    const again = await fetch(`${origin}${url.pathname}`, { redirect: 'manual' });
    expect(again.status).toBe(404);

    await c.close();
    running.length = 0;
    const next = await start({ port: 0, db: file, adminToken: TOKEN, automation: false, kdfCost: TEST_KDF_COST });
    running.push(next);
    expect(next.firstUserInvite).toBeNull();
    expect(await next.store.countUsers()).toBe(1);
  });
});
