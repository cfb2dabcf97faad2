/**
 * Automation rules as the admin API and the dashboard's settings form both change them: every invariant of a rule is
 * here, once — its fields and stages (automation/rules.ts), the webhook target (automation/urls.ts, under the site's
 * `allowPrivateWebhooks`), at most MAX_RULES per site, and the defaults of a new rule. Reading them is the admin's
 * (`settings.read`), changing them too (`rules.write`); every change goes to the audit log.
 */
import { authorize, type Actor } from '../access';
import { newRuleId, parseRule, type Rule, type RuleInput } from '../automation/rules';
import {
  getAutomationSettings,
  getWebhookSecret,
  putAutomationSettings,
  rotateWebhookSecret,
  type AutomationSettings,
} from '../automation/settings';
import type { Delivery, DeliveryQuery } from '../automation/types';
import { checkWebhookUrl } from '../automation/urls';
import { InputError } from '../errors';
import type { SiteConfig } from '../stages';
import type { Store } from '../store';
import { audit } from './audit';

/** Rules a site may have. */
export const MAX_RULES = 100;

/**
 * Parses and checks a rule sent by a client: fields, stages of the site, the webhook target. The URL is kept as the
 * URL parser normalized it (`url.href`: lower-case host, default port and dot segments removed), so what was checked
 * is exactly what is stored and later fetched.
 */
const checkRule = async (store: Store, site: SiteConfig, input: unknown): Promise<RuleInput> => {
  const rule = parseRule(input, site);
  const { allowPrivateWebhooks } = await getAutomationSettings(store, site.id);
  const url = checkWebhookUrl(rule.action.url, allowPrivateWebhooks);
  if (url.href.length > 2000)
    throw new InputError(400, '[cjm] action.url is longer than 2000 characters', 'action.url');
  return { ...rule, action: { ...rule.action, url: url.href } };
};

/**
 * Creates a rule (enabled unless the input says otherwise); a 400 naming the field, a 409 when the site has
 * MAX_RULES rules already.
 *
 * @example
 * const rule = await createRule(store, site, { name: 'Welcome', trigger: { type: 'stage_entered', stage: 'signup' },
 *   action: { type: 'webhook', url: 'https://hooks.example/w' } }, Date.now())
 */
export const createRule = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  input: unknown,
  now: number,
): Promise<Rule> => {
  authorize(actor, site.id, 'rules.write');
  const checked = await checkRule(store, site, input);
  if ((await store.listRules(site.id)).length >= MAX_RULES) {
    throw new InputError(409, `[cjm] site "${site.id}" has ${MAX_RULES} rules, the most allowed; delete one first`);
  }
  const rule: Rule = {
    id: newRuleId(),
    site: site.id,
    enabled: checked.enabled ?? true,
    name: checked.name,
    trigger: checked.trigger,
    action: checked.action,
    createdAt: now,
    updatedAt: now,
  };
  await store.putRule(rule);
  await audit(store, actor, site.id, now, 'rule.create', rule.id, { name: rule.name, url: rule.action.url });
  return rule;
};

/** A site's rules, oldest first. */
export const listRules = async (actor: Actor, store: Store, site: SiteConfig): Promise<Rule[]> => {
  authorize(actor, site.id, 'settings.read');
  return store.listRules(site.id);
};

/** A site's webhook deliveries, newest first. */
export const listDeliveries = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  query: DeliveryQuery,
): Promise<Delivery[]> => {
  authorize(actor, site.id, 'settings.read');
  return store.listDeliveries(site.id, query);
};

/** A rule of the site, or a 404 naming `id`. */
export const getRule = async (actor: Actor, store: Store, site: SiteConfig, id: string): Promise<Rule> => {
  authorize(actor, site.id, 'settings.read');
  const rule = (await store.listRules(site.id)).find((x) => x.id === id);
  if (!rule) throw new InputError(404, `[cjm] site "${site.id}" has no rule "${id}"`, 'id');
  return rule;
};

/** Replaces a rule's name, trigger and action (and `enabled` when given); keeps its id and creation time. */
export const replaceRule = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  id: string,
  input: unknown,
  now: number,
): Promise<Rule> => {
  authorize(actor, site.id, 'rules.write');
  const old = await getRule(actor, store, site, id);
  const checked = await checkRule(store, site, input);
  const rule: Rule = {
    ...old,
    name: checked.name,
    trigger: checked.trigger,
    action: checked.action,
    enabled: checked.enabled ?? old.enabled,
    updatedAt: now,
  };
  await store.putRule(rule);
  await audit(store, actor, site.id, now, 'rule.update', rule.id, { name: rule.name, url: rule.action.url });
  return rule;
};

/** Turns a rule off when it is on, on when it is off (the dashboard's switch). */
export const toggleRule = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  id: string,
  now: number,
): Promise<Rule> => {
  authorize(actor, site.id, 'rules.write');
  const old = await getRule(actor, store, site, id);
  const rule = { ...old, enabled: !old.enabled, updatedAt: now };
  await store.putRule(rule);
  await audit(store, actor, site.id, now, rule.enabled ? 'rule.enable' : 'rule.disable', rule.id, { name: rule.name });
  return rule;
};

/** Deletes a rule (its armed stalls and pending deliveries go with it); a 404 when the site has none by that id. */
export const deleteRule = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  id: string,
  now: number,
): Promise<void> => {
  authorize(actor, site.id, 'rules.write');
  if (!(await store.deleteRule(site.id, id, now))) {
    throw new InputError(404, `[cjm] site "${site.id}" has no rule "${id}"`, 'id');
  }
  await audit(store, actor, site.id, now, 'rule.delete', id);
};

/** Changes the site's automation settings (`{ allowPrivateWebhooks }`); a 400 naming the field. */
export const updateAutomationSettings = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  input: unknown,
  now: number,
): Promise<AutomationSettings> => {
  authorize(actor, site.id, 'settings.write');
  const v = input as { allowPrivateWebhooks?: unknown } | null;
  if (typeof v !== 'object' || v === null || typeof v.allowPrivateWebhooks !== 'boolean') {
    throw new InputError(400, '[cjm] allowPrivateWebhooks must be true or false', 'allowPrivateWebhooks');
  }
  const settings = { allowPrivateWebhooks: v.allowPrivateWebhooks };
  await putAutomationSettings(store, site.id, settings);
  await audit(store, actor, site.id, now, 'automation.update', site.id, { ...settings });
  return settings;
};

/** The site's automation settings (admin). */
export const automationSettings = async (actor: Actor, store: Store, site: SiteConfig): Promise<AutomationSettings> => {
  authorize(actor, site.id, 'settings.read');
  return getAutomationSettings(store, site.id);
};

/** The webhook signing secret (a secret like a write key: admin). */
export const webhookSecret = async (actor: Actor, store: Store, site: SiteConfig): Promise<string> => {
  authorize(actor, site.id, 'keys.write');
  return getWebhookSecret(store, site.id);
};

/** Replaces the webhook signing secret. */
export const newWebhookSecret = async (actor: Actor, store: Store, site: SiteConfig, now: number): Promise<string> => {
  authorize(actor, site.id, 'keys.write');
  const secret = await rotateWebhookSecret(store, site.id);
  await audit(store, actor, site.id, now, 'webhook-secret.rotate', site.id);
  return secret;
};
