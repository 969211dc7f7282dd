/**
 * The gate in front of both WebSockets (/api/live and Mailpit's /api/events): a handshake under a
 * Host name HostPolicy does not admit, or from a page that OriginPolicy does not admit, is answered 403, one without valid credentials (when auth
 * is on) 401, both as plain HTTP before any upgrade. Browsers send the Basic credentials they hold
 * for the inbox with a same-origin handshake; other clients set the Authorization header. There is
 * deliberately no `?token=` form: URLs end up in logs and histories.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { KotakError } from '../errors.js';
import { ALL_MAILBOXES, type MailboxScope } from '../mail/mailbox-scope.js';
import { AUTH_CHALLENGE, authError, type HttpAuth } from './auth.js';
import { hostRefusal, type HostPolicy } from './host-check.js';
import { originRefusal, type OriginPolicy } from './origin.js';
import { PLAIN_RESPONSE_HEADERS } from './security.js';

export interface UpgradeGuard {
  /**
   * The mailboxes the client may see when the handshake may go ahead (every mailbox with auth
   * off); null when it may not: the refusal has been written and the socket ends.
   */
  admit(request: IncomingMessage, socket: Duplex): Promise<MailboxScope | null>;
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests' };

function refuse(socket: Duplex, error: KotakError, extra: Record<string, string> = {}): void {
  const body = JSON.stringify(error.toJSON());
  const headers = {
    ...PLAIN_RESPONSE_HEADERS,
    ...extra,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  const status = error.httpStatus;
  const head = [`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * An admitted handshake for a path that has no WebSocket: 404 as plain HTTP, so a client with a
 * wrong URL is told so at once instead of seeing the connection drop.
 */
export function refuseUnknownUpgradePath(socket: Duplex): void {
  refuseUpgrade(socket, new KotakError('not_found', 'no WebSocket here: they are at api/live and api/events'));
}

/** An admitted handshake refused as plain HTTP with the error's status and JSON body (e.g. a bad `?mailbox=`). */
export function refuseUpgrade(socket: Duplex, error: KotakError): void {
  socket.on('error', () => {}); // a reset while the refusal is written is no one's concern
  refuse(socket, error);
}

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function createUpgradeGuard(deps: { auth: HttpAuth | null; origins: OriginPolicy; hosts: HostPolicy; log: Logger; onAuthFailure?: () => void }): UpgradeGuard {
  const { auth, origins, hosts, log } = deps;
  return {
    async admit(request, socket) {
      // Node stops listening for socket errors once a request is an upgrade: a reset while we
      // decide (or while a refusal is written) must not become an unhandled 'error' event. Once
      // admitted, the WebSocket server takes over its own error handling.
      const ignore = (): void => {};
      socket.on('error', ignore);
      const facts = {
        origin: header(request, 'origin'),
        host: header(request, 'host'),
        forwardedHost: header(request, 'x-forwarded-host'),
        authorization: header(request, 'authorization'),
      };
      if (!hosts.admits(facts.host)) {
        log.warn({ host: facts.host?.slice(0, 200), path: request.url?.slice(0, 200) }, 'WebSocket under an unknown Host refused');
        refuse(socket, hostRefusal(facts.host));
        return null;
      }
      if (!origins.admits(facts)) {
        log.warn({ origin: facts.origin?.slice(0, 200), path: request.url?.slice(0, 200) }, 'WebSocket from another origin refused');
        refuse(socket, originRefusal(facts.origin ?? 'null'));
        return null;
      }
      let access: MailboxScope = ALL_MAILBOXES;
      if (auth !== null) {
        let check;
        try {
          check = await auth.check(facts.authorization, request.socket.remoteAddress);
        } catch (err) {
          log.error({ err }, 'WebSocket authentication failed to run');
          socket.destroy();
          return null;
        }
        if (socket.destroyed) return null;
        if (!check.ok) {
          if (check.reason === 'wrong') deps.onAuthFailure?.();
          refuse(socket, authError(check), check.reason === 'throttled' ? { 'Retry-After': String(check.retryAfterS) } : { 'WWW-Authenticate': AUTH_CHALLENGE });
          return null;
        }
        access = check.scope;
      }
      socket.off('error', ignore);
      return access;
    },
  };
}
