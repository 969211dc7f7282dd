/**
 * What the webhook modules share (issue 22): the body formats and what a delivery attempt reports.
 * The outbox itself is store/webhook-types.ts.
 */
import type { WebhookDelivery } from '../store/webhook-types.js';

/** `--webhook-format`: Kotak's `{id, type, timestamp, data}`, or Mailpit's new-message summary. */
export type WebhookFormat = 'kotak' | 'mailpit';

/** Builds the JSON request body of a delivery, the same bytes on every attempt's signature. */
export type WebhookBodyBuilder = (delivery: WebhookDelivery) => Promise<string>;
