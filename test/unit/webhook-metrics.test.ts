/**
 * The webhook metrics (src/metrics/webhooks.ts and the outbox gauge of src/metrics/index.ts) as
 * Prometheus reads them: the series exist from the start, move with each attempt, the outbox depth
 * is read at scrape time, and the text passes Debian's `promtool check metrics`. None of them
 * exists in a Kotak without a webhook.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics, type ScrapeSources } from '../../src/metrics/index.js';
import { createWebhookMetrics } from '../../src/metrics/webhooks.js';
import { noWebhookDeliveries } from '../../src/store/webhook-types.js';
import { parseSamples, promtoolCheck } from '../helpers/metrics.js';

const log = pino({ level: 'silent' });
const baseSources: ScrapeSources = { waiters: () => 0, websocketClients: () => ({}), relayJobs: null, databaseBytes: async () => null };

async function samplesOf(metrics: ReturnType<typeof createMetrics>): Promise<{ body: string; samples: Map<string, number> }> {
  const { body } = await metrics.render();
  return { body, samples: parseSamples(body) };
}

describe('webhook metrics', () => {
  it('count attempts by outcome, time them, count give-ups, and read the outbox depth when scraped', async () => {
    const metrics = createMetrics({ log });
    const webhooks = createWebhookMetrics(metrics.registry);
    let depth = { ...noWebhookDeliveries(), pending: 3 };
    metrics.scrapeFrom({ ...baseSources, webhookDeliveries: async () => depth });

    const before = await samplesOf(metrics);
    expect(before.samples.get('kotak_webhook_attempts_total{outcome="delivered"}')).toBe(0);
    expect(before.samples.get('kotak_webhook_attempts_total{outcome="retry"}')).toBe(0);
    expect(before.samples.get('kotak_webhook_attempts_total{outcome="failed"}')).toBe(0);
    expect(before.samples.get('kotak_webhook_failures_total')).toBe(0);
    expect(before.samples.get('kotak_webhook_attempt_duration_seconds_count')).toBe(0);
    expect(before.samples.get('kotak_webhook_deliveries{status="pending"}')).toBe(3);
    expect(before.samples.get('kotak_webhook_deliveries{status="failed"}')).toBe(0);

    webhooks.attempted('retry', 5);
    webhooks.attempted('retry', 0.002);
    webhooks.attempted('delivered', 0.004);
    webhooks.attempted('failed', 0.5);
    depth = { pending: 1, sending: 1, delivered: 1, failed: 1 };

    const after = await samplesOf(metrics);
    expect(after.samples.get('kotak_webhook_attempts_total{outcome="delivered"}')).toBe(1);
    expect(after.samples.get('kotak_webhook_attempts_total{outcome="retry"}')).toBe(2);
    expect(after.samples.get('kotak_webhook_attempts_total{outcome="failed"}')).toBe(1);
    expect(after.samples.get('kotak_webhook_failures_total')).toBe(1);
    expect(after.samples.get('kotak_webhook_attempt_duration_seconds_count')).toBe(4);
    expect(after.samples.get('kotak_webhook_attempt_duration_seconds_sum')).toBeCloseTo(5.506, 6);
    expect(after.samples.get('kotak_webhook_attempt_duration_seconds_bucket{le="0.005"}')).toBe(2);
    expect(after.samples.get('kotak_webhook_attempt_duration_seconds_bucket{le="+Inf"}')).toBe(4);
    for (const status of ['pending', 'sending', 'delivered', 'failed']) expect(after.samples.get(`kotak_webhook_deliveries{status="${status}"}`)).toBe(1);

    const check = await promtoolCheck(after.body);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  it('keep the last outbox depth when the database cannot be read during a scrape', async () => {
    const metrics = createMetrics({ log });
    let fail = false;
    metrics.scrapeFrom({ ...baseSources, webhookDeliveries: async () => {
      if (fail) throw new Error('database gone');
      return { ...noWebhookDeliveries(), delivered: 7 };
    } });
    expect((await samplesOf(metrics)).samples.get('kotak_webhook_deliveries{status="delivered"}')).toBe(7);
    fail = true;
    expect((await samplesOf(metrics)).samples.get('kotak_webhook_deliveries{status="delivered"}')).toBe(7);
  });

  it('are absent when no webhook is configured (no WebhookMetrics made, no outbox to read)', async () => {
    const metrics = createMetrics({ log });
    metrics.scrapeFrom(baseSources);
    const { body, samples } = await samplesOf(metrics);
    expect([...samples.keys()].filter((series) => series.startsWith('kotak_webhook_'))).toEqual([]);
    expect(body).not.toMatch(/kotak_webhook_/);
  });
});
