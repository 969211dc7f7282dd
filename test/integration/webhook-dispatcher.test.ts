/**
 * The webhook dispatcher on its own, against a real SQLite outbox and a real HTTP receiver, with a
 * clock the test sets: what it records for each answer (Retry-After, give-up), and what a stop
 * leaves behind while a request is out; and the enqueue and pruning around it (createWebhooks).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventBus } from '../../src/events.js';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { createDispatcher, type Dispatcher } from '../../src/webhooks/dispatcher.js';
import { readEndpoint } from '../../src/webhooks/endpoint.js';
import { createWebhooks } from '../../src/webhooks/index.js';
import { createKotakBody } from '../../src/webhooks/kotak-body.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const log = pino({ level: 'silent' });
const T0 = Date.parse('2026-12-07T12:00:00.000Z');

let store: SqliteStore | null = null;
let dispatcher: Dispatcher | null = null;
let receiver: WebhookReceiver | null = null;
afterEach(async () => {
  await dispatcher?.stop();
  await receiver?.close();
  await store?.close();
  dispatcher = receiver = store = null;
});

async function setUp(settings: { retryForMs?: number; stopGraceMs?: number } = {}) {
  receiver = await WebhookReceiver.start();
  store = await openSqliteStore(':memory:', { log });
  const clock = { now: T0 };
  const attempted: string[] = [];
  const endpoint = readEndpoint(receiver.url);
  dispatcher = createDispatcher(
    { endpoints: [endpoint], secret: null, timeoutMs: 60_000, retryForMs: settings.retryForMs ?? 24 * 3600_000, pollEveryMs: null, userAgent: 'Kotak/test', stopGraceMs: settings.stopGraceMs ?? 50 },
    { store: store.webhooks, buildBody: createKotakBody(), log, now: () => clock.now, random: () => 0, metrics: { attempted: (outcome) => attempted.push(outcome) } },
  );
  await dispatcher.start();
  const enqueue = async (event = 'message:deleted') => {
    const [delivery] = await store!.webhooks.enqueue([{ endpoint: endpoint.name, event, payload: '{"mailbox":"default","ids":["x"]}', mailbox: 'default' }], clock.now);
    dispatcher!.wake();
    return delivery!;
  };
  const listed = async (id: string) => (await store!.webhooks.list(ALL_MAILBOXES, { limit: 100 })).find((d) => d.id === id)!;
  /** Once `count` attempts have ended (the metrics hear of one after its outcome is recorded). */
  const attemptsEnded = (count: number) => until(() => Promise.resolve(attempted.length), (n) => n >= count);
  return { clock, attempted, attemptsEnded, enqueue, listed, receiver, store };
}

/** Re-reads until `check` holds (once a turn of the event loop). */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('the webhook dispatcher', () => {
  it('waits what a 429\'s Retry-After asks, and records each attempt', async () => {
    const { enqueue, listed, receiver: r, attempted, attemptsEnded } = await setUp();
    r.queue({ status: 429, headers: { 'Retry-After': '120' } });
    const delivery = await enqueue();
    await attemptsEnded(1);
    const after = await listed(delivery.id);
    expect(after).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 429, lastError: 'HTTP 429', nextAttemptAt: new Date(T0 + 120_000).toISOString() });
    expect(after.history).toEqual([expect.objectContaining({ statusCode: 429, error: 'HTTP 429' })]);
    expect(attempted).toEqual(['retry']);
  });

  it('is due again when its clock reaches the retry time, and then delivers', async () => {
    const { clock, enqueue, listed, receiver: r, attempted, attemptsEnded } = await setUp();
    r.queue(500);
    const delivery = await enqueue();
    await attemptsEnded(1);
    // random() = 0: half of the first step.
    expect((await listed(delivery.id)).nextAttemptAt).toBe(new Date(T0 + 500).toISOString());
    clock.now = T0 + 500;
    dispatcher!.wake();
    await attemptsEnded(2);
    const done = await listed(delivery.id);
    expect(done).toMatchObject({ attempts: 2, lastStatusCode: 200, lastError: null });
    expect(r.received.map((g) => g.headers['kotak-webhook-attempt'])).toEqual(['1', '2']);
    expect(attempted).toEqual(['retry', 'delivered']);
  });

  it('marks a delivery failed once the retry window is over', async () => {
    const { clock, enqueue, listed, receiver: r, attempted, attemptsEnded } = await setUp({ retryForMs: 10_000 });
    r.answerWith(502);
    const delivery = await enqueue();
    await attemptsEnded(1);
    clock.now = T0 + 10_000;
    dispatcher!.wake();
    await attemptsEnded(2);
    const failed = await listed(delivery.id);
    expect(failed).toMatchObject({ attempts: 2, lastStatusCode: 502, nextAttemptAt: null, finishedAt: expect.any(String) });
    expect(attempted).toEqual(['retry', 'failed']);
  });

  it('follows no redirect: a 3xx is a failed attempt', async () => {
    const { enqueue, listed, receiver: r, attemptsEnded } = await setUp();
    r.queue({ status: 302, headers: { Location: 'http://127.0.0.1:1/elsewhere' } });
    const delivery = await enqueue();
    await attemptsEnded(1);
    const after = await listed(delivery.id);
    expect(after).toMatchObject({ status: 'pending', lastStatusCode: 302, lastError: 'HTTP 302 (redirects are not followed)' });
    expect(r.received).toHaveLength(1);
  });

  it('stopped while a request is out, leaves it sending (nothing recorded), to be sent again after requeueInterrupted', async () => {
    const { enqueue, listed, receiver: r, store: s, attempted } = await setUp();
    r.answerWith('hang');
    const delivery = await enqueue();
    await r.waitFor((got) => got.length >= 1);
    await dispatcher!.stop();
    expect(await listed(delivery.id)).toMatchObject({ status: 'sending', attempts: 0 });
    expect(attempted).toEqual([]);
    expect(await s.webhooks.requeueInterrupted(T0)).toBe(1);
    expect((await listed(delivery.id)).status).toBe('pending');
  });
});

describe('webhooks as app.ts builds them', () => {
  it('enqueue the events of one turn of the event loop in one write, in the order heard, and deliver them', async () => {
    receiver = await WebhookReceiver.start();
    store = await openSqliteStore(':memory:', { log });
    const outbox = store.webhooks;
    const writes: string[][] = [];
    const counted = { ...outbox, enqueue: (drafts: Parameters<typeof outbox.enqueue>[0], now: number) => (writes.push(drafts.map((d) => d.event)), outbox.enqueue(drafts, now)) };
    const bus = createEventBus(() => undefined);
    const webhooks = createWebhooks(
      { urls: [receiver.url], events: ['message:deleted', 'messages:cleared'], secret: null, timeoutMs: 60_000, retryForMs: 60_000, pollEveryMs: null, userAgent: 'Kotak/test' },
      { store: counted, buildBody: createKotakBody(), bus, clusterBus: bus, log },
    );
    await webhooks.start();
    try {
      bus.emit('message:deleted', { mailbox: 'a', ids: ['1'] });
      bus.emit('message:deleted', { mailbox: 'b', ids: ['2'] });
      bus.emit('messages:cleared', {});
      // Not subscribed: never written.
      bus.emit('message:updated', { id: '3', mailbox: 'a', read: true });
      await receiver.waitFor((got) => got.length >= 3);
      expect(writes).toEqual([['message:deleted', 'message:deleted', 'messages:cleared']]);
      expect(receiver.received.map((g) => [g.body.type, g.body.data])).toEqual([
        ['message:deleted', { mailbox: 'a', ids: ['1'] }],
        ['message:deleted', { mailbox: 'b', ids: ['2'] }],
        ['messages:cleared', {}],
      ]);
      const listed = await outbox.list(ALL_MAILBOXES, { limit: 10 });
      expect(listed.map((d) => d.mailbox)).toEqual([null, 'b', 'a']);
    } finally {
      await webhooks.stop();
    }
  });

  it('prune deliveries finished over 7 days ago when they start (and hourly)', async () => {
    receiver = await WebhookReceiver.start();
    store = await openSqliteStore(':memory:', { log });
    const outbox = store.webhooks;
    const clock = { now: T0 - 8 * 24 * 3600_000 };
    const bus = createEventBus(() => undefined);
    const build = () =>
      createWebhooks(
        { urls: [receiver!.url], events: ['message:deleted'], secret: null, timeoutMs: 60_000, retryForMs: 60_000, pollEveryMs: null, userAgent: 'Kotak/test' },
        { store: outbox, buildBody: createKotakBody(), bus, clusterBus: bus, log, now: () => clock.now },
      );
    const old = build();
    await old.start();
    bus.emit('message:deleted', { mailbox: 'a', ids: ['old'] });
    await until(() => outbox.countByStatus(), (c) => c.delivered === 1);
    clock.now = T0 - 6 * 24 * 3600_000;
    bus.emit('message:deleted', { mailbox: 'a', ids: ['recent'] });
    await until(() => outbox.countByStatus(), (c) => c.delivered === 2);
    await old.stop();
    clock.now = T0;
    const restarted = build();
    await restarted.start();
    try {
      const kept = await until(() => outbox.list(ALL_MAILBOXES, { limit: 10 }), (list) => list.length === 1);
      expect(JSON.parse(kept[0]!.payload)).toEqual({ mailbox: 'a', ids: ['recent'] });
    } finally {
      await restarted.stop();
    }
  });
});
