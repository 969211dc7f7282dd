/** A transaction on a connection of the pool, and the lease renewal the leased queues share (relay jobs, webhook deliveries). */
import type pg from 'pg';

/**
 * Runs `work` in a transaction on a connection of its own, committed when it resolves and rolled
 * back when it throws; with `lockKey`, under that advisory transaction lock, taken first. A
 * connection whose ROLLBACK failed is broken (the server went away): it is given back as such, so
 * the pool drops it.
 */
export async function inPgTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, lockKey?: string): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      if (lockKey) await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey]);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
      throw err;
    }
  } finally {
    client.release(broken);
  }
}

/** What a leased queue's store is given about its leases. */
export interface LeaseOptions {
  /** This node's name (src/node-id.ts): unique among the live nodes on the database. */
  readonly nodeId: string;
  /** How long a claim holds its row without being renewed: longer than one attempt may take. */
  readonly leaseMs: number;
  /** How often the leases of rows being worked on are renewed (0: never by itself; a third of the lease is usual). */
  readonly renewEveryMs: number;
  /** The clock the renewals use (the queue's, so leases and claims read one clock). */
  readonly now?: () => number;
  /** Told when renewing failed (the database unreachable): the leases may run out meanwhile. */
  readonly onRenewError?: (err: unknown) => void;
}

/**
 * Calls `renew(now())` every `everyMs` (never two at once; not at all for 0), its failures told to
 * `onError`; the timer does not keep the process alive. Returns the stop.
 */
export function renewLeasesEvery(everyMs: number, renew: (at: number) => Promise<unknown>, now: () => number, onError?: (err: unknown) => void): () => void {
  if (everyMs <= 0) return () => undefined;
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing) return;
    renewing = true;
    renew(now())
      .catch((err: unknown) => onError?.(err))
      .finally(() => (renewing = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
