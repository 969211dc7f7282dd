/** Mailpit's API v1 and its /api/events WebSocket, served by Kotak (see docs/migrating.md). */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { CompatDeps } from '../deps.js';
import { createMailpitEventsServer } from './events.js';
import { plainTextError } from './http.js';
import { mountApplicationRoutes, mountTagRoutes } from './routes-app.js';
import { mountMessageRoutes } from './routes-message.js';
import { mountMessageListRoutes } from './routes-messages.js';
import { mountSendRoute, SEND_PATH } from './routes-send.js';

/** Mailpit's cap on JSON request bodies other than the send API's. */
const MAX_JSON_BODY_BYTES = 5 * 1024 * 1024;

/**
 * A sub-app of plain Hono routes: Mailpit's API has its own documentation (its swagger.json), so
 * these stay out of Kotak's OpenAPI document; and its own error format, plain text, which the
 * sub-app's error handler writes for these routes only.
 */
export function mountMailpitApi(app: OpenAPIHono, deps: CompatDeps): void {
  const mailpit = new Hono();
  mailpit.onError((err, c) => plainTextError(err, c, deps.log));

  const jsonLimit = bodyLimit({ maxSize: MAX_JSON_BODY_BYTES, onError: (c) => c.text('http: request body too large', 413) });
  mailpit.use('/api/v1/*', (c, next) => (c.req.path === SEND_PATH ? next() : jsonLimit(c, next)));

  mountMessageListRoutes(mailpit, deps);
  mountMessageRoutes(mailpit, deps);
  mountTagRoutes(mailpit, deps);
  mountApplicationRoutes(mailpit, deps);
  mountSendRoute(mailpit, deps);
  app.route('/', mailpit);
}

export interface MailpitEvents {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

export const MAILPIT_EVENTS_PATH = '/api/events';

export function createMailpitEvents(deps: CompatDeps): MailpitEvents {
  return createMailpitEventsServer(deps);
}
