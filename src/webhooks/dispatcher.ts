/**
 * Sends the webhook outbox (issue 22): one worker per endpoint, each taking that endpoint's head
 * delivery (`claimNext`), POSTing it, and recording the outcome (`complete`) before it takes the
 * next, so each endpoint hears of events in order and one endpoint's failures never hold up another.
 *
 * A worker sleeps until it is woken (an enqueue on this node), its head's retry is due (a timer at
 * `nextDueAt`), or, with many nodes on one database, the periodic look for what other nodes
 * enqueued. Nothing here is on the SMTP path: intake only writes outbox rows.
 *
 * At least once: a delivery is `sending` while its request is out; a stop that cannot wait for the
 * answer leaves it so, and the next start (`requeueInterrupted`) sends it again. Receivers
 * de-duplicate by the delivery's id.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { WebhookMetrics } from '../metrics/types.js';
import type { WebhookDelivery, WebhookOutcome, WebhookStore } from '../store/webhook-types.js';
import { nextRetryAt, readRetryAfter } from './backoff.js';
import type { WebhookEndpoint } from './endpoint.js';
import { createTransport, postWebhook, type PostResult } from './post.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';
import type { WebhookBodyBuilder } from './types.js';

export interface DispatcherSettings {
  readonly endpoints: readonly WebhookEndpoint[];
  /** HMAC key of the signature header; null: requests are not signed. */
  readonly secret: string | null;
  readonly timeoutMs: number;
  readonly retryForMs: number;
  /** How often to look for deliveries this node was not told of (other nodes' enqueues); null: never. */
  readonly pollEveryMs: number | null;
  /** `Kotak/<version>`. */
  readonly userAgent: string;
  /** How long stopping waits for requests in flight before it aborts them (default 2 s). */
  readonly stopGraceMs?: number;
}

export interface DispatcherDeps {
  readonly store: WebhookStore;
  readonly buildBody: WebhookBodyBuilder;
  readonly log: Logger;
  readonly metrics?: WebhookMetrics;
  readonly now?: () => number;
  /** A draw in [0, 1) for the backoff's jitter. */
  readonly random?: () => number;
}

export interface Dispatcher {
  /** Requeues what a stop or crash left `sending`, then starts the workers. */
  start(): Promise<void>;
  /** Something may be due now (an enqueue): every worker looks once more. */
  wake(): void;
  /** Stops taking deliveries; waits a short grace for requests in flight, then aborts them. */
  stop(): Promise<void>;
}

const DEFAULT_STOP_GRACE_MS = 2000;
/** After the outbox itself failed (the database), how long a worker waits before it asks again. */
const STORE_ERROR_PAUSE_MS = 1000;
/** setTimeout's longest delay; a later due time is slept towards in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Worker {
  readonly endpoint: WebhookEndpoint;
  wake(): void;
  /** Resolves once the worker has stopped (its request answered or aborted). */
  readonly done: Promise<void>;
}

export function createDispatcher(settings: DispatcherSettings, deps: DispatcherDeps): Dispatcher {
  const { store, buildBody, log, metrics } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  /** Aborts the requests still out when the stop's grace is over. */
  const abort = new AbortController();
  let stopping = false;
  let workers: Worker[] = [];

  function startWorker(endpoint: WebhookEndpoint): Worker {
    const transport = createTransport();
    const wlog = log.child({ endpoint: endpoint.logName });
    let wakeRequested = true;
    let wakeUp: (() => void) | null = null;

    const wake = (): void => {
      wakeRequested = true;
      wakeUp?.();
    };

    /** Until woken, stopping, or `ms` passed (null: no timer). */
    const sleep = (ms: number | null): Promise<void> =>
      new Promise<void>((resolve) => {
        const timer = ms === null ? undefined : setTimeout(() => wakeUp?.(), Math.min(Math.max(ms, 0), MAX_TIMER_MS));
        wakeUp = () => {
          clearTimeout(timer);
          wakeUp = null;
          resolve();
        };
      });

    const headers = (delivery: WebhookDelivery, attempt: number, body: string): Record<string, string> => ({
      'Content-Type': 'application/json',
      'User-Agent': settings.userAgent,
      'Kotak-Webhook-Id': delivery.id,
      'Kotak-Webhook-Event': delivery.event,
      'Kotak-Webhook-Attempt': String(attempt),
      ...(settings.secret !== null ? { [SIGNATURE_HEADER]: signatureHeader(settings.secret, Math.floor(now() / 1000), body) } : {}),
    });

    /** Records an outcome; the database failing is waited out (the delivery stays this node's meanwhile). */
    const record = async (delivery: WebhookDelivery, outcome: WebhookOutcome): Promise<boolean> => {
      for (;;) {
        try {
          return await store.complete(delivery.id, outcome);
        } catch (err) {
          wlog.error({ err, deliveryId: delivery.id }, 'could not record a webhook attempt; trying again');
          if (stopping) return false;
          await new Promise((resolve) => setTimeout(resolve, STORE_ERROR_PAUSE_MS));
        }
      }
    };

    const attempt = async (delivery: WebhookDelivery): Promise<void> => {
      const attemptNumber = delivery.attempts + 1;
      const startedAt = now();
      const started = performance.now();
      let result: PostResult;
      try {
        const body = await buildBody(delivery);
        result = await postWebhook(transport, endpoint, body, headers(delivery, attemptNumber, body), settings.timeoutMs, abort.signal);
      } catch (err) {
        // The body could not be made (e.g. what it describes is gone): an attempt that failed, retried as any other.
        result = { statusCode: null, error: `the body could not be built: ${(err as Error).message}`, retryAfter: undefined, aborted: false };
      }
      // Stopped mid-request: nothing is known, so nothing is recorded; it is sent again after a restart.
      if (result.aborted) return;
      const durationMs = Math.round(performance.now() - started);
      const endedAt = now();
      const delivered = result.error === null;
      const nextAttemptAt = delivered
        ? null
        : nextRetryAt({
            attempts: attemptNumber, now: endedAt, createdAt: Date.parse(delivery.createdAt), retryForMs: settings.retryForMs,
            retryAfterMs: readRetryAfter(result.retryAfter, endedAt), random: random(),
          });
      const status = delivered ? 'delivered' : nextAttemptAt === null ? 'failed' : 'pending';
      const recorded = await record(delivery, {
        status, nextAttemptAt,
        attempt: { at: startedAt, statusCode: result.statusCode, error: result.error, durationMs },
      });
      metrics?.attempted(status === 'pending' ? 'retry' : status, durationMs / 1000);
      const fields = { deliveryId: delivery.id, event: delivery.event, attempt: attemptNumber, statusCode: result.statusCode, durationMs };
      if (!recorded && stopping) {
        // Kotak stopped while the database failed: the delivery stays `sending`, sent again after a restart.
      } else if (!recorded) {
        // A PostgreSQL lease that lapsed: another node holds the delivery now and its outcome stands.
        wlog.warn(fields, 'webhook attempt not recorded: the delivery is no longer held by this node');
      } else if (status === 'failed') {
        wlog.warn({ ...fields, error: result.error, attempts: attemptNumber }, 'webhook delivery failed: its retry window is over, it will not be sent again');
      } else if (status === 'pending') {
        wlog.info({ ...fields, error: result.error, nextAttemptAt: new Date(nextAttemptAt!).toISOString() }, 'webhook attempt failed; will retry');
      } else {
        wlog.debug(fields, 'webhook delivered');
      }
    };

    const run = async (): Promise<void> => {
      while (!stopping) {
        wakeRequested = false;
        let pause: number | null = null;
        try {
          const delivery = await store.claimNext(endpoint.name, now());
          if (delivery) {
            await attempt(delivery);
            continue;
          }
          const due = await store.nextDueAt(endpoint.name);
          if (due !== null) pause = due - now();
          if (settings.pollEveryMs !== null) pause = pause === null ? settings.pollEveryMs : Math.min(pause, settings.pollEveryMs);
        } catch (err) {
          wlog.error({ err }, 'the webhook outbox could not be read; trying again');
          pause = STORE_ERROR_PAUSE_MS;
        }
        // Woken while it looked: look again rather than sleep past it.
        if (wakeRequested || stopping) continue;
        await sleep(pause);
      }
      transport.close();
    };

    const done = run().catch((err: unknown) => wlog.error({ err }, 'webhook worker stopped unexpectedly'));
    return { endpoint, wake, done };
  }

  return {
    async start() {
      const requeued = await store.requeueInterrupted(now());
      if (requeued > 0) log.warn({ deliveries: requeued }, 'webhook deliveries interrupted by a stop are pending again (receivers may see them twice: de-duplicate by id)');
      workers = settings.endpoints.map(startWorker);
    },
    wake() {
      for (const worker of workers) worker.wake();
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      for (const worker of workers) worker.wake();
      const all = Promise.allSettled(workers.map((w) => w.done));
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((resolve) => (graceTimer = setTimeout(resolve, settings.stopGraceMs ?? DEFAULT_STOP_GRACE_MS)))]);
      clearTimeout(graceTimer);
      abort.abort();
      await all;
    },
  };
}
