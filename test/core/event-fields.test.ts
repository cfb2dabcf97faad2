/**
 * The field table (collector/core/event-fields.ts) against what depends on it: the field tables and CSV column list
 * of docs/protocol.md (parsed), the event types (TimelineEvent), the `events` table of the migrations, LIMITS (its
 * names and values, which the SDK reads at build time) and the table's own invariants.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  CSV_COLUMNS,
  EVENT_FIELDS,
  FIELDS,
  type EventField,
  type EventFieldKey,
} from '../../collector/core/event-fields';
import { EVENT_TYPES, LIMITS } from '../../collector/core/protocol';
import type { TimelineEvent } from '../../collector/core/store';
import { EXPORT_COLUMNS } from '../../collector/core/services/export';
import { openSqlite } from '../../collector/stores/sqlite';

const PROTOCOL = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

/** The markdown tables of a section (`## title` up to the next `## `), each as rows of trimmed cells. */
const tablesOf = (md: string, title: string): string[][][] => {
  const start = md.indexOf(`\n## ${title}\n`);
  expect(start, `docs/protocol.md has a section "## ${title}"`).toBeGreaterThan(-1);
  const end = md.indexOf('\n## ', start + 1);
  const tables: string[][][] = [];
  let current: string[][] | null = null;
  for (const line of md.slice(start, end === -1 ? undefined : end).split('\n')) {
    if (!line.startsWith('|')) {
      current = null;
      continue;
    }
    const cells = line
      .slice(1, line.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((c) => c.trim());
    if (cells.every((c) => /^-+$/.test(c))) continue; // the header separator
    if (!current) tables.push((current = []));
    current.push(cells);
  }
  return tables;
};

const n = (v: number) => v.toLocaleString('en');
const code = (s: string) => `\`${s}\``;

/** How docs/protocol.md writes a field's type, from the table. */
const typeOf = (f: EventField): string => {
  const length = f.limits?.length?.[1];
  const empty = f.emptyIsAbsent ? ', empty = absent' : '';
  switch (f.kind) {
    case 'id':
      return `string \`[A-Za-z0-9_.:-]\`, ≤ ${n(length!)}`;
    case 'type':
      return EVENT_TYPES.map(code).join(' ');
    case 'time':
      return 'integer ms since the epoch';
    case 'text':
      return `string${length === undefined ? '' : ` ≤ ${n(length)}`}${empty}`;
    case 'number':
      return [
        'number',
        ...Object.entries(f.score ?? {}).map(([t, [lo, hi]]) => `${code(t)}: integer ${lo}–${hi}`),
      ].join('; ');
    case 'props':
      return `object, ≤ ${n(f.limits!.keys![1])} keys (≤ ${n(f.limits!.keyLength![1])} chars), flat values: string ≤ ${n(
        f.limits!.length![1],
      )}, number, boolean, null`;
    case 'flag':
      return 'true or absent';
  }
};
const requiredOf = (f: EventField): string =>
  f.required === true ? 'yes' : f.required ? f.required.map(code).join(', ') : 'no';

describe('event fields', () => {
  it('docs/protocol.md lists every field the client sends, in table order, with its type, limits and requirement', () => {
    const [wire] = tablesOf(PROTOCOL, 'Event fields');
    expect(wire?.[0]).toEqual(['field', 'type', 'required', 'meaning']);
    const documented = wire!.slice(1).map(([field, type, required]) => [field, type, required]);
    const expected = FIELDS.filter((f) => f.source === 'wire').map((f) => [code(f.key), typeOf(f), requiredOf(f)]);
    expect(documented).toEqual(expected);
    for (const row of wire!.slice(1)) expect(row[3], `the meaning of ${row[0]}`).toMatch(/\w/);
  });

  it('docs/protocol.md lists every field the collector adds, with its type and who sets it', () => {
    const [, added] = tablesOf(PROTOCOL, 'Event fields');
    expect(added?.[0]).toEqual(['field', 'type', 'set by', 'meaning']);
    const documented = added!.slice(1).map(([field, type, by]) => [field, type, by]);
    const expected = FIELDS.filter((f) => f.source !== 'wire').map((f) => [code(f.key), typeOf(f), f.source]);
    expect(documented).toEqual(expected);
  });

  it('docs/protocol.md lists the CSV export columns in their order', () => {
    const line = /CSV export columns[^\n]*in order:\s*`([a-z_,]+)`/.exec(PROTOCOL);
    expect(line?.[1]?.split(',')).toEqual(CSV_COLUMNS.map((c) => c.column));
    expect(EXPORT_COLUMNS).toEqual(CSV_COLUMNS.map((c) => c.column));
  });

  it('has exactly the keys of a timeline event (the stored event and its receipt time)', () => {
    expectTypeOf<EventFieldKey>().toEqualTypeOf<keyof TimelineEvent>();
    expect(new Set(FIELDS.map((f) => f.key)).size).toBe(FIELDS.length);
  });

  it('has a column for each column of the events table, and no other (besides site)', () => {
    const db = openSqlite(':memory:');
    const columns = (db.prepare('PRAGMA table_info(events)').all() as Array<{ name: string }>).map((c) => c.name);
    expect(columns.filter((c) => c !== 'site').sort()).toEqual(FIELDS.map((f) => f.column).sort());
    db.close();
  });

  it('is consistent: CSV positions 0…n-1, unique columns, scores only on required types, limits where needed', () => {
    expect(CSV_COLUMNS.map((c) => c.field.csv!.find((x) => x.column === c.column)!.at)).toEqual(
      CSV_COLUMNS.map((_, i) => i),
    );
    expect(new Set(CSV_COLUMNS.map((c) => c.column)).size).toBe(CSV_COLUMNS.length);
    expect(new Set(FIELDS.map((f) => f.column)).size).toBe(FIELDS.length);
    for (const f of FIELDS) {
      for (const t of Object.keys(f.score ?? {})) expect(f.required, `${f.key}: score on ${t}`).toContain(t);
      if (f.source === 'wire' && (f.kind === 'id' || f.kind === 'text'))
        expect(f.limits?.length, `${f.key}: a length limit`).toBeDefined();
      if (f.kind === 'props') expect(Object.keys(f.limits ?? {}).sort()).toEqual(['keyLength', 'keys', 'length']);
      if (Array.isArray(f.required)) for (const t of f.required) expect(EVENT_TYPES).toContain(t);
    }
    // Every event object starts with its envelope, in this order.
    expect(EVENT_FIELDS.slice(0, 5).map((f) => f.key)).toEqual(['id', 'visitor', 'type', 'ts', 'receivedAt']);
  });

  it('keeps the names and values LIMITS always had (the SDK reads them at build time)', () => {
    expect(LIMITS).toMatchObject({
      bodyBytes: 64 * 1024,
      eventsPerBatch: 100,
      idLength: 64,
      siteLength: 64,
      nameLength: 120,
      stageLength: 64,
      urlLength: 2000,
      titleLength: 500,
      userIdLength: 200,
      props: 30,
      propKeyLength: 100,
      propValueLength: 1000,
      pastMs: 31 * 24 * 60 * 60 * 1000,
    });
  });
});
