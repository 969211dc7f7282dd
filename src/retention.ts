/**
 * Retention: deletes messages beyond --max-messages and older than --max-age, in the background.
 * The count limit is checked shortly after new mail arrives (at most every 250 ms); the age
 * limit on a timer. The limits apply per mailbox: --max-messages 100 keeps the newest 100 of
 * each, so a busy mailbox never pushes out another's mail. Deletions go through the mailbox
 * service, so they are announced like any other.
 */
import type { Logger } from 'pino';
import type { EventBus } from './events.js';
import { ALL_MAILBOXES, onlyMailboxes } from './mail/mailbox-scope.js';
import type { MailboxService } from './mailbox/service.js';

const COUNT_CHECK_MS = 250;

export interface RetentionLimits {
  readonly maxMessages: number | null;
  readonly maxAge: number | null;
}

export interface Retention {
  /** Runs one pruning pass now (also what the triggers call). */
  prune(): Promise<void>;
  stop(): Promise<void>;
}

export interface RetentionDeps {
  readonly mailboxes: MailboxService;
  /** Where new mail is heard of (on many nodes, every node's: the count limit is the database's). */
  readonly bus: EventBus;
  readonly log: Logger;
  readonly now?: () => number;
  /**
   * Runs a pass, or skips it when another node runs them (many nodes on one database: the pass
   * runs on one node at a time, store/pg/singleton-work.ts). By default every pass runs here.
   */
  readonly exclusive?: (pass: () => Promise<void>) => Promise<unknown>;
}

export function startRetention(limits: RetentionLimits, deps: RetentionDeps): Retention {
  const { mailboxes, bus, log } = deps;
  const now = deps.now ?? Date.now;
  const exclusive = deps.exclusive ?? ((run: () => Promise<void>) => run());
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  async function pass(): Promise<void> {
    let deleted = 0;
    // Age is the same limit in every mailbox: one pass over all of them.
    if (limits.maxAge !== null) deleted += (await mailboxes.prune(ALL_MAILBOXES, { receivedBefore: now() - limits.maxAge })).length;
    const maxMessages = limits.maxMessages;
    if (maxMessages !== null) {
      // The kept counts say which mailboxes are over the limit, without counting any messages.
      const over = (await mailboxes.listMailboxes(ALL_MAILBOXES)).filter((m) => m.total > maxMessages);
      for (const { name } of over) deleted += (await mailboxes.prune(onlyMailboxes([name]), { maxMessages })).length;
    }
    if (deleted === 0) return;
    log.info({ deleted }, 'retention pruned messages');
  }

  /** One pass at a time; a request during a pass runs one more pass after it. */
  function prune(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await exclusive(pass);
        } catch (err) {
          log.error({ err }, 'retention pass failed');
        }
      } while (again && !stopped);
      running = null;
    })();
    return running;
  }

  // New mail triggers a count check, at most every COUNT_CHECK_MS: under heavy intake a pass per
  // message would be wasted work on the database.
  let countCheck: NodeJS.Timeout | null = null;
  const unsubscribe =
    limits.maxMessages === null
      ? () => undefined
      : bus.on('message:stored', () => {
          countCheck ??= setTimeout(() => {
            countCheck = null;
            void prune();
          }, COUNT_CHECK_MS);
        });
  // Age is checked often enough to keep within about a quarter of the limit, at most once a second.
  const timer = limits.maxAge === null ? null : setInterval(() => void prune(), Math.min(60_000, Math.max(1000, limits.maxAge / 4)));
  timer?.unref();

  return {
    prune,
    async stop() {
      stopped = true;
      unsubscribe();
      if (countCheck) clearTimeout(countCheck);
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
