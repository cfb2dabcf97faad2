/**
 * Sites as the admin API and the dashboard's settings forms change them: creating one (the id free and well formed,
 * the configuration whole; the instance owner only) and changing one (`id` and `revision` are the server's; a
 * stage-model change refolds, see saveSite in sites.ts). A bad field is a 400 naming it, a taken id a 409. Every
 * change is authorized first (core/access.ts) and written to the site's audit log after.
 */
import { authorize, authorizeInstance, can, roleOf, type Actor } from '../access';
import { InputError } from '../errors';
import type { SiteAnswer } from '../reports';
import { checkSiteId, checkSitePatch, checkWhole, MODEL_FIELDS, pendingRefolds, saveSite } from '../sites';
import { DEFAULT_RETENTION_DAYS, defaultSiteConfig, type SiteConfig } from '../stages';
import type { Store } from '../store';
import { DEFAULT_TIMEZONE } from '../timezone';
import { audit } from './audit';

/** A site in a list for someone who may not read its settings: what tells it apart, nothing configured. */
export interface SiteSummary {
  id: string;
  name: string;
}

/** The sites the actor has a role on. */
export const visibleSites = async (actor: Actor, store: Store): Promise<SiteConfig[]> =>
  (await store.listSites()).filter((s) => roleOf(actor, s.id) !== null);

/**
 * `GET /api/sites`: the sites the actor has a role on; the whole configuration where the actor may read settings
 * (admin and up), the id and name elsewhere.
 */
export const listSitesFor = async (actor: Actor, store: Store): Promise<Array<SiteConfig | SiteSummary>> =>
  (await visibleSites(actor, store)).map((s) => (can(actor, s.id, 'settings.read') ? s : { id: s.id, name: s.name }));

/** A site with how many of its journeys still wait for a refold (`GET /api/sites/:site`). */
export const siteAnswer = async (actor: Actor, store: Store, site: SiteConfig): Promise<SiteAnswer> => {
  authorize(actor, site.id, 'settings.read');
  return { site, refold: { pending: await pendingRefolds(store, site) } };
};

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
 * await createSite(actor, store, { id: 'blog', name: 'Blog', origins: ['https://blog.example'] }, Date.now())
 */
export const createSite = async (
  actor: Actor,
  store: Store,
  input: unknown,
  now: number,
  databases: readonly string[] = [],
): Promise<SiteAnswer> => {
  authorizeInstance(actor, 'creating a site');
  const id = checkSiteId((input as { id?: unknown } | null)?.id);
  const [rest, wanted] = withoutDatabase(input);
  const database = checkDatabase(wanted, databases);
  const patch = checkSitePatch(rest);
  const site = checkWhole({
    ...defaultSiteConfig(id),
    retentionDays: DEFAULT_RETENTION_DAYS,
    timezone: DEFAULT_TIMEZONE,
    ...patch,
    revision: 1,
    ...(database ? { database } : {}),
  });
  if (await store.getSite(site.id))
    throw new InputError(409, `[cjm] site "${site.id}" exists; change it with PUT /api/sites/${site.id}`, 'id');
  await store.putSite(site);
  await audit(store, actor, site.id, now, 'site.create', site.id);
  return { site, refold: { pending: 0 } };
};

/** `stages.update` when the stage model changes, `site.update` otherwise; the fields changed as detail. */
const auditSiteChange = async (
  store: Store,
  actor: Actor,
  before: SiteConfig,
  after: SiteConfig,
  now: number,
): Promise<void> => {
  const fields = (Object.keys(after) as Array<keyof SiteConfig>).filter(
    (k) => k !== 'revision' && JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  if (fields.length === 0) return;
  const isModel = (f: keyof SiteConfig) => f === 'stages' || f === 'conversion';
  const model = fields.filter(isModel);
  const other = fields.filter((f) => !isModel(f));
  if (model.length) {
    await audit(store, actor, after.id, now, 'stages.update', after.id, {
      stages: after.stages.map((s) => s.name),
      conversion: after.conversion,
      revision: after.revision,
    });
  }
  if (other.length) {
    const detail: Record<string, unknown> = { fields: other };
    for (const f of other) if ((MODEL_FIELDS as readonly string[]).includes(f) || f === 'name') detail[f] = after[f];
    await audit(store, actor, after.id, now, 'site.update', after.id, detail);
  }
};

/**
 * Changes the fields of a site that `input` carries (`PUT /api/sites/:site`, the dashboard's settings forms). `id`
 * and `revision` may be sent back unchanged, never changed.
 */
export const updateSite = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  input: unknown,
  now: number,
): Promise<SiteAnswer> => {
  authorize(actor, site.id, 'settings.write');
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
  const answer = await saveSite(store, site, checkSitePatch(rest), now);
  await auditSiteChange(store, actor, site, answer.site, now);
  return answer;
};
