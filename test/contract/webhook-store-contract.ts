/**
 * The webhook outbox contract (src/store/webhook-types.ts) as one suite, run against every store
 * (issue 22): `describeWebhookStoreContract(name, open)` registers its tests for the stores `open`
 * makes. It speaks only through the interfaces (WebhookStore, and MessageStore for the rows an
 * insert writes with `webhookEndpoints`), so SQLite and PostgreSQL behave the same for the
 * dispatcher. Times are given (epoch ms around T), never read from the clock: `open` builds the
 * message store with the clock `T`, so the rows an insert writes are created and due at T.
 */
import { describe, expect, it } from 'vitest';
import { ALL_MAILBOXES, onlyMailboxes } from '../../src/mail/mailbox-scope.js';
import type { MessageSummary, NewMessage } from '../../src/mail/types.js';
import type { MessageStore } from '../../src/store/types.js';
import type { WebhookDelivery, WebhookEventDraft, WebhookOutcome, WebhookStore } from '../../src/store/webhook-types.js';
import { newMessageFromRaw, rawMessage } from '../helpers/new-message.js';

/** The time every test starts at; the message store's clock for the rows inserts write. */
export const T = 1_760_000_000_000;

/** One database, as one node sees it. */
export interface WebhookStores {
  readonly webhooks: WebhookStore;
  readonly messages: MessageStore;
}

export interface OpenedWebhookStores extends WebhookStores {
  /**
   * Closes these stores and opens new ones on the same database, as a Kotak started again after
   * a kill -9 would (claims it held are not completed), and returns them.
   */
  restart(): Promise<WebhookStores>;
  /** Closes the stores (the current ones, after a restart) and releases what `open` made. */
  close(): Promise<void>;
}

export type OpenWebhookStores = () => Promise<OpenedWebhookStores>;

/** Fresh stores for one test, closed whatever the test does. */
async function withStores(open: OpenWebhookStores, test: (opened: OpenedWebhookStores) => Promise<void>): Promise<void> {
  const opened = await open();
  try {
    await test(opened);
  } finally {
    await opened.close();
  }
}

const draft = (endpoint: string, n: number, mailbox: string | null = 'default', event = 'message:stored'): WebhookEventDraft => ({
  endpoint,
  event,
  payload: JSON.stringify({ n }),
  mailbox,
});

const A = 'http://127.0.0.1:1/a';
const B = 'http://127.0.0.1:1/b';
/** A UUID version 7 (time first, so the outbox's id index grows at its end), of time T. */
const UUID = new RegExp(`^${T.toString(16).padStart(12, '0').replace(/^(.{8})/, '$1-')}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`);

const delivered = (at: number, durationMs = 12): WebhookOutcome => ({ status: 'delivered', nextAttemptAt: null, attempt: { at, statusCode: 204, error: null, durationMs } });
const retryAt = (at: number, next: number): WebhookOutcome => ({ status: 'pending', nextAttemptAt: next, attempt: { at, statusCode: 503, error: 'HTTP 503', durationMs: 7 } });
const gaveUp = (at: number): WebhookOutcome => ({ status: 'failed', nextAttemptAt: null, attempt: { at, statusCode: null, error: 'connection refused', durationMs: 1 } });

/** The payloads' numbers of a list of deliveries, to compare orders at a glance. */
const numbers = (deliveries: readonly WebhookDelivery[]) => deliveries.map((d) => (JSON.parse(d.payload) as { n: number }).n);

function simple(subject: string, options: { mailbox?: string; endpoints?: readonly string[]; tags?: readonly string[] } = {}): Promise<NewMessage> {
  return newMessageFromRaw(rawMessage(['From: sender@example.test', 'To: rcpt@example.test', `Subject: ${subject}`, '', 'body']), {
    mailbox: options.mailbox ?? 'default',
    receivedAt: T - 60_000,
  }).then((message) => ({ ...message, webhookEndpoints: options.endpoints, tags: options.tags }));
}

type Listed = Awaited<ReturnType<WebhookStore['list']>>[number];

async function everything(webhooks: WebhookStore): Promise<Listed[]> {
  return webhooks.list(ALL_MAILBOXES, { limit: 10_000 });
}

export function describeWebhookStoreContract(name: string, open: OpenWebhookStores): void {
  describe(`WebhookStore contract: ${name}`, () => {
    it('enqueue adds pending deliveries due at now, in order, each with a UUID; claim, complete', async () => {
      await withStores(open, async ({ webhooks }) => {
        const added = await webhooks.enqueue([draft(A, 1), draft(B, 2, null, 'messages:cleared'), draft(A, 3, 'w3')], T);
        expect(added.map((d) => [d.endpoint, d.event, d.mailbox, d.status, d.attempts])).toEqual([
          [A, 'message:stored', 'default', 'pending', 0],
          [B, 'messages:cleared', null, 'pending', 0],
          [A, 'message:stored', 'w3', 'pending', 0],
        ]);
        expect(numbers(added)).toEqual([1, 2, 3]);
        expect(added[0]!.seq).toBeLessThan(added[1]!.seq);
        expect(added[1]!.seq).toBeLessThan(added[2]!.seq);
        for (const d of added) {
          expect(d.id).toMatch(UUID);
          expect(typeof d.seq).toBe('number');
          expect(d.createdAt).toBe(new Date(T).toISOString());
          expect(d.nextAttemptAt).toBe(new Date(T).toISOString());
          expect([d.lastStatusCode, d.lastError, d.finishedAt]).toEqual([null, null, null]);
        }
        expect(new Set(added.map((d) => d.id)).size).toBe(3);
        expect(await webhooks.enqueue([], T)).toEqual([]);

        expect(await webhooks.nextDueAt(A)).toBe(T);
        const claimed = await webhooks.claimNext(A, T);
        expect(claimed).toMatchObject({ id: added[0]!.id, seq: added[0]!.seq, status: 'sending', attempts: 0, payload: added[0]!.payload });
        expect(await webhooks.complete(claimed!.id, delivered(T + 5))).toBe(true);
        const [, , first] = await everything(webhooks);
        expect(first).toMatchObject({ id: added[0]!.id, status: 'delivered', attempts: 1, lastStatusCode: 204, lastError: null, finishedAt: new Date(T + 5).toISOString(), nextAttemptAt: null });
        expect(first!.history).toEqual([{ at: new Date(T + 5).toISOString(), statusCode: 204, error: null, durationMs: 12 }]);
        // A completed claim is no claim: a second outcome for it is refused, and nothing is written.
        expect(await webhooks.complete(claimed!.id, gaveUp(T + 6))).toBe(false);
        expect(await webhooks.complete('00000000-0000-4000-8000-000000000000', delivered(T + 6))).toBe(false);
        const [, , again] = await everything(webhooks);
        expect(again).toMatchObject({ status: 'delivered', attempts: 1 });
        expect(again!.history).toHaveLength(1);
        // The next of A is its head now.
        expect((await webhooks.claimNext(A, T + 6))?.id).toBe(added[2]!.id);
        expect(await webhooks.nextDueAt(A)).toBeNull();
      });
    });

    it('a retry keeps the head: the endpoint waits until it is due again, then it is claimed again; failed lets the next go', async () => {
      await withStores(open, async ({ webhooks }) => {
        const [head, second] = await webhooks.enqueue([draft(A, 1), draft(A, 2)], T);
        expect((await webhooks.claimNext(A, T))?.id).toBe(head!.id);
        expect(await webhooks.complete(head!.id, retryAt(T + 10, T + 1_000))).toBe(true);
        const listed = (await everything(webhooks)).find((d) => d.id === head!.id)!;
        expect(listed).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503, lastError: 'HTTP 503', finishedAt: null, nextAttemptAt: new Date(T + 1_000).toISOString() });
        expect(listed.history).toEqual([{ at: new Date(T + 10).toISOString(), statusCode: 503, error: 'HTTP 503', durationMs: 7 }]);

        // Head of line: the second is due, but waits behind a head that is not.
        expect(await webhooks.nextDueAt(A)).toBe(T + 1_000);
        expect(await webhooks.claimNext(A, T + 999)).toBeNull();
        const retried = await webhooks.claimNext(A, T + 1_000);
        expect(retried).toMatchObject({ id: head!.id, status: 'sending', attempts: 1 });
        expect(await webhooks.complete(head!.id, gaveUp(T + 1_001))).toBe(true);
        const failed = (await everything(webhooks)).find((d) => d.id === head!.id)!;
        expect(failed).toMatchObject({ status: 'failed', attempts: 2, lastStatusCode: null, lastError: 'connection refused', finishedAt: new Date(T + 1_001).toISOString(), nextAttemptAt: null });
        expect(failed.history.map((a) => a.statusCode)).toEqual([503, null]);
        expect((await webhooks.claimNext(A, T + 1_001))?.id).toBe(second!.id);
      });
    });

    it('head of line per endpoint: nothing behind a head being sent or not yet due; another endpoint is not held up', async () => {
      await withStores(open, async ({ webhooks }) => {
        await webhooks.enqueue([draft(A, 1), draft(B, 2), draft(A, 3), draft(A, 4), draft(B, 5)], T);
        const a1 = await webhooks.claimNext(A, T);
        expect(numbers([a1!])).toEqual([1]);
        // A's head is being sent: A's next waits; B's head goes.
        expect(await webhooks.claimNext(A, T)).toBeNull();
        expect(await webhooks.nextDueAt(A)).toBeNull();
        const b2 = await webhooks.claimNext(B, T);
        expect(numbers([b2!])).toEqual([2]);
        expect(await webhooks.claimNext(B, T)).toBeNull();
        // B's head to be retried later: B's next still waits; A moves on in order.
        await webhooks.complete(b2!.id, retryAt(T + 1, T + 500));
        expect(await webhooks.claimNext(B, T + 499)).toBeNull();
        await webhooks.complete(a1!.id, delivered(T + 2));
        const order: number[] = [];
        for (let d = await webhooks.claimNext(A, T + 3); d; d = await webhooks.claimNext(A, T + 3)) {
          order.push(...numbers([d]));
          await webhooks.complete(d.id, delivered(T + 3));
        }
        expect(order).toEqual([3, 4]);
        expect(numbers([(await webhooks.claimNext(B, T + 500))!])).toEqual([2]);
        // An endpoint with no deliveries, and one whose deliveries are all done.
        expect(await webhooks.claimNext('http://127.0.0.1:1/none', T)).toBeNull();
        expect(await webhooks.nextDueAt('http://127.0.0.1:1/none')).toBeNull();
        expect(await webhooks.nextDueAt(A)).toBeNull();
      });
    });

    it('requeueInterrupted after a restart: what was being sent is pending again, its head kept; nothing else moves', async () => {
      await withStores(open, async (opened) => {
        const [a1, , b3] = await opened.webhooks.enqueue([draft(A, 1), draft(A, 2), draft(B, 3), draft(B, 4)], T);
        expect((await opened.webhooks.claimNext(A, T))?.id).toBe(a1!.id);
        expect((await opened.webhooks.claimNext(B, T))?.id).toBe(b3!.id);
        await opened.webhooks.complete(b3!.id, delivered(T + 1));
        // Killed while sending A's head (the PostgreSQL lease, a minute at most in these stores, has lapsed by then).
        const { webhooks } = await opened.restart();
        expect(await webhooks.claimNext(A, T + 10)).toBeNull();
        const at = T + 120_000;
        expect(await webhooks.requeueInterrupted(at)).toBe(1);
        expect(await webhooks.requeueInterrupted(at)).toBe(0);
        const again = await webhooks.claimNext(A, at);
        expect(again).toMatchObject({ id: a1!.id, status: 'sending', attempts: 0 });
        expect(await webhooks.complete(again!.id, delivered(at + 1))).toBe(true);
        expect(numbers([(await webhooks.claimNext(A, at + 1))!, (await webhooks.claimNext(B, at + 1))!])).toEqual([2, 4]);
        expect(await webhooks.countByStatus()).toEqual({ pending: 0, sending: 2, delivered: 2, failed: 0 });
      });
    });

    it('list: newest first with each attempt oldest first; by endpoint, status, beforeSeq pages; within the scope, never a mailbox-less event when scoped', async () => {
      await withStores(open, async ({ webhooks }) => {
        const added = await webhooks.enqueue(
          [draft(A, 1, 'default'), draft(A, 2, 'w3'), draft(B, 3, null, 'messages:cleared'), draft(B, 4, 'w3'), draft(A, 5, 'other'), draft(A, 6, 'w3')],
          T,
        );
        const d1 = await webhooks.claimNext(A, T);
        await webhooks.complete(d1!.id, retryAt(T + 1, T + 2));
        await webhooks.claimNext(A, T + 2);
        await webhooks.complete(d1!.id, delivered(T + 3, 40));

        const all = await everything(webhooks);
        expect(numbers(all)).toEqual([6, 5, 4, 3, 2, 1]);
        expect(all.at(-1)!.history).toEqual([
          { at: new Date(T + 1).toISOString(), statusCode: 503, error: 'HTTP 503', durationMs: 7 },
          { at: new Date(T + 3).toISOString(), statusCode: 204, error: null, durationMs: 40 },
        ]);
        expect(all[0]!.history).toEqual([]);
        expect(numbers(await webhooks.list(ALL_MAILBOXES, { endpoint: B, limit: 10 }))).toEqual([4, 3]);
        expect(numbers(await webhooks.list(ALL_MAILBOXES, { status: 'delivered', limit: 10 }))).toEqual([1]);
        expect(numbers(await webhooks.list(ALL_MAILBOXES, { endpoint: A, status: 'pending', limit: 10 }))).toEqual([6, 5, 2]);
        expect(numbers(await webhooks.list(ALL_MAILBOXES, { endpoint: null, status: null, beforeSeq: null, limit: 2 }))).toEqual([6, 5]);
        // Pages: each after the last seq of the one before.
        const pages: number[][] = [];
        let before: number | null = null;
        for (;;) {
          const page = await webhooks.list(ALL_MAILBOXES, { beforeSeq: before, limit: 4 });
          if (page.length === 0) break;
          pages.push(numbers(page));
          before = page.at(-1)!.seq;
        }
        expect(pages).toEqual([[6, 5, 4, 3], [2, 1]]);
        expect(numbers(await webhooks.list(ALL_MAILBOXES, { beforeSeq: added[3]!.seq, endpoint: A, limit: 10 }))).toEqual([2, 1]);

        // Scoped: only those mailboxes, and never the event without a mailbox (messages:cleared).
        expect(numbers(await webhooks.list(onlyMailboxes(['w3']), { limit: 10 }))).toEqual([6, 4, 2]);
        expect(numbers(await webhooks.list(onlyMailboxes(['w3', 'default']), { endpoint: B, limit: 10 }))).toEqual([4]);
        expect(await webhooks.list(onlyMailboxes([]), { limit: 10 })).toEqual([]);
        expect(await webhooks.list(onlyMailboxes(['nobody']), { limit: 10 })).toEqual([]);
        expect(numbers(await webhooks.list(ALL_MAILBOXES, { status: 'failed', limit: 10 }))).toEqual([]);
      });
    });

    it('countByStatus counts every endpoint; pruneFinished deletes finished deliveries (with their attempts) finished before a time', async () => {
      await withStores(open, async ({ webhooks }) => {
        expect(await webhooks.countByStatus()).toEqual({ pending: 0, sending: 0, delivered: 0, failed: 0 });
        await webhooks.enqueue([draft(A, 1), draft(B, 2), draft(A, 3), draft(B, 4), draft('http://127.0.0.1:1/c', 5)], T);
        const a1 = await webhooks.claimNext(A, T);
        await webhooks.complete(a1!.id, delivered(T + 10));
        const b2 = await webhooks.claimNext(B, T);
        await webhooks.complete(b2!.id, gaveUp(T + 20));
        await webhooks.claimNext(A, T + 20);
        expect(await webhooks.countByStatus()).toEqual({ pending: 2, sending: 1, delivered: 1, failed: 1 });

        expect(await webhooks.pruneFinished(T + 10)).toBe(0);
        expect(await webhooks.pruneFinished(T + 11)).toBe(1);
        expect(await webhooks.countByStatus()).toEqual({ pending: 2, sending: 1, delivered: 0, failed: 1 });
        expect(await webhooks.pruneFinished(T + 1_000_000)).toBe(1);
        expect(await webhooks.countByStatus()).toEqual({ pending: 2, sending: 1, delivered: 0, failed: 0 });
        expect(numbers(await everything(webhooks))).toEqual([5, 4, 3]);
        // What is left works on: B's next is its head now.
        expect(numbers([(await webhooks.claimNext(B, T + 30))!])).toEqual([4]);
        // New deliveries after a prune still come after the ones left.
        const [later] = await webhooks.enqueue([draft(A, 6)], T + 40);
        expect(later!.seq).toBeGreaterThan(Math.max(...(await everything(webhooks)).filter((d) => d.id !== later!.id).map((d) => d.seq)));
      });
    });

    it('an insert with webhookEndpoints writes a message:stored delivery per endpoint, its payload the summary insert returns; none without', async () => {
      await withStores(open, async ({ webhooks, messages }) => {
        await messages.insert(await simple('No hooks'));
        await messages.insert(await simple('Empty hooks', { endpoints: [] }));
        expect(await everything(webhooks)).toEqual([]);

        const tagged = await simple('Hooked', { mailbox: 'w3', endpoints: [A, B], tags: ['Zeta', 'alpha'] });
        const summary = await messages.insert(tagged);
        expect(summary.tags).toEqual(['alpha', 'Zeta']);
        const rows = await everything(webhooks);
        expect(rows.map((d) => [d.endpoint, d.event, d.mailbox, d.status, d.attempts])).toEqual([
          [B, 'message:stored', 'w3', 'pending', 0],
          [A, 'message:stored', 'w3', 'pending', 0],
        ]);
        for (const row of rows) {
          expect(row.payload).toBe(JSON.stringify(summary));
          expect(JSON.parse(row.payload) as MessageSummary).toEqual(summary);
          expect(row.id).toMatch(UUID);
          expect(row.createdAt).toBe(new Date(T).toISOString());
        }
        // Due at once (the store's clock), claimable by the dispatcher.
        expect(await webhooks.nextDueAt(A)).toBe(T);
        expect((await webhooks.claimNext(A, T))?.payload).toBe(JSON.stringify(summary));
        expect((await webhooks.list(onlyMailboxes(['default']), { limit: 10 }))).toEqual([]);
      });
    });

    it("a group commit's deliveries follow the messages' order; a message that fails to insert leaves no delivery, its neighbours theirs", async () => {
      await withStores(open, async ({ webhooks, messages }) => {
        const taken = await messages.insert(await simple('Taken'));
        const batch = await Promise.all(Array.from({ length: 30 }, (_, i) => simple(`Burst ${i}`, { endpoints: [A, B] })));
        // Same id as a stored message: this one fails; the rest are written one by one, with their deliveries.
        const failing = { ...batch[11]!, id: taken.id };
        const outcomes = await Promise.allSettled(batch.map((message, i) => messages.insert(i === 11 ? failing : message)));
        expect(outcomes.map((o) => o.status)).toEqual(batch.map((_, i) => (i === 11 ? 'rejected' : 'fulfilled')));
        const stored = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));

        const subjectsOf = (deliveries: readonly WebhookDelivery[]) => deliveries.map((d) => (JSON.parse(d.payload) as MessageSummary).subject);
        const expected = stored.map((s) => s.subject);
        expect(expected).not.toContain('Burst 11');
        for (const endpoint of [A, B]) {
          const listed = await webhooks.list(ALL_MAILBOXES, { endpoint, limit: 100 });
          expect(subjectsOf(listed).reverse()).toEqual(expected);
          // And the dispatcher sends them in that order.
          const sent: WebhookDelivery[] = [];
          for (let d = await webhooks.claimNext(endpoint, T); d; d = await webhooks.claimNext(endpoint, T)) {
            sent.push(d);
            await webhooks.complete(d.id, delivered(T));
          }
          expect(subjectsOf(sent)).toEqual(expected);
          expect(sent.map((d) => JSON.parse(d.payload) as MessageSummary)).toEqual(stored);
        }
        expect(await webhooks.countByStatus()).toEqual({ pending: 0, sending: 0, delivered: 58, failed: 0 });
      });
    });
  });
}
