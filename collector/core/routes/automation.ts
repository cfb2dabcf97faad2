/**
 * The automation admin API, mounted under `/api` by app.ts behind the bearer check (admins and up): a site's rules, the delivery log,
 * the automation settings and the webhook signing secret. Documented in docs/automation.md. The rules' invariants
 * (fields, webhook target, the cap per site) are services/rules.ts's.
 */
import { Hono } from 'hono';
import { jsonBody, searchParams, withSite, type ApiEnv } from '../http';
import {
  automationSettings,
  createRule,
  deleteRule,
  getRule,
  listDeliveries,
  listRules,
  newWebhookSecret,
  replaceRule,
  updateAutomationSettings,
  webhookSecret,
} from '../services/rules';
import { parseDeliveryQuery } from './query';

/** A rule: a name, a trigger and a webhook URL of at most 2,000 characters — 64 KB is far above any. */
const RULE_BODY = { maxBytes: 64 * 1024 };

export const automationRoutes = () => {
  const r = new Hono<ApiEnv>();

  r.get('/sites/:site/rules', withSite, async (c) =>
    c.json({ rules: await listRules(c.var.actor, c.var.store, c.var.site) }),
  );

  r.post('/sites/:site/rules', withSite, jsonBody(RULE_BODY), async (c) =>
    c.json({ rule: await createRule(c.var.actor, c.var.store, c.var.site, c.var.body, c.var.now()) }, 201),
  );

  r.get('/sites/:site/rules/:id', withSite, async (c) =>
    c.json({ rule: await getRule(c.var.actor, c.var.store, c.var.site, c.req.param('id')) }),
  );

  r.put('/sites/:site/rules/:id', withSite, jsonBody(RULE_BODY), async (c) => {
    const id = c.req.param('id');
    return c.json({ rule: await replaceRule(c.var.actor, c.var.store, c.var.site, id, c.var.body, c.var.now()) });
  });

  r.delete('/sites/:site/rules/:id', withSite, async (c) => {
    const id = c.req.param('id');
    await deleteRule(c.var.actor, c.var.store, c.var.site, id, c.var.now());
    return c.json({ deleted: id });
  });

  r.get('/sites/:site/rules/:id/deliveries', withSite, async (c) => {
    const rule = await getRule(c.var.actor, c.var.store, c.var.site, c.req.param('id'));
    const q = parseDeliveryQuery(searchParams(c), rule.id);
    return c.json({ deliveries: await listDeliveries(c.var.actor, c.var.store, c.var.site, q) });
  });

  r.get('/sites/:site/deliveries', withSite, async (c) => {
    const q = parseDeliveryQuery(searchParams(c));
    return c.json({ deliveries: await listDeliveries(c.var.actor, c.var.store, c.var.site, q) });
  });

  r.get('/sites/:site/automation', withSite, async (c) =>
    c.json(await automationSettings(c.var.actor, c.var.store, c.var.site)),
  );

  r.put('/sites/:site/automation', withSite, jsonBody({ maxBytes: 4 * 1024 }), async (c) =>
    c.json(await updateAutomationSettings(c.var.actor, c.var.store, c.var.site, c.var.body, c.var.now())),
  );

  r.get('/sites/:site/webhook-secret', withSite, async (c) =>
    c.json({ secret: await webhookSecret(c.var.actor, c.var.store, c.var.site) }),
  );

  r.post('/sites/:site/webhook-secret', withSite, async (c) =>
    c.json({ secret: await newWebhookSecret(c.var.actor, c.var.store, c.var.site, c.var.now()) }),
  );

  return r;
};
