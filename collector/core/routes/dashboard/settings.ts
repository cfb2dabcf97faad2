/**
 * The settings tab and its forms (admins and up): the site (name, origins, session timeout), the stage model and its
 * templates, write keys and automation rules, and the audit log. Each form posts to the same service the admin API
 * calls (services/*), so both authorize and refuse the same things; a refusal re-renders the page with the message
 * and the service's status.
 */
import { Hono } from 'hono';
import { h } from '../../dashboard/format';
import { sitePath } from '../../dashboard/layout';
import { settingsPage, type SettingsData } from '../../dashboard/pages/settings';
import { draftsOfForm, stagesOfDrafts } from '../../dashboard/stage-draft';
import { InputError, type InputStatus } from '../../errors';
import { formBody, ownOrigin } from '../../http';
import { listAudit } from '../../services/audit';
import { createWriteKey, KEY_NAME_LENGTH, listWriteKeys, revokeWriteKey } from '../../services/keys';
import { createRule, deleteRule, listDeliveries, listRules, toggleRule } from '../../services/rules';
import { updateSite } from '../../services/sites';
import { applySiteTemplate, listTemplates } from '../../services/templates';
import { flashOf, formMessage, lines, list, render, sitePage, str, type PageContext, type SignedInEnv } from './page';

/** The page's lists, the flash of a redirect, and what a form adds (its error, a draft, a new key). */
const settingsData = async (c: PageContext, extra: Partial<SettingsData> = {}): Promise<SettingsData> => {
  const { store, site, actor } = c.var;
  const [rules, deliveries, keys, audit] = await Promise.all([
    typeof store.listRules === 'function' ? listRules(actor, store, site) : null,
    typeof store.listDeliveries === 'function' ? listDeliveries(actor, store, site, { limit: 20 }) : null,
    typeof store.listWriteKeys === 'function' ? listWriteKeys(actor, store, site) : null,
    listAudit(actor, store, site.id),
  ]);
  return {
    site,
    collectorUrl: ownOrigin(c), // https behind a trusted TLS proxy
    rules,
    deliveries,
    keys,
    audit,
    now: c.var.now(),
    flash: flashOf(c),
    templates: listTemplates(),
    ...extra,
  };
};

const settings = (c: PageContext, data: SettingsData, status: 200 | InputStatus = 200) => {
  c.status(status);
  return render(c, 'settings', 'Settings', settingsPage(data), {
    range: false,
    sub: h`<p class="muted small">Site <code>${c.var.site.id}</code></p>`,
  });
};

const back = (c: PageContext, done: string) => `${sitePath(c.var.site.id, 'settings')}?done=${done}`;

const errorFlash = (e: InputError) => h`<div class="error" role="alert">${formMessage(e)}</div>`;

/** Rethrows anything but an InputError. */
const inputError = (e: unknown): InputError => {
  if (e instanceof InputError) return e;
  throw e;
};

/** A key or rule already gone (another tab, a second click) leaves nothing to do: the redirect shows the list. */
const unlessGone = (e: unknown): void => {
  if (inputError(e).status !== 404) throw e;
};

/** The site form's fields: all always sent (an empty input sends its name). */
const SITE_FIELDS = ['name', 'origins', 'sessionTimeoutMinutes'];
/**
 * The stage model's form: the conversion and every row's fields (each row's own fields and its condition rows are
 * checked by draftsOfForm, dashboard/stage-draft.ts); up to 256 KB (a large model's patterns).
 */
const STAGES_FORM = { maxBytes: 256 * 1024, required: ['stage_name', 'stage_urls', 'stage_events', 'conversion'] };
/** The rule form's fields per trigger type. */
const RULE_FIELDS: Record<string, string[]> = {
  stage_entered: ['stage'],
  event: ['event'],
  stalled: ['after', 'emit'],
};

export const settingsRoutes = () => {
  const r = new Hono<SignedInEnv>();

  r.get('/sites/:site/settings', sitePage, async (c) => settings(c, await settingsData(c)));

  r.post('/sites/:site/settings/site', sitePage, formBody({ required: SITE_FIELDS }), async (c) => {
    const site = c.var.site;
    const body = c.var.form;
    const timeout = str(body.sessionTimeoutMinutes).trim();
    const retention = body.retentionDays === undefined ? undefined : str(body.retentionDays).trim();
    const timezone = body.timezone === undefined ? undefined : str(body.timezone).trim();
    try {
      await updateSite(
        c.var.actor,
        c.var.store,
        site,
        {
          name: str(body.name).trim() || site.id,
          origins: lines(str(body.origins)),
          sessionTimeoutMinutes: timeout === '' ? site.sessionTimeoutMinutes : Number(timeout),
          // Empty keeps everything; a form without the field (an older page) leaves it as it is.
          ...(retention === undefined ? {} : { retentionDays: retention === '' ? null : Number(retention) }),
          // Empty: UTC; absent (an older page): unchanged.
          ...(timezone === undefined ? {} : { timezone: timezone === '' ? 'UTC' : timezone }),
        },
        c.var.now(),
      );
    } catch (e) {
      const err = inputError(e);
      return settings(c, await settingsData(c, { flash: errorFlash(err) }), err.status);
    }
    return c.redirect(back(c, 'saved'), 303);
  });

  r.post('/sites/:site/settings/stages', sitePage, formBody(STAGES_FORM), async (c) => {
    const drafts = draftsOfForm(c.var.form);
    const conversion = str(c.var.form.conversion).trim();
    try {
      await updateSite(
        c.var.actor,
        c.var.store,
        c.var.site,
        { stages: stagesOfDrafts(drafts), conversion },
        c.var.now(),
      );
    } catch (e) {
      const err = inputError(e);
      const data = await settingsData(c, {
        flash: errorFlash(err),
        draft: { stages: drafts, conversion },
        stagesError: { message: formMessage(err), ...(err.path === undefined ? {} : { path: err.path }) },
      });
      return settings(c, data, err.status);
    }
    return c.redirect(back(c, 'stages'), 303);
  });

  r.post('/sites/:site/settings/template', sitePage, formBody({ required: ['template'] }), async (c) => {
    try {
      await applySiteTemplate(
        c.var.actor,
        c.var.store,
        c.var.site,
        { template: str(c.var.form.template) },
        c.var.now(),
      );
    } catch (e) {
      const err = inputError(e);
      return settings(c, await settingsData(c, { flash: errorFlash(err) }), err.status);
    }
    return c.redirect(back(c, 'template'), 303);
  });

  r.post('/sites/:site/settings/keys', sitePage, formBody({ required: ['name'] }), async (c) => {
    const body = c.var.form;
    const name = str(body.name).trim().slice(0, KEY_NAME_LENGTH) || 'key';
    const created = await createWriteKey(c.var.actor, c.var.store, c.var.site, name, c.var.now());
    return settings(c, await settingsData(c, { newKey: { name, key: created.key } }));
  });

  r.post('/sites/:site/settings/keys/:id/revoke', sitePage, formBody(), async (c) => {
    await revokeWriteKey(c.var.actor, c.var.store, c.var.site, c.req.param('id'), c.var.now()).catch(unlessGone);
    return c.redirect(back(c, 'revoked'), 303);
  });

  r.post('/sites/:site/settings/rules', sitePage, formBody({ required: ['name', 'type', 'url'] }), async (c) => {
    const body = c.var.form;
    const type = str(body.type);
    // The fields of the chosen trigger (checkboxes aside: an unchecked one is never sent).
    for (const field of RULE_FIELDS[type] ?? []) {
      if (!body[field]) throw new InputError(400, `[cjm] the form has no field "${field}"`, field);
    }
    const trigger =
      type === 'stage_entered'
        ? { type, stage: str(body.stage) }
        : type === 'event'
          ? { type, event: str(body.event).trim() }
          : {
              type,
              stages: list(body.stages),
              ...(list(body.notReached).length ? { notReached: list(body.notReached) } : {}),
              after: str(body.after).trim(),
              ...(str(body.idle) === 'true' ? { idle: true } : {}),
              emit: str(body.emit).trim(),
            };
    const input = { name: str(body.name).trim(), trigger, action: { type: 'webhook', url: str(body.url).trim() } };
    try {
      await createRule(c.var.actor, c.var.store, c.var.site, input, c.var.now());
    } catch (e) {
      const err = inputError(e);
      return settings(c, await settingsData(c, { ruleError: formMessage(err) }), err.status);
    }
    return c.redirect(`${back(c, 'rule-created')}#automation`, 303);
  });

  r.post('/sites/:site/settings/rules/:id/toggle', sitePage, formBody(), async (c) => {
    await toggleRule(c.var.actor, c.var.store, c.var.site, c.req.param('id'), c.var.now()).catch(unlessGone);
    return c.redirect(back(c, 'rule-toggled'), 303);
  });

  r.post('/sites/:site/settings/rules/:id/delete', sitePage, formBody(), async (c) => {
    await deleteRule(c.var.actor, c.var.store, c.var.site, c.req.param('id'), c.var.now()).catch(unlessGone);
    return c.redirect(back(c, 'rule-deleted'), 303);
  });
  return r;
};
