/**
 * Migration 0030 (teams) in place, on a real workerd-backed D1: a database of the previous version (migrations
 * 0001–0008 and the rows of the fixture before-keyed-hashes.sql) gets only 0030 from the runner the Worker's deploy
 * uses, keeps every row, and then holds users, invites, sessions and the audit log like a fresh one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPlatformProxy } from 'wrangler';
import { afterAll, describe, expect, it } from 'vitest';
import { createD1Store } from '../../collector/stores/d1';
import { readMigrations, runMigrations } from '../../collector/stores/migrate';
import { applyMigrations, d1MigrationDb, WRANGLER_TOML } from '../../scripts/worker';
import { fixtureStatements } from './rekey';

const FILES = readMigrations();
const BEFORE = FILES.filter((f) => f.name < '0030');
const persistTo = mkdtempSync(join(tmpdir(), 'cjm-upgrade-d1-'));
afterAll(() => rmSync(persistTo, { recursive: true, force: true }));

describe('migration 0030 on a D1 database of the previous version', () => {
  it('applies 0030 only, keeps every row, and the team tables work', async () => {
    const proxy = await getPlatformProxy<{ DB: D1Database }>({
      configPath: WRANGLER_TOML,
      persist: { path: join(persistTo, 'v3') },
    });
    try {
      const db = proxy.env.DB;
      expect(await runMigrations(d1MigrationDb(db), BEFORE)).toEqual(BEFORE.map((f) => f.name));
      await db.batch(fixtureStatements().map((sql) => db.prepare(sql)));
      const tables = [
        'events',
        'journeys',
        'visitors',
        'tombstones',
        'sites',
        'automation_rules',
        'meta',
        'write_keys',
      ];
      const count = async () =>
        Object.fromEntries(
          await Promise.all(
            tables.map(async (t) => [
              t,
              (await db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).first<{ n: number }>())!.n,
            ]),
          ),
        );
      const before = await count();
      expect(before.events).toBe(4);

      expect(await applyMigrations(db)).toEqual(FILES.filter((f) => f.name >= '0030').map((f) => f.name));
      expect(await applyMigrations(db)).toEqual([]);
      expect(await count()).toEqual(before);

      const store = createD1Store(db);
      expect((await store.listSites()).map((s) => s.id)).toEqual(['demo']);
      expect(await store.countUsers()).toBe(0);
      const T = Date.UTC(2026, 11, 1);
      await store.createInvite(
        {
          id: 'inv_first',
          site: null,
          role: 'owner',
          createdBy: 'bootstrap',
          createdAt: T,
          expiresAt: T + 86_400_000,
          usedAt: null,
          usedBy: null,
          revokedAt: null,
        },
        'hash-first',
      );
      const user = {
        id: 'usr_first',
        email: 'first@example.test',
        passwordHash: '$pbkdf2-sha256$i=600000,c=100000$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo',
        instanceOwner: false,
        createdAt: T,
        passwordChangedAt: T,
      };
      expect(await store.acceptInvite('inv_first', T + 1, { kind: 'new-user', user })).toBe(true);
      expect(await store.getUser('usr_first')).toMatchObject({ instanceOwner: true });
      await store.appendAudit({
        site: 'demo',
        at: T,
        actor: 'user:usr_first',
        actorLabel: 'first@example.test',
        action: 'site.update',
        target: 'demo',
        detail: null,
      });
      expect(await store.listAudit('demo', 5)).toMatchObject([{ action: 'site.update' }]);
      await expect(db.prepare('DELETE FROM audit_log').run()).rejects.toThrow(/append-only/);
    } finally {
      await proxy.dispose();
    }
  }, 180_000);
});
