/**
 * The stage model as the settings page's stages form edits it (dashboard/stages-form.tsx): a stage as the text of its
 * fields (a `StageDraft`), from a stored stage (`stageDraft`), from the posted form (`draftsOfForm`), and back to a
 * stage for the sites service (`stagesOfDrafts`, which the service then checks like any API body).
 *
 * Saving a stored model unchanged through the form gives exactly that model (test/dashboard/stages-form.test.ts,
 * every template): the key order of `where` is kept (so the site's revision does not change), an operand keeps its
 * type — a string that would read as a number or a boolean is shown quoted (`"100"`), as is one with surrounding
 * spaces, a control character, a leading quote, or a comma inside an "is one of" list.
 *
 * The form's fields, all sent for every stage row (an empty input sends its name): `stage_name`, `stage_urls`,
 * `stage_events` (one per line), `stage_nth`, `stage_after`, `stage_return_n` + `stage_return_unit` (`returnAfter`
 * as a number and m/h/d/w), `stage_where_rows` (how many condition rows follow for this stage); and per condition
 * row, in stage order: `where_field` (`value` or `prop`), `where_key` (the property), `where_op`, `where_value`.
 */
import { InputError } from '../errors';
import type { FormFields } from '../http';
import type { StageDef, WhereCondition, WhereScalar } from '../stages';

/** A condition row's operator: the `where` operators, `exists` split into present and absent; '' for none. */
export type WhereOp = 'eq' | 'in' | 'gte' | 'lte' | 'exists' | 'absent';
export const WHERE_OPS: ReadonlyArray<[WhereOp, string]> = [
  ['eq', 'equals'],
  ['in', 'is one of'],
  ['gte', 'is at least'],
  ['lte', 'is at most'],
  ['exists', 'is present'],
  ['absent', 'is absent'],
];
export const RETURN_UNITS: ReadonlyArray<[string, string]> = [
  ['m', 'minutes'],
  ['h', 'hours'],
  ['d', 'days'],
  ['w', 'weeks'],
];

/** One condition row: `field` `value` (the event's value) or `prop` (the property `key`). */
export interface WhereDraft {
  field: string;
  key: string;
  op: string;
  value: string;
}

/** A stage as the form shows it: every field as text. */
export interface StageDraft {
  name: string;
  urls: string;
  events: string;
  nth: string;
  afterStage: string;
  returnN: string;
  returnUnit: string;
  where: WhereDraft[];
}

export const BLANK_WHERE: WhereDraft = { field: 'value', key: '', op: '', value: '' };
export const BLANK_STAGE: StageDraft = {
  name: '',
  urls: '',
  events: '',
  nth: '',
  afterStage: '',
  returnN: '',
  returnUnit: 'd',
  where: [],
};

// ----- operands as text -----

/** A number as `String(n)` writes it (and `Number()` reads it back). */
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const needsQuotes = (s: string, inList: boolean): boolean =>
  s === '' ||
  s !== s.trim() ||
  s.startsWith('"') ||
  NUMBER.test(s) ||
  s === 'true' ||
  s === 'false' ||
  CONTROL.test(s) ||
  (inList && s.includes(','));

/** An operand as the form shows it: numbers and booleans as written, strings bare unless they need quotes. */
export const formatOperand = (v: WhereScalar, inList = false): string => {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'boolean') return String(v);
  return needsQuotes(v, inList) ? JSON.stringify(v) : v;
};

/** "is one of" operands, comma-separated. */
export const formatList = (vs: readonly WhereScalar[]): string => vs.map((v) => formatOperand(v, true)).join(', ');

/** Reads an operand: `"…"` a string (JSON), a number, `true`/`false`, else the trimmed text; undefined: bad quotes. */
export const parseOperand = (text: string): WhereScalar | undefined => {
  const t = text.trim();
  if (t.startsWith('"')) {
    try {
      const v: unknown = JSON.parse(t);
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }
  if (NUMBER.test(t)) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  return t;
};

/** Reads a comma-separated list (commas inside quotes kept; empty bare items skipped); undefined: bad quotes. */
export const parseList = (text: string): WhereScalar[] | undefined => {
  const out: WhereScalar[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    let token: string;
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) return undefined;
      token = text.slice(i, j + 1);
      i = j + 1;
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (i < text.length && text[i] !== ',') return undefined;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      token = text.slice(i, end);
      i = end;
    }
    i++; // the comma
    if (token.trim() === '') continue;
    const v = parseOperand(token);
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
};

// ----- a stored stage → its draft -----

const DURATION = /^(\d+)([mhdw])$/;

/** The form's text of a stored stage. */
export const stageDraft = (s: StageDef): StageDraft => {
  const ret = s.returnAfter === undefined ? null : DURATION.exec(s.returnAfter);
  const where: WhereDraft[] = [];
  for (const [key, cond] of Object.entries(s.where ?? {})) {
    const field = key === 'value' ? 'value' : 'prop';
    const k = key === 'value' ? '' : key.slice('props.'.length);
    for (const [op, v] of Object.entries(cond) as Array<[keyof WhereCondition, WhereCondition[keyof WhereCondition]]>) {
      if (op === 'exists') where.push({ field, key: k, op: v ? 'exists' : 'absent', value: '' });
      else if (op === 'in') where.push({ field, key: k, op, value: formatList(v as WhereScalar[]) });
      else where.push({ field, key: k, op, value: formatOperand(v as WhereScalar) });
    }
  }
  return {
    name: s.name,
    urls: (s.urls ?? []).join('\n'),
    events: (s.events ?? []).join('\n'),
    nth: s.nth === undefined ? '' : String(s.nth),
    afterStage: s.afterStage ?? '',
    returnN: ret ? ret[1]! : (s.returnAfter ?? ''),
    returnUnit: ret ? ret[2]! : 'd',
    where,
  };
};

// ----- the posted form → drafts -----

const PER_STAGE = [
  'stage_name',
  'stage_urls',
  'stage_events',
  'stage_nth',
  'stage_after',
  'stage_return_n',
  'stage_return_unit',
  'stage_where_rows',
] as const;
const PER_WHERE = ['where_field', 'where_key', 'where_op', 'where_value'] as const;

/** A malformed form (not a browser's post of the page's form): a 400 naming the field. */
const malformed = (message: string, path: string) => new InputError(400, `[cjm] ${message}`, path);

/**
 * The stage rows of a posted stages form, as typed; rows without a name (the blank row that adds a stage) and
 * condition rows without an operator and without text are left out. A missing field, or a field sent a different
 * number of times than its row requires, is a 400 naming it.
 */
export const draftsOfForm = (form: FormFields): StageDraft[] => {
  const names = form.stage_name ?? [];
  const cols: Record<string, string[]> = {};
  for (const f of PER_STAGE) {
    const values = form[f];
    if (!values) throw malformed(`the form has no field "${f}"`, f);
    if (values.length !== names.length)
      throw malformed(`each stage row sends ${PER_STAGE.join(', ')}, once`, 'stage_name');
    cols[f] = values;
  }
  const counts = cols.stage_where_rows!.map((x) => (/^\d{1,3}$/.test(x) ? Number(x) : Number.NaN));
  if (counts.some((x) => Number.isNaN(x))) throw malformed('stage_where_rows must be a count', 'stage_where_rows');
  const total = counts.reduce((a, b) => a + b, 0);
  const where: Record<string, string[]> = {};
  for (const f of PER_WHERE) {
    const values = form[f] ?? [];
    if (values.length !== total)
      throw malformed(`each condition row sends ${PER_WHERE.join(', ')}, once`, total ? f : 'stage_where_rows');
    where[f] = values;
  }
  let next = 0;
  const drafts: StageDraft[] = [];
  names.forEach((name, i) => {
    const rows: WhereDraft[] = [];
    for (let r = 0; r < counts[i]!; r++, next++) {
      const row = {
        field: where.where_field![next]!,
        key: where.where_key![next]!,
        op: where.where_op![next]!,
        value: where.where_value![next]!,
      };
      const keyed = row.field !== 'value' && row.key.trim() !== '';
      if (row.op !== '' || keyed || row.value.trim() !== '') rows.push(row);
    }
    const draft: StageDraft = {
      name: name.trim(),
      urls: cols.stage_urls![i]!,
      events: cols.stage_events![i]!,
      nth: cols.stage_nth![i]!.trim(),
      afterStage: cols.stage_after![i]!.trim(),
      returnN: cols.stage_return_n![i]!.trim(),
      returnUnit: cols.stage_return_unit![i]!,
      where: rows,
    };
    if (draft.name !== '') drafts.push(draft);
  });
  return drafts;
};

// ----- drafts → stages -----

/** The non-empty, trimmed lines of a textarea. */
const lines = (s: string) =>
  s
    .split(/\r?\n/)
    .map((x) => x.trim())
    .filter(Boolean);

const bad = (path: string, message: string) => new InputError(400, `[cjm] ${path} ${message}`, path);

/** A condition row's key in `where`: `value` or `props.<key>`. */
export const whereKey = (row: WhereDraft): string => (row.field === 'value' ? 'value' : `props.${row.key}`);
/** A condition row's operator in `where` (`exists` for present and absent). */
export const whereOp = (row: WhereDraft): string => (row.op === 'absent' ? 'exists' : row.op);

const whereOf = (rows: readonly WhereDraft[], p: string): Record<string, Record<string, unknown>> | undefined => {
  if (rows.length === 0) return undefined;
  const out: Record<string, Record<string, unknown>> = {};
  for (const row of rows) {
    if (row.field !== 'value' && row.field !== 'prop') throw bad(`${p}.where`, 'fields are "value" or "prop"');
    const key = whereKey(row);
    const kp = `${p}.where.${key}`;
    if (!WHERE_OPS.some(([op]) => op === row.op)) throw bad(kp, 'needs a condition (equals, is one of, …)');
    const op = whereOp(row);
    const cond = (out[key] ??= {});
    if (cond[op] !== undefined) throw bad(`${kp}.${op}`, 'is given twice: one condition of each kind per field');
    const quotes = 'has an unclosed quote (write text with commas or spaces at the ends in "quotes")';
    if (row.op === 'exists' || row.op === 'absent') cond[op] = row.op === 'exists';
    else if (row.op === 'in') {
      const list = parseList(row.value);
      if (list === undefined) throw bad(`${kp}.in`, quotes);
      cond.in = list;
    } else {
      if (row.op === 'eq' && row.value.trim() === '') throw bad(`${kp}.eq`, 'needs a value (write "" for empty text)');
      const v = parseOperand(row.value);
      if (v === undefined) throw bad(`${kp}.${op}`, quotes);
      cond[op] = v;
    }
  }
  return out;
};

/**
 * The stages of the drafts, for the sites service (`updateSite`), which checks them as it checks an API body; an
 * error names the field as the API does (`stages[1].where.value.gte`). Only what the form cannot express is refused
 * here (a condition without an operator, one given twice, unclosed quotes).
 */
export const stagesOfDrafts = (drafts: readonly StageDraft[]): Array<Record<string, unknown>> =>
  drafts.map((d, i) => {
    const p = `stages[${i}]`;
    const s: Record<string, unknown> = { name: d.name };
    const urls = lines(d.urls);
    const events = lines(d.events);
    if (urls.length) s.urls = urls;
    if (events.length) s.events = events;
    if (d.nth !== '') s.nth = /^\d{1,7}$/.test(d.nth) ? Number(d.nth) : d.nth;
    const where = whereOf(d.where, p);
    if (where) s.where = where;
    if (d.returnN !== '') s.returnAfter = `${d.returnN}${d.returnUnit}`;
    if (d.afterStage !== '') s.afterStage = d.afterStage;
    return s;
  });
