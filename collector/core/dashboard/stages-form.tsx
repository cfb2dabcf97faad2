/**
 * The settings page's stage editor: per stage its name, URL patterns and event names, and a "Conditions" section for
 * the rules beyond a name (docs/stages.md, "Stage rules"): from the n-th match on, only after reaching a stage, only
 * on a return after a time away, and rows of field / condition / value on the event's value and properties.
 *
 * Works without script: a stage's conditions are a <details>, open when it has some; each stage has one blank
 * condition row and the list one blank stage row (save to get more). With the built client script
 * (dashboard/client.ts) "Add a stage" / "Add a condition" and × add and remove rows. A refused save marks the field
 * the error's path names (`stages[1].where.value.gte` → that condition row's value) and shows the message beside it.
 * The form's fields and how they read back are in dashboard/stage-draft.ts.
 */
import type { Child } from 'hono/jsx';
import {
  BLANK_STAGE,
  BLANK_WHERE,
  RETURN_UNITS,
  WHERE_OPS,
  whereKey,
  whereOp,
  type StageDraft,
  type WhereDraft,
} from './stage-draft';

/** Why a save of the stages was refused: the message and the field it names (the API's path). */
export interface StagesError {
  message: string;
  path?: string;
}

/** The id of the message beside the refused field (its `aria-describedby`). */
export const FIELD_ERROR_ID = 'stages-field-error';

/** The part of a stage row an error path points at. */
type StageField = 'name' | 'urls' | 'events' | 'nth' | 'afterStage' | 'returnAfter' | 'where' | 'row';
/** Where an error shows: a stage row's field (a condition row for `where…`), the conversion, or the form's top. */
export type Spot =
  { at: 'stage'; row: number; field: StageField; whereRow?: number } | { at: 'conversion' } | { at: 'form' };

/** The place in the form of the field an error's path names. */
export const errorSpot = (path: string | undefined, stages: readonly StageDraft[]): Spot => {
  if (path === 'conversion') return { at: 'conversion' };
  const m = path ? /^stages\[(\d+)\](.*)$/.exec(path) : null;
  const row = m ? Number(m[1]) : -1;
  const s = stages[row];
  if (!m || !s) return { at: 'form' };
  const rest = m[2]!;
  const simple = /^\.(name|urls|events|nth|afterStage|returnAfter)(?:\[\d+\])?$/.exec(rest);
  if (simple) return { at: 'stage', row, field: simple[1] as StageField };
  if (rest === '.where' || rest.startsWith('.where.')) {
    const exact = s.where.findIndex((w) => rest === `.where.${whereKey(w)}.${whereOp(w)}`);
    const byKey = s.where.findIndex((w) => rest === `.where.${whereKey(w)}`);
    const whereRow = exact >= 0 ? exact : byKey;
    return whereRow >= 0 ? { at: 'stage', row, field: 'where', whereRow } : { at: 'stage', row, field: 'where' };
  }
  return { at: 'stage', row, field: 'row' };
};

/** The message beside a field: without the path it starts with (`stages[1].nth must be…` → `must be…`). */
export const fieldMessage = (e: StagesError): string => {
  const m = e.message.replace(/^\[cjm\] /, '');
  if (e.path && m.startsWith(`${e.path} `)) return m.slice(e.path.length + 1);
  return m.replace(/^stages\[\d+\]\S*\s/, '');
};

const FieldError = ({ error }: { error: StagesError }) => (
  <span class="field-error" id={FIELD_ERROR_ID} role="alert">
    {fieldMessage(error)}
  </span>
);

/** The attributes of a refused control. */
const invalidAttrs = (on: boolean) => (on ? { 'aria-invalid': 'true', 'aria-describedby': FIELD_ERROR_ID } : {});

const rowsFor = (text: string) => Math.min(8, Math.max(2, text.split('\n').length));

const unitWord = (unit: string) => RETURN_UNITS.find(([u]) => u === unit)?.[1] ?? unit;
const opWord = (op: string) => WHERE_OPS.find(([o]) => o === op)?.[1] ?? op;

/** A stage's conditions in words, one item each ("from match 2", "after purchase", "value is at least 100"). */
export const conditionWords = (s: StageDraft): string[] => {
  const out: string[] = [];
  if (s.nth !== '') out.push(`from match ${s.nth} on`);
  if (s.afterStage !== '') out.push(`after ${s.afterStage}`);
  if (s.returnN !== '') out.push(`on a return after ${s.returnN} ${unitWord(s.returnUnit)}`);
  for (const w of s.where) {
    const field = w.field === 'value' ? 'value' : `property ${w.key}`;
    const value = w.op === 'exists' || w.op === 'absent' ? '' : ` ${w.value}`;
    out.push(`${field} ${opWord(w.op)}${value}`);
  }
  return out;
};

/** One condition row: field (value or a property), operator, value. */
const WhereRow = ({ w, error }: { w: WhereDraft; error?: StagesError | undefined }) => (
  <div class="where-row">
    <select name="where_field" aria-label="Field" data-where-field="" {...invalidAttrs(!!error)}>
      <option value="value" selected={w.field === 'value'}>
        the event’s value
      </option>
      <option value="prop" selected={w.field !== 'value'}>
        the property
      </option>
    </select>
    <input type="text" name="where_key" value={w.key} placeholder="property, e.g. plan" aria-label="Property name" />
    <select name="where_op" aria-label="Condition" data-where-op="">
      <option value="" selected={w.op === ''}>
        — no condition —
      </option>
      {WHERE_OPS.map(([op, label]) => (
        <option value={op} selected={w.op === op}>
          {label}
        </option>
      ))}
    </select>
    <input
      type="text"
      name="where_value"
      value={w.value}
      placeholder="100, or pro, team"
      aria-label="Value (several for “is one of”: comma-separated)"
      {...invalidAttrs(!!error)}
    />
    <button
      class="btn"
      type="button"
      data-remove-where=""
      title="Remove this condition"
      aria-label="Remove this condition"
    >
      ×
    </button>
    {error ? <FieldError error={error} /> : null}
  </div>
);

/** One stage of the editor; `i` null for the blank row that adds a stage. */
const StageRow = ({
  s,
  i,
  blank,
  error,
}: {
  s: StageDraft;
  i: number | null;
  blank: boolean;
  /** The refused field's error, when it is in this row (`field` says which). */
  error?: (StagesError & { field: StageField; whereRow?: number | undefined }) | undefined;
}) => {
  const on = (f: StageField) => error?.field === f;
  const here = (f: StageField): Child => (on(f) && error ? <FieldError error={error} /> : null);
  const words = conditionWords(s);
  const rows = [...s.where, BLANK_WHERE];
  const condError = error && (error.field === 'nth' || error.field === 'afterStage' || error.field === 'returnAfter');
  const whereError = error?.field === 'where' ? error : undefined;
  return (
    <div class="stage-edit" data-index={blank ? undefined : i} id={blank ? undefined : `stage-row-${i}`}>
      <div class="cell">
        <input
          type="text"
          name="stage_name"
          value={s.name}
          placeholder={blank ? 'new stage' : undefined}
          aria-label="Stage name"
          {...invalidAttrs(on('name') || on('row'))}
        />
        {here('name')}
        {here('row')}
      </div>
      <div class="cell">
        <textarea
          name="stage_urls"
          rows={rowsFor(s.urls)}
          placeholder={blank ? '**/pricing*' : undefined}
          aria-label="URL patterns, one per line"
          {...invalidAttrs(on('urls'))}
        >
          {s.urls}
        </textarea>
        {here('urls')}
      </div>
      <div class="cell">
        <textarea
          name="stage_events"
          rows={rowsFor(s.events)}
          placeholder={blank ? 'trial_started' : undefined}
          aria-label="Event names, one per line"
          {...invalidAttrs(on('events'))}
        >
          {s.events}
        </textarea>
        {here('events')}
      </div>
      <button class="btn" type="button" data-remove-stage="" title="Remove this stage" aria-label="Remove this stage">
        ×
      </button>
      <details class="conds" open={words.length > 0 || !!condError || !!whereError}>
        <summary>
          Conditions <span class="muted small">{words.length ? words.join(' · ') : 'none: every match enters'}</span>
        </summary>
        <div class="cond-grid">
          <label class="cond">
            <span class="lbl">Only from match number</span>
            <input
              type="number"
              name="stage_nth"
              value={s.nth}
              min="1"
              max="1000"
              placeholder="1"
              {...invalidAttrs(on('nth'))}
            />
            <span class="hint">2: the second match (a second purchase) and every later one</span>
            {here('nth')}
          </label>
          <label class="cond">
            <span class="lbl">Only after reaching the stage</span>
            <input
              type="text"
              name="stage_after"
              value={s.afterStage}
              list="stage-names"
              placeholder="any time"
              {...invalidAttrs(on('afterStage'))}
            />
            <span class="hint">counts once the visitor entered that stage before</span>
            {here('afterStage')}
          </label>
          <div class="cond">
            <span class="lbl">Only on a return after</span>
            <span class="pair">
              <input
                type="number"
                name="stage_return_n"
                value={s.returnN}
                min="1"
                placeholder="–"
                aria-label="Return after (how many)"
                {...invalidAttrs(on('returnAfter'))}
              />
              <select name="stage_return_unit" aria-label="Return after (unit)">
                {RETURN_UNITS.map(([u, label]) => (
                  <option value={u} selected={s.returnUnit === u}>
                    {label}
                  </option>
                ))}
              </select>
            </span>
            <span class="hint">
              away: a new session that long after the last activity. Without URL patterns and events, the return itself
              enters the stage.
            </span>
            {here('returnAfter')}
          </div>
        </div>
        <fieldset class="where">
          <legend>Only when the event’s value and properties match (every row)</legend>
          <div class="where-list">
            {rows.map((w, r) => (
              <WhereRow w={w} error={whereError && whereError.whereRow === r ? whereError : undefined} />
            ))}
          </div>
          {whereError && whereError.whereRow === undefined ? <FieldError error={whereError} /> : null}
          <input type="hidden" name="stage_where_rows" value={String(rows.length)} />
          <button class="btn" type="button" data-add-where="">
            Add a condition
          </button>
        </fieldset>
      </details>
    </div>
  );
};

export interface StagesFormProps {
  base: string;
  stages: StageDraft[];
  conversion: string;
  /** A refused save: the field its path names is marked. */
  error?: StagesError | undefined;
}

export const StagesForm = ({ base, stages, conversion, error }: StagesFormProps) => {
  const spot = error ? errorSpot(error.path, stages) : null;
  const rowError = (i: number) =>
    spot?.at === 'stage' && spot.row === i && error
      ? { ...error, field: spot.field, whereRow: spot.whereRow }
      : undefined;
  const names = stages.map((s) => s.name).filter(Boolean);
  return (
    <div class="card" id="stages">
      <h2>Stages</h2>
      <p class="muted">
        In order. A visitor enters a stage on a page view whose path matches one of its URL patterns (<code>*</code>{' '}
        within a segment, <code>**</code> across), on an event with one of its names, or on{' '}
        <code>cjm('stage', name)</code> — when its conditions hold. When several stages match, the furthest wins. The
        first touch puts everyone in the first stage. Changing the model refolds every journey from its events.
      </p>
      <form method="post" action={`${base}/stages`}>
        {spot?.at === 'form' && error ? (
          <div class="error" role="alert">
            {fieldMessage(error)}
          </div>
        ) : null}
        <div class="stage-edit head">
          <span class="hdr">name</span>
          <span class="hdr">URL patterns (one per line)</span>
          <span class="hdr">event names (one per line)</span>
          <span></span>
        </div>
        <div id="stage-list">
          {stages.map((s, i) => (
            <StageRow s={s} i={i} blank={false} error={rowError(i)} />
          ))}
          <StageRow s={BLANK_STAGE} i={null} blank={true} />
        </div>
        <template id="stage-template">
          <StageRow s={BLANK_STAGE} i={null} blank={true} />
        </template>
        <template id="where-template">
          <WhereRow w={BLANK_WHERE} />
        </template>
        <datalist id="stage-names">
          {names.map((n) => (
            <option value={n} />
          ))}
        </datalist>
        <div class="actions">
          <button class="btn" type="button" data-add-stage="">
            Add a stage
          </button>
          <label>
            Conversion stage{' '}
            <select name="conversion" {...invalidAttrs(spot?.at === 'conversion')}>
              {names.map((n) => (
                <option value={n} selected={n === conversion}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          {spot?.at === 'conversion' && error ? <FieldError error={error} /> : null}
          <span class="spacer"></span>
          <button class="btn primary" type="submit">
            Save stages
          </button>
        </div>
      </form>
    </div>
  );
};
