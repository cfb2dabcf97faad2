/**
 * The store contract on better-sqlite3 (Node), one fresh in-memory database per test.
 */
import type Database from 'better-sqlite3';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { describe, expect, it } from 'vitest';
import { storeContract } from './contract';
import { teamContract } from './team-contract';

const open = async () => {
  const db: Database.Database = openSqlite(':memory:');
  return { store: createSqliteStore(db), sibling: () => createSqliteStore(db) };
};
storeContract('SQLite (better-sqlite3)', open);
teamContract('SQLite (better-sqlite3)', open);

describe('the audit log on SQLite', () => {
  it('refuses any change or deletion of an entry, whoever asks (the triggers of migration 0030)', async () => {
    const db = openSqlite(':memory:');
    const store = createSqliteStore(db);
    const entry = { site: 'shop', at: 1, actor: 'admin-token', actorLabel: 'admin token', action: 'a', target: null };
    await store.appendAudit({ ...entry, detail: null });
    expect(() => db.exec("UPDATE audit_log SET actor = 'someone else'")).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM audit_log')).toThrow(/append-only/);
    expect(await store.listAudit('shop', 10)).toMatchObject([entry]);
  });
});
