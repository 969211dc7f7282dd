/**
 * Periodic work that one node at a time should do (retention, stray cleanup), when many nodes share
 * one PostgreSQL database (issue 20).
 *
 * Each kind of work has a session-level advisory lock (`pg_try_advisory_lock`, its key derived from
 * the work's name). A node that takes the lock keeps it, on a session of its own held from the
 * pool, for as long as that session lives: it is the holder, and runs the work each time it is
 * asked; the other nodes try the lock each time they are asked, and skip the work while another
 * holds it. Before each run the holder checks its session still answers (an answer means the same
 * server session, so the lock is still its own). When the holder dies or its session is cut, the
 * server ends the session and frees the lock, and the next node that asks takes over.
 *
 * Not a fence: if the holder's session dies while a run is under way, another node can start a run
 * before the first has finished. Retention and cleanup are idempotent, so a rare overlap costs
 * only work. A cut the server does not notice (a silent network loss) holds the lock until TCP
 * keepalive or `tcp_keepalives_*`/`idle_session_timeout` ends the session.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';

export interface SingletonWorkOptions {
  readonly pool: Pool;
  /** The work's name (e.g. `retention`); every node uses the same name for the same work. */
  readonly name: string;
  readonly log: Logger;
}

export type SingletonRun<T> = { readonly ran: true; readonly value: T } | { readonly ran: false };

export interface SingletonWork {
  /** Runs the task when this node holds the work's lock or can take it now; otherwise does nothing. One run at a time. */
  runIfHolder<T>(task: () => Promise<T>): Promise<SingletonRun<T>>;
  /** Whether this node held the lock when it last looked. */
  isHolder(): boolean;
  /** Gives the lock up (ends its session) and runs nothing more. */
  close(): Promise<void>;
}

/** The advisory-lock key of a work's name: 64 bits of its SHA-256, as a signed bigint in text. */
export function advisoryKey(name: string): string {
  return createHash('sha256').update(`kotak:singleton:${name}`).digest().readBigInt64BE(0).toString();
}

/** A session held from the pool, ended at most once. */
interface HeldSession {
  readonly client: PoolClient;
  /** Destroys the session (so the server frees any lock it holds); later calls do nothing. */
  end(err?: unknown): void;
  /** Gives a session that holds nothing back to the pool. */
  giveBack(): void;
}

function hold(client: PoolClient, onLost: (err: unknown) => void): HeldSession {
  let ended = false;
  const onError = (err: Error) => {
    if (ended) return;
    session.end(err);
    onLost(err);
  };
  const session: HeldSession = {
    client,
    giveBack() {
      if (ended) return;
      ended = true;
      client.removeListener('error', onError);
      client.release();
    },
    end(err) {
      if (ended) return;
      ended = true;
      client.release(err instanceof Error ? err : true);
    },
  };
  client.on('error', onError);
  return session;
}

export function createSingletonWork({ pool, name, log }: SingletonWorkOptions): SingletonWork {
  const key = advisoryKey(name);
  let held: HeldSession | null = null;
  let running = false;
  let closed = false;

  const lost = (session: HeldSession) => (err: unknown) => {
    if (held !== session) return;
    held = null;
    log.warn({ work: name, err }, 'lost the lock of work that runs on one node at a time');
  };

  async function holds(): Promise<boolean> {
    if (held) {
      const session = held;
      try {
        await session.client.query('SELECT 1');
        return true;
      } catch (err) {
        // The session (and with it the lock) is gone: try to take the lock again below.
        session.end(err);
        lost(session)(err);
      }
    }
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      log.warn({ work: name, err }, 'could not reach PostgreSQL to take the lock of work that runs on one node at a time');
      return false;
    }
    let onLost: (err: unknown) => void = () => undefined;
    const session = hold(client, (err) => onLost(err));
    try {
      const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS taken', [key]);
      if (rows[0]?.taken !== true) {
        // Another node holds it; this session holds nothing.
        session.giveBack();
        return false;
      }
    } catch (err) {
      session.end(err);
      log.warn({ work: name, err }, 'could not try the lock of work that runs on one node at a time');
      return false;
    }
    if (closed) {
      session.end();
      return false;
    }
    held = session;
    onLost = lost(session);
    log.info({ work: name }, 'this node now runs the work that runs on one node at a time');
    return true;
  }

  return {
    async runIfHolder<T>(task: () => Promise<T>): Promise<SingletonRun<T>> {
      if (closed || running) return { ran: false };
      running = true;
      try {
        if (!(await holds()) || closed) return { ran: false };
        return { ran: true, value: await task() };
      } finally {
        running = false;
      }
    },
    isHolder: () => held !== null,
    async close() {
      closed = true;
      held?.end();
      held = null;
    },
  };
}
