/**
 * The relay queue in PostgreSQL (tables from migrations/002_relay.sql), shared by every node.
 *
 * Same contract as the SQLite queue (relay-types.ts), plus leases so that several nodes can work
 * one queue: `claimDue` takes due jobs with `FOR UPDATE SKIP LOCKED` (two nodes never take the
 * same job) and marks each `sending` with this node as `lease_owner` until `lease_until`. While
 * the node delivers, `renewLeases` (on a timer, `renewEveryMs`) pushes the lease on; a node that
 * dies stops renewing, and once the lease has run out the job is due again for any node. An
 * outcome is recorded only for the claim that is still current (owner and claim number), so a
 * node that lost its lease (paused, cut off) cannot overwrite the outcome of the node that took
 * the job over. At least once, as any MTA: a remote that answered 250 just before the holder
 * died gets the message again from the next holder.
 *
 * Times are the callers' epoch milliseconds, as on SQLite: nodes' clocks must agree to well
 * within a lease (NTP does).
 */
import type { Pool } from 'pg';
import { isoOfMs, relayJobOf, type RelayJobRow } from '../relay-rows.js';
import { noRelayJobs, type RelayAttempt, type RelayJobUpdate, type RelayStatus, type RelayStore } from '../relay-types.js';
import { renewLeasesEvery, type LeaseOptions } from './transaction.js';

/** A row as `pg` returns it: bigint columns arrive as strings. */
interface JobRow extends RelayJobRow {
  claim_seq: string;
}

interface AttemptJson {
  at: number;
  mx_host: string | null;
  outcome: RelayAttempt['outcome'];
  reply: string | null;
  transcript: string[];
}



const byDueThenId = (a: JobRow, b: JobRow) => Number(a.next_attempt_at ?? 0) - Number(b.next_attempt_at ?? 0) || Number(a.id) - Number(b.id);

export interface PgRelayStoreOptions extends LeaseOptions {
  readonly pool: Pool;
}

export interface PgRelayStore extends RelayStore {
  /** Pushes on the lease of every job this node holds; returns how many it still holds. */
  renewLeases(now: number): Promise<number>;
  /** Stops renewing (the pool belongs to the caller). Jobs still held keep their lease until it runs out. */
  close(): void;
}

export function createPgRelayStore({ pool, nodeId, leaseMs, renewEveryMs, now = Date.now, onRenewError }: PgRelayStoreOptions): PgRelayStore {
  /** The jobs this node claimed and has not completed, with the claim number each was taken at. */
  const held = new Map<number, number>();
  const heldIds = () => [...held.keys()];

  async function renewLeases(at: number): Promise<number> {
    if (held.size === 0) return 0;
    const ids = heldIds();
    const { rows } = await pool.query<{ id: string }>(
      `UPDATE relay_jobs j SET lease_until = $1
         FROM unnest($2::bigint[], $3::bigint[]) AS h(id, claim_seq)
        WHERE j.id = h.id AND j.claim_seq = h.claim_seq AND j.status = 'sending' AND j.lease_owner = $4
       RETURNING j.id`,
      [at + leaseMs, ids, ids.map((id) => held.get(id)!), nodeId],
    );
    // A job not renewed was taken over (our lease had run out): its outcome is no longer ours to record.
    const kept = new Set(rows.map((r) => Number(r.id)));
    for (const id of ids) if (!kept.has(id)) held.delete(id);
    return kept.size;
  }

  const stopRenewing = renewLeasesEvery(renewEveryMs, renewLeases, now, onRenewError);

  return {
    async enqueue(messageId, mailbox, recipients, at, giveUpAt) {
      if (recipients.length === 0) return [];
      const { rows } = await pool.query<JobRow>(
        `INSERT INTO relay_jobs (message_id, mailbox, recipient, domain, status, attempts, next_attempt_at, give_up_at, created_at, updated_at)
         SELECT $1, $2, r.recipient, r.domain, 'queued', 0, $5, $6, $5, $5
           FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS r(recipient, domain, n) ORDER BY r.n
         RETURNING *`,
        [messageId, mailbox, recipients.map((r) => r.recipient), recipients.map((r) => r.domain), at, giveUpAt],
      );
      return rows.sort((a, b) => Number(a.id) - Number(b.id)).map(relayJobOf);
    },

    async claimDue(at, limit) {
      // Due: waiting jobs whose time has come, and jobs in delivery whose lease ran out (their
      // node died or was cut off) unless this node is the one delivering them. SKIP LOCKED: rows
      // another node is claiming right now are left to it, not waited for.
      const { rows } = await pool.query<JobRow>(
        `WITH due AS (
           SELECT id FROM relay_jobs
            WHERE ((status IN ('queued', 'deferred') AND next_attempt_at <= $1)
                OR (status = 'sending' AND lease_until <= $1 AND NOT (id = ANY($4::bigint[]))))
            ORDER BY next_attempt_at, id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
         )
         UPDATE relay_jobs j
            SET status = 'sending', lease_owner = $3, lease_until = $1 + $5::bigint, claim_seq = j.claim_seq + 1, updated_at = $1
           FROM due WHERE j.id = due.id
         RETURNING j.*`,
        [at, limit, nodeId, heldIds(), leaseMs],
      );
      rows.sort(byDueThenId);
      for (const row of rows) held.set(Number(row.id), Number(row.claim_seq));
      return rows.map(relayJobOf);
    },

    async nextDueAt() {
      // A lease of another node counts as a due time too: that is when its job is ours to take
      // if the node has died (if it lives, it will have renewed, and the next look says so).
      const { rows } = await pool.query<{ at: string | null }>(
        `SELECT LEAST(
           (SELECT MIN(next_attempt_at) FROM relay_jobs WHERE status IN ('queued', 'deferred')),
           (SELECT MIN(lease_until) FROM relay_jobs WHERE status = 'sending' AND NOT (id = ANY($1::bigint[])))
         ) AS at`,
        [heldIds()],
      );
      const at = rows[0]?.at ?? null;
      return at === null ? null : Number(at);
    },

    async complete(jobId, update: RelayJobUpdate) {
      const claim = held.get(jobId);
      if (claim === undefined) return null;
      held.delete(jobId);
      const at = update.attempt.at;
      // One statement: the outcome and its attempt are written only while the claim is current.
      const { rows } = await pool.query<JobRow>(
        `WITH done AS (
           UPDATE relay_jobs SET status = $3, attempts = attempts + 1, next_attempt_at = $4, updated_at = $5,
                  mx_host = $6, reply = $7, reason = $8, tls = $9, lease_owner = NULL, lease_until = NULL
            WHERE id = $1 AND claim_seq = $2 AND status = 'sending' AND lease_owner = $10
           RETURNING *
         ), attempt AS (
           INSERT INTO relay_attempts (job_id, at, mx_host, outcome, reply, transcript)
           SELECT id, $5, $11, $12, $13, $14::jsonb FROM done
         )
         SELECT * FROM done`,
        [
          jobId, claim, update.status, update.nextAttemptAt, at, update.mxHost, update.reply, update.reason, update.tls, nodeId,
          update.attempt.mxHost, update.attempt.outcome, update.attempt.reply, JSON.stringify(update.attempt.transcript),
        ],
      );
      return rows[0] ? relayJobOf(rows[0]) : null;
    },

    async requeueInterrupted(at) {
      // Only jobs whose lease ran out: a job in `sending` with a live lease is another node's delivery.
      const result = await pool.query(
        `UPDATE relay_jobs SET status = 'queued', next_attempt_at = $1, updated_at = $1, lease_owner = NULL, lease_until = NULL
          WHERE status = 'sending' AND lease_until <= $1 AND NOT (id = ANY($2::bigint[]))`,
        [at, heldIds()],
      );
      return result.rowCount ?? 0;
    },

    async jobsForMessage(messageId) {
      // One statement, so jobs and their attempts come from the same snapshot (as on SQLite).
      const { rows } = await pool.query<JobRow & { history: AttemptJson[] }>(
        `SELECT j.*, COALESCE((SELECT json_agg(json_build_object('at', a.at, 'mx_host', a.mx_host, 'outcome', a.outcome, 'reply', a.reply, 'transcript', a.transcript) ORDER BY a.id)
                                 FROM relay_attempts a WHERE a.job_id = j.id), '[]'::json) AS history
           FROM relay_jobs j WHERE j.message_id = $1 ORDER BY j.id`,
        [messageId],
      );
      return rows.map(({ history, ...row }) => ({
        ...relayJobOf(row),
        history: history.map((a) => ({ at: isoOfMs(a.at), mxHost: a.mx_host, outcome: a.outcome, reply: a.reply, transcript: a.transcript })),
      }));
    },

    async list(scope, { status, limit }) {
      if (scope.kind === 'only' && scope.mailboxes.length === 0) return [];
      const { rows } = await pool.query<JobRow>(
        `SELECT * FROM relay_jobs
          WHERE ($1::text IS NULL OR status = $1) AND ($2::text[] IS NULL OR mailbox = ANY($2::text[]))
          ORDER BY id DESC LIMIT $3`,
        [status ?? null, scope.kind === 'only' ? [...scope.mailboxes] : null, limit],
      );
      return rows.map(relayJobOf);
    },

    async countByStatus() {
      const counts = noRelayJobs();
      const { rows } = await pool.query<{ status: RelayStatus; n: string }>('SELECT status, COUNT(*) AS n FROM relay_jobs GROUP BY status');
      // COUNT is a bigint, which the driver gives as text.
      for (const row of rows) if (row.status in counts) counts[row.status] = Number(row.n);
      return counts;
    },

    renewLeases,

    close() {
      stopRenewing();
    },
  };
}
