/**
 * Stage templates as the admin API and the settings page offer them: the list (`GET /api/templates`) and applying
 * one to a site (`PUT /api/sites/:site/template`, the settings page's template picker). Applying a template is a
 * change of the stage model through saveSite: the revision is bumped and the journeys are refolded.
 */
import { InputError } from '../errors';
import type { SiteAnswer } from '../reports';
import { saveSite } from '../sites';
import { STAGE_TEMPLATES, templatePatch, type SiteConfig, type StageTemplate } from '../stages';
import type { Store } from '../store';

/** The templates, copied (a caller may not change the model of every site). */
export const listTemplates = (): StageTemplate[] => structuredClone([...STAGE_TEMPLATES]);

/** The one field a template request carries. */
const BODY_FIELDS = ['template'];

/**
 * Gives a site a template's stages and conversion (`{ "template": "post-purchase" }`); other fields are kept. A 400
 * naming `template` for an unknown id, naming the field for any other field.
 *
 * @example
 * await applySiteTemplate(store, site, { template: 'post-purchase' }, Date.now())
 */
export const applySiteTemplate = async (
  store: Store,
  site: SiteConfig,
  input: unknown,
  now: number,
): Promise<SiteAnswer> => {
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
  return saveSite(store, site, templatePatch((input as { template?: unknown }).template), now);
};
