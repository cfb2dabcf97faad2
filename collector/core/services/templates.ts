/**
 * Stage templates as the admin API and the settings page offer them: the list (`GET /api/templates`) and applying
 * one to a site (`PUT /api/sites/:site/template`, the settings page's template picker). Applying a template is a
 * change of the stage model through saveSite: the revision is bumped and the journeys are refolded. Admins and up;
 * written to the audit log as `stages.update` with the template's id.
 */
import { authorize, type Actor } from '../access';
import { InputError } from '../errors';
import type { SiteAnswer } from '../reports';
import { saveSite } from '../sites';
import { STAGE_TEMPLATES, templatePatch, type SiteConfig, type StageTemplate } from '../stages';
import type { Store } from '../store';
import { audit } from './audit';

/** The templates, copied (a caller may not change the model of every site). */
export const listTemplates = (): StageTemplate[] => structuredClone([...STAGE_TEMPLATES]);

/** The one field a template request carries. */
const BODY_FIELDS = ['template'];

/**
 * Gives a site a template's stages and conversion (`{ "template": "post-purchase" }`); other fields are kept. A 400
 * naming `template` for an unknown id, naming the field for any other field.
 *
 * @example
 * await applySiteTemplate(actor, store, site, { template: 'post-purchase' }, Date.now())
 */
export const applySiteTemplate = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  input: unknown,
  now: number,
): Promise<SiteAnswer> => {
  authorize(actor, site.id, 'settings.write');
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InputError(400, '[cjm] the body must be a JSON object such as { "template": "post-purchase" }');
  }
  for (const k of Object.keys(input)) {
    if (!BODY_FIELDS.includes(k)) {
      throw new InputError(
        400,
        `[cjm] unknown field "${k.slice(0, 40)}": the body is { "template": "<id>" } (change other fields with PUT /api/sites/${site.id})`,
        k,
      );
    }
  }
  const template = (input as { template?: unknown }).template;
  const answer = await saveSite(store, site, templatePatch(template), now);
  await audit(store, actor, site.id, now, 'stages.update', site.id, {
    template,
    stages: answer.site.stages.map((x) => x.name),
    conversion: answer.site.conversion,
    revision: answer.site.revision,
  });
  return answer;
};
