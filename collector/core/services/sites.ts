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

/** The body without its `database` field, and the field. */
const withoutDatabase = (input: unknown): [unknown, unknown] => {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || !('database' in input))
    return [input, undefined];
  const { database, ...rest } = input as Record<string, unknown>;
  return [rest, database];
};

/**
 * A new site's `database`: one of `databases` (the Worker's D1 bindings, main first), or absent/null/the main one
 * for the main database.
 */
const checkDatabase = (v: unknown, databases: readonly string[]): string | undefined => {
  if (v === undefined || v === null || v === databases[0]) return undefined;
  if (typeof v !== 'string' || !databases.includes(v)) {
    throw new InputError(
      400,
      databases.length > 1
        ? `[cjm] database must be one of this Worker's D1 bindings (${databases.join(', ')}); for another, add [[d1_databases]] binding = "${String(v).slice(0, 40)}" to wrangler.toml, apply the migrations and deploy`
        : `[cjm] this collector has one database${databases[0] ? ` (${databases[0]})` : ''}; a site's own database needs the Worker with a D1 binding for it (README, "One database per large site")`,
      'database',
    );
  }
  return v;
};

/**
 * Creates a site from a configuration (`POST /api/sites`): the defaults of defaultSiteConfig, then the fields given.
 * `database` (a D1 binding among `databases`) puts its data in a database of its own from the start.
 *
 * @example
 * await createSite(store, { id: 'blog', name: 'Blog', origins: ['https://blog.example'] })
 */
export const createSite = async (
  store: Store,
  input: unknown,
  databases: readonly string[] = [],
): Promise<SiteAnswer> => {
  const id = checkSiteId((input as { id?: unknown } | null)?.id);
  const [rest, wanted] = withoutDatabase(input);
  const database = checkDatabase(wanted, databases);
  const patch = checkSitePatch(rest);
  const site = checkWhole({ ...defaultSiteConfig(id), ...patch, revision: 1, ...(database ? { database } : {}) });
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
  const [rest, database] = withoutDatabase(input);
  if (database !== undefined && (database ?? undefined) !== site.database) {
    throw new InputError(
      400,
      `[cjm] database is changed by moving the site's data first: npm run move-site -- --site ${site.id} --to ${String(database).slice(0, 40)}`,
      'database',
    );
  }
  return saveSite(store, site, checkSitePatch(rest), now);
};
