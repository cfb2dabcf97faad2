/**
 * Webhook delivery: claims due deliveries from the queue in the database, POSTs each signed body, and records the
 * attempt. At-least-once: a failure is retried with exponential backoff and jitter for up to a day, then marked
 * failed; a claim lapses after a lease, so a run that crashed mid-delivery is retried by the next one.
 *
 * Safety: the target is checked before every attempt (scheme, literal addresses, and every address the hostname
 * resolves to when a resolver is injected), redirects are not followed, the request times out, and at most
 * `maxResponseBytes` of the answer are read.
 */
import { InputError } from '../errors';
import type { Store } from '../store';
import type { Rule } from './rules';
import { getAutomationSettings, getWebhookSecret, type AutomationSettings } from './settings';
import { signPayload } from './sign';
import type { ClaimedDelivery, DeliveryOutcome } from './types';
import { checkWebhookTarget, type Resolve } from './urls';

/**
 * `fetch`, plus `pin`: the addresses the target's hostname resolved to, all checked. A runtime that can connect to a
 * given address (Node: collector/webhook-fetch.ts) connects to one of them, so a second DNS answer cannot redirect
 * the request (DNS rebinding); a plain `fetch` ignores it.
 */
export type FetchLike = (input: string, init: RequestInit, pin?: { addresses: readonly string[] }) => Promise<Response>;

export interface DeliveryOptions {
  store: Store;
  now: () => number;
  fetch: FetchLike;
  /** Resolves hostnames so every address can be checked (Node); absent on Workers. */
  resolve?: Resolve;
  /** Deliveries per pass (default 20), sent `concurrency` (default 4) at a time. */
  limit?: number;
  concurrency?: number;
  /** How long a claim holds (default 60 s): a crashed run's deliveries are retried after it. */
  leaseMs?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Bytes of the answer read at most (default 64 KiB). */
  maxResponseBytes?: number;
  /** First retry delay (default 30 s), doubled per attempt up to `backoffCapMs` (default 1 h), ± jitter. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Give up after this long since the rule fired (default 24 h). */
  maxAgeMs?: number;
  /** Random source for the jitter (tests pin it). */
  random?: () => number;
}

export interface DeliveryResult {
  delivered: number;
  retrying: number;
  failed: number;
}

export const DELIVERY_DEFAULTS = {
  limit: 20,
  concurrency: 4,
  leaseMs: 60_000,
  timeoutMs: 10_000,
  maxResponseBytes: 64 * 1024,
  backoffBaseMs: 30_000,
  backoffCapMs: 3_600_000,
  maxAgeMs: 86_400_000,
} as const;

/** Delay before attempt `n + 1` after `n` failed ones: base·2^(n−1), capped, with "equal jitter" (½ to 1×). */
export const backoffMs = (n: number, base: number, cap: number, random: () => number): number => {
  const d = Math.min(cap, base * 2 ** Math.min(n - 1, 30));
  return Math.round(d / 2 + (random() * d) / 2);
};

/** Reads at most `max` bytes of a response body as text, then cancels the rest. */
const readCapped = async (res: Response, max: number): Promise<string> => {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value.subarray(0, max - size));
      size += Math.min(value.byteLength, max - size);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const all = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return new TextDecoder().decode(all);
};

const message = (e: unknown): string => {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return '[cjm] the receiver did not answer in time';
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
};

/** Sends one claimed delivery and returns what to record. Never throws. */
export const attemptDelivery = async (
  d: ClaimedDelivery,
  rule: Rule | undefined,
  settings: AutomationSettings,
  secret: string,
  o: DeliveryOptions,
): Promise<DeliveryOutcome> => {
  const n = d.attempts + 1;
  const at = o.now();
  const timeoutMs = o.timeoutMs ?? DELIVERY_DEFAULTS.timeoutMs;
  let status: number | null = null;
  let error: string | null = null;
  let final = false;
  if (!rule) {
    error = '[cjm] the rule of this delivery no longer exists';
    final = true;
  } else {
    try {
      const { url, addresses } = await checkWebhookTarget(rule.action.url, settings.allowPrivateWebhooks, o.resolve);
      const timestamp = Math.floor(at / 1000);
      const res = await o.fetch(
        url.toString(),
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'cjm-webhooks/1',
            'X-Cjm-Signature': await signPayload(secret, timestamp, d.body),
            'X-Cjm-Timestamp': String(timestamp),
            'X-Cjm-Rule': rule.id,
            'X-Cjm-Attempt': String(n),
            'Idempotency-Key': d.id,
          },
          body: d.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        },
        addresses.length ? { addresses } : undefined,
      );
      status = res.status;
      const text = await readCapped(res, o.maxResponseBytes ?? DELIVERY_DEFAULTS.maxResponseBytes);
      if (status >= 300 && status < 400) {
        error = `[cjm] the receiver answered a redirect (${status}${res.headers.get('location') ? ` to ${res.headers.get('location')}` : ''}); redirects are not followed, use the final URL`;
      } else if (status < 200 || status >= 300) {
        error = `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
      }
    } catch (e) {
      error = message(e);
      final = e instanceof InputError;
    }
  }
  const durationMs = Math.max(0, o.now() - at);
  const attempt = { n, at, status, error, durationMs };
  if (error === null) return { status: 'delivered', nextAt: at, attempt };
  const delay = backoffMs(
    n,
    o.backoffBaseMs ?? DELIVERY_DEFAULTS.backoffBaseMs,
    o.backoffCapMs ?? DELIVERY_DEFAULTS.backoffCapMs,
    o.random ?? Math.random,
  );
  const nextAt = at + durationMs + delay;
  if (final || nextAt > d.createdAt + (o.maxAgeMs ?? DELIVERY_DEFAULTS.maxAgeMs))
    return { status: 'failed', nextAt, attempt };
  return { status: 'pending', nextAt, attempt };
};

/**
 * Delivers up to `limit` due webhooks.
 *
 * @example
 * await deliverDue({ store, now: Date.now, fetch })
 */
export const deliverDue = async (o: DeliveryOptions): Promise<DeliveryResult> => {
  const result: DeliveryResult = { delivered: 0, retrying: 0, failed: 0 };
  const claimed = await o.store.claimDeliveries(
    o.now(),
    o.leaseMs ?? DELIVERY_DEFAULTS.leaseMs,
    o.limit ?? DELIVERY_DEFAULTS.limit,
  );
  if (claimed.length === 0) return result;
  const perSite = new Map<
    string,
    Promise<{ rules: Map<string, Rule>; settings: AutomationSettings; secret: string }>
  >();
  const ctxOf = (site: string) => {
    let p = perSite.get(site);
    if (!p) {
      p = (async () => ({
        rules: new Map((await o.store.listRules(site)).map((r) => [r.id, r])),
        settings: await getAutomationSettings(o.store, site),
        secret: await getWebhookSecret(o.store, site),
      }))();
      perSite.set(site, p);
    }
    return p;
  };
  let next = 0;
  const worker = async () => {
    while (next < claimed.length) {
      const d = claimed[next++] as ClaimedDelivery;
      const ctx = await ctxOf(d.site);
      const outcome = await attemptDelivery(d, ctx.rules.get(d.rule), ctx.settings, ctx.secret, o);
      await o.store.finishDelivery(d, outcome);
      if (outcome.status === 'delivered') result.delivered++;
      else if (outcome.status === 'failed') result.failed++;
      else result.retrying++;
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(o.concurrency ?? DELIVERY_DEFAULTS.concurrency, claimed.length) }, worker),
  );
  return result;
};
