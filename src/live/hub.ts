/**
 * The WebSocket hub: subscribes to the event bus and fans each event out to the connected clients
 * as one JSON frame, serialised once. A client gets only the frames of the mailboxes its login may
 * see (src/api/access.ts), narrowed by `?mailbox=` (repeatable, or comma-separated) if it gave
 * one; `messages:cleared`, a frame about no mailbox, goes to everyone. A client that cannot keep up is
 * disconnected rather than allowed to grow our memory; its reconnect logic resyncs from the API.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { isKotakError, type KotakError } from '../errors.js';
import type { EventBus } from '../events.js';
import { scopeOfMailboxParam } from '../mail/mailbox-name.js';
import { inScope, narrowScope, onlyMailboxes, type MailboxScope } from '../mail/mailbox-scope.js';
import { frameMailbox, type LiveEventName, type LiveFrame } from './protocol.js';
import type { RefusalListener } from '../chaos/refusals.js';

/** A client with this much unsent data is too slow to keep. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const PING_INTERVAL_MS = 30_000;
/** A client whose scope was never set sees nothing (a wiring mistake must not show everything). */
const NOTHING = onlyMailboxes([]);

export interface LiveHub {
  /**
   * Takes over an HTTP upgrade request for the live path, once src/api/upgrade-guard.ts has
   * admitted it. `access`: the mailboxes the client's login may see; `?mailbox=` narrows it further.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, access: MailboxScope): void;
  readonly clientCount: number;
  close(): Promise<void>;
}

const EVENTS: readonly LiveEventName[] = ['message:stored', 'message:updated', 'messages:updated', 'message:deleted', 'messages:cleared', 'relay:updated'];


export interface LiveHubDeps {
  readonly bus: EventBus;
  readonly log: Logger;
  /** Answers a handshake that cannot be taken (a bad `?mailbox=`) with the error, as HTTP. */
  readonly refuse: (socket: Duplex, error: KotakError) => void;
  /** Messages chaos refused, sent as `chaos:refused` frames (absent: none). */
  readonly chaosRefusals?: { onRefused(listener: RefusalListener): () => void };
}

export function createLiveHub(deps: LiveHubDeps): LiveHub {
  const { bus, log } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  const alive = new WeakSet<WebSocket>();
  const scopes = new WeakMap<WebSocket, MailboxScope>();

  function broadcast(frame: LiveFrame): void {
    if (wss.clients.size === 0) return;
    const text = JSON.stringify(frame);
    const mailbox = frameMailbox(frame);
    for (const client of wss.clients) {
      if (client.readyState !== client.OPEN) continue;
      if (mailbox !== null && !inScope(scopes.get(client) ?? NOTHING, mailbox)) continue;
      if (client.bufferedAmount > MAX_BUFFERED_BYTES) {
        log.warn({ buffered: client.bufferedAmount }, 'live client too slow; disconnecting');
        client.terminate();
        continue;
      }
      client.send(text);
    }
  }

  const unsubscribe = EVENTS.map((name) => bus.on(name, (data) => broadcast({ type: name, data } as LiveFrame)));
  unsubscribe.push(
    bus.on('tags:changed', (change) => {
      if (change.kind === 'set') {
        for (const { id, mailbox, tags } of change.messages) broadcast({ type: 'message:tagged', data: { id, mailbox, tags } });
      } else if (change.scope.kind === 'all') {
        broadcast({ type: 'tags:changed', data: { mailbox: null } });
      } else {
        // One frame per mailbox the change could touch, so each reaches only those who may see it.
        for (const mailbox of change.scope.mailboxes) broadcast({ type: 'tags:changed', data: { mailbox } });
      }
    }),
  );

  if (deps.chaosRefusals) unsubscribe.push(deps.chaosRefusals.onRefused((refusal) => broadcast({ type: 'chaos:refused', data: refusal })));

  wss.on('connection', (ws) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    ws.on('error', (err) => log.debug({ err }, 'live client error'));
    // Clients only listen; anything they send is ignored.
  });

  const pinger = setInterval(() => {
    for (const client of wss.clients) {
      if (!alive.has(client)) {
        client.terminate();
        continue;
      }
      alive.delete(client);
      client.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();

  return {
    handleUpgrade(request, socket, head, access) {
      let scope: MailboxScope;
      try {
        scope = narrowScope(access, scopeOfMailboxParam(new URL(request.url ?? '/', 'http://live.invalid').searchParams.getAll('mailbox')));
      } catch (err) {
        if (!isKotakError(err)) throw err;
        deps.refuse(socket, err);
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        scopes.set(ws, scope);
        wss.emit('connection', ws, request);
      });
    },
    get clientCount() {
      return wss.clients.size;
    },
    close() {
      clearInterval(pinger);
      for (const off of unsubscribe) off();
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}
