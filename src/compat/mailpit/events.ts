/**
 * Mailpit's WebSocket (/api/events): Kotak's bus events as Mailpit's `{ Type, Data }` frames.
 *
 *   message:stored   → new      (Mailpit's list row: needs tags, Reply-To and counts from the store)
 *   message:updated  → update   { ID, Read }
 *   message:deleted  → delete   { ID } per message, or one prune past 200, as Mailpit does
 *   messages:cleared → truncate
 *   tag changes      → update   { ID, Tags }, or prune after a rename or removal
 *   any change       → stats    { Total, Unread, Version }, at most every 250 ms (to the clients that
 *                                 may see a changed mailbox), and on connect
 *
 * A client sees only the mailboxes its login may (src/api/access.ts): frames about other mailboxes
 * are not sent to it, and its stats count only its mailboxes. `truncate` (everything was deleted)
 * goes to everyone; `prune` (refetch) to those who may see a mailbox it was about.
 * Frames leave in the order their events happened, even though `new` waits on a database read.
 * Like src/live/hub.ts: each frame is serialised once, a client that cannot keep up is dropped.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { inScope, onlyMailboxes, scopesMeet, type MailboxScope } from '../../mail/mailbox-scope.js';
import type { MessageSummary } from '../../mail/types.js';
import type { CompatDeps } from '../deps.js';
import { toMailpitSummary, type MailpitSummary } from './shapes.js';

export type MailpitFrame =
  | { Type: 'new'; Data: MailpitSummary }
  | { Type: 'update'; Data: { ID: string; Read: boolean } | { ID: string; Tags: readonly string[] } }
  | { Type: 'delete'; Data: { ID: string } }
  | { Type: 'truncate' | 'prune'; Data: null }
  | { Type: 'stats'; Data: { Total: number; Unread: number; Version: string } };

const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const PING_INTERVAL_MS = 30_000;
/** Mailpit's rate for stats frames. */
const STATS_DELAY_MS = 250;
/** Past this many deletions at once, Mailpit sends one `prune` and clients refetch. */
const MAX_DELETE_FRAMES = 200;
/** A client whose scope was never set sees nothing (a wiring mistake must not show everything). */
const NOTHING = onlyMailboxes([]);

export interface MailpitEventsServer {
  /** `access`: the mailboxes the client's login may see. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, access: MailboxScope): void;
  /** Clients connected now (read by the metrics at scrape time). */
  readonly clientCount: number;
  close(): Promise<void>;
}

export function createMailpitEventsServer(deps: CompatDeps): MailpitEventsServer {
  const { bus, store, log, version } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  const alive = new WeakSet<WebSocket>();
  const scopes = new WeakMap<WebSocket, MailboxScope>();
  const scopeOf = (client: WebSocket): MailboxScope => scopes.get(client) ?? NOTHING;

  function send(clients: Iterable<WebSocket>, frame: MailpitFrame): void {
    const text = JSON.stringify(frame);
    for (const client of clients) {
      if (client.readyState !== client.OPEN) continue;
      if (client.bufferedAmount > MAX_BUFFERED_BYTES) {
        log.warn({ buffered: client.bufferedAmount }, 'mailpit events client too slow; disconnecting');
        client.terminate();
        continue;
      }
      client.send(text);
    }
  }

  /** To every client that may see `mailbox` (null: a frame about no message, to everyone). */
  const broadcast = (frame: MailpitFrame, mailbox: string | null) =>
    send(mailbox === null ? wss.clients : [...wss.clients].filter((client) => inScope(scopeOf(client), mailbox)), frame);

  // One chain of steps, so frames keep their events' order. New messages arriving together share
  // one step (and one read of their tags and counts); any other event closes the open batch.
  let chain: Promise<void> = Promise.resolve();
  let openBatch: MessageSummary[] | null = null;

  function enqueue(step: () => void | Promise<void>): void {
    chain = chain.then(step).catch((err: unknown) => log.error({ err }, 'mailpit events frame failed'));
  }

  function closeBatch(): void {
    openBatch = null;
  }

  function onStored(summary: MessageSummary): void {
    if (wss.clients.size === 0) return;
    if (openBatch === null) {
      const batch: MessageSummary[] = (openBatch = []);
      enqueue(async () => {
        if (openBatch === batch) openBatch = null;
        const extras = await store.summaryExtras(batch.map((m) => m.id));
        for (const message of batch) broadcast({ Type: 'new', Data: toMailpitSummary(message, extras.get(message.id)) }, message.mailbox);
      });
    }
    openBatch.push(summary);
  }

  /** `mailbox`: whose frames these are (null: everyone's). */
  function later(mailbox: string | null, frames: () => MailpitFrame[]): void {
    if (wss.clients.size === 0) return;
    closeBatch();
    enqueue(() => {
      for (const frame of frames()) broadcast(frame, mailbox);
    });
  }

  /** To the clients whose scope shares a mailbox with `scope`. */
  function laterWithin(scope: MailboxScope, frames: () => MailpitFrame[]): void {
    if (wss.clients.size === 0) return;
    closeBatch();
    enqueue(() => {
      const clients = [...wss.clients].filter((client) => scopesMeet(scopeOf(client), scope));
      for (const frame of frames()) send(clients, frame);
    });
  }

  let statsTimer: NodeJS.Timeout | null = null;
  /** The mailboxes changed since the last stats frames were sent; null: every mailbox (a clear). */
  let changedMailboxes: Set<string> | null = new Set();
  /** `mailbox`: the one that changed (null: all of them). */
  function scheduleStats(mailbox: string | null): void {
    if (wss.clients.size === 0) return;
    if (mailbox === null) changedMailboxes = null;
    else changedMailboxes?.add(mailbox);
    if (statsTimer !== null) return;
    statsTimer = setTimeout(() => {
      statsTimer = null;
      const changed = changedMailboxes;
      changedMailboxes = new Set();
      // Behind every frame already queued, so the totals never run ahead of the list.
      enqueue(() => sendStats(changed));
    }, STATS_DELAY_MS);
    statsTimer.unref();
  }

  async function statsFrame(scope: MailboxScope): Promise<MailpitFrame> {
    const stats = await store.stats(scope);
    return { Type: 'stats', Data: { Total: stats.total, Unread: stats.unread, Version: version } };
  }

  /**
   * Each client's own totals: one read per distinct scope, not per client. Only to clients that
   * may see a mailbox in `changed` (null: every client): a frame each time another mailbox changed
   * would tell a scoped client when others get mail, though its totals stayed the same.
   */
  async function sendStats(changed: ReadonlySet<string> | null): Promise<void> {
    const groups = new Map<string, { scope: MailboxScope; clients: WebSocket[] }>();
    for (const client of wss.clients) {
      const scope = scopeOf(client);
      if (changed !== null && ![...changed].some((mailbox) => inScope(scope, mailbox))) continue;
      const key = scope.kind === 'all' ? '*' : [...scope.mailboxes].sort().join(',');
      const group = groups.get(key) ?? groups.set(key, { scope, clients: [] }).get(key)!;
      group.clients.push(client);
    }
    for (const { scope, clients } of groups.values()) send(clients, await statsFrame(scope));
  }

  const unsubscribe = [
    bus.on('message:stored', (summary) => {
      onStored(summary);
      scheduleStats(summary.mailbox);
    }),
    bus.on('message:updated', ({ id, mailbox, read }) => {
      later(mailbox, () => [{ Type: 'update', Data: { ID: id, Read: read } }]);
      scheduleStats(mailbox);
    }),
    bus.on('messages:updated', ({ mailbox }) => scheduleStats(mailbox)),
    bus.on('message:deleted', ({ mailbox, ids }) => {
      later(mailbox, () => (ids.length > MAX_DELETE_FRAMES ? [{ Type: 'prune', Data: null }] : ids.map((id) => ({ Type: 'delete', Data: { ID: id } }))));
      scheduleStats(mailbox);
    }),
    bus.on('messages:cleared', () => {
      later(null, () => [{ Type: 'truncate', Data: null }]);
      scheduleStats(null);
    }),
    bus.on('tags:changed', (change) => {
      // Only to the clients that may see a mailbox the change was made in: to others it would say
      // that someone else's mailbox changed.
      if (change.kind === 'bulk') return laterWithin(change.scope, () => [{ Type: 'prune', Data: null }]);
      for (const { id, mailbox, tags } of change.messages) later(mailbox, () => [{ Type: 'update', Data: { ID: id, Tags: tags } }]);
    }),
  ];

  wss.on('connection', (ws) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    ws.on('error', (err) => log.debug({ err }, 'mailpit events client error'));
    // Mailpit greets every new client with the totals.
    statsFrame(scopeOf(ws)).then(
      (frame) => send([ws], frame),
      (err: unknown) => log.warn({ err }, 'mailpit events: no stats for a new client'),
    );
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
    // Origin and credentials are checked before this is called (src/api/upgrade-guard.ts, for both
    // WebSockets): a page on another site must not read the mailbox (Mailpit's CVE-2026-22689).
    handleUpgrade(request, socket, head, access) {
      wss.handleUpgrade(request, socket, head, (ws) => {
        scopes.set(ws, access);
        wss.emit('connection', ws, request);
      });
    },
    get clientCount() {
      return wss.clients.size;
    },
    async close() {
      clearInterval(pinger);
      if (statsTimer !== null) clearTimeout(statsTimer);
      for (const off of unsubscribe) off();
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
