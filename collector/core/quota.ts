/**
 * Quotas of the ingest (docs/scaling.md, "Quotas and rate limits"): a per-site daily event quota and, on `/collect`,
 * a per-address budget of new visitors. Over either, events are not stored but counted, per site and day, in the
 * ingest counters (`overQuota`, `tooManyVisitors`), as `(other)` names are; the client still gets its 202 (a refusal
 * would only make it retry).
 *
 * State is kept in the process (Node) or the isolate (Workers). The day's stored count comes from the store's
 * `stored` counter, re-read every `refreshMs` and added to locally in between, so with many isolates the quota holds
 * to within about `refreshMs` of their traffic. The budget of new visitors is a token bucket per site and address
 * (an IPv6 address by its /64); loopback addresses (this machine: `npm run simulate`, local tools) have none.
 */
import type { Admission } from './ingest';
import { addressKey, isLoopback } from './ip';
import { localDay, timezoneOf } from './timezone';
import type { SiteConfig } from './stages';
import type { Store } from './store';

export interface QuotaOptions {
  /** Events a site may store per UTC day, unless its `limits.eventsPerDay` says otherwise. */
  eventsPerDay: number;
  /**
   * New visitors one address may start per hour on a site, unless its `limits.newVisitorsPerHour` says otherwise;
   * a twelfth of it (five minutes' worth) at once.
   */
  newVisitorsPerHour: number;
  /** How often the day's stored count is re-read from the store. */
  refreshMs: number;
  /** Site × address buckets remembered (the least recently seen are forgotten). */
  maxKeys: number;
}

/**
 * One million events a site per day (about 450 MB of database a day at the 445 B an event measured in
 * docs/scaling.md); 1,200 new visitors an hour per address, 100 at once (an office or a carrier NAT stays far below;
 * a script that invents visitor ids does not).
 */
export const DEFAULT_QUOTA: QuotaOptions = {
  eventsPerDay: 1_000_000,
  newVisitorsPerHour: 1_200,
  refreshMs: 30_000,
  maxKeys: 50_000,
};

export interface Quota {
  /**
   * The admission of one request's events (ingest's `admit` option): `address` is the client's on `/collect`, null on
   * the authenticated `/v1/*` (a back end legitimately starts any number of visitors).
   */
  admission(store: Store, site: SiteConfig, address: string | null, now: number): Admission;
}

/**
 * @example
 * const quota = createQuota()
 * await ingest(store, site, visitor, events, now, { admit: quota.admission(store, site, ip, now) })
 */
/** The client address each admission was made for (what a queued request carries to its consumer, core/queue.ts). */
const addresses = new WeakMap<Admission, string | null>();

/**
 * The address an admission of `Quota.admission` was made for (null on `/v1/*`), or undefined for any other
 * admission: what the Worker's queue producer carries in its message, so the consumer rebuilds the same admission.
 */
export const admissionAddress = (admit: Admission): string | null | undefined => addresses.get(admit);

export const createQuota = (options: Partial<QuotaOptions> = {}): Quota => {
  const o: QuotaOptions = { ...DEFAULT_QUOTA, ...options };
  const days = new Map<string, { day: string; base: number; local: number; readAt: number }>();
  const buckets = new Map<string, { tokens: number; at: number }>();

  const used = async (store: Store, site: string, day: string, now: number): Promise<number> => {
    let d = days.get(site);
    if (!d || d.day !== day || now - d.readAt >= o.refreshMs) {
      const rows = await store.getCounters(site, day, day);
      // The stored counter holds every committed event of the day, this process's included.
      d = { day, base: rows.find((r) => r.name === 'stored')?.value ?? 0, local: 0, readAt: now };
      days.set(site, d);
    }
    return d.base + d.local;
  };

  const newVisitor = (site: SiteConfig, address: string, now: number): boolean => {
    const perHour = site.limits?.newVisitorsPerHour ?? o.newVisitorsPerHour;
    const burst = Math.max(1, Math.round(perHour / 12));
    const key = `${site.id}\u0000${addressKey(address)}`;
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    buckets.delete(key);
    b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 3_600_000) * perHour);
    b.at = now;
    buckets.set(key, b);
    while (buckets.size > o.maxKeys) {
      const oldest = buckets.keys().next().value;
      if (oldest === undefined) break;
      buckets.delete(oldest);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };

  return {
    admission: (store, site, address, now) => {
      const admit: Admission = {
        // Loopback senders are this machine: `npm run simulate`, a local tool, a proxy on the same host.
        newVisitor: () => (address && !isLoopback(address) ? newVisitor(site, address, now) : true),
        events: async (n) => {
          const day = localDay(now, timezoneOf(site));
          const limit = site.limits?.eventsPerDay ?? o.eventsPerDay;
          const left = Math.max(0, limit - (await used(store, site.id, day, now)));
          const admitted = Math.min(n, left);
          const d = days.get(site.id);
          if (d) d.local += admitted;
          return admitted;
        },
      };
      addresses.set(admit, address);
      return admit;
    },
  };
};
