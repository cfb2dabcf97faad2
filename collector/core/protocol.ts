/**
 * The wire format between the tag (or any client) and the collector: `POST /collect`.
 * Documented for humans in docs/protocol.md. The SDK imports this file with `import type` only,
 * so every value exported here (limits) stays on the collector side.
 */
import { FIELD_LIMITS, type WireFields } from './event-fields';

/** What an event records. */
export type EventType = 'page' | 'event' | 'stage' | 'identify' | 'vital' | 'feedback';

export const EVENT_TYPES: readonly EventType[] = ['page', 'event', 'stage', 'identify', 'vital', 'feedback'];

/** Property values are flat scalars; nested objects are refused (they would explode cardinality). */
export type PropValue = string | number | boolean | null;
export type Props = Record<string, PropValue>;

/**
 * One event as the client sends it: the `wire` fields of the field table (event-fields.ts; documented in
 * docs/protocol.md, "Event fields"): `id`, `type`, `ts` always, and optional `url`, `referrer`, `title`, `name`,
 * `stage`, `userId`, `value`, `props`.
 */
export type WireEvent = WireFields;

/** One request body. */
export interface WireBatch {
  site: string;
  /** Pseudonymous visitor id kept by the tag; absent in no-storage mode (the collector then derives one). */
  visitor?: string;
  /** Client-side session id (informational; the collector computes sessions itself). */
  session?: string;
  /** Client clock when the batch was sent, used to correct clock skew of every `ts`. */
  sent?: number;
  /** Events the client's outbox had to drop since its last successful send (reported, never silent). */
  dropped?: number;
  events: WireEvent[];
}

/** `202` answer of `POST /collect`. */
export interface CollectResponse {
  accepted: number;
  duplicates: number;
}

/** Every 4xx/5xx answer of the collector. */
export interface ErrorResponse {
  error: string;
  /** The offending field, e.g. `events[3].ts`. */
  path?: string;
}

/**
 * Limits enforced by the collector (see docs/protocol.md). The per-field ones come from the field table
 * (event-fields.ts): `idLength`, `nameLength`, `stageLength`, `urlLength`, `titleLength`, `userIdLength`, `props`,
 * `propKeyLength`, `propValueLength`.
 */
export const LIMITS = {
  bodyBytes: 64 * 1024,
  eventsPerBatch: 100,
  siteLength: 64,
  ...FIELD_LIMITS,
  /** Events older than this are rejected: an outbox never holds them this long. */
  pastMs: 31 * 24 * 60 * 60 * 1000,
} as const;
