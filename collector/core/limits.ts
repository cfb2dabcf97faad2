/**
 * Limits of the public endpoint beyond validation: a per-IP rate limit (token bucket), the limiter of admin-token
 * guesses, and the per-site cardinality bounds on event names and property keys.
 */
import { addressKey } from './ip';
import { OTHER, type StoredEvent } from './journey';
import type { NameEntry } from './store';

export interface RateLimitOptions {
  /** Requests an address may send at once. */
  burst: number;
  /** Requests per second refilled. */
  perSecond: number;
  /** Addresses remembered; the least recently seen are forgotten beyond this (memory stays bounded). */
  maxKeys?: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { burst: 120, perSecond: 20, maxKeys: 50_000 };

/**
 * An in-memory token bucket per key (the client IP). State lives in the process (Node) or the isolate (Workers), so
 * on Workers the limit is per isolate: a coarse shield against floods, not an exact quota.
 *
 * @example
 * const limit = createRateLimiter({ burst: 120, perSecond: 20 })
 * const retryAfter = limit('203.0.113.7', Date.now()) // 0: allowed; otherwise seconds to wait
 */
export const createRateLimiter = (options: RateLimitOptions = DEFAULT_RATE_LIMIT) => {
  const { burst, perSecond } = options;
  const maxKeys = options.maxKeys ?? 50_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key: string, now: number): number => {
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    buckets.delete(key); // re-inserted below: Map order is least recently seen first
    b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 1000) * perSecond);
    b.at = now;
    let wait = 0;
    if (b.tokens >= 1) b.tokens -= 1;
    else wait = Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
    buckets.set(key, b);
    while (buckets.size > maxKeys) {
      const oldest = buckets.keys().next().value;
      if (oldest === undefined) break;
      buckets.delete(oldest);
    }
    return wait;
  };
};

/**
 * Token buckets that can be looked at without taking a token: `wait` says how long a key must wait, `take` spends a
 * token (down to zero). Least recently seen keys are forgotten beyond `maxKeys`.
 */
const buckets = (burst: number, perSecond: number, maxKeys: number) => {
  const map = new Map<string, { tokens: number; at: number }>();
  const get = (key: string, now: number) => {
    const b = map.get(key) ?? { tokens: burst, at: now };
    map.delete(key); // re-inserted: Map order is least recently seen first
    b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 1000) * perSecond);
    b.at = now;
    map.set(key, b);
    while (map.size > maxKeys) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
    return b;
  };
  return {
    wait: (key: string, now: number): number => {
      const b = get(key, now);
      return b.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
    },
    take: (key: string, now: number): void => {
      const b = get(key, now);
      b.tokens = Math.max(0, b.tokens - 1);
    },
  };
};

export interface SignInLimitOptions {
  /** Failed attempts one address (an IPv6 /64) may make at once, and how many are refilled per second. */
  perAddress: { burst: number; perSecond: number };
  /** Failed attempts all addresses together may make at once, and per second: the ceiling of a distributed guess. */
  global: { burst: number; perSecond: number };
  /**
   * Failed password attempts against one account (an e-mail, a share link) from all addresses together: what keeps a
   * botnet from trying a whole dictionary on one person. An address that signed in to the account lately is exempt,
   * so a guesser cannot lock its owner out. Default: burst 10, then one a minute.
   */
  perAccount?: { burst: number; perSecond: number };
  /** Addresses remembered (failures and recent successes). */
  maxKeys?: number;
  /** How long an address that signed in stays exempt from the global ceiling (not from its own limit). */
  trustedMs?: number;
}

/**
 * Ten tries at once per address, then one every 5 s; 200 failures at once from everywhere together, then one a
 * second (3,600 an hour: a 24-character token stays out of reach); ten per account, then one a minute.
 */
export const DEFAULT_SIGN_IN_LIMIT: SignInLimitOptions = {
  perAddress: { burst: 10, perSecond: 0.2 },
  global: { burst: 200, perSecond: 1 },
  perAccount: { burst: 10, perSecond: 1 / 60 },
  maxKeys: 10_000,
  trustedMs: 30 * 86_400_000,
};

/**
 * The limiter of secret guesses: sign-in form posts (admin token, or e-mail and password), `/api` bearer tokens (admin
 * token and personal API tokens), share-link passwords — all count against the same budget per address.
 */
export interface SignInLimiter {
  /**
   * Seconds before an attempt from this address (and, once known, against this account) may be checked (0: now).
   * The address is checked before the body is read.
   */
  wait(ip: string | null | undefined, now: number, account?: string): number;
  /** A wrong secret from this address (against this account, when there is one). */
  failed(ip: string | null | undefined, now: number, account?: string): void;
  /** The right secret from this address: exempt from the global ceiling, and from the account's limit. */
  succeeded(ip: string | null | undefined, now: number, account?: string): void;
}

/**
 * Limits failed secret checks per address (IPv6 addresses by /64, see addressKey), per account and in total. A
 * request whose address is unknown (no socket address, no trusted header) is held only to the global and account
 * ceilings, never to a shared `unknown` bucket that one client could empty for everyone. Addresses that presented
 * the right secret lately keep their access while a distributed guess holds the global ceiling shut.
 *
 * @example
 * const limiter = createSignInLimiter()
 * if (limiter.wait(ip, now) > 0) return tooMany()
 * if (!safeEqual(token, adminToken)) limiter.failed(ip, now)
 */
export const createSignInLimiter = (options: SignInLimitOptions = DEFAULT_SIGN_IN_LIMIT): SignInLimiter => {
  const maxKeys = options.maxKeys ?? 10_000;
  const trustedMs = options.trustedMs ?? 30 * 86_400_000;
  const perAccountOptions = options.perAccount ?? DEFAULT_SIGN_IN_LIMIT.perAccount!;
  const perAddress = buckets(options.perAddress.burst, options.perAddress.perSecond, maxKeys);
  const perAccount = buckets(perAccountOptions.burst, perAccountOptions.perSecond, maxKeys);
  const global = buckets(options.global.burst, options.global.perSecond, 1);
  const trusted = new Map<string, number>(); // address key (or address key + account) → until
  const keyOf = (ip: string | null | undefined) => (ip ? addressKey(ip) : null);
  const isTrusted = (key: string | null, now: number) => key !== null && (trusted.get(key) ?? 0) > now;
  const trust = (key: string, now: number) => {
    trusted.delete(key);
    trusted.set(key, now + trustedMs);
    while (trusted.size > maxKeys) {
      const oldest = trusted.keys().next().value;
      if (oldest === undefined) break;
      trusted.delete(oldest);
    }
  };
  const pair = (key: string | null, account: string) => (key === null ? null : `${key}\u0000${account}`);
  return {
    wait: (ip, now, account) => {
      const key = keyOf(ip);
      let wait = key === null ? 0 : perAddress.wait(key, now);
      if (!isTrusted(key, now)) wait = Math.max(wait, global.wait('*', now));
      if (account !== undefined && !isTrusted(pair(key, account), now)) {
        wait = Math.max(wait, perAccount.wait(account, now));
      }
      return wait;
    },
    failed: (ip, now, account) => {
      const key = keyOf(ip);
      if (key !== null) perAddress.take(key, now);
      if (account !== undefined && !isTrusted(pair(key, account), now)) perAccount.take(account, now);
      global.take('*', now);
    },
    succeeded: (ip, now, account) => {
      const key = keyOf(ip);
      if (key === null) return;
      trust(key, now);
      if (account !== undefined) trust(pair(key, account)!, now);
    },
  };
};

export interface NameBound {
  /** Names among the batch's that the site has admitted already. */
  known: ReadonlySet<string>;
  /** Names the site has admitted in total. */
  total: number;
  limit: number;
  /** Names always allowed and never counted (e.g. event names of the stage rules). */
  exempt?: ReadonlySet<string>;
}

export interface BoundResult {
  events: StoredEvent[];
  /** Names admitted by this batch. */
  admitted: NameEntry[];
  /** Events whose name became `(other)`. */
  otherNames: number;
  /** Properties folded into `(other)`. */
  otherProps: number;
}

/**
 * Applies the cardinality bounds to events (in `(ts, id)` order): new names are admitted until the site's limit,
 * then an event's name becomes `(other)`, and properties with keys beyond the limit are replaced by one
 * `(other)` property holding how many were dropped. Events are copied, never mutated.
 */
export const boundCardinality = (events: readonly StoredEvent[], names: NameBound, keys: NameBound): BoundResult => {
  const admitted: NameEntry[] = [];
  const eventNames = new Set(names.known);
  const propKeys = new Set(keys.known);
  let nameSlots = Math.max(0, names.limit - names.total);
  let keySlots = Math.max(0, keys.limit - keys.total);
  let otherNames = 0;
  let otherProps = 0;
  const out = events.map((e) => {
    let copy = e;
    if (e.type === 'event' && e.name && e.name !== OTHER && !names.exempt?.has(e.name) && !eventNames.has(e.name)) {
      if (nameSlots > 0) {
        nameSlots--;
        eventNames.add(e.name);
        admitted.push({ kind: 'event', name: e.name });
      } else {
        copy = { ...copy, name: OTHER };
        otherNames++;
      }
    }
    if (e.props) {
      let dropped = 0;
      const props: NonNullable<StoredEvent['props']> = {};
      for (const [k, v] of Object.entries(e.props)) {
        if (k === OTHER || keys.exempt?.has(k) || propKeys.has(k)) props[k] = v;
        else if (keySlots > 0) {
          keySlots--;
          propKeys.add(k);
          admitted.push({ kind: 'prop', name: k });
          props[k] = v;
        } else dropped++;
      }
      if (dropped > 0) {
        props[OTHER] = dropped;
        otherProps += dropped;
        copy = { ...copy, props };
      }
    }
    return copy;
  });
  return { events: out, admitted, otherNames, otherProps };
};
