/**
 * Server-side waiting: "answer as soon as `count` messages matching `query` and received at or
 * after `since` exist". Woken by the event bus, never by polling.
 *
 * Race-free by construction: a waiter subscribes before it queries the store. A message committed
 * before the subscription is in the query's snapshot; one committed after it arrives as an event
 * (the bus emits only after commit); one in between is in both, and ids deduplicate.
 *
 * Cheap under load: stored messages are matched in batches (everything stored in one turn of the
 * event loop), each message's fields are folded once, only the waiters the index (./waiter-index.ts)
 * names as candidates are checked, and terms a summary can answer exactly are decided in memory
 * (src/mail/search-match.ts). Only queries with full-text or Reply-To terms ask
 * the database, once per distinct query per batch, restricted to the batch's ids.
 */
import type { Logger } from 'pino';
import type { EventBus } from '../events.js';
import { ALL_MAILBOXES, inScope, scopeWithin, type MailboxScope } from '../mail/mailbox-scope.js';
import { compileMatcher, matchView, requiredSubstring, type MatchResult, type MatchView } from '../mail/search-match.js';
import type { SearchQuery } from '../mail/search-query.js';
import type { MessageSummary } from '../mail/types.js';
import type { MessageStore } from '../store/types.js';
import { WaiterIndex } from './waiter-index.js';

/** A waiter returns at most this many messages. */
export const MAX_WAIT_RESULTS = 1000;

export interface WaitRequest {
  /** The mailboxes waited on: messages of others neither count nor are returned. */
  readonly scope: MailboxScope;
  readonly query: SearchQuery;
  /** Cache key for the query: waiters with the same text share database checks. */
  readonly queryText: string;
  /** Epoch ms; null = any time. */
  readonly since: number | null;
  readonly count: number;
  readonly timeoutMs: number;
  /** Aborted when the client goes away: the waiter is dropped at once. */
  readonly signal?: AbortSignal;
}

export type WaitOutcome =
  | { readonly kind: 'matched'; readonly messages: MessageSummary[] }
  | { readonly kind: 'timeout'; readonly messages: MessageSummary[] }
  | { readonly kind: 'aborted' };

export interface WaitRegistry {
  wait(request: WaitRequest): Promise<WaitOutcome>;
  /** Waiters currently pending. */
  readonly size: number;
  /**
   * Pending waiters whose mailboxes all lie within `scope`: what a caller limited to `scope` may
   * be told (a wait on another mailbox is that mailbox's business, so it is not counted).
   */
  countWithin(scope: MailboxScope): number;
  /** Ends every pending wait (as a timeout) and stops listening. */
  close(): void;
}

interface Waiter {
  readonly request: WaitRequest;
  readonly matches: (view: MatchView) => MatchResult;
  readonly found: Map<string, MessageSummary>;
  settle(outcome: WaitOutcome): void;
  fail(err: unknown): void;
}

function oldestFirst(found: Map<string, MessageSummary>): MessageSummary[] {
  return [...found.values()]
    .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id))
    .slice(0, MAX_WAIT_RESULTS);
}

export function createWaitRegistry(deps: { bus: EventBus; store: MessageStore; log: Logger }): WaitRegistry {
  const { bus, store, log } = deps;
  const waiters = new Set<Waiter>();
  const index = new WaiterIndex<Waiter>();
  let batch: MessageSummary[] = [];
  let batchScheduled = false;

  function add(waiter: Waiter, messages: readonly MessageSummary[]): void {
    if (!waiters.has(waiter)) return;
    for (const message of messages) waiter.found.set(message.id, message);
    if (waiter.found.size >= waiter.request.count) waiter.settle({ kind: 'matched', messages: oldestFirst(waiter.found) });
  }

  async function matchBatch(stored: readonly MessageSummary[]): Promise<void> {
    const undecidedByQuery = new Map<string, { query: SearchQuery; waiters: Set<Waiter>; ids: Set<string> }>();
    const matchedBy = new Map<Waiter, MessageSummary[]>();
    for (const summary of stored) {
      const view = matchView(summary);
      for (const waiter of index.candidates(view)) {
        const { query, queryText, since, scope } = waiter.request;
        if (since !== null && view.receivedAt < since) continue;
        if (!inScope(scope, summary.mailbox)) continue;
        const result = waiter.matches(view);
        if (result === 'match') {
          const list = matchedBy.get(waiter);
          if (list) list.push(summary);
          else matchedBy.set(waiter, [summary]);
        } else if (result === 'undecided') {
          let group = undecidedByQuery.get(queryText);
          if (!group) undecidedByQuery.set(queryText, (group = { query, waiters: new Set(), ids: new Set() }));
          group.waiters.add(waiter);
          group.ids.add(summary.id);
        }
      }
    }
    for (const [waiter, matched] of matchedBy) add(waiter, matched);
    for (const group of undecidedByQuery.values()) {
      const ids = [...group.ids];
      // Waiters of different mailboxes may share a query: the ids are of all of them, and each waiter keeps its own.
      const matches = await store.find(ALL_MAILBOXES, { query: group.query, ids, limit: ids.length });
      for (const waiter of group.waiters) {
        const { since, scope } = waiter.request;
        add(waiter, matches.filter((m) => (since === null || Date.parse(m.receivedAt) >= since) && inScope(scope, m.mailbox)));
      }
    }
  }

  const unsubscribe = bus.on('message:stored', (summary) => {
    if (waiters.size === 0) return;
    batch.push(summary);
    if (batchScheduled) return;
    batchScheduled = true;
    // Everything committed in this turn (a group commit resolves many inserts at once) is matched together.
    setImmediate(() => {
      const stored = batch;
      batch = [];
      batchScheduled = false;
      matchBatch(stored).catch((err: unknown) => {
        // The database could not answer for some waiters; they would otherwise wait out their timeout on a false "no".
        log.error({ err }, 'matching stored messages for waiters failed');
        for (const waiter of [...waiters]) waiter.fail(err);
      });
    });
  });

  return {
    wait(request) {
      return new Promise<WaitOutcome>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const onAbort = () => waiter.settle({ kind: 'aborted' });
        const finish = () => {
          if (!waiters.delete(waiter)) return false;
          index.delete(waiter);
          clearTimeout(timer);
          request.signal?.removeEventListener('abort', onAbort);
          return true;
        };
        const waiter: Waiter = {
          request,
          matches: compileMatcher(request.query),
          found: new Map(),
          settle(outcome) {
            if (finish()) resolve(outcome);
          },
          fail(err) {
            if (finish()) reject(err);
          },
        };
        if (request.signal?.aborted) {
          resolve({ kind: 'aborted' });
          return;
        }
        // Subscribed first, then the store is asked: see the top of this file.
        waiters.add(waiter);
        index.add(waiter, requiredSubstring(request.query));
        request.signal?.addEventListener('abort', onAbort, { once: true });
        timer = setTimeout(() => waiter.settle({ kind: 'timeout', messages: oldestFirst(waiter.found) }), request.timeoutMs);
        store.find(request.scope, { query: request.query, since: request.since, limit: MAX_WAIT_RESULTS }).then(
          (existing) => add(waiter, existing),
          (err: unknown) => waiter.fail(err),
        );
      });
    },
    get size() {
      return waiters.size;
    },
    countWithin(scope) {
      if (scope.kind === 'all') return waiters.size;
      let count = 0;
      for (const waiter of waiters) if (scopeWithin(waiter.request.scope, scope)) count++;
      return count;
    },
    close() {
      unsubscribe();
      for (const waiter of [...waiters]) waiter.settle({ kind: 'timeout', messages: oldestFirst(waiter.found) });
    },
  };
}
