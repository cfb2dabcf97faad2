/**
 * The store contract on better-sqlite3 (Node), one fresh in-memory database per test.
 */
import type Database from 'better-sqlite3';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { storeContract } from './contract';

storeContract('SQLite (better-sqlite3)', async () => {
  const db: Database.Database = openSqlite(':memory:');
  return { store: createSqliteStore(db), sibling: () => createSqliteStore(db) };
});
