/**
 * Kotak's webhook body: the live frame's `{type, data}` with the delivery's id (stable across
 * retries: receivers de-duplicate by it) and the time its change committed.
 */
import type { WebhookBodyBuilder } from './types.js';

export function createKotakBody(): WebhookBodyBuilder {
  return (delivery) =>
    Promise.resolve(JSON.stringify({ id: delivery.id, type: delivery.event, timestamp: delivery.createdAt, data: JSON.parse(delivery.payload) as unknown }));
}
