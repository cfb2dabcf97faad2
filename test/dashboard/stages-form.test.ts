/**
 * The settings page's stage editor and template picker through `app.request()`, the page parsed and its form
 * submitted as a browser would (happy-dom's FormData: every control in document order, the blank rows included):
 * every template, and a model with every rule kind and awkward operands, saved unchanged through the form is exactly
 * the model before (same revision: no refold); conditions edited in the form are stored typed; a refused save marks
 * the field its error names, with the message beside it; a template applied from the picker refolds the journeys.
 */
import { Window } from 'happy-dom';
import { beforeEach, describe, expect, it } from 'vitest';
import type { VisitorDetail } from '../../collector/core/reports';
import { STAGE_TEMPLATES, templatePatch, type SiteConfig, type StageDef } from '../../collector/core/stages';
import { batch, ev, makeApp, page as pageView, TOKEN, type TestApp } from '../helpers';

let t: TestApp;
let cookie: string;
const ORIGIN = 'http://localhost';

const post = (path: string, body: URLSearchParams | Record<string, string>) =>
  t.app.request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN, Cookie: cookie },
    body: body instanceof URLSearchParams ? body.toString() : new URLSearchParams(body).toString(),
  });

beforeEach(async () => {
  t = await makeApp();
  const res = await t.app.request('/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
    body: new URLSearchParams({ token: TOKEN, next: '/' }).toString(),
  });
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
});

/** A page's document (happy-dom), for reading and submitting its forms. */
const parse = (html: string): Document => {
  const w = new Window({ url: 'http://localhost/' });
  w.document.write(html);
  return w.document as unknown as Document;
};

const settingsPage = async (): Promise<Document> => {
  const res = await t.app.request('/sites/demo/settings', { headers: { Cookie: cookie } });
  expect(res.status).toBe(200);
  return parse(await res.text());
};

const stagesForm = (doc: Document): HTMLFormElement => {
  const form = doc.querySelector('form[action="/sites/demo/settings/stages"]');
  expect(form).not.toBeNull();
  return form as HTMLFormElement;
};

/**
 * What a browser posts for a form: every named control, in document order (template contents are not in the form).
 * Selects read their option marked `selected` (the first when none is), as a browser's unchanged select does:
 * happy-dom's own selectedness is off by one after parsing, so `set` below moves the attribute, never `.value`.
 */
const fieldsOf = (form: HTMLFormElement): URLSearchParams => {
  const out = new URLSearchParams();
  for (const el of form.querySelectorAll('input, select, textarea')) {
    const name = el.getAttribute('name');
    if (!name || el.hasAttribute('disabled')) continue;
    if (el.tagName === 'SELECT') {
      const options = [...el.querySelectorAll('option')];
      const chosen = options.find((o) => o.hasAttribute('selected')) ?? options[0];
      out.append(name, chosen?.getAttribute('value') ?? '');
    } else if (el.tagName === 'TEXTAREA') out.append(name, (el as HTMLTextAreaElement).value);
    else if (!['button', 'submit', 'checkbox', 'radio'].includes(el.getAttribute('type') ?? 'text'))
      out.append(name, (el as HTMLInputElement).value);
  }
  return out;
};

const site = async (): Promise<SiteConfig> => (await t.store.getSite('demo'))!;
const setModel = async (stages: StageDef[], conversion: string) => {
  const res = await t.api('/api/sites/demo', { method: 'PUT', body: JSON.stringify({ stages, conversion }) });
  expect(res.status).toBe(200);
};

/** Every rule kind, several conditions on one field, and operands that only keep their type quoted. */
const AWKWARD: StageDef[] = [
  { name: 'visit' },
  { name: 'browse', urls: ['/products/**', '**/search*'], events: ['view_item'], nth: 1 },
  {
    name: 'high value',
    events: ['purchase', 'order_completed'],
    where: {
      value: { gte: 100, lte: 1e21 },
      'props.plan': { in: ['pro', 'team, large', ' spaced ', '7', 7, true, 'true', '', '"quoted"'] },
      'props.coupon': { exists: true },
      'props.test': { exists: false },
      'props.a.b': { eq: '100' },
      'props.value': { eq: -2.5 },
      'props.flag': { eq: false },
      'props.note': { eq: '' },
      'props.raw': { eq: 'line\nbreak' },
    },
    afterStage: 'browse',
  },
  { name: 'retention', returnAfter: '2w', afterStage: 'high value' },
  { name: 'quick return', urls: ['**/account*'], returnAfter: '90m' },
  { name: 'loyal', events: ['purchase'], where: { 'props.test': { exists: false } }, nth: 3 },
];

describe('the stages form round-trips every model exactly', () => {
  const models: Array<[string, StageDef[], string]> = [
    ...STAGE_TEMPLATES.map((x): [string, StageDef[], string] => [x.id, x.stages, x.conversion]),
    ['every rule kind, awkward operands', AWKWARD, 'high value'],
  ];
  it.each(models)('%s: saved unchanged through the form, the same model and revision', async (_, stages, conv) => {
    await setModel(stages, conv);
    const before = await site();
    const res = await post('/sites/demo/settings/stages', fieldsOf(stagesForm(await settingsPage())));
    expect(res.status, await res.clone().text()).toBe(303);
    expect(res.headers.get('location')).toBe('/sites/demo/settings?done=stages');
    const after = await site();
    expect(after.stages).toEqual(stages);
    expect(after.conversion).toBe(conv);
    // Byte for byte (key order included): nothing changed, so nothing is refolded.
    expect(JSON.stringify(after)).toBe(JSON.stringify(before));
    expect(after.revision).toBe(before.revision);
  });

  it('shows each stage’s conditions in the form and in words', async () => {
    await setModel(AWKWARD, 'high value');
    const doc = await settingsPage();
    const row = doc.querySelector('#stage-row-2')!;
    expect(row.querySelector('details.conds')!.hasAttribute('open')).toBe(true);
    expect(doc.querySelector('#stage-row-0 details.conds')!.hasAttribute('open')).toBe(false);
    const summary = row.querySelector('summary')!.textContent!;
    expect(summary).toContain('after browse');
    expect(summary).toContain('value is at least 100');
    expect(summary).toContain('property test is absent');
    const values = [...row.querySelectorAll('input[name=where_value]')].map((x) => (x as HTMLInputElement).value);
    expect(values).toEqual([
      '100',
      '1e+21',
      'pro, "team, large", " spaced ", "7", 7, true, "true", "", "\\"quoted\\""',
      '',
      '',
      '"100"',
      '-2.5',
      'false',
      '""',
      '"line\\nbreak"',
      '', // the blank row
    ]);
    const ret = doc.querySelector('#stage-row-3')!;
    expect((ret.querySelector('input[name=stage_return_n]') as HTMLInputElement).value).toBe('2');
    expect(ret.querySelector('select[name=stage_return_unit] option[selected]')!.getAttribute('value')).toBe('w');
    expect((ret.querySelector('input[name=stage_after]') as HTMLInputElement).value).toBe('high value');
    expect((doc.querySelector('#stage-row-5 input[name=stage_nth]') as HTMLInputElement).value).toBe('3');
    // The afterStage suggestions are the model's stages.
    const names = [...doc.querySelectorAll('datalist#stage-names option')].map((o) => o.getAttribute('value'));
    expect(names).toEqual(AWKWARD.map((s) => s.name));
  });
});

/** The page's stages form with `edit` applied to the controls of stage row `i`. */
const editRow = async (i: number, edit: (row: Element) => void): Promise<URLSearchParams> => {
  const doc = await settingsPage();
  edit(doc.querySelector(`#stage-row-${i}`)!);
  return fieldsOf(stagesForm(doc));
};
const set = (row: Element, selector: string, value: string, nth = 0) => {
  const el = row.querySelectorAll(selector)[nth];
  if (!el) throw new Error(`no ${selector} #${nth}`);
  if (el.tagName === 'SELECT') {
    const options = [...el.querySelectorAll('option')];
    if (!options.some((o) => o.getAttribute('value') === value)) throw new Error(`no option ${value} in ${selector}`);
    for (const o of options) {
      if (o.getAttribute('value') === value) o.setAttribute('selected', '');
      else o.removeAttribute('selected');
    }
  } else (el as HTMLInputElement).value = value;
};

describe('editing conditions in the form', () => {
  it('stores nth, where rows, returnAfter and afterStage, typed, and refolds', async () => {
    const before = await site();
    // The default model: 0 landing, 1 signup, 2 cart, 3 checkout, 4 post-purchase.
    const fields = await editRow(4, (row) => {
      set(row, 'input[name=stage_nth]', '2');
      set(row, 'input[name=stage_after]', 'checkout');
      set(row, 'select[name=where_field]', 'value');
      set(row, 'select[name=where_op]', 'gte');
      set(row, 'input[name=where_value]', '100');
    });
    let res = await post('/sites/demo/settings/stages', fields);
    expect(res.status).toBe(303);
    let s = await site();
    expect(s.stages[4]).toEqual({
      ...before.stages[4],
      nth: 2,
      where: { value: { gte: 100 } },
      afterStage: 'checkout',
    });
    expect(s.revision).toBe(before.revision! + 1);

    // The saved row now shows its condition and a blank one: fill the blank with a property, add a return.
    const more = await editRow(4, (row) => {
      set(row, 'select[name=where_field]', 'prop', 1);
      set(row, 'input[name=where_key]', 'plan', 1);
      set(row, 'select[name=where_op]', 'in', 1);
      set(row, 'input[name=where_value]', 'pro, team, 3', 1);
      set(row, 'input[name=stage_return_n]', '30');
      set(row, 'select[name=stage_return_unit]', 'd');
    });
    res = await post('/sites/demo/settings/stages', more);
    expect(res.status).toBe(303);
    s = await site();
    expect(s.stages[4]).toMatchObject({
      nth: 2,
      where: { value: { gte: 100 }, 'props.plan': { in: ['pro', 'team', 3] } },
      returnAfter: '30d',
      afterStage: 'checkout',
    });

    // Choosing "no condition" on a row removes it; clearing the fields removes the rest.
    const fewer = await editRow(4, (row) => {
      set(row, 'select[name=where_op]', '', 0);
      set(row, 'input[name=where_value]', '', 0);
      set(row, 'input[name=stage_nth]', '');
      set(row, 'input[name=stage_return_n]', '');
      set(row, 'input[name=stage_after]', '');
    });
    expect((await post('/sites/demo/settings/stages', fewer)).status).toBe(303);
    expect((await site()).stages[4]).toEqual({
      ...before.stages[4],
      where: { 'props.plan': { in: ['pro', 'team', 3] } },
    });
  });

  it('a new stage from the blank row, with a return rule of its own', async () => {
    const doc = await settingsPage();
    const blank = doc.querySelectorAll('#stage-list > .stage-edit')[5]!;
    expect(blank.id).toBe(''); // the blank row
    set(blank, 'input[name=stage_name]', 'retention');
    set(blank, 'input[name=stage_return_n]', '14');
    set(blank, 'input[name=stage_after]', 'post-purchase');
    expect((await post('/sites/demo/settings/stages', fieldsOf(stagesForm(doc)))).status).toBe(303);
    expect((await site()).stages[5]).toEqual({ name: 'retention', returnAfter: '14d', afterStage: 'post-purchase' });
  });
});

describe('a refused save marks the field its error names', () => {
  const cases: Array<{
    what: string;
    row: number;
    edit: (row: Element) => void;
    path: string;
    /** The control marked invalid, inside the row (or the page for the conversion). */
    marked: string;
    message: string;
  }> = [
    {
      what: 'nth out of range',
      row: 2,
      edit: (r) => set(r, 'input[name=stage_nth]', '0'),
      path: 'stages[2].nth',
      marked: 'input[name=stage_nth]',
      message: 'must be an integer from 1 to 1000',
    },
    {
      what: 'a value that is not a number for "is at least"',
      row: 4,
      edit: (r) => {
        set(r, 'select[name=where_op]', 'gte');
        set(r, 'input[name=where_value]', 'lots');
      },
      path: 'stages[4].where.value.gte',
      marked: '.where-row:nth-child(1) input[name=where_value]',
      message: 'must be a number',
    },
    {
      what: 'the second condition row of a stage',
      row: 4,
      edit: (r) => {
        set(r, 'select[name=where_op]', 'gte');
        set(r, 'input[name=where_value]', '10');
        r.querySelector('.where-list')!.appendChild(r.querySelector('.where-row')!.cloneNode(true));
        set(r, 'input[name=stage_where_rows]', '2');
        set(r, 'select[name=where_op]', 'lte', 1);
        set(r, 'input[name=where_value]', '5', 1);
      },
      path: 'stages[4].where.value.gte',
      marked: '.where-row:nth-child(1) input[name=where_value]',
      message: 'must not be greater than',
    },
    {
      what: 'a property without a name',
      row: 1,
      edit: (r) => {
        set(r, 'select[name=where_field]', 'prop');
        set(r, 'select[name=where_op]', 'exists');
      },
      path: 'stages[1].where.props.',
      marked: '.where-row:nth-child(1) input[name=where_value]',
      message: 'keys must be "value" or "props.<key>"',
    },
    {
      what: 'a condition without an operator',
      row: 1,
      edit: (r) => set(r, 'input[name=where_value]', '100'),
      path: 'stages[1].where.value',
      marked: '.where-row:nth-child(1) input[name=where_value]',
      message: 'needs a condition',
    },
    {
      what: '"equals" without a value',
      row: 1,
      edit: (r) => set(r, 'select[name=where_op]', 'eq'),
      path: 'stages[1].where.value.eq',
      marked: '.where-row:nth-child(1) input[name=where_value]',
      message: 'needs a value',
    },
    {
      what: 'an unclosed quote in a list',
      row: 1,
      edit: (r) => {
        set(r, 'select[name=where_op]', 'in');
        set(r, 'input[name=where_value]', 'a, "b');
      },
      path: 'stages[1].where.value.in',
      marked: '.where-row:nth-child(1) input[name=where_value]',
      message: 'unclosed quote',
    },
    {
      what: 'an unknown stage to come after',
      row: 3,
      edit: (r) => set(r, 'input[name=stage_after]', 'nowhere'),
      path: 'stages[3].afterStage',
      marked: 'input[name=stage_after]',
      message: 'must name another stage of the model',
    },
    {
      what: 'a return after zero days',
      row: 3,
      edit: (r) => set(r, 'input[name=stage_return_n]', '0'),
      path: 'stages[3].returnAfter',
      marked: 'input[name=stage_return_n]',
      message: 'must be a duration such as',
    },
    {
      what: 'a condition on a stage that matches nothing',
      row: 0,
      edit: (r) => set(r, 'input[name=stage_nth]', '2'),
      path: 'stages[0].nth',
      marked: 'input[name=stage_nth]',
      message: 'needs urls, events or returnAfter on the same stage',
    },
    {
      what: 'a name used twice',
      row: 1,
      edit: (r) => set(r, 'input[name=stage_name]', 'cart'),
      path: 'stages[2].name',
      marked: 'input[name=stage_name]',
      message: '"cart" is used twice',
    },
  ];

  it.each(cases)('$what → $path', async ({ row, edit, path, marked, message }) => {
    const before = await site();
    const res = await post('/sites/demo/settings/stages', await editRow(row, edit));
    expect(res.status).toBe(400);
    const doc = parse(await res.text());
    // The page's alert says it all; the field the path names carries the message beside it.
    const [stage, at] = /^stages\[(\d+)\]/.exec(path)!;
    expect(doc.querySelector('.error[role=alert]')!.textContent).toContain(stage);
    expect(doc.querySelector('.error[role=alert]')!.textContent).toContain(message);
    const spot = doc.querySelector(`#stage-row-${at}`)!;
    const invalid = [...doc.querySelectorAll('[aria-invalid=true]')];
    expect(invalid.length).toBeGreaterThan(0);
    expect(
      invalid.every((x) => spot.contains(x)),
      'only the refused row is marked',
    ).toBe(true);
    const control = spot.querySelector(marked)!;
    expect(control.getAttribute('aria-invalid')).toBe('true');
    const note = doc.getElementById(control.getAttribute('aria-describedby')!)!;
    expect(note.textContent).toContain(message);
    expect(note.textContent).not.toContain(path); // beside the field, the field is not named again
    expect(doc.querySelectorAll('.field-error')).toHaveLength(1);
    // Nothing saved, and the form shows what was typed.
    expect(await site()).toEqual(before);
    const refused = fieldsOf(stagesForm(doc));
    const typed = await editRow(row, edit);
    expect(refused.getAll('stage_name')).toEqual(typed.getAll('stage_name'));
    expect(refused.getAll('where_value').filter(Boolean)).toEqual(typed.getAll('where_value').filter(Boolean));
  });

  it('the conversion', async () => {
    // The conversion stage renamed: the conversion select still names the old name, no stage now.
    const res = await post(
      '/sites/demo/settings/stages',
      await editRow(4, (r) => set(r, 'input[name=stage_name]', 'done')),
    );
    expect(res.status).toBe(400);
    const doc = parse(await res.text());
    const select = doc.querySelector('select[name=conversion]')!;
    expect(select.getAttribute('aria-invalid')).toBe('true');
    expect(doc.getElementById(select.getAttribute('aria-describedby')!)!.textContent).toBe(
      'must name one of the stages',
    );
    expect(doc.querySelectorAll('[aria-invalid=true]')).toHaveLength(1);
  });

  it('a malformed form (not the page’s): a JSON 400 naming the field, nothing saved', async () => {
    const before = await site();
    const base = fieldsOf(stagesForm(await settingsPage()));
    const without = (name: string) => {
      const f = new URLSearchParams(base);
      f.delete(name);
      return f;
    };
    for (const name of ['stage_nth', 'stage_after', 'stage_return_n', 'stage_return_unit', 'stage_where_rows']) {
      const res = await post('/sites/demo/settings/stages', without(name));
      expect(res.status, name).toBe(400);
      expect(await res.json()).toEqual({ error: `[cjm] the form has no field "${name}"`, path: name });
    }
    const short = new URLSearchParams(base);
    short.append('stage_nth', '');
    expect(((await (await post('/sites/demo/settings/stages', short)).json()) as { path: string }).path).toBe(
      'stage_name',
    );
    /** The form with the first stage_where_rows replaced. */
    const firstCount = (v: string) => {
      const f = new URLSearchParams();
      let done = false;
      for (const [k, x] of base) f.append(k, k === 'stage_where_rows' && !done ? ((done = true), v) : x);
      return f;
    };
    const rows = firstCount('9'); // more condition rows than sent
    expect(((await (await post('/sites/demo/settings/stages', rows)).json()) as { path: string }).path).toBe(
      'where_field',
    );
    const count = firstCount('x');
    expect(((await (await post('/sites/demo/settings/stages', count)).json()) as { path: string }).path).toBe(
      'stage_where_rows',
    );
    expect(await site()).toEqual(before);
  });
});

describe('the template picker', () => {
  it('shows every template with its stages and rules, the one in use marked', async () => {
    const doc = await settingsPage();
    const picker = doc.querySelector('[data-testid=templates]')!;
    for (const x of STAGE_TEMPLATES) {
      const el = picker.querySelector(`[data-template="${x.id}"]`)!;
      expect(el.querySelector('summary')!.textContent).toContain(x.title);
      const items = [...el.querySelectorAll('.template-stages li')];
      expect(items.map((li) => li.querySelector('strong')!.textContent)).toEqual(x.stages.map((s) => s.name));
      const form = el.querySelector('form')!;
      expect(form.getAttribute('action')).toBe('/sites/demo/settings/template');
      expect(form.getAttribute('data-confirm')).toContain('Every journey of the site will be refolded');
      expect(form.textContent).toContain('the journeys will be refolded');
      expect((form.querySelector('input[name=template]') as HTMLInputElement).value).toBe(x.id);
      const inUse = x.id === 'shop'; // the demo site has the default model
      expect(el.querySelector('summary .badge.good')?.textContent === 'in use', x.id).toBe(inUse);
      expect(form.querySelector('button')!.hasAttribute('disabled'), x.id).toBe(inUse);
    }
    const lifecycle = picker.querySelector('[data-template=lifecycle]')!.textContent!;
    expect(lifecycle).toContain('on a return after 14 days');
    expect(lifecycle).toContain('after conversion');
    expect(lifecycle).toContain('from match 2 on');
    expect(lifecycle).toContain('property test is absent');
  });

  it('applies a template: the new stages in the form, the journeys refolded', async () => {
    await t.collect(
      batch('buyer', [
        pageView('/'),
        pageView('/products/mug'),
        ev('event', { name: 'purchase', value: 23 }),
        ev('event', { name: 'review_submitted' }),
      ]),
    );
    const before = await site();
    const res = await post('/sites/demo/settings/template', { template: 'post-purchase' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sites/demo/settings?done=template');
    const after = await site();
    expect(after).toEqual({ ...before, ...templatePatch('post-purchase'), revision: before.revision! + 1 });
    const v = (await (await t.api('/api/sites/demo/visitors/buyer')).json()) as VisitorDetail;
    expect(v.journey.entries.map((e) => e.stage)).toEqual(['awareness', 'consideration', 'purchase', 'advocacy']);

    const shown = await t.app.request(res.headers.get('location')!, { headers: { Cookie: cookie } });
    const doc = parse(await shown.text());
    expect(doc.querySelector('.flash')!.textContent).toContain('Journeys are being refolded');
    const names = [...doc.querySelectorAll('#stage-list input[name=stage_name]')].map(
      (x) => (x as HTMLInputElement).value,
    );
    expect(names).toEqual(['awareness', 'consideration', 'purchase', 'post-purchase', 'advocacy', '']);
    expect(doc.querySelector('[data-template=post-purchase] summary .badge.good')!.textContent).toBe('in use');
  });

  it('refuses an unknown template on the page, a post without the field, a cross-site or signed-out post, changing nothing', async () => {
    const before = await site();
    const res = await post('/sites/demo/settings/template', { template: 'nope' });
    expect(res.status).toBe(400);
    expect(parse(await res.text()).querySelector('.error[role=alert]')!.textContent).toContain(
      'template must be one of "shop"',
    );
    const missing = await post('/sites/demo/settings/template', {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: '[cjm] the form has no field "template"', path: 'template' });
    const form = { method: 'POST', body: 'template=lifecycle' };
    const type = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const crossSite = await t.app.request('/sites/demo/settings/template', {
      ...form,
      headers: { ...type, Origin: 'https://evil.example', Cookie: cookie },
    });
    expect(crossSite.status).toBe(403);
    const signedOut = await t.app.request('/sites/demo/settings/template', {
      ...form,
      headers: { ...type, Origin: ORIGIN },
    });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toMatch(/^\/login\?next=/);
    expect(await site()).toEqual(before);
  });
});
