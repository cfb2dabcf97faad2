/**
 * The stage templates through the admin API: `GET /api/templates` lists them with their stages, rules and conversion;
 * `PUT /api/sites/:site/template` gives a site one (a model change: revision bumped, journeys refolded); bad bodies
 * are a 400 naming the field and change nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SiteAnswer, VisitorDetail } from '../../collector/core/reports';
import type { WireEvent } from '../../collector/core/protocol';
import { STAGE_TEMPLATES, type StageTemplate } from '../../collector/core/stages';
import { batch, makeApp, T0, type TestApp } from '../helpers';

let t: TestApp;
beforeEach(async () => {
  t = await makeApp();
});

const MIN = 60_000;
let n = 0;
const at = (minute: number, type: WireEvent['type'], fields: Partial<WireEvent> = {}): WireEvent => ({
  id: `t${++n}`,
  type,
  ts: T0 + minute * MIN,
  ...fields,
});
const pg = (minute: number, path: string) => at(minute, 'page', { url: `https://shop.test${path}` });

const put = (path: string, body: unknown) =>
  t.api(path, { method: 'PUT', body: typeof body === 'string' ? body : JSON.stringify(body) });
const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await res).json() as Promise<T>;

describe('GET /api/templates', () => {
  it('lists every template with its stages, rules and conversion, behind the admin token', async () => {
    expect((await t.app.request('/api/templates')).status).toBe(401);
    const res = await t.api('/api/templates');
    expect(res.status).toBe(200);
    const { templates } = await json<{ templates: StageTemplate[] }>(res);
    expect(templates).toEqual(STAGE_TEMPLATES);
    expect(templates.map((x) => x.id)).toEqual(['shop', 'repeat-purchase', 'post-purchase', 'lifecycle', 'engagement']);
    const lifecycle = templates.find((x) => x.id === 'lifecycle')!;
    expect(lifecycle.conversion).toBe('conversion');
    expect(lifecycle.stages.find((s) => s.name === 'retention')).toEqual({
      name: 'retention',
      returnAfter: '14d',
      afterStage: 'conversion',
    });
    expect(lifecycle.stages.find((s) => s.name === 'loyalty')).toMatchObject({
      nth: 2,
      where: { 'props.test': { exists: false } },
    });
  });
});

describe('PUT /api/sites/:site/template', () => {
  it('gives the site the template’s stages and conversion, keeps the other fields, and refolds its journeys', async () => {
    await put('/api/sites/demo', { name: 'Coffee', origins: ['https://shop.test'], sessionTimeoutMinutes: 45 });
    const sent = await t.collect(
      batch(
        'buyer',
        [
          pg(0, '/'),
          pg(1, '/products/mug'),
          at(2, 'event', { name: 'add_to_cart' }),
          at(3, 'event', { name: 'purchase', value: 23 }),
          pg(4, '/thank-you'),
          at(60, 'event', { name: 'review_submitted' }),
        ],
        'demo',
      ),
      { headers: { 'Content-Type': 'text/plain', Origin: 'https://shop.test' } },
    );
    expect(sent.status).toBe(202);
    const before = (await t.store.getSite('demo'))!;
    let v = await json<VisitorDetail>(t.api('/api/sites/demo/visitors/buyer'));
    expect(v.journey.entries.map((e) => e.stage)).toEqual(['landing', 'cart', 'post-purchase']);

    const res = await put('/api/sites/demo/template', { template: 'post-purchase' });
    expect(res.status).toBe(200);
    const answer = await json<SiteAnswer>(res);
    const template = STAGE_TEMPLATES.find((x) => x.id === 'post-purchase')!;
    expect(answer.site).toEqual({
      ...before,
      stages: template.stages,
      conversion: 'purchase',
      revision: before.revision! + 1,
    });
    expect(answer.refold.pending).toBe(0); // one journey: refolded before the answer
    expect((await t.store.getSite('demo'))!).toEqual(answer.site);
    v = await json<VisitorDetail>(t.api('/api/sites/demo/visitors/buyer'));
    expect(v.journey.entries.map((e) => e.stage)).toEqual(['awareness', 'consideration', 'purchase', 'advocacy']);
    expect(v.journey.converted).toMatchObject({ at: T0 + 3 * MIN });

    // The same template again changes nothing: no new revision, no refold.
    const again = await json<SiteAnswer>(put('/api/sites/demo/template', { template: 'post-purchase' }));
    expect(again.site.revision).toBe(answer.site.revision);
    // Another template: the next revision, and GET shows it.
    const lifecycle = await json<SiteAnswer>(put('/api/sites/demo/template', { template: 'lifecycle' }));
    expect(lifecycle.site.revision).toBe(answer.site.revision! + 1);
    const got = await json<SiteAnswer>(t.api('/api/sites/demo'));
    expect(got.site.stages.map((s) => s.name)).toEqual(['reach', 'acquisition', 'conversion', 'retention', 'loyalty']);
    expect(got.refold.pending).toBe(0);
  });

  it('refuses an unknown or missing template and other fields with a 400 naming the field, changing nothing', async () => {
    const before = await t.store.getSite('demo');
    const ids = STAGE_TEMPLATES.map((x) => `"${x.id}"`).join(', ');
    const cases: Array<[unknown, number, string | undefined, string]> = [
      [{ template: 'nope' }, 400, 'template', `[cjm] template must be one of ${ids}`],
      [{ template: 42 }, 400, 'template', `[cjm] template must be one of ${ids}`],
      [{}, 400, 'template', `[cjm] template must be one of ${ids}`],
      [{ template: 'shop', stages: [] }, 400, 'stages', 'unknown field "stages"'],
      [['post-purchase'], 400, undefined, 'the body must be a JSON object'],
      ['"post-purchase"', 400, undefined, 'the body must be a JSON object'],
      ['template=shop', 400, undefined, 'the body must be JSON ({ "template": "<id>" })'],
      [JSON.stringify({ template: 'shop', pad: 'x'.repeat(5000) }), 413, undefined, 'larger than 4096 bytes'],
    ];
    for (const [body, status, path, message] of cases) {
      const res = await put('/api/sites/demo/template', body);
      const label = JSON.stringify(body).slice(0, 60);
      expect(res.status, label).toBe(status);
      const err = await json<{ error: string; path?: string }>(res);
      expect(err.path, label).toBe(path);
      expect(err.error, label).toContain(message);
    }
    expect(await t.store.getSite('demo')).toEqual(before);
  });

  it('needs the admin token and a known site', async () => {
    const body = JSON.stringify({ template: 'shop' });
    expect((await t.app.request('/api/sites/demo/template', { method: 'PUT', body })).status).toBe(401);
    const unknown = await put('/api/sites/nope/template', { template: 'shop' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: '[cjm] unknown site "nope"', path: 'site' });
  });
});
