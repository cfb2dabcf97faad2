/**
 * The `sql` tagged template of the SQL layer (collector/stores/sql/shared.ts): placeholders in text order, null for
 * undefined (D1 refuses undefined), pieces spliced with their parameters, IN-lists at most 90 values, and no
 * statement past D1's 100 parameters.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK, chunks, empty, join, list, MAX_PARAMS, raw, sql, within } from '../../collector/stores/sql/shared';

describe('sql template', () => {
  it('binds each value as ?, in order, and undefined as null', () => {
    const site = 'shop';
    const q = sql`SELECT id FROM events WHERE site = ${site} AND name = ${undefined} AND value > ${3} AND x = ${null}`;
    expect(q).toMatchObject({
      sql: 'SELECT id FROM events WHERE site = ? AND name = ? AND value > ? AND x = ?',
      params: ['shop', null, 3, null],
    });
  });

  it('splices pieces with their parameters where they stand; raw text binds nothing; empty is nothing', () => {
    const cond = sql` AND stage = ${'cart'}`;
    const q = sql`SELECT ${raw('key')} FROM ${raw('journeys')} WHERE site = ${'shop'}${cond}${empty} LIMIT ${5}`;
    expect(q).toMatchObject({
      sql: 'SELECT key FROM journeys WHERE site = ? AND stage = ? LIMIT ?',
      params: ['shop', 'cart', 5],
    });
    expect(join([sql`a = ${1}`, sql`b = ${2}`], ' AND ')).toMatchObject({ sql: 'a = ? AND b = ?', params: [1, 2] });
    expect(within('ts', {})).toMatchObject({
      sql: ' AND ts >= ? AND ts <= ?',
      params: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    });
    expect(within('ts', { from: 1, to: 2 }).params).toEqual([1, 2]);
  });

  it('writes IN-lists of at most 90 values, and no statement past 100 parameters', () => {
    expect(sql`id IN ${list(['a', undefined, 'c'])}`).toMatchObject({ sql: 'id IN (?,?,?)', params: ['a', null, 'c'] });
    const ids = Array.from({ length: 250 }, (_, i) => `e${i}`);
    const parts = chunks(ids);
    expect(parts.map((p) => p.length)).toEqual([CHUNK, CHUNK, 70]);
    expect(parts.flat()).toEqual(ids);
    for (const part of parts) expect(sql`site = ${'s'} AND id IN ${list(part)}`.params).toHaveLength(part.length + 1);
    expect(() => list(ids.slice(0, CHUNK + 1))).toThrow(/chunk it to 90/);
    const many = list(ids.slice(0, CHUNK));
    expect(() => sql`${many} ${list(ids.slice(0, MAX_PARAMS - CHUNK + 1))}`).toThrow(
      /binds 101 parameters; D1 allows 100/,
    );
    expect(sql`${many} ${list(ids.slice(0, MAX_PARAMS - CHUNK))}`.params).toHaveLength(MAX_PARAMS);
  });
});
