/**
 * GET /api/webhooks/deliveries (src/api/webhooks.ts) against a real Kotak on SQLite: with a webhook
 * to a real receiver and scoped logins (each sees its mailboxes' deliveries, with every attempt,
 * a page at a time); served when no webhook is configured (an empty list, `enabled: false`); a bad
 * query answered 400 with the registry's JSON error; typed in /api/openapi.json. Also the webhook
 * metrics of that Kotak, as Prometheus scrapes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { promtoolCheck, scrape, scrapeUntil } from '../helpers/metrics.js';
import { ALICE, ALL, authorization, BOB, startScopedKotak, W1, W2, type Login, type ScopedKotak } from '../helpers/scoped-kotak.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

interface Delivery {
  id: string;
  seq: number;
  endpoint: string;
  event: string;
  mailbox: string | null;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
  history: { at: string; statusCode: number | null; error: string | null; durationMs: number }[];
  payload: { id: string; subject: string; mailbox: string };
}
interface Page {
  enabled: boolean;
  deliveries: Delivery[];
  next: number | null;
}

describe('GET /api/webhooks/deliveries with a webhook, and scoped logins', () => {
  let scoped: ScopedKotak;
  let receiver: WebhookReceiver;
  let hookUrl: string;
  const list = async (login: Login, query = ''): Promise<Page> => {
    const { status, body } = await scoped.call(login, 'GET', `/api/webhooks/deliveries${query}`);
    expect(status).toBe(200);
    return body as Page;
  };

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    // The first request is refused, so the first delivery has two attempts; the rest are taken.
    receiver.queue(503);
    const { port } = new URL(receiver.url);
    hookUrl = `http://hook-user:hook-secret-password@127.0.0.1:${port}/hook`;
    scoped = await startScopedKotak({ webhook: hookUrl });
    const seededCount = scoped.seeded.w1.length + scoped.seeded.w2.length + scoped.seeded.default.length;
    // The receiver's answer is written before Kotak records it: wait on the listing itself.
    for (;;) {
      const page = await list(ALL, '?status=delivered');
      if (page.deliveries.length === seededCount) break;
      await receiver.waitFor((got) => got.length > page.deliveries.length);
    }
  });
  afterAll(async () => {
    await scoped?.stop();
    await receiver?.close();
  });

  it('lists every delivery newest first, each with its attempts, the endpoint without its password, the payload parsed', async () => {
    const page = await list(ALL);
    const seeded = [...scoped.seeded.w1, ...scoped.seeded.w2, ...scoped.seeded.default];
    expect(page.enabled).toBe(true);
    expect(page.next).toBeNull();
    expect(page.deliveries.map((d) => d.payload.id)).toEqual([...seeded].reverse());
    const seqs = page.deliveries.map((d) => d.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const shownEndpoint = hookUrl.replace(':hook-secret-password', '');
    for (const d of page.deliveries) {
      expect(d).toMatchObject({ endpoint: shownEndpoint, event: 'message:stored', status: 'delivered', lastStatusCode: 200, lastError: null, nextAttemptAt: null });
      expect(d.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(d.mailbox).toBe(d.payload.mailbox);
      expect(Date.parse(d.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(d.createdAt));
    }
    expect(JSON.stringify(page)).not.toContain('hook-secret-password');
    const oldest = page.deliveries.at(-1)!;
    expect(oldest.payload).toMatchObject({ id: scoped.seeded.w1[0], subject: 'w1 first', mailbox: 'w1' });
    expect(oldest.attempts).toBe(2);
    expect(oldest.history).toEqual([
      { at: expect.any(String), statusCode: 503, error: expect.stringContaining('503'), durationMs: expect.any(Number) },
      { at: expect.any(String), statusCode: 200, error: null, durationMs: expect.any(Number) },
    ]);
    expect(Date.parse(oldest.history[1]!.at)).toBeGreaterThan(Date.parse(oldest.history[0]!.at));
    for (const d of page.deliveries.slice(0, -1)) expect(d.history).toHaveLength(1);
  });

  it('shows a scoped login only the deliveries of its mailboxes (tokens and Basic users alike)', async () => {
    const idsOf = async (login: Login) => (await list(login)).deliveries.map((d) => d.payload.id);
    expect(await idsOf(W1)).toEqual([...scoped.seeded.w1].reverse());
    expect(await idsOf(W2)).toEqual([...scoped.seeded.w2].reverse());
    expect(await idsOf(ALICE)).toEqual([...scoped.seeded.w1].reverse());
    expect(await idsOf(BOB)).toEqual([]);
    for (const d of (await list(W2)).deliveries) expect(d.mailbox).toBe('w2');
    const anonymous = await fetch(`${scoped.kotak.url}/api/webhooks/deliveries`);
    expect(anonymous.status).toBe(401);
  });

  it('pages by seq: next is the before of the following page, null on the last; within a scope too', async () => {
    const all = (await list(ALL)).deliveries.map((d) => d.id);
    const walk = async (login: Login, limit: number): Promise<string[][]> => {
      const pages: string[][] = [];
      let before = '';
      for (;;) {
        const page = await list(login, `?limit=${limit}${before}`);
        pages.push(page.deliveries.map((d) => d.id));
        if (page.next === null) return pages;
        expect(page.next).toBe(page.deliveries.at(-1)!.seq);
        before = `&before=${page.next}`;
      }
    };
    const pages = await walk(ALL, 4);
    expect(pages.map((p) => p.length)).toEqual([4, 2]);
    expect(pages.flat()).toEqual(all);
    // A page that ends exactly at the last delivery says so: no empty page after it.
    expect((await walk(ALL, 3)).map((p) => p.length)).toEqual([3, 3]);
    expect((await walk(W2, 2)).map((p) => p.length)).toEqual([2, 1]);
  });

  it('filters by status and by endpoint, named as configured (with its password) or as listed', async () => {
    expect((await list(ALL, '?status=delivered')).deliveries).toHaveLength(6);
    expect((await list(ALL, '?status=failed')).deliveries).toEqual([]);
    expect((await list(ALL, '?status=pending')).deliveries).toEqual([]);
    const listed = (await list(ALL)).deliveries[0]!.endpoint;
    expect((await list(ALL, `?endpoint=${encodeURIComponent(hookUrl)}`)).deliveries).toHaveLength(6);
    expect((await list(ALL, `?endpoint=${encodeURIComponent(listed)}`)).deliveries).toHaveLength(6);
    expect((await list(W1, `?endpoint=${encodeURIComponent(listed)}&status=delivered`)).deliveries).toHaveLength(2);
    expect((await list(ALL, `?endpoint=${encodeURIComponent('http://127.0.0.1:9/other')}`)).deliveries).toEqual([]);
  });

  it('counts the attempts and the outbox in /metrics, which promtool accepts', async () => {
    // The dispatcher counts an attempt just after recording it: the listing can see it first.
    const { samples, body } = await scrapeUntil(scoped.kotak, (got) => got.get('kotak_webhook_attempt_duration_seconds_count') === 7, { Authorization: authorization(ALL) });
    expect(samples.get('kotak_webhook_attempts_total{outcome="delivered"}')).toBe(6);
    expect(samples.get('kotak_webhook_attempts_total{outcome="retry"}')).toBe(1);
    expect(samples.get('kotak_webhook_attempts_total{outcome="failed"}')).toBe(0);
    expect(samples.get('kotak_webhook_failures_total')).toBe(0);
    expect(samples.get('kotak_webhook_attempt_duration_seconds_count')).toBe(7);
    expect(samples.get('kotak_webhook_deliveries{status="delivered"}')).toBe(6);
    expect(samples.get('kotak_webhook_deliveries{status="pending"}')).toBe(0);
    const check = await promtoolCheck(body);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });
});

describe('webhook metrics when deliveries are given up', () => {
  it('count the failure, and the outbox shows it failed', async () => {
    const receiver = await WebhookReceiver.start();
    receiver.answerWith(500);
    // A retry window of a millisecond: the first refusal is the last attempt.
    const kotak = await withKotak({ webhook: receiver.url, webhookRetryFor: '1ms' });
    try {
      const before = await scrape(kotak);
      expect(before.samples.get('kotak_webhook_failures_total')).toBe(0);
      expect(before.samples.get('kotak_webhook_deliveries{status="failed"}')).toBe(0);
      const smtp = transport(kotak);
      await smtp.sendMail({ from: 'app@example.test', to: 'bob@example.test', subject: 'never delivered', text: 'x' });
      for (;;) {
        const { body } = await getJson<Page>(kotak, '/api/webhooks/deliveries?status=failed');
        if (body.deliveries.length === 1) {
          expect(body.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 500, nextAttemptAt: null });
          break;
        }
        await receiver.waitFor((got) => got.length >= 1);
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Counted just after it is recorded: the listing can see it first.
      const after = await scrapeUntil(kotak, (got) => got.get('kotak_webhook_attempt_duration_seconds_count') === 1);
      expect(after.samples.get('kotak_webhook_failures_total')).toBe(1);
      expect(after.samples.get('kotak_webhook_attempts_total{outcome="failed"}')).toBe(1);
      expect(after.samples.get('kotak_webhook_deliveries{status="failed"}')).toBe(1);
      expect((await promtoolCheck(after.body)).code).toBe(0);
    } finally {
      await kotak.stop();
      await receiver.close();
    }
  });
});

describe('GET /api/webhooks/deliveries without a webhook', () => {
  let kotak: RunningKotak;
  beforeAll(async () => {
    kotak = await withKotak();
  });
  afterAll(async () => {
    await kotak?.stop();
  });

  it('answers an empty list with enabled false (no 404 for a client to handle)', async () => {
    const { status, body } = await getJson(kotak, '/api/webhooks/deliveries');
    expect(status).toBe(200);
    expect(body).toEqual({ enabled: false, deliveries: [], next: null });
    expect((await getJson(kotak, '/api/webhooks/deliveries?status=failed&limit=500&before=3&endpoint=http%3A%2F%2F127.0.0.1%2Fx')).body).toEqual({ enabled: false, deliveries: [], next: null });
  });

  it.each([
    ['status=lost', 'status'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['before=0', 'before'],
    ['before=-4', 'before'],
    ['before=x', 'before'],
    ['endpoint=', 'endpoint'],
  ])('refuses ?%s with 400 invalid_request naming %s', async (query, field) => {
    const { status, body } = await getJson(kotak, `/api/webhooks/deliveries?${query}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(new RegExp(`^${field}: `));
  });

  it('is typed in /api/openapi.json', async () => {
    const doc = (await getJson(kotak, '/api/openapi.json')).body;
    const operation = doc.paths['/api/webhooks/deliveries'].get;
    expect(operation.operationId).toBe('listWebhookDeliveries');
    expect(operation.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['before', 'endpoint', 'limit', 'status']);
    expect(Object.keys(doc.components.schemas.WebhookDelivery.properties).sort()).toEqual([
      'attempts', 'createdAt', 'endpoint', 'event', 'finishedAt', 'history', 'id', 'lastError', 'lastStatusCode', 'mailbox', 'nextAttemptAt', 'payload', 'seq', 'status',
    ]);
    expect(doc.components.schemas).toHaveProperty('WebhookAttempt');
    expect(doc.components.schemas).toHaveProperty('WebhookDeliveries');
  });
});
