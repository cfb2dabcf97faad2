/**
 * Stage rules beyond a name (docs/stages.md, "Stage rules"): `nth`, `where`, `returnAfter`, `afterStage`, alone and
 * together; which stage wins when several rules match; the validation errors, each naming its field; the templates.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../collector/core/errors';
import { emptyJourney, foldEvents, type StoredEvent } from '../../collector/core/journey';
import {
  applyTemplate,
  checkStages,
  cleanStage,
  compileStages,
  defaultSiteConfig,
  parseDuration,
  STAGE_TEMPLATES,
  stageTemplate,
  templatePatch,
  type StageDef,
} from '../../collector/core/stages';
import { shuffled } from '../helpers';

const T = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const DAY = 86_400_000;

let n = 0;
const ev = (at: number, name: string, fields: Partial<StoredEvent> = {}): StoredEvent => ({
  id: `e${String(++n).padStart(4, '0')}`,
  visitor: 'v1',
  type: 'event',
  ts: T + at,
  name,
  ...fields,
});
const pg = (at: number, path: string, fields: Partial<StoredEvent> = {}): StoredEvent =>
  ev(at, '', { type: 'page', name: undefined, url: `https://shop.test${path}`, ...fields });

const fold = (stages: StageDef[], events: StoredEvent[], conversion = stages[0]!.name) => {
  expect(checkStages(stages, conversion)).toBeUndefined();
  const opts = { model: compileStages({ stages, conversion }), sessionTimeoutMs: 30 * MIN };
  const j = foldEvents(events, opts);
  // Exact and order-independent: any arrival order, and folding in two parts, give the same journey.
  for (let seed = 1; seed < 6; seed++) expect(foldEvents(shuffled(events, seed), opts)).toEqual(j);
  for (let k = 0; k <= events.length; k++) {
    const sorted = [...events].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
    expect(foldEvents(sorted.slice(k), opts, foldEvents(sorted.slice(0, k), opts))).toEqual(j);
  }
  return j;
};
const path = (j: ReturnType<typeof fold>) => j.entries.map((e) => e.stage);

describe('nth', () => {
  const stages: StageDef[] = [
    { name: 'visit' },
    { name: 'purchase', events: ['purchase'] },
    { name: 'repeat', events: ['purchase'], nth: 2 },
    { name: 'loyal', events: ['purchase'], nth: 3 },
  ];

  it('enters on the n-th occurrence and stays there for every later one', () => {
    const j = fold(stages, [
      pg(0, '/'),
      ev(1 * MIN, 'purchase'),
      ev(2 * MIN, 'purchase'),
      ev(3 * MIN, 'purchase'),
      ev(4 * MIN, 'purchase'),
      ev(5 * MIN, 'purchase'),
    ]);
    expect(path(j)).toEqual(['visit', 'purchase', 'repeat', 'loyal']);
    expect(j.current).toBe('loyal');
    expect(j.counts).toEqual({ repeat: 5, loyal: 5 });
  });

  it('a 3rd purchase in "repeat" (nth 2) does not send the customer back to "purchase"', () => {
    const j = fold(stages.slice(0, 3), [
      ev(0, 'purchase'),
      ev(MIN, 'purchase'),
      pg(2 * MIN, '/'),
      ev(3 * MIN, 'purchase'),
    ]);
    expect(path(j)).toEqual(['purchase', 'repeat']);
  });

  it('counts page views and events of one rule together, a page matching two patterns once', () => {
    const j = fold(
      [{ name: 'home' }, { name: 'twice', urls: ['/p/*', '/p/**'], events: ['view_item'], nth: 3 }],
      [pg(0, '/'), pg(MIN, '/p/a'), ev(2 * MIN, 'view_item'), pg(3 * MIN, '/'), pg(4 * MIN, '/p/b')],
    );
    expect(path(j)).toEqual(['home', 'twice']);
    expect(j.entries[1]!.at).toBe(T + 4 * MIN);
    expect(j.counts).toEqual({ twice: 3 });
  });

  it('counts only the occurrences that pass where and afterStage', () => {
    const j = fold(
      [
        { name: 'visit' },
        { name: 'member', events: ['signup'] },
        { name: 'second-big', events: ['purchase'], nth: 2, where: { value: { gte: 100 } }, afterStage: 'member' },
      ],
      [
        ev(0, 'purchase', { value: 500 }), // before member: not counted
        ev(MIN, 'signup'),
        ev(2 * MIN, 'purchase', { value: 50 }), // too small: not counted
        ev(3 * MIN, 'purchase', { value: 100 }), // 1st
        ev(4 * MIN, 'purchase', { value: 20 }),
        ev(5 * MIN, 'purchase', { value: 120 }), // 2nd: enters
      ],
      'member',
    );
    expect(path(j)).toEqual(['visit', 'member', 'second-big']);
    expect(j.entries[2]!.at).toBe(T + 5 * MIN);
    expect(j.counts).toEqual({ 'second-big': 2 });
  });

  it('keeps no counters for a model without nth ≥ 2', () => {
    expect(fold(defaultSiteConfig('s').stages, [pg(0, '/cart'), ev(MIN, 'purchase')], 'post-purchase').counts).toEqual(
      {},
    );
  });
});

describe('where', () => {
  const stages = (where: StageDef['where']): StageDef[] => [{ name: 'any' }, { name: 'hit', events: ['x'], where }];
  const hits = (where: StageDef['where'], fields: Partial<StoredEvent>) =>
    fold(stages(where), [pg(0, '/'), ev(MIN, 'x', fields)]).current === 'hit';

  it.each([
    ['value gte', { value: { gte: 100 } }, { value: 100 }, true],
    ['value gte (below)', { value: { gte: 100 } }, { value: 99.99 }, false],
    ['value lte', { value: { lte: 10 } }, { value: -3 }, true],
    ['value range', { value: { gte: 10, lte: 20 } }, { value: 21 }, false],
    ['value missing', { value: { gte: 0 } }, {}, false],
    ['value exists', { value: { exists: true } }, { value: 0 }, true],
    ['value absent', { value: { exists: false } }, {}, true],
    ['value null is absent', { value: { exists: false } }, { value: null }, true],
    ['props eq string', { 'props.plan': { eq: 'pro' } }, { props: { plan: 'pro' } }, true],
    ['props eq is case-sensitive', { 'props.plan': { eq: 'pro' } }, { props: { plan: 'Pro' } }, false],
    ['props eq number ← numeric string', { 'props.qty': { eq: 2 } }, { props: { qty: '2' } }, true],
    ['props eq string ← number', { 'props.qty': { eq: '2' } }, { props: { qty: 2 } }, true],
    ['props eq boolean ← "true"', { 'props.gift': { eq: true } }, { props: { gift: 'true' } }, true],
    ['props eq boolean', { 'props.gift': { eq: false } }, { props: { gift: true } }, false],
    ['props in', { 'props.plan': { in: ['pro', 'team'] } }, { props: { plan: 'team' } }, true],
    ['props in (none)', { 'props.plan': { in: ['pro', 'team'] } }, { props: { plan: 'free' } }, false],
    ['props gte ← numeric string', { 'props.price': { gte: 14 } }, { props: { price: '14.5' } }, true],
    ['props gte ← other string', { 'props.price': { gte: 14 } }, { props: { price: '14 €' } }, false],
    ['props exists', { 'props.coupon': { exists: true } }, { props: { coupon: 'X' } }, true],
    ['props exists (null)', { 'props.coupon': { exists: true } }, { props: { coupon: null } }, false],
    ['props absent', { 'props.test': { exists: false } }, { props: { other: 1 } }, true],
    ['props absent (no props)', { 'props.test': { exists: false } }, {}, true],
    ['prototype keys are no props', { 'props.constructor': { exists: true } }, { props: {} }, false],
    [
      'all conditions must hold',
      { value: { gte: 10 }, 'props.plan': { eq: 'pro' } },
      { value: 12, props: { plan: 'free' } },
      false,
    ],
  ] as const)('%s', (_name, where, fields, expected) => {
    expect(hits(where as StageDef['where'], fields as Partial<StoredEvent>)).toBe(expected);
  });
});

describe('returnAfter', () => {
  const stages: StageDef[] = [
    { name: 'visit' },
    { name: 'cart', urls: ['/cart'] },
    { name: 'back', returnAfter: '7d' },
  ];

  it('enters on the first touch of a session that starts at least that long after the previous activity', () => {
    const j = fold(stages, [
      pg(0, '/'),
      ev(MIN, 'vital', { type: 'vital', name: 'LCP', value: 1 }), // activity: the gap is measured from here
      pg(7 * DAY + MIN - 1, '/'), // a new session, 1 ms short of 7 days after the vital
      pg(14 * DAY + MIN - 1, '/cart'), // exactly 7 days after: a return, although the page matches cart
      pg(14 * DAY + 2 * MIN, '/'), // the same session: no second return
      pg(14 * DAY + 3 * MIN, '/cart'),
    ]);
    expect(path(j)).toEqual(['visit', 'back', 'cart']);
    expect(j.entries[1]!.at).toBe(T + 14 * DAY + MIN - 1);
  });

  it('never fires in the first session, nor after a short break', () => {
    const j = fold(stages, [pg(0, '/'), pg(40 * MIN, '/'), pg(3 * DAY, '/')]);
    expect(path(j)).toEqual(['visit']);
    expect(j.sessions).toHaveLength(3);
  });

  it('with events: any matching event of the returning session', () => {
    const j = fold(
      [
        { name: 'visit' },
        { name: 'buy', events: ['purchase'] },
        { name: 'comeback-buy', events: ['purchase'], returnAfter: '30d' },
      ],
      [
        pg(0, '/'),
        ev(MIN, 'purchase'),
        pg(30 * DAY + MIN, '/'),
        pg(30 * DAY + 2 * MIN, '/p'),
        ev(30 * DAY + 3 * MIN, 'purchase'),
      ],
    );
    expect(path(j)).toEqual(['visit', 'buy', 'comeback-buy']);
  });

  it('counts returns with nth, only after a stage with afterStage', () => {
    const j = fold(
      [
        { name: 'visit' },
        { name: 'buyer', events: ['purchase'] },
        { name: 'regular', returnAfter: '1d', afterStage: 'buyer', nth: 2 },
      ],
      [
        pg(0, '/'),
        pg(2 * DAY, '/'), // a return, but not a buyer yet
        ev(2 * DAY + MIN, 'purchase'),
        pg(4 * DAY, '/'), // 1st return as a buyer
        pg(4 * DAY + MIN, '/'),
        pg(6 * DAY, '/'), // 2nd: regular
      ],
    );
    expect(path(j)).toEqual(['visit', 'buyer', 'regular']);
    expect(j.entries[2]!.at).toBe(T + 6 * DAY);
    expect(j.counts).toEqual({ regular: 2 });
  });
});

describe('afterStage', () => {
  const stages: StageDef[] = [
    { name: 'visit' },
    { name: 'buyer', events: ['purchase'] },
    { name: 'advocate', events: ['review_submitted'], afterStage: 'buyer' },
  ];

  it('counts only once the stage was entered by an earlier event', () => {
    const j = fold(stages, [
      pg(0, '/'),
      ev(MIN, 'review_submitted'),
      ev(2 * MIN, 'purchase'),
      ev(3 * MIN, 'review_submitted'),
    ]);
    expect(path(j)).toEqual(['visit', 'buyer', 'advocate']);
    expect(j.entries[2]!.at).toBe(T + 3 * MIN);
  });

  it('a stage entered explicitly counts as reached', () => {
    const j = fold(stages, [pg(0, '/', { stage: 'buyer' }), ev(MIN, 'review_submitted')]);
    expect(path(j)).toEqual(['buyer', 'advocate']);
  });
});

describe('which stage wins', () => {
  it('the furthest stage in the model among the rules that match', () => {
    const stages: StageDef[] = [{ name: 'all', urls: ['/**'] }, { name: 'cart', urls: ['/cart*'] }, { name: 'other' }];
    expect(path(fold(stages, [pg(0, '/'), pg(MIN, '/cart')]))).toEqual(['all', 'cart']);
    const events: StageDef[] = [
      { name: 'a', events: ['x'] },
      { name: 'b', events: ['x'] },
    ];
    expect(path(fold(events, [ev(0, 'x')]))).toEqual(['b']);
  });

  it('an explicit stage wins over all rules, and the rules still count the event', () => {
    const stages: StageDef[] = [
      { name: 'visit' },
      { name: 'purchase', events: ['purchase'] },
      { name: 'repeat', events: ['purchase'], nth: 2 },
    ];
    const j = fold(stages, [ev(0, 'purchase', { stage: 'visit' }), ev(MIN, 'purchase')]);
    expect(path(j)).toEqual(['visit', 'repeat']);
  });

  it('a rule that does not fire leaves the first touch to the first stage', () => {
    const stages: StageDef[] = [
      { name: 'visit' },
      { name: 'big', events: ['purchase'], where: { value: { gte: 100 } } },
    ];
    expect(path(fold(stages, [ev(0, 'purchase', { value: 5 })]))).toEqual(['visit']);
  });
});

describe('checkStages names the exact field', () => {
  const base = (extra: Record<string, unknown>) => [{ name: 'a' }, { name: 'b', events: ['x'], ...extra }];
  it.each([
    [{ nth: 0 }, 'stages[1].nth'],
    [{ nth: 1.5 }, 'stages[1].nth'],
    [{ nth: '2' }, 'stages[1].nth'],
    [{ where: [] }, 'stages[1].where'],
    [{ where: {} }, 'stages[1].where'],
    [{ where: { price: { gte: 1 } } }, 'stages[1].where.price'],
    [{ where: { 'props.': { gte: 1 } } }, 'stages[1].where.props.'],
    [{ where: { value: 100 } }, 'stages[1].where.value'],
    [{ where: { value: {} } }, 'stages[1].where.value'],
    [{ where: { value: { gt: 1 } } }, 'stages[1].where.value.gt'],
    [{ where: { value: { gte: '100' } } }, 'stages[1].where.value.gte'],
    [{ where: { value: { lte: null } } }, 'stages[1].where.value.lte'],
    [{ where: { value: { gte: 5, lte: 1 } } }, 'stages[1].where.value.gte'],
    [{ where: { 'props.plan': { eq: { a: 1 } } } }, 'stages[1].where.props.plan.eq'],
    [{ where: { 'props.plan': { eq: 'x'.repeat(201) } } }, 'stages[1].where.props.plan.eq'],
    [{ where: { 'props.plan': { in: [] } } }, 'stages[1].where.props.plan.in'],
    [{ where: { 'props.plan': { in: ['a', null] } } }, 'stages[1].where.props.plan.in'],
    [{ where: { 'props.plan': { exists: 'yes' } } }, 'stages[1].where.props.plan.exists'],
    [{ where: { 'props.plan': { exists: false, eq: 'a' } } }, 'stages[1].where.props.plan.exists'],
    [{ returnAfter: 30 }, 'stages[1].returnAfter'],
    [{ returnAfter: '30' }, 'stages[1].returnAfter'],
    [{ returnAfter: '0d' }, 'stages[1].returnAfter'],
    [{ returnAfter: '1y' }, 'stages[1].returnAfter'],
    [{ returnAfter: '366d' }, 'stages[1].returnAfter'],
    [{ afterStage: 'nope' }, 'stages[1].afterStage'],
    [{ afterStage: 'b' }, 'stages[1].afterStage'],
    [{ afterStage: 3 }, 'stages[1].afterStage'],
    [{ reurnAfter: '30d' }, 'stages[1].reurnAfter'],
  ])('%j → %s', (extra, where) => {
    const bad = checkStages(base(extra), 'a');
    expect(bad?.path).toBe(where);
    expect(bad?.error).toContain(where.replace(/\.[^.]*$/, '').split('.where')[0]);
  });

  it('conditions need something to apply to', () => {
    for (const k of ['nth', 'where', 'afterStage'] as const) {
      const extra = { nth: 2, where: { value: { gte: 1 } }, afterStage: 'a' }[k];
      expect(checkStages([{ name: 'a' }, { name: 'b', [k]: extra }], 'a')?.path).toBe(`stages[1].${k}`);
      expect(checkStages([{ name: 'a' }, { name: 'b', events: [], [k]: extra }], 'a')?.path).toBe(`stages[1].${k}`);
    }
    expect(
      checkStages([{ name: 'a' }, { name: 'b', returnAfter: '2w', nth: 2, afterStage: 'a' }], 'a'),
    ).toBeUndefined();
  });

  it('accepts every rule kind together', () => {
    const stages = [
      { name: 'a' },
      {
        name: 'b',
        urls: ['/x'],
        events: ['x'],
        nth: 3,
        where: { value: { gte: 1, lte: 9 }, 'props.plan': { in: ['pro', 2, true] }, 'props.c': { exists: true } },
        returnAfter: '12h',
        afterStage: 'a',
      },
    ];
    expect(checkStages(stages, 'b')).toBeUndefined();
    expect(cleanStage({ ...stages[1]!, extra: 1 } as unknown as StageDef)).toEqual(stages[1]);
  });
});

describe('durations', () => {
  it.each([
    ['90m', 90 * MIN],
    ['12h', 12 * 60 * MIN],
    ['30d', 30 * DAY],
    ['2w', 14 * DAY],
    ['1m', MIN],
  ])('%s', (s, ms) => expect(parseDuration(s)).toBe(ms));
  it.each(['', '0m', '01d', '1.5d', '1 d', '1D', '-1d', 'd', '1000000d'])('%j is none', (s) =>
    expect(parseDuration(s)).toBeUndefined(),
  );
});

describe('templates', () => {
  it('are the default shop model and the four literature models, each valid', () => {
    expect(STAGE_TEMPLATES.map((t) => [t.id, t.stages.map((s) => s.name).join(' → ')])).toEqual([
      ['shop', 'landing → signup → cart → checkout → post-purchase'],
      ['repeat-purchase', 'need → search → comparison → purchase → result → repeat-purchase'],
      ['post-purchase', 'awareness → consideration → purchase → post-purchase → advocacy'],
      ['lifecycle', 'reach → acquisition → conversion → retention → loyalty'],
      ['engagement', 'awareness → capture → onboarding → engagement → advocacy'],
    ]);
    for (const t of STAGE_TEMPLATES) {
      expect(checkStages(t.stages, t.conversion), t.id).toBeUndefined();
      expect(t.stages.map(cleanStage), t.id).toEqual(t.stages);
    }
    expect(stageTemplate('shop')!.stages).toEqual(defaultSiteConfig('x').stages);
  });

  it('one of them uses every rule kind', () => {
    const kinds = (t: (typeof STAGE_TEMPLATES)[number]) =>
      new Set(
        t.stages.flatMap((s) =>
          (['nth', 'where', 'returnAfter', 'afterStage'] as const).filter((k) => s[k] !== undefined),
        ),
      );
    expect(STAGE_TEMPLATES.some((t) => kinds(t).size === 4)).toBe(true);
  });

  it('apply to a site config as a patch; an unknown id is a 400 naming "template"', () => {
    const site = defaultSiteConfig('shop', { name: 'My shop', revision: 4 });
    const applied = applyTemplate(site, 'lifecycle');
    expect(applied).toMatchObject({ id: 'shop', name: 'My shop', revision: 4, conversion: 'conversion' });
    expect(applied.stages.map((s) => s.name)).toEqual(['reach', 'acquisition', 'conversion', 'retention', 'loyalty']);
    applied.stages[4]!.nth = 99; // a copy: the template is not changed
    expect(stageTemplate('lifecycle')!.stages[4]!.nth).toBe(2);
    expect(() => templatePatch('nope')).toThrow(InputError);
    try {
      templatePatch(42);
    } catch (e) {
      expect(e).toMatchObject({ status: 400, path: 'template' });
      expect((e as Error).message).toContain('"post-purchase"');
    }
  });

  it('lifecycle: a return 14 days after converting is retention, a second order loyalty, test orders nothing', () => {
    const { stages, conversion } = templatePatch('lifecycle');
    const j = fold(
      stages,
      [
        pg(0, '/'),
        pg(MIN, '/signup'),
        ev(2 * MIN, 'purchase', { props: { test: true } }),
        ev(3 * MIN, 'purchase', { value: 30 }),
        pg(14 * DAY + 3 * MIN, '/'),
        ev(14 * DAY + 4 * MIN, 'purchase', { props: { test: 'true' } }),
        ev(14 * DAY + 5 * MIN, 'subscription_renewed'),
      ],
      conversion,
    );
    expect(path(j)).toEqual(['reach', 'acquisition', 'conversion', 'retention', 'loyalty']);
    expect(j.converted?.at).toBe(T + 3 * MIN);
  });

  it('journeys of every template fold from an empty journey', () => {
    for (const t of STAGE_TEMPLATES) {
      const opts = { model: compileStages(t), sessionTimeoutMs: 30 * MIN };
      expect(foldEvents([pg(0, '/')], opts, emptyJourney()).current).toBe(t.stages[0]!.name);
    }
  });
});
