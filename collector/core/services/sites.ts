/**
 * Sites as the admin API and the dashboard's settings forms change them: creating one (the id free and well formed,
 * the configuration whole) and changing one (`id` and `revision` are the server's; a stage-model change refolds,
 * see saveSite in sites.ts). A bad field is a 400 naming it, a taken id a 409.
 */
import { InputError } from '../errors';
import type { SiteAnswer } from '../reports';
import { checkSiteId, checkSitePatch, checkWhole, pendingRefolds, saveSite } from '../sites';
import { defaultSiteConfig, type SiteConfig } from '../stages';
import type { Store } from '../store';

/** A site with how many of its journeys still wait for a refold (`GET /api/sites/:site`). */
export const siteAnswer = async (store: Store, site: SiteConfig): Promise<SiteAnswer> => ({
  site,
  refold: { pending: await pendingRefolds(store, site) },
});

/**
 * Creates a site from a configuration (`POST /api/sites`): the defaults of defaultSiteConfig, then the fields given.
 *
 * @example
 * await createSite(store, { id: 'blog', name: 'Blog', origins: ['https://blog.example'] })
 */
export const createSite = async (store: Store, input: unknown): Promise<SiteAnswer> => {
  const id = checkSiteId((input as { id?: unknown } | null)?.id);
  const patch = checkSitePatch(input);
  const site = checkWhole({ ...defaultSiteConfig(id), ...patch, revision: 1 });
  if (await store.getSite(site.id))
    throw new InputError(409, `[cjm] site "${site.id}" exists; change it with PUT /api/sites/${site.id}`, 'id');
  await store.putSite(site);
  return { site, refold: { pending: 0 } };
};

/**
 * Changes the fields of a site that `input` carries (`PUT /api/sites/:site`, the dashboard's settings forms). `id`
 * and `revision` may be sent back unchanged, never changed.
 */
export const updateSite = async (store: Store, site: SiteConfig, input: unknown, now: number): Promise<SiteAnswer> => {
  const b = input as Record<string, unknown> | null;
  if (b && typeof b === 'object' && b.id !== undefined && b.id !== site.id) {
    throw new InputError(400, '[cjm] id cannot be changed; create a new site with POST /api/sites', 'id');
  }
  if (b && typeof b === 'object' && b.revision !== undefined && b.revision !== site.revision) {
    throw new InputError(400, '[cjm] revision is set by the server', 'revision');
  }
  return saveSite(store, site, checkSitePatch(input), now);
};
