/**
 * Ingest through a queue (Cloudflare Queues on Workers, docs/scaling.md): the producer is an `Ingester` that turns
 * validated requests into messages and answers once the queue has accepted them (a queue write is durable); the
 * consumer turns a batch of messages back into requests and stores them with one `ingestBatch`.
 *
 * Redelivery is safe: a message is acknowledged only after its commit, and a message delivered twice (a consumer
 * that died between the commit and the acknowledgement) finds its events stored already, deduplicated by
 * `(site, event id)` like a client's retry.
 *
 * Runtime-agnostic: the queue is anything with `sendBatch` (a Workers `Queue` binding), a message anything with a
 * `body` and its delivery `attempts`.
 */
import { InputError } from './errors';
import {
  ingestBatch,
  type IngestEvent,
  type Ingester,
  type IngestOptions,
  type IngestRequest,
  type IngestResult,
} from './ingest';
import { admissionAddress, type Quota } from './quota';
import type { SiteConfig } from './stages';
import { StoreUnavailableError, type Store } from './store';

/** The body of one queued message: one request of one visitor, serializable (the site by id, the quota by address). */
export interface IngestMessage {
  v: 1;
  site: string;
  visitor: string;
  events: IngestEvent[];
  receivedAt: number;
  device?: string | null;
  dropped?: number;
  tooOld?: number;
  aliases?: string[];
  /**
   * Present when the quota applies (the request had an admission): the client address of `/collect` for the budget
   * of new visitors, null on `/v1/*`. The consumer rebuilds the admission from it with its own quota.
   */
  quota?: { address: string | null };
}

/** Cloudflare Queues' limits: a message, and one `sendBatch` call (messages and bytes). */
export const QUEUE_LIMITS = { messageBytes: 128 * 1024, batchMessages: 100, batchBytes: 256 * 1024 };

/** What a message may take before it is split: the limit less room for the queue's own envelope. */
const MESSAGE_ROOM = QUEUE_LIMITS.messageBytes - 4 * 1024;
/** What one `sendBatch` call may carry, with the same room. */
const BATCH_ROOM = QUEUE_LIMITS.batchBytes - 8 * 1024;

/** The queue as the producer sees it (a Workers `Queue<IngestMessage>` binding fits). */
export interface IngestQueue {
  sendBatch(messages: Iterable<{ body: IngestMessage; contentType?: 'json' }>): Promise<unknown>;
}

/** The answer of a request the queue accepted: its events, not yet deduplicated (the consumer does that). */
export type QueuedResult = IngestResult & { queued: true };

const encoder = new TextEncoder();
const bytes = (v: unknown) => encoder.encode(JSON.stringify(v)).byteLength;

/**
 * The messages of one request: one, unless its events take more than a message may hold (a `/v1/batch` of one
 * visitor can be 500 KB); then its events are split over several messages, the client-reported counts on the first.
 * Splitting is safe: events of one visitor are folded in `(ts, id)` order whichever ingest stores them.
 */
export const toMessages = (r: IngestRequest): { body: IngestMessage; bytes: number }[] => {
  const o = r.options ?? {};
  const base: IngestMessage = { v: 1, site: r.site.id, visitor: r.visitor, events: [], receivedAt: r.receivedAt };
  if (o.device !== undefined) base.device = o.device;
  if (o.aliases?.length) base.aliases = [...o.aliases];
  if (o.admit) base.quota = { address: admissionAddress(o.admit) ?? null };
  const counts: Pick<IngestMessage, 'dropped' | 'tooOld'> = {};
  if (o.dropped) counts.dropped = o.dropped;
  if (o.tooOld) counts.tooOld = o.tooOld;
  const whole: IngestMessage = { ...base, ...counts, events: [...r.events] };
  const size = bytes(whole);
  if (size <= MESSAGE_ROOM) return [{ body: whole, bytes: size }];
  const envelope = bytes({ ...base, ...counts });
  const out: { body: IngestMessage; bytes: number }[] = [];
  let current: IngestMessage = { ...base, ...counts, events: [] };
  let used = envelope;
  for (const e of r.events) {
    const b = bytes(e) + 1;
    if (current.events.length > 0 && used + b > MESSAGE_ROOM) {
      out.push({ body: current, bytes: used });
      current = { ...base, events: [] };
      used = envelope;
    }
    current.events.push(e);
    used += b;
  }
  if (current.events.length > 0) out.push({ body: current, bytes: used });
  return out;
};

/** Messages grouped for `sendBatch`: at most 100 messages and 256 KB a call. */
const sendGroups = <T extends { bytes: number }>(messages: readonly T[]): T[][] => {
  const groups: T[][] = [];
  let group: T[] = [];
  let used = 0;
  for (const m of messages) {
    if (group.length > 0 && (group.length >= QUEUE_LIMITS.batchMessages || used + m.bytes > BATCH_ROOM)) {
      groups.push(group);
      group = [];
      used = 0;
    }
    group.push(m);
    used += m.bytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
};

/**
 * The producer: an `Ingester` that sends every request to the queue and answers `{ accepted, duplicates: 0,
 * queued: true }` per request once the queue has taken them all (dedup happens in the consumer). A queue that
 * refuses answers 503 (`StoreUnavailableError`): the client retries, and whatever part was sent is deduplicated.
 *
 * @example
 * createApp({ ..., ingester: (c) => (c.env.INGEST ? queueIngester(c.env.INGEST) : ingestBatch) })
 */
export const queueIngester =
  (queue: IngestQueue): Ingester =>
  async (_store, requests) => {
    const messages = requests.flatMap(toMessages);
    try {
      for (const group of sendGroups(messages)) {
        await queue.sendBatch(group.map((m) => ({ body: m.body, contentType: 'json' as const })));
      }
    } catch (e) {
      console.error('[cjm] the ingest queue refused a send', e);
      const error = new StoreUnavailableError('[cjm] the ingest queue did not take the events; retry later', 5);
      return requests.map(() => ({ ok: false as const, error }));
    }
    return requests.map((r) => {
      const result: QueuedResult = { accepted: new Set(r.events.map((e) => e.id)).size, duplicates: 0, queued: true };
      return { ok: true as const, result };
    });
  };

/** A delivered message as the consumer sees it (a Workers `Message` fits). */
export interface DeliveredMessage {
  readonly body: unknown;
  /** Deliveries so far, this one included (1 on the first). */
  readonly attempts: number;
}

/** What to do with a message: acknowledge it (stored, or never storable), or deliver it again after a delay. */
export type Decision = { ack: true; error?: unknown } | { ack: false; delaySeconds: number; error: unknown };

/** Seconds before a failed message is delivered again: 2, 4, 8 … up to 5 minutes. */
export const retryDelay = (attempts: number): number => Math.min(300, 2 ** Math.max(1, attempts));

const isIngestMessage = (v: unknown): v is IngestMessage => {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Partial<IngestMessage>;
  return (
    m.v === 1 &&
    typeof m.site === 'string' &&
    typeof m.visitor === 'string' &&
    Array.isArray(m.events) &&
    typeof m.receivedAt === 'number'
  );
};

export interface ConsumeOptions {
  /** The quota the consumer admits new events with (a message carries only whether it applies, and the address). */
  quota?: Quota | null;
  /** Default `ingestBatch`. */
  ingester?: Ingester;
}

/**
 * The consumer: one decision per message, in order. The batch's messages are stored with one `ingestBatch` (each
 * site loaded once); a message is acknowledged once its outcome is stored, or when it can never be (an `InputError`,
 * a site deleted since, a body that is not a message: logged); a store error, a lost version race or a full
 * database retries it after `retryDelay`, and after the queue's `max_retries` it goes to the dead-letter queue.
 *
 * @example
 * const decisions = await consumeIngest(store, batch.messages, { quota })
 * decisions.forEach((d, i) => (d.ack ? batch.messages[i].ack() : batch.messages[i].retry({ delaySeconds: d.delaySeconds })))
 */
export const consumeIngest = async (
  store: Store,
  messages: readonly DeliveredMessage[],
  options: ConsumeOptions = {},
): Promise<Decision[]> => {
  const decisions: Decision[] = Array.from({ length: messages.length });
  const retry = (i: number, error: unknown) => {
    decisions[i] = { ack: false, delaySeconds: retryDelay(messages[i]?.attempts ?? 1), error };
  };
  const sites = new Map<string, Promise<SiteConfig | null>>();
  const requests: IngestRequest[] = [];
  const owners: number[] = [];
  for (let i = 0; i < messages.length; i++) {
    const body = messages[i]?.body;
    if (!isIngestMessage(body)) {
      decisions[i] = { ack: true, error: new InputError(400, '[cjm] a queued message is not an ingest message') };
      continue;
    }
    let site = sites.get(body.site);
    if (!site) sites.set(body.site, (site = store.getSite(body.site)));
    let config: SiteConfig | null;
    try {
      config = await site;
    } catch (e) {
      retry(i, e);
      continue;
    }
    if (!config) {
      decisions[i] = { ack: true, error: new InputError(404, `[cjm] unknown site "${body.site}"`, 'site') };
      continue;
    }
    const request: IngestRequest = {
      site: config,
      visitor: body.visitor,
      events: body.events,
      receivedAt: body.receivedAt,
    };
    const opts: IngestOptions = {};
    if (body.device !== undefined) opts.device = body.device;
    if (body.dropped) opts.dropped = body.dropped;
    if (body.tooOld) opts.tooOld = body.tooOld;
    if (body.aliases?.length) opts.aliases = body.aliases;
    if (body.quota && options.quota)
      opts.admit = options.quota.admission(store, config, body.quota.address, body.receivedAt);
    request.options = opts;
    requests.push(request);
    owners.push(i);
  }
  if (requests.length > 0) {
    let outcomes;
    try {
      outcomes = await (options.ingester ?? ingestBatch)(store, requests);
    } catch (e) {
      outcomes = requests.map(() => ({ ok: false as const, error: e }));
    }
    owners.forEach((i, k) => {
      const o = outcomes[k];
      if (o?.ok) decisions[i] = { ack: true };
      else if (o && o.error instanceof InputError) decisions[i] = { ack: true, error: o.error };
      else retry(i, o ? o.error : new Error('[cjm] the ingest answered fewer outcomes than it had requests'));
    });
  }
  return decisions;
};
