/**
 * The automation admin API under `/api` (mounted in app.ts behind the API's bearerAuth): a site's rules, the
 * delivery log, the automation settings and the webhook signing secret. Documented in docs/automation.md.
 */
import { Hono, type Context } from 'hono';
import { jsonError, type AppEnv } from '../app';
import { newRuleId, parseRule, RuleError, type Rule } from '../automation/rules';
import {
  getAutomationSettings,
  getWebhookSecret,
  putAutomationSettings,
  rotateWebhookSecret,
} from '../automation/settings';
import type { DeliveryQuery, DeliveryStatus } from '../automation/types';
import { checkWebhookUrl, UnsafeUrlError } from '../automation/urls';
import type { SiteConfig } from '../stages';
import { loadSite } from './api';

const MAX_RULES = 100;

/** The JSON body, or a 400 answer. */
const body = async (c: Context<AppEnv>): Promise<unknown | Response> => {
  try {
    return await c.req.json();
  } catch {
    return jsonError(c, 400, '[cjm] the body is not valid JSON');
  }
};

/** Parses and checks a rule (fields, stages of the site, the webhook target); a 400 answer naming the field. */
const checkRule = async (c: Context<AppEnv>, site: SiteConfig) => {
  const raw = await body(c);
  if (raw instanceof Response) return raw;
  try {
    const input = parseRule(raw, site);
    const { allowPrivateWebhooks } = await getAutomationSettings(c.get('store'), site.id);
    checkWebhookUrl(input.action.url, allowPrivateWebhooks);
    return input;
  } catch (e) {
    if (e instanceof RuleError) return jsonError(c, 400, e.message, e.path);
    if (e instanceof UnsafeUrlError) return jsonError(c, 400, e.message, 'action.url');
    throw e;
  }
};

const deliveryQuery = (c: Context<AppEnv>, rule?: string): DeliveryQuery | Response => {
  const limitRaw = c.req.query('limit');
  const limit = limitRaw === undefined ? 50 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    return jsonError(c, 400, '[cjm] limit must be an integer from 1 to 500', 'limit');
  const status = c.req.query('status');
  if (status !== undefined && !['pending', 'delivered', 'failed'].includes(status)) {
    return jsonError(c, 400, '[cjm] status must be pending, delivered or failed', 'status');
  }
  const q: DeliveryQuery = { limit };
  const r = rule ?? c.req.query('rule');
  if (r !== undefined) q.rule = r;
  if (status !== undefined) q.status = status as DeliveryStatus;
  return q;
};

export const automationRoutes = () => {
  const r = new Hono<AppEnv>();

  r.get('/sites/:site/rules', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    return c.json({ rules: await c.get('store').listRules(site.id) });
  });

  r.post('/sites/:site/rules', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const input = await checkRule(c, site);
    if (input instanceof Response) return input;
    const store = c.get('store');
    if ((await store.listRules(site.id)).length >= MAX_RULES) {
      return jsonError(c, 409, `[cjm] site "${site.id}" has ${MAX_RULES} rules, the most allowed; delete one first`);
    }
    const now = c.get('now')();
    const rule: Rule = {
      id: newRuleId(),
      site: site.id,
      enabled: input.enabled ?? true,
      name: input.name,
      trigger: input.trigger,
      action: input.action,
      createdAt: now,
      updatedAt: now,
    };
    await store.putRule(rule);
    return c.json({ rule }, 201);
  });

  const findRule = async (c: Context<AppEnv>, site: SiteConfig): Promise<Rule | Response> => {
    const id = c.req.param('id');
    const rule = (await c.get('store').listRules(site.id)).find((x) => x.id === id);
    return rule ?? jsonError(c, 404, `[cjm] site "${site.id}" has no rule "${id}"`, 'id');
  };

  r.get('/sites/:site/rules/:id', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const rule = await findRule(c, site);
    if (rule instanceof Response) return rule;
    return c.json({ rule });
  });

  r.put('/sites/:site/rules/:id', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const old = await findRule(c, site);
    if (old instanceof Response) return old;
    const input = await checkRule(c, site);
    if (input instanceof Response) return input;
    const rule: Rule = {
      ...old,
      name: input.name,
      trigger: input.trigger,
      action: input.action,
      enabled: input.enabled ?? old.enabled,
      updatedAt: c.get('now')(),
    };
    await c.get('store').putRule(rule);
    return c.json({ rule });
  });

  r.delete('/sites/:site/rules/:id', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const id = c.req.param('id');
    if (!(await c.get('store').deleteRule(site.id, id, c.get('now')())))
      return jsonError(c, 404, `[cjm] site "${site.id}" has no rule "${id}"`, 'id');
    return c.json({ deleted: id });
  });

  r.get('/sites/:site/rules/:id/deliveries', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const rule = await findRule(c, site);
    if (rule instanceof Response) return rule;
    const q = deliveryQuery(c, rule.id);
    if (q instanceof Response) return q;
    return c.json({ deliveries: await c.get('store').listDeliveries(site.id, q) });
  });

  r.get('/sites/:site/deliveries', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const q = deliveryQuery(c);
    if (q instanceof Response) return q;
    return c.json({ deliveries: await c.get('store').listDeliveries(site.id, q) });
  });

  r.get('/sites/:site/automation', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    return c.json(await getAutomationSettings(c.get('store'), site.id));
  });

  r.put('/sites/:site/automation', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    const raw = await body(c);
    if (raw instanceof Response) return raw;
    const v = raw as { allowPrivateWebhooks?: unknown } | null;
    if (typeof v !== 'object' || v === null || typeof v.allowPrivateWebhooks !== 'boolean') {
      return jsonError(c, 400, '[cjm] allowPrivateWebhooks must be true or false', 'allowPrivateWebhooks');
    }
    const settings = { allowPrivateWebhooks: v.allowPrivateWebhooks };
    await putAutomationSettings(c.get('store'), site.id, settings);
    return c.json(settings);
  });

  r.get('/sites/:site/webhook-secret', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    return c.json({ secret: await getWebhookSecret(c.get('store'), site.id) });
  });

  r.post('/sites/:site/webhook-secret', async (c) => {
    const site = await loadSite(c);
    if (site instanceof Response) return site;
    return c.json({ secret: await rotateWebhookSecret(c.get('store'), site.id) });
  });

  return r;
};
