/** Mailpit's API v1 and its /api/events WebSocket, served by Kotak (see docs/migrating.md). */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import type { CompatDeps } from '../deps.js';
import { createMailpitEventsServer } from './events.js';
import { KotakError } from '../../errors.js';
import type { MailboxScope } from '../../mail/mailbox-scope.js';
import { PAGE_NOT_FOUND, plainTextError } from './http.js';
import { mountApplicationRoutes, mountTagRoutes } from './routes-app.js';
import { mountMessageRoutes } from './routes-message.js';
import { mountMessageListRoutes } from './routes-messages.js';
import { mountSendRoute } from './routes-send.js';
import { mountMailpitSpamCheck } from './routes-check-spam.js';
import { mountMailpitLinksCheck } from './routes-check-links.js';
import { mountMailpitHtmlCheck } from './routes-check-html.js';
import { mountChaosRoutes } from './routes-chaos.js';

/**
 * A sub-app of plain Hono routes: Mailpit's API has its own documentation (its swagger.json), so
 * these stay out of Kotak's OpenAPI document; and its own error format, plain text, which the
 * sub-app's error handler writes for these routes only.
 */
export function mountMailpitApi(app: OpenAPIHono, deps: CompatDeps): void {
  const mailpit = new Hono();
  mailpit.onError((err, c) => plainTextError(err, c, deps.log));
  // Request bodies are capped for the whole HTTP API, at Mailpit's 5 MB (src/api/body-limit.ts);
  // the send route, exempt from that, caps its own at --max-message-size as Mailpit does.

  mountMessageListRoutes(mailpit, deps);
  mountMessageRoutes(mailpit, deps);
  mountTagRoutes(mailpit, deps);
  mountApplicationRoutes(mailpit, deps);
  if (deps.chaos) mountChaosRoutes(mailpit, deps.chaos);
  mountSendRoute(mailpit, deps);
  mountMailpitSpamCheck(mailpit, deps);
  mountMailpitLinksCheck(mailpit, deps);
  mountMailpitHtmlCheck(mailpit, deps);
  // Every other path under Mailpit's prefix (its routes Kotak lacks: release,
  // swagger.json, …) answers as Mailpit's router does, not with Kotak's JSON 404. Mounted last of
  // all (MailHog's /api/v1/messages routes come before), so it takes only what nothing else serves.
  mailpit.all('/api/v1/*', () => {
    throw new KotakError('not_found', PAGE_NOT_FOUND);
  });
  app.route('/', mailpit);
}

export interface MailpitEvents {
  /** `access`: the mailboxes the client's login may see. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, access: MailboxScope): void;
  /** Clients connected now (read by the metrics at scrape time). */
  readonly clientCount: number;
  close(): Promise<void>;
}

export const MAILPIT_EVENTS_PATH = '/api/events';

/** The one Mailpit route whose body may be as large as a message (it caps it at --max-message-size itself). */
export { SEND_PATH as MAILPIT_SEND_PATH } from './routes-send.js';

export function createMailpitEvents(deps: CompatDeps): MailpitEvents {
  return createMailpitEventsServer(deps);
}
