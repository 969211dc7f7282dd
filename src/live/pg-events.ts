/**
 * Events across nodes (issue 20): every node's events reach every node's consumers through
 * PostgreSQL LISTEN/NOTIFY on one channel.
 *
 * Two buses per node. Producers (the mailbox service, the relay queue) emit on the **local** bus;
 * consumers that show or wait for mail (live hub, waiters, Mailpit's events, POP3) listen on the
 * **cluster** bus. The bridge forwards each local event to the cluster bus at once, in order, and
 * NOTIFYs it to the other nodes (ids only, see pg-event-wire.ts); a notification from another node
 * is re-read from the stores (a `message:stored` becomes its summary, read with `messages.find`)
 * and emitted on the cluster bus only. So work that must happen once per event, on the node where
 * it happened (`--relay-auto` queueing a stored message), stays on the local bus, and a node never
 * hears its own notifications twice (they carry its node id and are ignored).
 *
 * Order: a node's notifications are sent one batch at a time (one statement, NOTIFYs in event
 * order) and replayed one at a time, so another node sees them in the order they happened.
 *
 * Connection loss: the listening session is watched (its errors, its end, and a `SELECT 1` every
 * `heartbeatMs` that must answer in time); once lost, it reconnects by itself with backoff. A
 * node cannot know what it missed while it was not listening, so after reconnecting it re-reads the
 * messages received since shortly before the loss (`RESYNC_MARGIN_MS`, for clocks and commits
 * that lag the receive time) and announces those it had not announced yet. Deletes, read flags and
 * tags missed in that gap are not replayed: a consumer sees them at its next read (the web inbox
 * reloads on its own reconnects). Events this node could not publish while the database was away
 * are kept (up to MAX_UNSENT payloads) and sent when it answers again.
 */
import type { Pool, PoolClient, Notification } from 'pg';
import type { Logger } from 'pino';
import type { EventBus, MailEventName, MailEvents } from '../events.js';
import { ALL_MAILBOXES } from '../mail/mailbox-scope.js';
import { EMPTY_QUERY } from '../mail/search-query.js';
import type { RelayStore } from '../store/relay-types.js';
import type { MessageStore } from '../store/types.js';
import { packPayloads, parsePayload, type WireEvent } from './pg-event-wire.js';

export const DEFAULT_EVENT_CHANNEL = 'kotak_events';
/** How far before the loss the resync reads back (node clocks, and mail received before but committed after). */
export const RESYNC_MARGIN_MS = 10_000;
/** At most this many messages are announced by one resync. */
const RESYNC_LIMIT = 5000;
/** Payloads kept while the database cannot take them; the oldest go first past this. */
const MAX_UNSENT = 10_000;
/** Stored message ids remembered as announced (so a resync announces nothing twice). */
const REMEMBERED_IDS = 20_000;
/** Payloads sent per statement. */
const NOTIFY_BATCH = 200;

export interface PgEventBridgeDeps {
  /** Publishing runs on the pool; the listening session is one client held from it. */
  readonly pool: Pool;
  /** Where this node's producers emit. */
  readonly localBus: EventBus;
  /** What this node's consumers hear: its own events and every other node's. */
  readonly clusterBus: EventBus;
  readonly messages: Pick<MessageStore, 'find' | 'summaryExtras'>;
  readonly relay: Pick<RelayStore, 'jobsForMessage'>;
  readonly nodeId: string;
  readonly log: Logger;
  /** A plain lower-case identifier; every node of one database must use the same. */
  readonly channel?: string;
  /** How often the listening session is checked, and how long the check may take. */
  readonly heartbeatMs?: number;
  /** First wait before reconnecting; doubles up to `maxReconnectDelayMs`. */
  readonly reconnectDelayMs?: number;
  readonly maxReconnectDelayMs?: number;
}

export interface PgEventBridge {
  /** Connects the listening session and starts forwarding; rejects when the database cannot be reached. */
  start(): Promise<void>;
  /**
   * Stops publishing and listening: sends what is pending (if the database answers) and ends the
   * listening session. Local events still reach the cluster bus.
   */
  stop(): Promise<void>;
  /** Whether the listening session is up now. */
  isListening(): boolean;
}

const BRIDGED = {
  'message:stored': true,
  'message:updated': true,
  'messages:updated': true,
  'message:deleted': true,
  'messages:cleared': true,
  'message:flags': true,
  'tags:changed': true,
  'relay:updated': true,
} as const satisfies Record<MailEventName, true>;

function toWire<K extends MailEventName>(name: K, data: MailEvents[K]): WireEvent {
  const event = { name, data } as { [N in MailEventName]: { name: N; data: MailEvents[N] } }[MailEventName];
  switch (event.name) {
    case 'message:stored':
      return { e: 'message:stored', ids: [event.data.id] };
    case 'message:updated':
      return { e: 'message:updated', id: event.data.id, mailbox: event.data.mailbox, read: event.data.read };
    case 'messages:updated':
      return { e: 'messages:updated', mailbox: event.data.mailbox, read: event.data.read, count: event.data.count };
    case 'message:deleted':
      return { e: 'message:deleted', mailbox: event.data.mailbox, ids: event.data.ids };
    case 'messages:cleared':
      return { e: 'messages:cleared' };
    case 'message:flags':
      return { e: 'message:flags', mailbox: event.data.mailbox, ids: event.data.ids };
    case 'tags:changed':
      return event.data.kind === 'set'
        ? { e: 'tags:set', messages: event.data.messages.map(({ id, mailbox }) => ({ id, mailbox })) }
        : { e: 'tags:bulk', scope: event.data.scope };
    case 'relay:updated':
      return { e: 'relay:updated', id: event.data.id, messageId: event.data.messageId };
  }
}

export function createPgEventBridge(deps: PgEventBridgeDeps): PgEventBridge {
  const { pool, localBus, clusterBus, messages, relay, nodeId, log } = deps;
  const channel = deps.channel ?? DEFAULT_EVENT_CHANNEL;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const firstDelay = deps.reconnectDelayMs ?? 100;
  const maxDelay = deps.maxReconnectDelayMs ?? 5000;
  // LISTEN takes an identifier, not a parameter: only a plain name goes into the statement.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
  // One bus for both would hear its own forwarding forever.
  if (localBus === clusterBus) throw new Error('the event bridge needs a local bus and a cluster bus that are not the same');

  let stopped = false;
  let started = false;

  // ---- publishing ----------------------------------------------------------------------------
  let seq = 0;
  let outbox: WireEvent[] = [];
  const unsent: string[] = [];
  let flushing: Promise<void> | null = null;
  let flushTimer: NodeJS.Timeout | undefined;
  let publishFailures = 0;

  /** Ids of stored messages this node's consumers have heard of, oldest first. */
  const announced = new Set<string>();
  const remember = (id: string) => {
    announced.add(id);
    if (announced.size > REMEMBERED_IDS) announced.delete(announced.values().next().value!);
  };

  function scheduleFlush(delay = 0): void {
    if (flushTimer || stopped) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void flush();
    }, delay);
  }

  /** One drain at a time; `finally` runs after the drain has settled, never before `flushing` is set. */
  function flush(): Promise<void> {
    flushing ??= drain().finally(() => (flushing = null));
    return flushing;
  }

  async function drain(): Promise<void> {
    try {
      while (outbox.length > 0 || unsent.length > 0) {
        if (outbox.length > 0) {
          const { payloads, dropped } = packPayloads(nodeId, seq, outbox);
          outbox = [];
          seq += payloads.length;
          unsent.push(...payloads);
          if (dropped.length > 0) log.warn({ events: dropped.map((e) => e.e) }, 'events too large for a notification were not sent to other nodes');
          if (unsent.length > MAX_UNSENT) {
            const lost = unsent.splice(0, unsent.length - MAX_UNSENT);
            log.warn({ payloads: lost.length }, 'the oldest unsent event notifications were dropped');
          }
        }
        const batch = unsent.slice(0, NOTIFY_BATCH);
        // One statement: its NOTIFYs are delivered together, in the order of the array.
        await pool.query('SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) AS p', [channel, batch]);
        unsent.splice(0, batch.length);
        publishFailures = 0;
        log.debug({ payloads: batch.length }, 'notified other nodes of events');
      }
    } catch (err) {
      publishFailures += 1;
      log.warn({ err, pending: unsent.length + outbox.length }, 'could not notify other nodes of events; will retry');
      scheduleFlush(Math.min(maxDelay, firstDelay * 2 ** Math.min(publishFailures - 1, 16)));
    }
  }

  // From creation on, and after stop too: a node's own consumers always hear its own events, even
  // while producers finish after the bridge has stopped publishing.
  for (const name of Object.keys(BRIDGED) as MailEventName[]) {
    localBus.on(name, (data) => {
      if (name === 'message:stored') remember((data as MailEvents['message:stored']).id);
      clusterBus.emit(name, data);
      if (stopped) return;
      outbox.push(toWire(name, data));
      scheduleFlush();
    });
  }

  // ---- replaying other nodes' events ----------------------------------------------------------
  let replaying: Promise<void> = Promise.resolve();
  function inTurn(work: () => Promise<void>): void {
    replaying = replaying.then(work).catch((err: unknown) => log.error({ err }, 'could not replay an event from another node'));
  }

  async function announceStored(ids: readonly string[]): Promise<void> {
    const wanted = ids.filter((id) => !announced.has(id));
    if (wanted.length === 0) return;
    const found = new Map((await messages.find(ALL_MAILBOXES, { query: EMPTY_QUERY, ids: wanted, limit: wanted.length })).map((m) => [m.id, m]));
    for (const id of wanted) {
      const summary = found.get(id);
      // Deleted before we read it: its deletion follows.
      if (!summary || announced.has(id)) continue;
      remember(id);
      clusterBus.emit('message:stored', summary);
    }
  }

  async function replay(event: WireEvent): Promise<void> {
    switch (event.e) {
      case 'message:stored':
        return announceStored(event.ids);
      case 'message:updated':
        return clusterBus.emit('message:updated', { id: event.id, mailbox: event.mailbox, read: event.read });
      case 'messages:updated':
        return clusterBus.emit('messages:updated', { mailbox: event.mailbox, read: event.read, count: event.count });
      case 'message:deleted':
        return clusterBus.emit('message:deleted', { mailbox: event.mailbox, ids: event.ids });
      case 'messages:cleared':
        return clusterBus.emit('messages:cleared', {});
      case 'message:flags':
        return clusterBus.emit('message:flags', { mailbox: event.mailbox, ids: event.ids });
      case 'tags:set': {
        const extras = await messages.summaryExtras(event.messages.map((m) => m.id));
        const changed = event.messages.flatMap(({ id, mailbox }) => {
          const tags = extras.get(id)?.tags;
          return tags ? [{ id, mailbox, tags }] : [];
        });
        if (changed.length > 0) clusterBus.emit('tags:changed', { kind: 'set', messages: changed });
        return;
      }
      case 'tags:bulk':
        return clusterBus.emit('tags:changed', { kind: 'bulk', scope: event.scope });
      case 'relay:updated': {
        const job = (await relay.jobsForMessage(event.messageId)).find((j) => j.id === event.id);
        if (!job) return;
        const { history: _history, ...current } = job;
        clusterBus.emit('relay:updated', current);
        return;
      }
    }
  }

  function onNotification(note: Notification): void {
    if (note.channel !== channel || note.payload === undefined) return;
    const payload = parsePayload(note.payload);
    if (!payload) return void log.warn({ channel, bytes: note.payload.length }, 'ignored a notification that is not a Kotak event payload');
    if (payload.n === nodeId) return;
    log.debug({ from: payload.n, seq: payload.s, events: payload.v.length }, 'events from another node');
    inTurn(async () => {
      for (const event of payload.v) await replay(event);
    });
  }

  async function resync(since: number): Promise<void> {
    const found = await messages.find(ALL_MAILBOXES, { query: EMPTY_QUERY, since: since - RESYNC_MARGIN_MS, limit: RESYNC_LIMIT });
    let fresh = 0;
    for (const summary of found) {
      if (announced.has(summary.id)) continue;
      remember(summary.id);
      clusterBus.emit('message:stored', summary);
      fresh += 1;
    }
    if (found.length === RESYNC_LIMIT) log.warn({ limit: RESYNC_LIMIT }, 'resync after reconnecting read only the oldest messages since the loss');
    log.info({ announced: fresh }, 'event bridge resynced after reconnecting');
  }

  // ---- the listening session ------------------------------------------------------------------
  let listener: PoolClient | null = null;
  let heartbeat: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reconnectAttempts = 0;
  let lostAt: number | null = null;

  /** Ends the current listening session on purpose (stop), without reconnecting. */
  let endSession: (() => void) | null = null;

  async function listen(): Promise<void> {
    const client = await pool.connect();
    let gone = false;
    let established = false;
    const release = (err?: unknown) => {
      if (gone) return false;
      gone = true;
      if (listener === client) listener = null;
      clearInterval(heartbeat);
      client.removeListener('notification', onNotification);
      // Destroyed, not returned to the pool: a session that failed (or listened) is not reused.
      client.release(err instanceof Error ? err : true);
      return true;
    };
    const lose = (err?: unknown) => {
      if (!release(err) || stopped || !established) return;
      lostAt ??= Date.now();
      log.warn({ err }, "lost the PostgreSQL session that listens for other nodes' events; reconnecting");
      scheduleReconnect();
    };
    client.on('error', lose);
    client.on('end', () => lose(new Error('connection ended')));
    client.on('notification', onNotification);
    try {
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      release(err);
      throw err;
    }
    if (gone) throw new Error('the listening session ended while it started');
    if (stopped) return void release();
    established = true;
    listener = client;
    endSession = () => void release();
    heartbeat = setInterval(() => {
      const timeout = setTimeout(() => lose(new Error(`no answer within ${heartbeatMs} ms`)), heartbeatMs);
      client.query('SELECT 1').then(() => clearTimeout(timeout), (err: unknown) => {
        clearTimeout(timeout);
        lose(err);
      });
    }, heartbeatMs);
    heartbeat.unref();
  }

  function scheduleReconnect(): void {
    if (stopped || reconnectTimer) return;
    const delay = Math.min(maxDelay, firstDelay * 2 ** Math.min(reconnectAttempts, 16));
    reconnectAttempts += 1;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      listen().then(
        () => {
          if (stopped) return;
          reconnectAttempts = 0;
          const since = lostAt ?? Date.now();
          lostAt = null;
          log.info('listening for other nodes\' events again');
          inTurn(() => resync(since));
          void flush();
        },
        (err: unknown) => {
          log.warn({ err }, 'could not reconnect to PostgreSQL for events yet');
          scheduleReconnect();
        },
      );
    }, delay);
  }

  return {
    async start() {
      if (started) return;
      started = true;
      await listen();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(reconnectTimer);
      clearTimeout(flushTimer);
      flushTimer = undefined;
      // What is pending goes out if the database answers; a failure is logged, not retried.
      await flushing;
      if (outbox.length > 0 || unsent.length > 0) await flush();
      await replaying;
      endSession?.();
    },
    isListening: () => listener !== null,
  };
}
