/**
 * What automation keeps in the store: armed stalls, the webhook delivery queue and its log. The SQL lives in
 * collector/stores/sql/automation.ts; the Store methods are declared in core/store.ts.
 */

/** A stall armed by an entry into a stalled rule's stages; evaluated when `dueAt` has passed. */
export interface StallArm {
  /** Deterministic: rule + entry event. */
  id: string;
  rule: string;
  /** The visitor whose event caused the entry (their link leads to the journey, even after a merge). */
  visitor: string;
  entryEvent: string;
  entryAt: number;
  /** Earliest time the stall can fire (entry + T); an idle stall is pushed later while the visitor is active. */
  dueAt: number;
}

export type StallStatus = 'armed' | 'fired' | 'progressed' | 'superseded' | 'cancelled';

export interface Stall extends StallArm {
  site: string;
  status: StallStatus;
}

export interface StallUpdate {
  site: string;
  id: string;
  status: StallStatus;
  /** New due time (status `armed`: rescheduled). */
  dueAt?: number;
}

/** A webhook delivery to queue, written in the same commit as the events that caused it. */
export interface NewDelivery {
  /** Deterministic: site + rule + triggering event, so a repeat or a refold is a no-op (INSERT OR IGNORE). */
  id: string;
  rule: string;
  /** The triggering event. */
  event: string;
  /** The visitor of the triggering event (erasing the visitor erases the delivery, whose body carries their journey). */
  visitor: string;
  /** The JSON body, frozen when the rule fired, so every retry sends the same bytes. */
  body: string;
  createdAt: number;
}

/** Automation writes that ride along with an ingest commit (atomically with the events). */
export interface AutomationWrite {
  deliveries: NewDelivery[];
  stalls: StallArm[];
  /** Stalls whose synthetic event is in this commit. */
  fired: string[];
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryAttempt {
  /** 1-based. */
  n: number;
  at: number;
  /** HTTP status, null when no answer came (timeout, refused target, network error). */
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface Delivery {
  id: string;
  site: string;
  rule: string;
  event: string;
  visitor: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: number;
  /** When the next attempt is due (pending). */
  nextAt: number;
  /** When it was delivered or given up. */
  doneAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  log: DeliveryAttempt[];
}

/** A delivery claimed by a run: its body, and the claim token that must match when the run reports back. */
export interface ClaimedDelivery extends Omit<Delivery, 'log'> {
  body: string;
  claim: string;
}

export interface DeliveryOutcome {
  status: DeliveryStatus;
  nextAt: number;
  attempt: DeliveryAttempt;
}

export interface DeliveryQuery {
  rule?: string;
  status?: DeliveryStatus;
  limit: number;
}
