/**
 * GET /api/webhooks/deliveries (src/api/webhooks.ts) against a real Kotak on SQLite: served when no
 * webhook is configured (an empty list, `enabled: false`), a bad query answered 400 with the
 * registry's JSON error, and typed in /api/openapi.json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';

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
