/**
 * Limits of the public endpoint beyond validation: a per-IP rate limit (token bucket) and the per-site cardinality
 * bounds on event names and property keys.
 */
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
