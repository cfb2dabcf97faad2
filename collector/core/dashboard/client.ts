/**
 * The dashboard's only script, in the browser. Built by rollup (rollup.config.mjs: an IIFE, minified,
 * content-hashed into dist/assets/dashboard.<hash>.js) and loaded with `defer` by every page; never imported by the
 * server.
 *
 * Progressive enhancement only: the pages work without it. It auto-submits filter selects, asks for confirmation
 * before destructive forms, copies the tag snippet, adds and removes stage rows and their condition rows (hiding the
 * inputs a condition does not use), and shows only the chosen trigger's fields in the rule form. No inline handlers anywhere (the CSP forbids them): the listeners are attached here.
 */

/** The element the event started on, or the nearest ancestor matching `selector`. */
const closest = (e: Event, selector: string): Element | null =>
  e.target instanceof Element ? e.target.closest(selector) : null;

// Selects marked data-autosubmit submit their form on change (the site picker, the visitor filters).
document.addEventListener('change', (e) => {
  const t = e.target;
  if (!(t instanceof HTMLSelectElement || t instanceof HTMLInputElement) || !t.matches('[data-autosubmit]')) return;
  if (t.form?.requestSubmit) t.form.requestSubmit();
  else t.form?.submit();
});

// Forms marked data-confirm ask first (erase a visitor, revoke a key, delete a rule).
document.addEventListener('submit', (e) => {
  const message = e.target instanceof HTMLFormElement ? e.target.getAttribute('data-confirm') : null;
  if (message && !window.confirm(message)) e.preventDefault();
});

document.addEventListener('click', (e) => {
  // data-copy="id": copies that element's text (the tag snippet), and says so for a moment.
  const copy = closest(e, '[data-copy]');
  if (copy) {
    const source = document.getElementById(copy.getAttribute('data-copy') ?? '');
    if (source && navigator.clipboard) {
      void navigator.clipboard.writeText(source.textContent ?? '').then(() => {
        const was = copy.textContent;
        copy.textContent = 'Copied';
        setTimeout(() => {
          copy.textContent = was;
        }, 1500);
      });
    }
  }
  // The stage editor: "Add a stage" clones the blank row of #stage-template, × removes its row.
  if (closest(e, '[data-add-stage]')) {
    const template = document.getElementById('stage-template');
    const list = document.getElementById('stage-list');
    if (template instanceof HTMLTemplateElement && list) list.appendChild(template.content.cloneNode(true));
  }
  const remove = closest(e, '[data-remove-stage]');
  if (remove) remove.closest('.stage-edit')?.remove();
  // A stage's condition rows: "Add a condition" clones #where-template, × removes its row; the stage's
  // stage_where_rows says how many rows the server reads for it (dashboard/stage-draft.ts).
  const addWhere = closest(e, '[data-add-where]');
  const template = document.getElementById('where-template');
  const where = addWhere?.closest('fieldset.where');
  if (where && template instanceof HTMLTemplateElement) {
    const row = template.content.cloneNode(true);
    where.querySelector('.where-list')?.appendChild(row);
    countWhere(where, 1);
    showWhere(where);
  }
  const removeWhere = closest(e, '[data-remove-where]');
  const set = removeWhere?.closest('fieldset.where');
  if (removeWhere && set) {
    removeWhere.closest('.where-row')?.remove();
    countWhere(set, -1);
  }
});

/** Adds `by` to the count of condition rows of a stage. */
function countWhere(set: Element, by: number) {
  const count = set.querySelector('input[name=stage_where_rows]');
  if (count instanceof HTMLInputElement) count.value = String(Math.max(0, Number(count.value) + by));
}

/** In each condition row under `root`: the property name only for a property, the value only when compared. */
function showWhere(root: Element | Document) {
  for (const row of root.querySelectorAll('.where-row')) {
    const field = row.querySelector('select[name=where_field]');
    const op = row.querySelector('select[name=where_op]');
    const key = row.querySelector('input[name=where_key]');
    const value = row.querySelector('input[name=where_value]');
    // Out of sight, not disabled: every row must still send all four fields.
    if (field instanceof HTMLSelectElement && key instanceof HTMLInputElement)
      key.classList.toggle('unused', field.value === 'value');
    if (op instanceof HTMLSelectElement && value instanceof HTMLInputElement)
      value.classList.toggle('unused', op.value === 'exists' || op.value === 'absent');
  }
}
document.addEventListener('change', (e) => {
  const row = closest(e, '.where-row');
  if (row) showWhere(row.parentElement ?? document);
});
showWhere(document);

// The rule form shows only the fields of the chosen trigger.
const when = document.querySelector('[data-when-select]');
if (when instanceof HTMLSelectElement) {
  const showWhen = () => {
    for (const set of document.querySelectorAll('fieldset[data-when]'))
      if (set instanceof HTMLFieldSetElement) set.hidden = set.getAttribute('data-when') !== when.value;
  };
  when.addEventListener('change', showWhen);
  showWhen();
}

// With the script, the site picker submits on change: its Go button is only for browsers without it.
if (document.querySelector('.site-pick select')) {
  const go = document.querySelector('.site-pick button');
  if (go instanceof HTMLButtonElement) go.hidden = true;
}
