/**
 * Webhooks (issue 22), built by app.ts only when a `--webhook` URL is given: the enqueue of
 * subscribed events (enqueue.ts; `message:stored` is written by the store with the message), the
 * dispatcher that sends the outbox (dispatcher.ts), and the hourly pruning of finished deliveries.
 */
import type { Logger } from 'pino';
import type { EventBus, MailEventName } from '../events.js';
import type { WebhookMetrics } from '../metrics/types.js';
import type { WebhookStore } from '../store/webhook-types.js';
import { createDispatcher } from './dispatcher.js';
import { readEndpoint } from './endpoint.js';
import { listenForWebhookEvents, type EventEnqueue } from './enqueue.js';
import type { WebhookBodyBuilder } from './types.js';

export interface WebhookSettings {
  /** `--webhook` URLs as given (they may carry credentials). */
  readonly urls: readonly string[];
  readonly events: readonly MailEventName[];
  readonly secret: string | null;
  readonly timeoutMs: number;
  readonly retryForMs: number;
  /** With many nodes on one database: how often to look for other nodes' deliveries; null: never. */
  readonly pollEveryMs: number | null;
  readonly userAgent: string;
}

export interface WebhookDeps {
  readonly store: WebhookStore;
  readonly buildBody: WebhookBodyBuilder;
  /** This node's own bus: the events it enqueues. */
  readonly bus: EventBus;
  /** Every node's events (the same bus with one node): a `message:stored` there means deliveries may be due. */
  readonly clusterBus: EventBus;
  readonly log: Logger;
  readonly metrics?: WebhookMetrics;
  readonly now?: () => number;
}

export interface Webhooks {
  start(): Promise<void>;
  /** Writes what was heard, then stops the dispatcher (a short grace for requests in flight). */
  stop(): Promise<void>;
}

/** Finished deliveries are kept this long (for GET /api/webhooks/deliveries), then pruned. */
export const KEEP_FINISHED_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * The outbox keys of the endpoints that hear of `message:stored` (for the mailbox service's
 * `webhookEndpointsForStored`): every endpoint when it is subscribed, else none.
 */
export function endpointsForStored(settings: Pick<WebhookSettings, 'urls' | 'events'>): string[] {
  return settings.events.includes('message:stored') ? settings.urls.map((url) => readEndpoint(url).name) : [];
}

export function createWebhooks(settings: WebhookSettings, deps: WebhookDeps): Webhooks {
  const { store, log } = deps;
  const now = deps.now ?? Date.now;
  const endpoints = settings.urls.map(readEndpoint);
  const dispatcher = createDispatcher(
    { endpoints, secret: settings.secret, timeoutMs: settings.timeoutMs, retryForMs: settings.retryForMs, pollEveryMs: settings.pollEveryMs, userAgent: settings.userAgent },
    { store, buildBody: deps.buildBody, log, now, ...(deps.metrics ? { metrics: deps.metrics } : {}) },
  );
  let enqueue: EventEnqueue | null = null;
  let unsubscribeStored: (() => void) | null = null;
  let pruneTimer: NodeJS.Timeout | undefined;

  const prune = async (): Promise<void> => {
    try {
      const pruned = await store.pruneFinished(now() - KEEP_FINISHED_MS);
      if (pruned > 0) log.info({ deliveries: pruned }, 'pruned webhook deliveries finished over 7 days ago');
    } catch (err) {
      log.error({ err }, 'could not prune finished webhook deliveries');
    }
  };

  return {
    async start() {
      await dispatcher.start();
      enqueue = listenForWebhookEvents({ events: settings.events, endpoints: endpoints.map((e) => e.name) }, { bus: deps.bus, store, log, now, onEnqueued: () => dispatcher.wake() });
      // Written by the store in the message's transaction: the event says they are there.
      if (settings.events.includes('message:stored')) unsubscribeStored = deps.clusterBus.on('message:stored', () => dispatcher.wake());
      void prune();
      pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS);
      pruneTimer.unref();
      log.info({ endpoints: endpoints.map((e) => e.logName), events: settings.events, signed: settings.secret !== null }, 'webhooks on');
    },
    async stop() {
      clearInterval(pruneTimer);
      unsubscribeStored?.();
      await enqueue?.stop();
      await dispatcher.stop();
    },
  };
}
