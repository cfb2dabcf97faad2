/**
 * The site model: checking a site configuration, saving it (a change of the stage model bumps the site's revision and
 * refolds its journeys), and the periodic maintenance the runtimes run (salt rotation, refolds). Creating and
 * changing a site from a request goes through services/sites.ts.
 */
import { InputError } from './errors';
import { journeyRevision, refoldJourneys, siteRevision } from './ingest';
import { rotateSalts } from './privacy';
import { rekeyLegacyHashes } from './rekey';
import type { SiteAnswer } from './reports';
import { expireSite } from './retention';
import { canonicalTimeZone, isTimeZone, timezoneOf } from './timezone';
import { checkStages, cleanStage, DEFAULT_LIMITS, MAX_RETENTION_DAYS, type SiteConfig } from './stages';
import { StoreUnavailableError, type Store } from './store';

/** A bad field of a site configuration: a 400 naming it. */
const fail = (path: string, message: string): never => {
  throw new InputError(400, `[cjm] ${message}`, path);
};

/** Fields whose change alters how events fold into journeys: changing one refolds the site's journeys. */
export const MODEL_FIELDS = ['stages', 'conversion', 'sessionTimeoutMinutes', 'origins', 'timezone'] as const;

/** Journeys refolded before `PUT /api/sites/:site` answers; the rest by the periodic maintenance. */
export const REFOLD_ON_SAVE = 200;

const isRetention = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_RETENTION_DAYS;

const SITE_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A new site's id: 1–64 letters, digits or `_ . : -`. */
export const checkSiteId = (id: unknown): string => {
  if (typeof id !== 'string' || !SITE_ID.test(id)) fail('id', 'id must be 1–64 letters, digits or _ . : -');
  return id as string;
};

const intIn = (v: unknown, path: string, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    fail(path, `${path} must be an integer from ${min} to ${max}`);
  return v as number;
};

/** An allowed origin as the browser sends it: `scheme://host[:port]`, nothing else. */
const checkOrigin = (v: unknown, path: string): string => {
  if (typeof v !== 'string' || v.length > 200)
    return fail(path, `${path} must be an origin such as https://shop.example`);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return fail(path, `${path} must be an origin such as https://shop.example`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== v) {
    return fail(
      path,
      `${path} must be an origin such as https://shop.example (scheme and host, no path or trailing slash)`,
    );
  }
  return v;
};

/**
 * Checks the body of `POST /api/sites` or `PUT /api/sites/:site`: the fields that are present, each named in the
 * error. `id` and `revision` are not accepted in a patch.
 */
export const checkSitePatch = (body: unknown): Partial<Omit<SiteConfig, 'id' | 'revision'>> => {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return fail('', 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const out: Partial<Omit<SiteConfig, 'id' | 'revision'>> = {};
  for (const k of Object.keys(b)) {
    const known = [
      'id',
      'name',
      'origins',
      'requireOrigin',
      'stages',
      'conversion',
      'sessionTimeoutMinutes',
      'limits',
      'retentionDays',
      'timezone',
    ];
    if (![...known, 'revision'].includes(k)) {
      fail(k, `unknown field "${k.slice(0, 40)}"`);
    }
  }
  if (b.name !== undefined) {
    if (typeof b.name !== 'string' || b.name.length === 0 || b.name.length > 100)
      fail('name', 'name must be 1–100 characters');
    out.name = b.name as string;
  }
  if (b.origins !== undefined) {
    if (!Array.isArray(b.origins) || b.origins.length > 50)
      fail('origins', 'origins must be an array of at most 50 origins');
    out.origins = (b.origins as unknown[]).map((o, i) => checkOrigin(o, `origins[${i}]`));
  }
  if (b.requireOrigin !== undefined) {
    if (typeof b.requireOrigin !== 'boolean') fail('requireOrigin', 'requireOrigin must be true or false');
    out.requireOrigin = b.requireOrigin as boolean;
  }
  if (b.stages !== undefined || b.conversion !== undefined) {
    // Both are checked together: the conversion must name a stage.
    if (b.stages !== undefined) out.stages = b.stages as SiteConfig['stages'];
    if (b.conversion !== undefined) out.conversion = b.conversion as string;
  }
  if (b.sessionTimeoutMinutes !== undefined)
    out.sessionTimeoutMinutes = intIn(b.sessionTimeoutMinutes, 'sessionTimeoutMinutes', 1, 1440);
  if (b.retentionDays !== undefined) {
    if (b.retentionDays !== null && !isRetention(b.retentionDays))
      fail(
        'retentionDays',
        `retentionDays must be an integer from 1 to ${MAX_RETENTION_DAYS} (days of visitor details kept), or null to keep everything`,
      );
    out.retentionDays = b.retentionDays as number | null;
  }
  if (b.timezone !== undefined) {
    if (!isTimeZone(b.timezone))
      fail(
        'timezone',
        'timezone must be an IANA time zone name such as "Europe/Berlin" or "America/New_York", or "UTC"',
      );
    out.timezone = canonicalTimeZone(b.timezone as string);
  }
  if (b.limits !== undefined) {
    if (typeof b.limits !== 'object' || b.limits === null)
      fail('limits', 'limits must be { eventNames, propKeys, eventsPerDay, newVisitorsPerHour }');
    const l = b.limits as Record<string, unknown>;
    out.limits = {
      eventNames:
        l.eventNames === undefined ? DEFAULT_LIMITS.eventNames : intIn(l.eventNames, 'limits.eventNames', 1, 10_000),
      propKeys: l.propKeys === undefined ? DEFAULT_LIMITS.propKeys : intIn(l.propKeys, 'limits.propKeys', 1, 10_000),
    };
    // Quotas (core/quota.ts): absent, the deployment's defaults apply.
    if (l.eventsPerDay !== undefined)
      out.limits.eventsPerDay = intIn(l.eventsPerDay, 'limits.eventsPerDay', 1, 1_000_000_000);
    if (l.newVisitorsPerHour !== undefined)
      out.limits.newVisitorsPerHour = intIn(l.newVisitorsPerHour, 'limits.newVisitorsPerHour', 1, 1_000_000);
  }
  return out;
};

/** Checks a whole configuration (after a patch is applied): stages and conversion fit together. */
export const checkWhole = (site: SiteConfig): SiteConfig => {
  const bad = checkStages(site.stages, site.conversion);
  if (bad) fail(bad.path, bad.error);
  site.stages = site.stages.map(cleanStage); // only the documented fields of each stage
  return site;
};

/** How many journeys of the site still carry an older stage model. */
export const pendingRefolds = async (store: Store, site: SiteConfig): Promise<number> =>
  (await store.staleJourneys(site.id, journeyRevision(site), 0)).pending;

/**
 * Refolds up to `limit` journeys of the site folded under an older revision; returns how many remain.
 */
export const refoldStale = async (store: Store, site: SiteConfig, limit: number): Promise<number> => {
  const { keys, pending } = await store.staleJourneys(site.id, journeyRevision(site), limit);
  if (keys.length === 0) return pending;
  await refoldJourneys(store, site, keys);
  return (await store.staleJourneys(site.id, journeyRevision(site), 0)).pending;
};

/**
 * Saves a site's changed fields. When the stage model changes (MODEL_FIELDS), the revision is incremented and the
 * journeys are refolded: the first `refoldNow` at once, the rest by `maintenance` or when they receive an event.
 *
 * @example
 * await saveSite(store, site, { stages, conversion: 'purchase' }, Date.now())
 */
export const saveSite = async (
  store: Store,
  site: SiteConfig,
  patch: Partial<Omit<SiteConfig, 'id' | 'revision'>>,
  _now: number,
  refoldNow = REFOLD_ON_SAVE,
): Promise<SiteAnswer> => {
  const next = checkWhole({ ...site, ...patch, id: site.id, revision: siteRevision(site) });
  const field = (s: SiteConfig, k: (typeof MODEL_FIELDS)[number]) => (k === 'timezone' ? timezoneOf(s) : s[k]);
  const changed = MODEL_FIELDS.some((k) => JSON.stringify(field(site, k)) !== JSON.stringify(field(next, k)));
  if (changed) next.revision = siteRevision(site) + 1;
  await store.putSite(next);
  const pending =
    changed && refoldNow > 0 ? await refoldStale(store, next, refoldNow) : await pendingRefolds(store, next);
  return { site: next, refold: { pending } };
};

/** Retention chunks per site and maintenance run (each at most RETENTION_CHUNK: 5 journeys, 50 events). */
export const RETENTION_CHUNKS_PER_RUN = 1000;

/**
 * Periodic work of a runtime (Node: a timer every 30 s; Workers: the cron trigger): deletes salts older than two
 * days, deletes dashboard sessions that ended (at most `budget`), refolds journeys left under an older stage
 * model, at most `budget` journeys per run, and runs each site's retention (at most RETENTION_CHUNKS_PER_RUN chunks,
 * `pause` between them).
 */
export const maintenance = async (
  store: Store,
  now: number,
  budget = 1000,
  /** Between retention chunks; null: no retention in this run (the Worker runs it as a job of its own). */
  pause?: ((chunkMs: number) => Promise<void>) | null,
): Promise<{ salts: number; refolded: number; sessions: number; expired: number }> => {
  const salts = (await rotateSalts(store, now)).length;
  // Dashboard sessions that ended (expired or revoked) are kept no longer than that (core/dashboard/auth.ts).
  const sessions = await store.pruneSessions(now, budget);
  // Unkeyed hashes a previous version may still have written (core/rekey.ts; a no-op an hour after completion).
  await rekeyLegacyHashes(store, now, 2_000);
  let left = budget;
  let refolded = 0;
  for (const site of await store.listSites()) {
    if (left <= 0) break;
    try {
      const before = await pendingRefolds(store, site);
      if (before === 0) continue;
      const after = await refoldStale(store, site, left);
      refolded += before - after;
      left -= before - after;
    } catch (e) {
      // A site being moved (or its database full) waits for a later pass; the other sites go on.
      if (!(e instanceof StoreUnavailableError)) throw e;
    }
  }
  const expired = pause === null ? 0 : await expireSites(store, now, pause);
  return { salts, refolded, sessions, expired };
};

/**
 * Retention: each site's journeys last active before its horizon, in bounded chunks (core/retention.ts), at most
 * RETENTION_CHUNKS_PER_RUN per site, `pause` between chunks. Returns the journeys deleted.
 */
export const expireSites = async (
  store: Store,
  now: number,
  pause?: (chunkMs: number) => Promise<void>,
): Promise<number> => {
  let expired = 0;
  for (const site of await store.listSites()) {
    if (site.retentionDays == null) continue;
    try {
      expired += (
        await expireSite(store, site, now, { maxChunks: RETENTION_CHUNKS_PER_RUN, ...(pause ? { pause } : {}) })
      ).journeys;
    } catch (e) {
      if (!(e instanceof StoreUnavailableError)) throw e;
    }
  }
  return expired;
};
