/** The webhook deliveries route's shapes (src/store/webhook-types.ts is the model; these validate the query and type /api/openapi.json). */
import { z } from '@hono/zod-openapi';

const StatusSchema = z.enum(['pending', 'sending', 'delivered', 'failed']).openapi({
  description: 'pending (waiting for its first or next attempt), sending (an attempt in flight, on this node or another), delivered (a 2xx), failed (given up after --webhook-retry-for)',
});

/** At most this many deliveries a page. */
export const MAX_DELIVERIES_PAGE = 500;

export const WebhookDeliveriesQuerySchema = z.object({
  endpoint: z.string().min(1).max(2048).optional().openapi({ description: 'Only this endpoint\'s deliveries: its URL as configured, or as listed (without its password)' }),
  status: StatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_DELIVERIES_PAGE).default(50),
  before: z.coerce.number().int().min(1).optional().openapi({ description: 'Only deliveries with a lower seq: the `next` of the previous page' }),
});

export const WebhookAttemptSchema = z
  .object({
    at: z.string().openapi({ format: 'date-time' }),
    statusCode: z.number().int().nullable().openapi({ description: "The endpoint's HTTP status; null when none came (refused, reset, timed out)" }),
    error: z.string().nullable().openapi({ description: 'Why it failed, in words; null when delivered', example: 'HTTP 503' }),
    durationMs: z.number(),
  })
  .openapi('WebhookAttempt');

export const WebhookDeliverySchema = z
  .object({
    id: z.string().openapi({ description: 'Stable across retries and restarts: the receiver de-duplicates by it', format: 'uuid' }),
    seq: z.number().int().openapi({ description: 'Outbox order; per endpoint, the order of sending' }),
    endpoint: z.string().openapi({ description: 'The endpoint URL, its password (if any) removed', example: 'https://hooks.example.test/kotak' }),
    event: z.string().openapi({ example: 'message:stored' }),
    mailbox: z.string().nullable().openapi({ description: 'The mailbox the event concerns; null for none (messages:cleared)' }),
    status: StatusSchema,
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable().openapi({ format: 'date-time', description: 'Set while pending' }),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time', description: 'When the change committed (the body\'s timestamp)' }),
    finishedAt: z.string().nullable().openapi({ format: 'date-time', description: 'Set once delivered or failed' }),
    history: z.array(WebhookAttemptSchema).readonly().openapi({ description: 'Every attempt, oldest first' }),
    payload: z.unknown().openapi({ description: "The event's data as sent (the live frame's data), parsed" }),
  })
  .openapi('WebhookDelivery');

export const WebhookDeliveriesSchema = z
  .object({
    enabled: z.boolean().openapi({ description: 'Whether any --webhook is configured' }),
    deliveries: z.array(WebhookDeliverySchema).readonly().openapi({ description: 'Newest first' }),
    next: z.number().int().nullable().openapi({ description: 'The `before` of the next page; null on the last one' }),
  })
  .openapi('WebhookDeliveries');
