/**
 * Puts the subscribed events other than `message:stored` into the webhook outbox, just after their
 * change committed (`message:stored` is written by the store with the message itself:
 * `NewMessage.webhookEndpoints`). It listens on this node's own bus, never the cluster bus: each
 * node enqueues its own changes once.
 *
 * The events of one turn of the event loop are written in one `enqueue` (a delete of many mailboxes
 * is one event per mailbox), and writes go one after another, so the outbox keeps the bus's order.
 * A kill -9 between a change's commit and this write loses that event's webhook: README says so.
 */
import type { Logger } from 'pino';
import type { EventBus, MailEventName } from '../events.js';
import type { WebhookEventDraft, WebhookStore } from '../store/webhook-types.js';

export interface EventEnqueueSettings {
  /** The events to enqueue (`message:stored` among them is left to the store). */
  readonly events: readonly MailEventName[];
  /** Every endpoint's name (the outbox key): each hears of every event. */
  readonly endpoints: readonly string[];
}

export interface EventEnqueueDeps {
  readonly bus: EventBus;
  readonly store: WebhookStore;
  readonly log: Logger;
  /** After deliveries were written: the dispatcher looks for them. */
  readonly onEnqueued: () => void;
  readonly now?: () => number;
}

export interface EventEnqueue {
  /** Stops listening and writes what was heard before. */
  stop(): Promise<void>;
}

/** The mailbox an event's data names, for scoped listings; null when it names none. */
function mailboxOf(data: unknown): string | null {
  const mailbox = (data as { mailbox?: unknown } | null)?.mailbox;
  return typeof mailbox === 'string' ? mailbox : null;
}

export function listenForWebhookEvents(settings: EventEnqueueSettings, deps: EventEnqueueDeps): EventEnqueue {
  const { bus, store, log } = deps;
  const now = deps.now ?? Date.now;
  let batch: WebhookEventDraft[] = [];
  let flushScheduled = false;
  /** The last write: the next one starts after it, so rows keep the order events were heard in. */
  let writing: Promise<void> = Promise.resolve();

  const flush = (): void => {
    flushScheduled = false;
    const drafts = batch;
    batch = [];
    if (drafts.length === 0) return;
    writing = writing.then(async () => {
      try {
        await store.enqueue(drafts, now());
        deps.onEnqueued();
      } catch (err) {
        log.error({ err, deliveries: drafts.length, events: [...new Set(drafts.map((d) => d.event))] }, 'could not write webhook deliveries to the outbox; these events will not be sent');
      }
    });
  };

  const heard = (event: MailEventName, data: unknown): void => {
    const payload = JSON.stringify(data);
    const mailbox = mailboxOf(data);
    for (const endpoint of settings.endpoints) batch.push({ endpoint, event, payload, mailbox });
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const unsubscribes = settings.events
    .filter((event) => event !== 'message:stored')
    .map((event) => bus.on(event, (data) => heard(event, data)));

  return {
    async stop() {
      for (const unsubscribe of unsubscribes) unsubscribe();
      flush();
      await writing;
    },
  };
}
