/**
 * One StoreFullError whatever the driver says (stores/full.ts): better-sqlite3's SQLITE_FULL, D1's "Exceeded
 * maximum DB size" (the message a D1 database past its size limit answers writes with, HTTP API code 7500) and
 * workerd's "database or disk is full: SQLITE_FULL", also as a `cause`; other errors pass through untouched.
 * A local D1 cannot be capped (its page pragmas are refused with SQLITE_AUTH), so the D1 connector is given a
 * binding that fails the way D1 does. test/collector/full.test.ts fills a real capped SQLite file.
 */
import { describe, expect, it } from 'vitest';
import { StoreFullError } from '../../collector/core/store';
import { d1Connector } from '../../collector/stores/d1';
import { isFullError, storeError } from '../../collector/stores/full';

describe('storeError', () => {
  it.each([
    ['D1 past its size limit', new Error('D1_ERROR: Exceeded maximum DB size')],
    ['D1 past its size limit (with a period)', new Error('D1_ERROR: Exceeded maximum DB size.')],
    ['workerd', new Error('D1_ERROR: database or disk is full: SQLITE_FULL')],
    ['better-sqlite3', Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })],
    ['wrapped', new Error('D1_BATCH_ERROR', { cause: new Error('Exceeded maximum DB size') })],
  ])('%s: a StoreFullError with the driver error as cause', (_, e) => {
    expect(isFullError(e)).toBe(true);
    const out = storeError(e);
    expect(out).toBeInstanceOf(StoreFullError);
    expect((out as StoreFullError).retryAfter).toBe(60);
    expect((out as Error).message).toMatch(/^\[cjm\] the database is full \(.+\): nothing of this write was stored/);
    expect((out as { cause?: unknown }).cause).toBe(e);
  });

  it.each([
    new Error('D1_ERROR: UNIQUE constraint failed: events.id'),
    new Error('NOT NULL constraint failed: meta.value'),
    new Error('D1_ERROR: D1 DB is overloaded. Too many requests queued.'),
    Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
    'a string',
  ])('passes %s through', (e) => {
    expect(isFullError(e)).toBe(false);
    expect(storeError(e)).toBe(e);
  });

  it('the D1 connector turns a full database into StoreFullError, on batches and reads', async () => {
    const full = new Error('D1_ERROR: Exceeded maximum DB size');
    const statement = { bind: () => statement, all: () => Promise.reject(full) };
    const db = { prepare: () => statement, batch: () => Promise.reject(full) } as unknown as D1Database;
    const c = d1Connector(db);
    await expect(
      c.batch([{ sql: 'INSERT INTO meta (key, value) VALUES (?, ?)', params: ['k', 'v'] }]),
    ).rejects.toBeInstanceOf(StoreFullError);
    await expect(c.all('SELECT 1')).rejects.toBeInstanceOf(StoreFullError);
  });
});
