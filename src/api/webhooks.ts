/**
 * `GET /api/webhooks/deliveries` (src/api/routes.ts: listWebhookDeliveries): the webhook outbox as
 * a person or a test reads it, newest first, a page at a time by seq, each delivery with its
 * attempts. Scoped: a login with mailbox grants sees only its mailboxes' deliveries (the store's
 * list takes the scope). Served whether webhooks are on or not, so a client needs no 404 case.
 *
 * The outbox keys endpoints by their URL without its password (webhooks/endpoint.ts); a filter
 * may name one as configured (with it) or as listed.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { WebhookDelivery, WebhookAttempt, WebhookStore } from '../store/webhook-types.js';
import { endpointName } from '../webhooks/endpoint.js';
import { accessScope } from './access.js';
import { routes } from './routes.js';

export interface WebhookApiDeps {
  readonly store: WebhookStore;
}

/** An endpoint as the outbox keys it: the URL (normalised) without its password; text that is no URL stays as it is (it matches nothing). */
function endpointKey(text: string): string {
  try {
    return endpointName(new URL(text.trim()));
  } catch {
    return text;
  }
}

function shown(delivery: WebhookDelivery & { readonly history: readonly WebhookAttempt[] }) {
  const { payload, ...rest } = delivery;
  return { ...rest, payload: parsedPayload(payload) };
}

/** The payload is JSON text the outbox was given; one that is not (never written by Kotak) is shown as its text. */
function parsedPayload(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return payload;
  }
}

/** `deps` null: no webhook configured; the route answers an empty list with `enabled: false`. */
export function mountWebhookRoutes(app: OpenAPIHono, deps: WebhookApiDeps | null): void {
  app.openapi(routes.listWebhookDeliveries, async (c) => {
    const { endpoint, status, limit, before } = c.req.valid('query');
    if (!deps) return c.json({ enabled: false, deliveries: [], next: null }, 200);
    // One more than asked: whether there is a next page is known without a second query.
    const rows = await deps.store.list(accessScope(c), {
      endpoint: endpoint === undefined ? null : endpointKey(endpoint),
      status: status ?? null,
      beforeSeq: before ?? null,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? page[page.length - 1]!.seq : null;
    return c.json({ enabled: true, deliveries: page.map(shown), next }, 200);
  });
}
