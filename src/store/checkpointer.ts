/**
 * Moves the WAL into the database file from a connection of its own, so that no commit waits for
 * it. Left to SQLite, the checkpoint runs inside whichever COMMIT takes the WAL past
 * `wal_autocheckpoint` (1,000 pages), and syncs the WAL and then the database file there: with
 * `--durability crash` those are the only syncs there are, and a test suite's one connection
 * waited for one every ~20 messages (`bench/store-commit.ts --batch 1 --durability crash`:
 * commit p50 0.12 ms, mean 0.46–0.73 ms). A PASSIVE checkpoint on another connection copies the
 * committed frames while the writer goes on appending. SQLite starts the WAL over at the next
 * write only once a checkpoint has copied all of it, which one running beside a busy writer never
 * does: so the writer keeps its own checkpoint, at WAL_RESTART_PAGES instead of 1,000, and finds
 * nearly everything copied already when it runs.
 */
import type { Logger } from 'pino';
import type { Connection } from './sqlite-driver.js';

/**
 * A checkpoint starts once this many write transactions have committed since the last one began
 * (about SQLite's own 1,000 pages when each holds a few small messages), so a trickle of mail
 * makes no sync of its own, as with SQLite's checkpoint...
 */
export const CHECKPOINT_AFTER_WRITES = 32;
/** ...and at most this often under load, so that a hot page is copied once for many commits. */
export const CHECKPOINT_MIN_INTERVAL_MS = 100;

/** The writer's own checkpoint (`wal_autocheckpoint`), which lets the WAL start over: 16 MB of 4 KB pages. */
export const WAL_RESTART_PAGES = 4_000;

export interface Checkpointer {
  /** A write transaction committed on the writer. */
  wrote(): void;
  /** Stops checkpointing and waits for a running one; the caller then closes the connection. */
  stop(): Promise<void>;
}

export function createCheckpointer({ connection, log }: { connection: Connection; log: Logger }): Checkpointer {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let writes = 0;
  let lastStart = -Infinity;
  let stopped = false;

  function start(): void {
    timer = null;
    writes = 0;
    lastStart = performance.now();
    running = connection
      .get('PRAGMA wal_checkpoint(PASSIVE)')
      .then(
        () => undefined,
        // The WAL keeps what was not copied; the next checkpoint tries again.
        (err: unknown) => log.warn({ err }, 'background checkpoint failed'),
      )
      .finally(() => {
        running = null;
        consider();
      });
  }

  function consider(): void {
    if (stopped || running || timer || writes < CHECKPOINT_AFTER_WRITES) return;
    const wait = lastStart + CHECKPOINT_MIN_INTERVAL_MS - performance.now();
    if (wait <= 0) return start();
    timer = setTimeout(start, wait);
    timer.unref();
  }

  return {
    wrote() {
      writes += 1;
      consider();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
