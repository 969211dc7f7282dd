/**
 * Webhook outbox rows as both stores write and read them (store/webhook-sqlite.ts,
 * store/pg/webhook-store.ts): the new rows of a batch of drafts, and a row turned into what the
 * contract (webhook-types.ts) returns.
 */
import { randomBytes } from 'node:crypto';
import type { MessageSummary } from '../mail/types.js';
import type { WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookEventDraft } from './webhook-types.js';

/** A webhook_deliveries row as a store reads it: SQLite's integers, or PostgreSQL's bigints as text. */
export interface WebhookDeliveryRow {
  seq: number | string;
  id: string;
  endpoint: string;
  event: string;
  mailbox: string | null;
  payload: string;
  created_at: number | string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: number | string | null;
  last_status_code: number | null;
  last_error: string | null;
  finished_at: number | string | null;
}

/** An attempt as both stores hand it back (aggregated as JSON next to its delivery). */
export interface WebhookAttemptRow {
  at: number | string;
  status_code: number | null;
  error: string | null;
  duration_ms: number | string;
}

const isoOfMs = (ms: number | string) => new Date(Number(ms)).toISOString();
const isoOrNull = (ms: number | string | null) => (ms === null ? null : isoOfMs(ms));

export function webhookDeliveryOf(row: WebhookDeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    seq: Number(row.seq),
    endpoint: row.endpoint,
    event: row.event,
    mailbox: row.mailbox,
    payload: row.payload,
    createdAt: isoOfMs(row.created_at),
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: isoOrNull(row.next_attempt_at),
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    finishedAt: isoOrNull(row.finished_at),
  };
}

export function webhookAttemptOf(row: WebhookAttemptRow): WebhookAttempt {
  return { at: isoOfMs(row.at), statusCode: row.status_code, error: row.error, durationMs: Number(row.duration_ms) };
}

/** A new outbox row's values, before the database gives it its seq: pending and due at `now`. */
export interface NewWebhookRow {
  readonly id: string;
  readonly draft: WebhookEventDraft;
  readonly now: number;
}

export function newWebhookRows(drafts: readonly WebhookEventDraft[], now: number): NewWebhookRow[] {
  const random = randomBytes(16 * drafts.length);
  return drafts.map((draft, i) => ({ id: timeOrderedUuid(now, random.subarray(16 * i, 16 * (i + 1))), draft, now }));
}

/**
 * A UUID version 7 (RFC 9562): the time in its first 48 bits, then 74 random bits. Time first, so
 * new ids land at the end of the outbox's unique index instead of on random pages of it: with
 * random (version 4) ids a commit of 100 messages × 2 endpoints rewrote most of that index's
 * pages: 14.0 KB written per message instead of 10.4–10.7 (bench/store-commit.ts --batch 100
 * --webhook-endpoints 2; 7.5 KB without webhooks).
 * `random` is 16 bytes, overwritten.
 */
export function timeOrderedUuid(now: number, random: Buffer): string {
  random.writeUIntBE(Math.max(0, Math.trunc(now)) % 2 ** 48, 0, 6);
  random[6] = 0x70 | (random[6]! & 0x0f);
  random[8] = 0x80 | (random[8]! & 0x3f);
  const hex = random.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The outbox drafts of a stored message (`NewMessage.webhookEndpoints`): one per endpoint, the
 * summary the insert returns as the payload, so the webhook says what the live frame says.
 */
export function storedMessageDrafts(endpoints: readonly string[] | undefined, summary: MessageSummary): WebhookEventDraft[] {
  if (!endpoints || endpoints.length === 0) return [];
  const payload = JSON.stringify(summary);
  return endpoints.map((endpoint) => ({ endpoint, event: 'message:stored', payload, mailbox: summary.mailbox }));
}
