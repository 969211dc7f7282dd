/**
 * `--webhook-format mailpit`: the body Mailpit POSTs to its `--webhook-url` for each new message,
 * its message summary (the Data of its WebSocket `new` frame, compat/mailpit/shapes.ts), so a
 * receiver written for Mailpit works unchanged. Mailpit sends nothing else, so only
 * `message:stored` deliveries have this body (MAILPIT_WEBHOOK_EVENTS; the settings refuse others).
 *
 * Built from the delivery's payload (the summary as it was when the message committed) and the
 * store's extras (tags, Reply-To, attachment count, SMTP user) read when the attempt is made;
 * a message deleted since still gets its body, with the payload's tags and no extras.
 */
import { KotakError } from '../errors.js';
import type { MessageSummary } from '../mail/types.js';
import type { MessageStore, SummaryExtras } from '../store/types.js';
import type { WebhookDelivery } from '../store/webhook-types.js';
import { toMailpitSummary } from '../compat/mailpit/shapes.js';
import type { WebhookBodyBuilder } from './types.js';

/** The events Mailpit's body exists for. */
export const MAILPIT_WEBHOOK_EVENTS: readonly string[] = ['message:stored'];

/** What a deleted message is sent with: the tags it had when it was stored, nothing the store alone knew. */
function extrasOfPayload(summary: MessageSummary): SummaryExtras {
  return { tags: summary.tags, replyTo: [], attachments: 0, inline: 0, user: null };
}

export function createMailpitBody(store: Pick<MessageStore, 'summaryExtras'>): WebhookBodyBuilder {
  return async (delivery: WebhookDelivery) => {
    if (!MAILPIT_WEBHOOK_EVENTS.includes(delivery.event)) {
      throw new KotakError('invalid_config', `--webhook-format mailpit sends only ${MAILPIT_WEBHOOK_EVENTS.join(', ')}; delivery ${delivery.id} is ${delivery.event}`);
    }
    const summary = JSON.parse(delivery.payload) as MessageSummary;
    const extras = (await store.summaryExtras([summary.id])).get(summary.id) ?? extrasOfPayload(summary);
    return JSON.stringify(toMailpitSummary(summary, extras));
  };
}
