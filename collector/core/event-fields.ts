/**
 * The one table of event fields. Everything that lists the fields of an event derives from it:
 * - the types `WireEvent` (protocol.ts), `StoredEvent` (journey.ts), `IngestEvent` (ingest.ts), `TimelineEvent`;
 * - the validation of `POST /collect` (collector/core/validate.ts), and the client limits `LIMITS` (protocol.ts);
 * - `toStoredEvent` (collector/core/ingest.ts): the event as stored;
 * - the SQL row mapping (collector/stores/sql/events.ts): the insert, and a row of `events` back to an event;
 * - the export: NDJSON keys (in table order) and the CSV columns (`csv`, in their own order);
 * - the field tables of docs/protocol.md, which test/core/event-fields.test.ts checks against this one.
 *
 * Adding a field: a row here, a migration adding its column to `events`, its row in docs/protocol.md (and, when
 * exported, its CSV column at the end of the list there: `at` = the next position), and — only when the field
 * changes a journey — the fold (core/journey.ts).
 *
 * The row order is the order of the keys of every event object (wire, stored, timeline, NDJSON export).
 * This file imports only types, so protocol.ts (and through it the SDK's build) may read it.
 */
import type { EventType, Props } from './protocol';

/** How a field's value is checked and stored. */
export type FieldKind =
  /** A string of `[A-Za-z0-9_.:-]`. */
  | 'id'
  /** One of `EVENT_TYPES`. */
  | 'type'
  /** Integer milliseconds since the epoch. */
  | 'time'
  /** Any string. */
  | 'text'
  /** A finite number. */
  | 'number'
  /** A flat object of scalars, stored as JSON text. */
  | 'props'
  /** True or absent, stored as 1 or 0. */
  | 'flag';

/**
 * Who sets a field: `wire` the client, in each event of `POST /collect` (validated there); `sender` trusted senders
 * inside the collector (the server-side API, stall rules), on the ingested event; `collector` the collector itself,
 * outside the event (the batch's visitor, the time of receipt, the device class of the request).
 */
export type FieldSource = 'wire' | 'sender' | 'collector';

/** A named limit: `[name in LIMITS, value]`. */
export type Limit = readonly [name: string, value: number];

export interface EventField {
  /** The key of the field in every event object (WireEvent, StoredEvent, TimelineEvent, the NDJSON export). */
  readonly key: string;
  readonly kind: FieldKind;
  readonly source: FieldSource;
  /** On every event (`true`), or on events of these types: set, and not an empty string. */
  readonly required?: true | readonly EventType[];
  /** On events of these types, an integer score from `min` to `max` (feedback: 1–5). */
  readonly score?: { readonly [type in EventType]?: readonly [min: number, max: number] };
  /** An empty string counts as absent (it is dropped, never stored). */
  readonly emptyIsAbsent?: true;
  /** Limits, each published in `LIMITS` under its name: a string's length; the keys of `props` and their length. */
  readonly limits?: { readonly length?: Limit; readonly keys?: Limit; readonly keyLength?: Limit };
  /** Its column in the table `events`. */
  readonly column: string;
  /** Its CSV export column(s) and their positions (0-based); `iso`: the time as ISO 8601 text. None: not exported. */
  readonly csv?: ReadonlyArray<{ readonly column: string; readonly at: number; readonly iso?: true }>;
}

export const EVENT_FIELDS = [
  {
    key: 'id',
    kind: 'id',
    source: 'wire',
    required: true,
    limits: { length: ['idLength', 64] },
    column: 'id',
    csv: [{ column: 'id', at: 0 }],
  },
  {
    key: 'visitor',
    kind: 'id',
    source: 'collector',
    required: true,
    limits: { length: ['idLength', 64] },
    column: 'visitor',
    csv: [{ column: 'visitor', at: 1 }],
  },
  { key: 'type', kind: 'type', source: 'wire', required: true, column: 'type', csv: [{ column: 'type', at: 2 }] },
  {
    key: 'ts',
    kind: 'time',
    source: 'wire',
    required: true,
    column: 'ts',
    csv: [
      { column: 'ts', at: 3 },
      { column: 'time', at: 4, iso: true },
    ],
  },
  {
    key: 'receivedAt',
    kind: 'time',
    source: 'collector',
    required: true,
    column: 'received_at',
    csv: [{ column: 'received_at', at: 5 }],
  },
  {
    key: 'url',
    kind: 'text',
    source: 'wire',
    limits: { length: ['urlLength', 2000] },
    column: 'url',
    csv: [{ column: 'url', at: 8 }],
  },
  {
    key: 'referrer',
    kind: 'text',
    source: 'wire',
    emptyIsAbsent: true,
    limits: { length: ['urlLength', 2000] },
    column: 'referrer',
    csv: [{ column: 'referrer', at: 9 }],
  },
  {
    key: 'title',
    kind: 'text',
    source: 'wire',
    limits: { length: ['titleLength', 500] },
    column: 'title',
    csv: [{ column: 'title', at: 10 }],
  },
  {
    key: 'name',
    kind: 'text',
    source: 'wire',
    required: ['event', 'vital'],
    limits: { length: ['nameLength', 120] },
    column: 'name',
    csv: [{ column: 'name', at: 6 }],
  },
  {
    key: 'stage',
    kind: 'text',
    source: 'wire',
    required: ['stage'],
    emptyIsAbsent: true,
    limits: { length: ['stageLength', 64] },
    column: 'stage',
    csv: [{ column: 'stage', at: 7 }],
  },
  {
    key: 'userId',
    kind: 'text',
    source: 'wire',
    required: ['identify'],
    limits: { length: ['userIdLength', 200] },
    column: 'user_id',
    csv: [{ column: 'user_id', at: 11 }],
  },
  {
    key: 'value',
    kind: 'number',
    source: 'wire',
    required: ['vital', 'feedback'],
    score: { feedback: [1, 5] },
    column: 'value',
    csv: [{ column: 'value', at: 12 }],
  },
  {
    key: 'props',
    kind: 'props',
    source: 'wire',
    limits: { keys: ['props', 30], keyLength: ['propKeyLength', 100], length: ['propValueLength', 1000] },
    column: 'props',
    csv: [{ column: 'props', at: 13 }],
  },
  {
    key: 'channel',
    kind: 'text',
    source: 'sender',
    emptyIsAbsent: true,
    column: 'channel',
    csv: [{ column: 'channel', at: 14 }],
  },
  { key: 'synthetic', kind: 'flag', source: 'sender', column: 'synthetic' },
  { key: 'device', kind: 'text', source: 'collector', column: 'device', csv: [{ column: 'device', at: 15 }] },
] as const satisfies readonly EventField[];

/** The key of an event field. */
export type EventFieldKey = (typeof EVENT_FIELDS)[number]['key'];

type Row = (typeof EVENT_FIELDS)[number];
/** A field's value by kind, as the client sends it (validated). */
interface WireValue {
  id: string;
  type: EventType;
  time: number;
  text: string;
  number: number;
  props: Props;
  flag: boolean;
}
/** A field's value by kind, as stored (optional fields may be null). */
interface StoredValue {
  id: string;
  type: string;
  time: number;
  text: string | null;
  number: number | null;
  props: Props | null;
  flag: boolean;
}
/** The fields from `S` as an object type: those `required: true` always there, the others optional. */
type FieldsOf<S extends FieldSource, V extends Record<FieldKind, unknown>> = {
  [R in Row as R['source'] extends S ? (R extends { required: true } ? R['key'] : never) : never]: V[R['kind']];
} & {
  [R in Row as R['source'] extends S ? (R extends { required: true } ? never : R['key']) : never]?: V[R['kind']];
};

/** An event as the client sends it (`WireEvent` in protocol.ts). */
export type WireFields = FieldsOf<'wire', WireValue>;
/** What trusted senders inside the collector add to an ingested event (`IngestEvent` in ingest.ts). */
export type SenderFields = FieldsOf<'sender', StoredValue>;
/** An event with every field, as read back (`TimelineEvent` in store.ts); `StoredEvent` is it without `receivedAt`. */
export type EventFields = FieldsOf<FieldSource, StoredValue>;

type LimitNames<F> = F extends { readonly limits: infer L }
  ? { [R in keyof L]: L[R] extends readonly [infer N extends string, number] ? N : never }[keyof L]
  : never;
/** The names of the field limits (`idLength`, `urlLength`, …, `props`, `propKeyLength`, `propValueLength`). */
export type FieldLimitName = LimitNames<(typeof EVENT_FIELDS)[number]>;

const fieldLimits = (): Readonly<Record<FieldLimitName, number>> => {
  const out: Record<string, number> = {};
  for (const f of EVENT_FIELDS as readonly EventField[]) {
    for (const [name, value] of Object.values(f.limits ?? {})) {
      if (out[name] !== undefined && out[name] !== value)
        throw new Error(
          `[cjm] event-fields.ts: the limit ${name} is ${out[name]} on one field and ${value} on another`,
        );
      out[name] = value;
    }
  }
  return out as Record<FieldLimitName, number>;
};

/** Every field limit by name, as `LIMITS` (protocol.ts) publishes them. */
export const FIELD_LIMITS = fieldLimits();

/** The table, typed as plain fields (for loops that treat every field alike). */
export const FIELDS: readonly EventField[] = EVENT_FIELDS;

/** Fields of `source`, in table order. */
export const fieldsFrom = (...sources: readonly FieldSource[]): readonly EventField[] =>
  FIELDS.filter((f) => sources.includes(f.source));

/**
 * A field's value as kept, or undefined when it counts as absent: undefined, null, an empty string of a field where
 * empty means absent, a false flag (a set flag is kept as `true`).
 */
export const keptValue = (f: EventField, v: unknown): unknown => {
  if (v === undefined || v === null || (v === '' && f.emptyIsAbsent)) return undefined;
  if (f.kind === 'flag') return v ? true : undefined;
  return v;
};

/** The CSV export columns in order, each with its field. */
export const CSV_COLUMNS: ReadonlyArray<{ column: string; field: EventField; iso: boolean }> = FIELDS.flatMap((field) =>
  (field.csv ?? []).map((c) => ({ ...c, field, iso: c.iso === true })),
)
  .sort((a, b) => a.at - b.at)
  .map(({ column, field, iso }) => ({ column, field, iso }));

/** An event's CSV cells in column order: props as JSON, `iso` columns as ISO 8601 text, absent fields as null. */
export const csvValues = (e: object): Array<string | number | null> =>
  CSV_COLUMNS.map(({ field, iso }) => {
    const v = (e as Record<string, unknown>)[field.key];
    if (v === undefined || v === null) return null;
    if (iso) return new Date(v as number).toISOString();
    if (field.kind === 'props') return JSON.stringify(v);
    if (field.kind === 'flag') return v ? 1 : 0;
    return v as string | number;
  });
