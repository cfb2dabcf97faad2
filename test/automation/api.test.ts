/**
 * The automation admin API through app.request(): rules CRUD with validation naming the field, the refusal of
 * private targets without the development allowance, settings, the signing secret, the delivery log.
 */
import { describe, expect, it } from 'vitest';
import { batch, makeApp, page } from '../helpers';

const CART_RULE = {
  name: 'Cart reminder',
  trigger: {
    type: 'stalled',
    stages: ['cart', 'checkout'],
    notReached: ['post-purchase'],
    after: '30m',
    emit: 'cart_abandoned',
  },
  action: { type: 'webhook', url: 'https://hooks.example.com/cjm' },
};

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});
const put = (body: unknown): RequestInit => ({ ...json(body), method: 'PUT' });

describe('rules API', () => {
  it('creates, lists, reads, updates and deletes rules', async () => {
    const t = await makeApp();
    const created = await t.api('/api/sites/demo/rules', json(CART_RULE));
    expect(created.status).toBe(201);
    const { rule } = (await created.json()) as { rule: { id: string; enabled: boolean; createdAt: number } };
    expect(rule).toMatchObject({
      ...CART_RULE,
      site: 'demo',
      enabled: true,
      createdAt: t.clock.now,
      updatedAt: t.clock.now,
    });
    expect(rule.id).toMatch(/^r_[0-9a-f]{16}$/);

    const welcome = {
      name: 'Welcome',
      trigger: { type: 'stage_entered', stage: 'signup' },
      action: { type: 'webhook', url: 'https://hooks.example.com/w' },
    };
    await t.api('/api/sites/demo/rules', json(welcome));
    const list = (await (await t.api('/api/sites/demo/rules')).json()) as { rules: Array<{ name: string }> };
    expect(list.rules.map((r) => r.name)).toEqual(['Cart reminder', 'Welcome']);

    expect(await (await t.api(`/api/sites/demo/rules/${rule.id}`)).json()).toEqual({ rule });

    t.clock.now += 1000;
    const updated = await t.api(
      `/api/sites/demo/rules/${rule.id}`,
      put({ ...CART_RULE, name: 'Cart nudge', enabled: false }),
    );
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({
      rule: { id: rule.id, name: 'Cart nudge', enabled: false, createdAt: rule.createdAt, updatedAt: t.clock.now },
    });

    expect((await t.api(`/api/sites/demo/rules/${rule.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await t.api(`/api/sites/demo/rules/${rule.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await t.api(`/api/sites/demo/rules/${rule.id}`)).status).toBe(404);
    expect(((await (await t.api('/api/sites/demo/rules')).json()) as { rules: unknown[] }).rules).toHaveLength(1);
  });

  it.each([
    [{ ...CART_RULE, name: '' }, 'name'],
    [{ ...CART_RULE, name: '<script>' }, 'name'],
    [{ ...CART_RULE, enabled: 'yes' }, 'enabled'],
    [{ ...CART_RULE, trigger: undefined }, 'trigger'],
    [{ ...CART_RULE, trigger: { type: 'sometimes' } }, 'trigger.type'],
    [{ ...CART_RULE, trigger: { type: 'stage_entered', stage: 'nirvana' } }, 'trigger.stage'],
    [{ ...CART_RULE, trigger: { type: 'event', event: '' } }, 'trigger.event'],
    [{ ...CART_RULE, trigger: { ...CART_RULE.trigger, stages: [] } }, 'trigger.stages'],
    [{ ...CART_RULE, trigger: { ...CART_RULE.trigger, stages: ['cart', 'nope'] } }, 'trigger.stages[1]'],
    [{ ...CART_RULE, trigger: { ...CART_RULE.trigger, notReached: ['cart'] } }, 'trigger.notReached'],
    [{ ...CART_RULE, trigger: { ...CART_RULE.trigger, after: '30 minutes' } }, 'trigger.after'],
    [{ ...CART_RULE, trigger: { ...CART_RULE.trigger, after: '0s' } }, 'trigger.after'],
    [{ ...CART_RULE, trigger: { ...CART_RULE.trigger, after: '401d' } }, 'trigger.after'],
    [{ ...CART_RULE, trigger: { ...CART_RULE.trigger, idle: 'true' } }, 'trigger.idle'],
    [{ ...CART_RULE, trigger: { ...CART_RULE.trigger, emit: undefined } }, 'trigger.emit'],
    [{ ...CART_RULE, action: { type: 'email', to: 'a@b' } }, 'action.type'],
    [{ ...CART_RULE, action: { type: 'webhook' } }, 'action.url'],
    [{ ...CART_RULE, action: { type: 'webhook', url: 'ftp://hooks.example.com/' } }, 'action.url'],
    [{ ...CART_RULE, action: { type: 'webhook', url: 'https://u:p@hooks.example.com/' } }, 'action.url'],
  ])('refuses %j with a 400 naming %s', async (body, path) => {
    const t = await makeApp();
    const res = await t.api('/api/sites/demo/rules', json(body));
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: string; path: string };
    expect(err.path).toBe(path);
    expect(err.error).toMatch(/^\[cjm\] /);
    expect(((await (await t.api('/api/sites/demo/rules')).json()) as { rules: unknown[] }).rules).toEqual([]);
  });

  it('caps a site at 100 rules: the 101st is a 409 and is not stored', async () => {
    const t = await makeApp();
    for (let i = 0; i < 100; i++) {
      const res = await t.api('/api/sites/demo/rules', json({ ...CART_RULE, name: `Cart ${i}` }));
      expect(res.status, `rule ${i}`).toBe(201);
    }
    const refused = await t.api('/api/sites/demo/rules', json({ ...CART_RULE, name: 'Cart 100' }));
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({
      error: '[cjm] site "demo" has 100 rules, the most allowed; delete one first',
    });
    const { rules } = (await (await t.api('/api/sites/demo/rules')).json()) as { rules: Array<{ id: string }> };
    expect(rules).toHaveLength(100);
    // Replacing one is not adding one.
    expect((await t.api(`/api/sites/demo/rules/${rules[0]!.id}`, put({ ...CART_RULE, name: 'Cart 0b' }))).status).toBe(
      200,
    );
    expect((await t.api(`/api/sites/demo/rules/${rules[0]!.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await t.api('/api/sites/demo/rules', json({ ...CART_RULE, name: 'Cart 100' }))).status).toBe(201);
  });

  it('refuses a webhook to 127.0.0.1 without the development allowance, and accepts it with', async () => {
    const t = await makeApp();
    const local = { ...CART_RULE, action: { type: 'webhook', url: 'http://127.0.0.1:4000/hook' } };
    const res = await t.api('/api/sites/demo/rules', json(local));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      path: 'action.url',
      error:
        '[cjm] webhook target 127.0.0.1 is not a public address (loopback); only public addresses are allowed ' +
        '(for development, allow private targets with PUT /api/sites/:site/automation {"allowPrivateWebhooks": true})',
    });
    for (const url of [
      'http://localhost:4000/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://10.1.2.3/',
      'http://169.254.169.254/',
    ]) {
      const r = await t.api('/api/sites/demo/rules', json({ ...CART_RULE, action: { type: 'webhook', url } }));
      expect(r.status, url).toBe(400);
    }

    expect(await (await t.api('/api/sites/demo/automation')).json()).toEqual({ allowPrivateWebhooks: false });
    const bad = await t.api('/api/sites/demo/automation', put({ allowPrivateWebhooks: 'yes' }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ path: 'allowPrivateWebhooks' });
    expect(await (await t.api('/api/sites/demo/automation', put({ allowPrivateWebhooks: true }))).json()).toEqual({
      allowPrivateWebhooks: true,
    });
    expect((await t.api('/api/sites/demo/rules', json(local))).status).toBe(201);
  });

  it('shows the signing secret (generated once) and rotates it', async () => {
    const t = await makeApp();
    const a = ((await (await t.api('/api/sites/demo/webhook-secret')).json()) as { secret: string }).secret;
    expect(a).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(((await (await t.api('/api/sites/demo/webhook-secret')).json()) as { secret: string }).secret).toBe(a);
    const b = ((await (await t.api('/api/sites/demo/webhook-secret', { method: 'POST' })).json()) as { secret: string })
      .secret;
    expect(b).toMatch(/^whsec_/);
    expect(b).not.toBe(a);
    expect(((await (await t.api('/api/sites/demo/webhook-secret')).json()) as { secret: string }).secret).toBe(b);
  });

  it('lists deliveries per rule and per site, with filters checked', async () => {
    const t = await makeApp();
    const created = await t.api(
      '/api/sites/demo/rules',
      json({
        name: 'Cart',
        trigger: { type: 'stage_entered', stage: 'cart' },
        action: { type: 'webhook', url: 'https://hooks.example.com/c' },
      }),
    );
    const { rule } = (await created.json()) as { rule: { id: string } };
    const ts = t.clock.now - 1000;
    expect((await t.collect(batch('v1', [page('/cart.html', { ts })]))).status).toBe(202);
    const perRule = (await (await t.api(`/api/sites/demo/rules/${rule.id}/deliveries`)).json()) as {
      deliveries: Array<Record<string, unknown>>;
    };
    expect(perRule.deliveries).toHaveLength(1);
    expect(perRule.deliveries[0]).toMatchObject({ rule: rule.id, status: 'pending', attempts: 0, log: [] });
    expect(perRule.deliveries[0]).not.toHaveProperty('body');
    const perSite = (await (await t.api('/api/sites/demo/deliveries?status=pending&limit=5')).json()) as {
      deliveries: unknown[];
    };
    expect(perSite.deliveries).toHaveLength(1);
    expect(
      ((await (await t.api('/api/sites/demo/deliveries?status=delivered')).json()) as { deliveries: unknown[] })
        .deliveries,
    ).toHaveLength(0);
    expect(await (await t.api('/api/sites/demo/deliveries?status=lost')).json()).toMatchObject({ path: 'status' });
    expect(await (await t.api('/api/sites/demo/deliveries?limit=0')).json()).toMatchObject({ path: 'limit' });
    expect((await t.api('/api/sites/demo/rules/r_nope/deliveries')).status).toBe(404);
  });

  it('needs the admin token, knows its sites, and answers bad JSON with a 400', async () => {
    const t = await makeApp();
    expect((await t.app.request('/api/sites/demo/rules')).status).toBe(401);
    expect(
      (await t.app.request('/api/sites/demo/rules', { ...json(CART_RULE), headers: { Authorization: 'Bearer wrong' } }))
        .status,
    ).toBe(401);
    const unknown = await t.api('/api/sites/nope/rules');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ path: 'site' });
    const broken = await t.api('/api/sites/demo/rules', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ error: '[cjm] the body is not valid JSON' });
  });
});
