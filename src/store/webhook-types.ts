/**
 * The webhook outbox's storage contract (issue 22): every event a webhook endpoint is to hear of is
 * a row here before it is sent, so deliveries survive restarts and kill -9 (at least once). Storage
 * never announces and never sends: src/webhooks/ claims rows, POSTs them and records the outcome.
 *
 * Order: each endpoint's deliveries go out one at a time in `seq` order. `claimNext` hands out only
 * the endpoint's head (its oldest delivery neither delivered nor failed), and only when it is due;
 * a later one waits behind a head that is being retried.
 */
import type { MailboxScope } from '../mail/mailbox-scope.js';

/** `sending` while claimed (by this node, or under a PostgreSQL lease by another). */
export type WebhookDeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

/** An event to send to one endpoint, as the outbox is given it. */
export interface WebhookEventDraft {
  /** The endpoint's URL as configured (`--webhook`): the outbox's key for order and listing. */
  readonly endpoint: string;
  /** The bus event's name (`message:stored`, `message:deleted`, …). */
  readonly event: string;
  /** The event's data as JSON text (the live frame's `data`), sent as it was when the change committed. */
  readonly payload: string;
  /** The mailbox the event concerns (scoped logins list only theirs); null for none (`messages:cleared`). */
  readonly mailbox: string | null;
}

export interface WebhookAttempt {
  /** ISO 8601. */
  readonly at: string;
  /** The endpoint's HTTP status; null when none came (refused, reset, timed out). */
  readonly statusCode: number | null;
  /** Why it failed, in words (a timeout, a refusal, "HTTP 503"); null when delivered. */
  readonly error: string | null;
  readonly durationMs: number;
}

export interface WebhookDelivery {
  /** Stable across retries and restarts: the receiver de-duplicates by it. A UUID. */
  readonly id: string;
  /** Outbox order (increasing in enqueue order; per endpoint, the order of sending). */
  readonly seq: number;
  readonly endpoint: string;
  readonly event: string;
  readonly mailbox: string | null;
  readonly payload: string;
  /** ISO 8601: when the change committed (the body's timestamp). */
  readonly createdAt: string;
  readonly status: WebhookDeliveryStatus;
  readonly attempts: number;
  /** ISO 8601; set while pending. */
  readonly nextAttemptAt: string | null;
  /** The last attempt's HTTP status and error, as in WebhookAttempt. */
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  /** ISO 8601; set once delivered or failed. */
  readonly finishedAt: string | null;
}

export interface WebhookOutcome {
  /** `pending` again (retried at nextAttemptAt), `delivered`, or `failed` (given up). */
  readonly status: 'pending' | 'delivered' | 'failed';
  /** Epoch ms; when pending. */
  readonly nextAttemptAt: number | null;
  readonly attempt: Omit<WebhookAttempt, 'at'> & { readonly at: number };
}

export interface WebhookListOptions {
  readonly endpoint?: string | null;
  readonly status?: WebhookDeliveryStatus | null;
  /** Only deliveries with a lower seq (the next page of a newest-first list). */
  readonly beforeSeq?: number | null;
  readonly limit: number;
}

export interface WebhookStore {
  /** Adds deliveries, pending and due at `now`, in the given order; returns them. */
  enqueue(drafts: readonly WebhookEventDraft[], now: number): Promise<WebhookDelivery[]>;
  /** The endpoint's head delivery when it is pending and due at `now` (marked `sending`), else null. */
  claimNext(endpoint: string, now: number): Promise<WebhookDelivery | null>;
  /** When the endpoint's head is next due (epoch ms); null when it has nothing pending. */
  nextDueAt(endpoint: string): Promise<number | null>;
  /** Records an attempt on a claimed delivery; false when it is no longer this node's claim (nothing written). */
  complete(id: string, outcome: WebhookOutcome): Promise<boolean>;
  /** After a crash or restart: deliveries left `sending` (by this process, or with a lapsed lease) are pending again; returns how many. */
  requeueInterrupted(now: number): Promise<number>;
  /** Newest first, within the scope (a delivery without a mailbox only for a scope of every mailbox), each with its attempts (oldest first). */
  list(scope: MailboxScope, options: WebhookListOptions): Promise<(WebhookDelivery & { readonly history: readonly WebhookAttempt[] })[]>;
  /** How many deliveries are in each status, every endpoint's (the metrics' outbox depth). */
  countByStatus(): Promise<Record<WebhookDeliveryStatus, number>>;
  /** Deletes delivered and failed deliveries finished before this time (epoch ms), with their attempts; returns how many. */
  pruneFinished(before: number): Promise<number>;
}

/** Every status at zero: what countByStatus starts from. */
export function noWebhookDeliveries(): Record<WebhookDeliveryStatus, number> {
  return { pending: 0, sending: 0, delivered: 0, failed: 0 };
}
