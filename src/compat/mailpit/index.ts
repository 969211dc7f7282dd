/** Mailpit's API v1 and its /api/events WebSocket, served by Kotak (see docs/migrating.md). */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CompatDeps } from '../deps.js';

export function mountMailpitApi(_app: OpenAPIHono, _deps: CompatDeps): void {
  // Filled in by the Mailpit compatibility work.
}

export interface MailpitEvents {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

export const MAILPIT_EVENTS_PATH = '/api/events';

export function createMailpitEvents(_deps: CompatDeps): MailpitEvents {
  return {
    handleUpgrade(_request, socket) {
      socket.destroy();
    },
    async close() {},
  };
}
