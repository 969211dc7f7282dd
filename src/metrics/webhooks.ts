/**
 * The webhook dispatcher's metrics (issue 22), registered in Kotak's registry only when a webhook
 * is configured (src/app.ts), so a Kotak without one exposes none of them. The outbox's depth,
 * `kotak_webhook_deliveries{status}`, is read at scrape time with the other database counts
 * (src/metrics/index.ts, ScrapeSources.webhookDeliveries).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { WebhookMetrics } from './types.js';

/** An attempt: 1 ms (a receiver on loopback) to 30 s (past any sensible --webhook-timeout). */
export const WEBHOOK_ATTEMPT_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const OUTCOMES = ['delivered', 'retry', 'failed'] as const;

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry];
  const attempts = new Counter({ name: 'kotak_webhook_attempts_total', help: 'Webhook delivery attempts, by outcome: delivered (a 2xx), retry (to be tried again), failed (given up)', labelNames: ['outcome'], registers });
  const duration = new Histogram({ name: 'kotak_webhook_attempt_duration_seconds', help: 'How long a webhook delivery attempt took, until the answer, the error or the timeout', buckets: [...WEBHOOK_ATTEMPT_BUCKETS], registers });
  const failures = new Counter({ name: 'kotak_webhook_failures_total', help: 'Webhook deliveries given up (their retry window over): the event never reached the endpoint', registers });

  // Every series from the start: a rate over a counter that appears later misses its first step.
  const byOutcome = new Map(OUTCOMES.map((outcome) => [outcome, attempts.labels(outcome)]));
  for (const child of byOutcome.values()) child.inc(0);
  failures.inc(0);

  return {
    attempted(outcome, seconds) {
      byOutcome.get(outcome)!.inc();
      duration.observe(seconds);
      if (outcome === 'failed') failures.inc();
    },
  };
}
