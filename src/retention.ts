/**
 * Retention: deletes messages beyond --max-messages and older than --max-age, in the background.
 * The count limit is checked after new mail arrives (coalesced, so a burst prunes once); the age
 * limit on a timer. Deletions are announced on the bus like any other.
 */
import type { Logger } from 'pino';
import type { EventBus } from './events.js';
import type { MessageStore } from './store/types.js';

export interface RetentionLimits {
  readonly maxMessages: number | null;
  readonly maxAge: number | null;
}

export interface Retention {
  /** Runs one pruning pass now (also what the triggers call). */
  prune(): Promise<void>;
  stop(): Promise<void>;
}

export function startRetention(limits: RetentionLimits, deps: { store: MessageStore; bus: EventBus; log: Logger; now?: () => number }): Retention {
  const { store, bus, log } = deps;
  const now = deps.now ?? Date.now;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  async function pass(): Promise<void> {
    const ids = await store.prune({
      maxMessages: limits.maxMessages,
      receivedBefore: limits.maxAge === null ? null : now() - limits.maxAge,
    });
    if (ids.length === 0) return;
    log.info({ deleted: ids.length }, 'retention pruned messages');
    bus.emit('message:deleted', { ids });
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
          await pass();
        } catch (err) {
          log.error({ err }, 'retention pass failed');
        }
      } while (again && !stopped);
      running = null;
    })();
    return running;
  }

  const unsubscribe = limits.maxMessages === null ? () => undefined : bus.on('message:stored', () => void prune());
  // Age is checked often enough to keep within about a quarter of the limit, at most once a second.
  const timer = limits.maxAge === null ? null : setInterval(() => void prune(), Math.min(60_000, Math.max(1000, limits.maxAge / 4)));
  timer?.unref();

  return {
    prune,
    async stop() {
      stopped = true;
      unsubscribe();
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
