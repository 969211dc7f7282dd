/**
 * Events across nodes (src/live/pg-events.ts) over a real PostgreSQL: two "nodes", each with its
 * local bus (where its mailbox service emits), its cluster bus (what its consumers hear), its own
 * pool and bridge, share one message store (SQLite in memory, standing in for the shared
 * database's messages: real reads, real summaries).
 */
import net, { type AddressInfo } from 'node:net';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEventBus, type EventBus, type MailEventName, type MailEvents } from '../../src/events.js';
import { createPgEventBridge, type PgEventBridge } from '../../src/live/pg-events.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { EMPTY_QUERY } from '../../src/mail/search-query.js';
import { createMailboxService, type MailboxService } from '../../src/mailbox/service.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { mailboxMessage } from '../helpers/mailboxes.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
const EVENTS: readonly MailEventName[] = ['message:stored', 'message:updated', 'messages:updated', 'message:deleted', 'messages:cleared', 'message:flags', 'tags:changed', 'relay:updated'];
type Frame = { [K in MailEventName]: { type: K; data: MailEvents[K] } }[MailEventName];

interface Node {
  readonly local: EventBus;
  readonly cluster: EventBus;
  readonly service: MailboxService;
  readonly bridge: PgEventBridge;
  /** What the node's consumers heard (its cluster bus). */
  readonly heard: Frame[];
  /** What reached its local bus (only its own producers' events may). */
  readonly localFrames: Frame[];
}

let server: RunningPostgres;
let store: SqliteStore;
let url: string;
let databases = 0;
const pools: pg.Pool[] = [];
const bridges: PgEventBridge[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.stop()));
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
  await store?.close();
});

async function freshCluster(): Promise<void> {
  url = await server.createDatabase(`events_${++databases}`);
  store = await openSqliteStore(':memory:', { log });
}

function record(bus: EventBus, into: Frame[]): void {
  for (const type of EVENTS) bus.on(type, (data) => into.push({ type, data } as Frame));
}

/**
 * A TCP relay to the server that can go silent on the connections it carries (no data, no close:
 * a network that drops packets), while new connections pass again.
 */
async function silentLink(targetPort: number): Promise<{ port: number; silenceAll(): void; close(): void }> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    silenceAll() {
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read and drop, so neither end sees a close or a full buffer.
        client.on('data', () => undefined);
        upstream.on('data', () => undefined);
      }
      pairs.clear();
    },
    close() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

async function node(name: string, options: { via?: string; heartbeatMs?: number; log?: pino.Logger } = {}): Promise<Node> {
  const throwing = (err: unknown) => {
    throw err;
  };
  const local = createEventBus(throwing);
  const cluster = createEventBus(throwing);
  const pool = new pg.Pool({ connectionString: options.via ?? url, max: 3 });
  pool.on('error', () => undefined); // idle clients cut by the server's stop
  pools.push(pool);
  const bridge = createPgEventBridge({ pool, localBus: local, clusterBus: cluster, messages: store, relay: store.relay, nodeId: name, log: options.log ?? log, reconnectDelayMs: 20, maxReconnectDelayMs: 200, heartbeatMs: options.heartbeatMs ?? 2000 });
  bridges.push(bridge);
  await bridge.start();
  const heard: Frame[] = [];
  const localFrames: Frame[] = [];
  record(cluster, heard);
  record(local, localFrames);
  return { local, cluster, bridge, heard, localFrames, service: createMailboxService({ store, bus: local }) };
}

/**
 * Sends a marker event from `from` and waits until `to` hears it: everything `from` published
 * before it has then been replayed on `to` (one node's notifications arrive and replay in order).
 */
async function settle(from: Node, to: Node, label: string): Promise<void> {
  const marker = { mailbox: `marker-${label}`, read: true, count: 0 };
  from.local.emit('messages:updated', marker);
  await vi.waitFor(() => expect(to.heard.some((f) => f.type === 'messages:updated' && f.data.mailbox === marker.mailbox)).toBe(true), { timeout: 10_000, interval: 5 });
}

const withoutMarkers = (frames: Frame[]) => frames.filter((f) => !(f.type === 'messages:updated' && f.data.mailbox.startsWith('marker-')));

describe('events across nodes through PostgreSQL', () => {
  it('what node A emits reaches node B\'s consumers with the same data, in order, once; never back on A; never on B\'s local bus', async () => {
    await freshCluster();
    const a = await node('node-a');
    const b = await node('node-b');

    const first = await a.service.store(ALL_MAILBOXES, mailboxMessage('default', 'first'));
    const second = await a.service.store(ALL_MAILBOXES, mailboxMessage('team', 'second'));
    // B re-reads a stored message when it hears of it: let it read them before they change.
    await settle(a, b, 'stored');
    await a.service.markRead(ALL_MAILBOXES, first.id, true);
    await a.service.markReadMatching(ALL_MAILBOXES, EMPTY_QUERY, true);
    await a.service.setTags(ALL_MAILBOXES, [second.id], ['blue', 'green']);
    const [job] = await store.relay.enqueue(second.id, 'team', [{ recipient: 'x@one.test', domain: 'one.test' }], Date.now(), Date.now() + 60_000);
    a.local.emit('relay:updated', job!);
    await a.service.deleteByIds(ALL_MAILBOXES, [first.id]);
    await a.service.renameTag(ALL_MAILBOXES, 'blue', 'navy');
    await a.service.clear(ALL_MAILBOXES);
    await settle(a, b, 'changed');
    // B answers with a marker of its own: A hears it only after any echo of its own events would have come.
    await settle(b, a, 'two');

    const emittedOnA = withoutMarkers(a.localFrames);
    expect(emittedOnA.map((f) => f.type)).toEqual(['message:stored', 'message:stored', 'message:updated', 'messages:updated', 'tags:changed', 'relay:updated', 'message:deleted', 'tags:changed', 'messages:cleared']);
    expect(withoutMarkers(b.heard)).toEqual(emittedOnA);
    expect(withoutMarkers(a.heard)).toEqual(emittedOnA);
    expect(withoutMarkers(b.localFrames)).toEqual([]);

    // A stopped bridge publishes nothing more, but its node's consumers still hear the node's own events.
    await b.bridge.stop();
    expect(b.bridge.isListening()).toBe(false);
    b.local.emit('messages:cleared', {});
    expect(b.heard.at(-1)).toEqual({ type: 'messages:cleared', data: {} });
  });

  it('a delete of thousands of ids goes in notifications under 8000 bytes and arrives whole', async () => {
    await freshCluster();
    const a = await node('node-a');
    const b = await node('node-b');
    const ids = Array.from({ length: 3000 }, (_, n) => `01JDELETEDMESSAGE${String(n).padStart(8, '0')}`);
    a.local.emit('message:deleted', { mailbox: 'default', ids });
    await settle(a, b, 'big');
    const deletes = withoutMarkers(b.heard).filter((f): f is Extract<Frame, { type: 'message:deleted' }> => f.type === 'message:deleted');
    expect(deletes.length).toBeGreaterThan(1);
    expect(deletes.flatMap((f) => f.data.ids)).toEqual(ids);
    expect(new Set(deletes.map((f) => f.data.mailbox))).toEqual(new Set(['default']));
  });

  it('IMAP flag changes (message:flags, issue 21) made through A\'s mailbox service reach B, a long list split under 8000 bytes', async () => {
    await freshCluster();
    const a = await node('node-a');
    const b = await node('node-b');
    const stored = await a.service.store(ALL_MAILBOXES, mailboxMessage('team', 'to flag'));
    // B re-reads a stored message when it hears of it: let it read it before it changes.
    await settle(a, b, 'stored');
    await a.service.setFlags(ALL_MAILBOXES, [stored.id], { kind: 'add', flags: { flagged: true, seen: true } });
    const ids = Array.from({ length: 3000 }, (_, n) => `01JFLAGGEDMESSAGE${String(n).padStart(8, '0')}`);
    a.local.emit('message:flags', { mailbox: 'default', ids });
    await settle(a, b, 'flags');
    const heard = withoutMarkers(b.heard);
    expect(heard.slice(0, 3)).toEqual([
      { type: 'message:stored', data: stored },
      { type: 'message:updated', data: { id: stored.id, mailbox: 'team', read: true } },
      { type: 'message:flags', data: { mailbox: 'team', ids: [stored.id] } },
    ]);
    const big = heard.slice(3).filter((f): f is Extract<Frame, { type: 'message:flags' }> => f.type === 'message:flags');
    expect(big.length).toBeGreaterThan(1);
    expect(big.flatMap((f) => f.data.ids)).toEqual(ids);
  });

  it('after the database goes away and comes back, B listens again, catches up on mail it missed, and hears A\'s events once', async () => {
    await freshCluster();
    const a = await node('node-a');
    const b = await node('node-b');
    const before = await a.service.store(ALL_MAILBOXES, mailboxMessage('default', 'before'));
    await settle(a, b, 'before');

    await server.pause();
    await vi.waitFor(() => expect(b.bridge.isListening()).toBe(false), { timeout: 10_000, interval: 5 });
    // While PostgreSQL is down: A stores a message (its notification must wait), and another
    // node's message lands in the shared store whose notification B never gets.
    const during = await a.service.store(ALL_MAILBOXES, { ...mailboxMessage('default', 'during'), receivedAt: Date.now() });
    const unseen = await store.insert({ ...mailboxMessage('default', 'missed'), receivedAt: Date.now() });
    await server.resume();
    await vi.waitFor(() => expect(a.bridge.isListening() && b.bridge.isListening()).toBe(true), { timeout: 20_000, interval: 5 });
    await settle(a, b, 'after');
    const after = await a.service.store(ALL_MAILBOXES, mailboxMessage('default', 'after'));
    await settle(a, b, 'last');

    const storedOnB = withoutMarkers(b.heard).filter((f): f is Extract<Frame, { type: 'message:stored' }> => f.type === 'message:stored').map((f) => f.data);
    expect(storedOnB.map((m) => m.subject).sort()).toEqual(['after', 'before', 'during', 'missed']);
    expect(storedOnB.find((m) => m.id === unseen.id)).toEqual(unseen);
    expect(storedOnB.find((m) => m.id === during.id)).toEqual(during);
    expect(storedOnB.map((m) => m.id)).toContain(before.id);
    expect(storedOnB.at(-1)).toEqual(after);
  });

  it('a listening session that goes silent (no close, no data) is noticed by its heartbeat and replaced', async () => {
    await freshCluster();
    const link = await silentLink(server.port);
    try {
      const lines: string[] = [];
      const watched = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
      const a = await node('node-a');
      const b = await node('node-b', { via: url.replace(`:${server.port}/`, `:${link.port}/`), heartbeatMs: 150, log: watched });
      await a.service.store(ALL_MAILBOXES, mailboxMessage('default', 'before'));
      await settle(a, b, 'before');

      link.silenceAll();
      const during = await a.service.store(ALL_MAILBOXES, { ...mailboxMessage('default', 'during'), receivedAt: Date.now() });
      await vi.waitFor(() => expect(lines.some((l) => l.includes('event bridge resynced after reconnecting'))).toBe(true), { timeout: 10_000, interval: 10 });
      expect(lines.some((l) => l.includes('no answer within 150 ms'))).toBe(true);
      await settle(a, b, 'after');
      const stored = withoutMarkers(b.heard).filter((f): f is Extract<Frame, { type: 'message:stored' }> => f.type === 'message:stored').map((f) => f.data);
      expect(stored.map((m) => m.subject)).toEqual(['before', 'during']);
      expect(stored[1]).toEqual(during);
    } finally {
      link.close();
    }
  });
});
