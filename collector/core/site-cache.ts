/**
 * The sites as the ingest routes read them (`/collect`, `/v1/*`): kept for `ttlMs` per process or isolate, so a
 * request costs no database read for its site (on Workers one D1 round trip of each `/collect`; with the queue it
 * leaves the producer without any). A change of a site through this app (the API, the dashboard) drops its entry at
 * once (createApp); another isolate sees the change within `ttlMs`. A journey folded meanwhile under the previous
 * stage model carries that model's revision, so maintenance refolds it (core/sites.ts): nothing stays wrong.
 */
import type { SiteConfig } from './stages';
import type { Store } from './store';

export interface SiteCacheOptions {
  /** How long a site (or its absence) is kept. */
  ttlMs: number;
  /** Sites kept at most (the oldest entry goes first). */
  maxSites: number;
}

export const DEFAULT_SITE_CACHE: SiteCacheOptions = { ttlMs: 10_000, maxSites: 1_000 };

export interface SiteCache {
  get(store: Store, id: string, now: number): Promise<SiteConfig | null>;
  /** Drops one site, or all of them. */
  invalidate(id?: string): void;
}

/**
 * @example
 * const sites = createSiteCache()
 * const site = await sites.get(store, 'shop', Date.now())
 */
export const createSiteCache = (options: Partial<SiteCacheOptions> = {}): SiteCache => {
  const o: SiteCacheOptions = { ...DEFAULT_SITE_CACHE, ...options };
  const entries = new Map<string, { at: number; site: Promise<SiteConfig | null> }>();
  return {
    get(store, id, now) {
      const hit = entries.get(id);
      if (hit && now - hit.at < o.ttlMs && now >= hit.at) return hit.site;
      const site = store.getSite(id);
      entries.delete(id);
      entries.set(id, { at: now, site });
      site.catch(() => entries.delete(id)); // a failed read is not kept
      while (entries.size > o.maxSites) entries.delete(entries.keys().next().value as string);
      return site;
    },
    invalidate(id) {
      if (id === undefined) entries.clear();
      else entries.delete(id);
    },
  };
};

/** The site a write request changes, from its path (`/api/sites/shop…`, `/sites/shop/settings…`); '' for all. */
export const siteOfWrite = (method: string, path: string): string | null => {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return null;
  const m = /^\/(?:api\/)?sites(?:\/([^/]+))?/.exec(path);
  if (!m) return null;
  return m[1] === undefined ? '' : decodeURIComponent(m[1]);
};
