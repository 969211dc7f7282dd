/**
 * The webhook outbox in PostgreSQL (tables from migrations/004_webhooks.sql), shared by every node.
 *
 * Same contract as the SQLite outbox (webhook-types.ts), plus leases, as the relay queue has
 * (relay-store.ts): `claimNext` marks the endpoint's head `sending` with this node as
 * `lease_owner` until `lease_until`, renewed on a timer while this node holds it; a node that dies
 * stops renewing, and once the lease has run out the head may be claimed by any node. An outcome
 * is written only for the claim that is still current (owner and claim number).
 *
 * Order per endpoint across nodes: a claim takes an advisory transaction lock on its endpoint
 * before it reads the head, so two nodes never claim at once for one endpoint, and a head under
 * another node's live lease means nothing for anyone else. New rows are written under one more
 * advisory lock (`OUTBOX_LOCK_KEY`, by `enqueue` and by the message store's group commit), so seqs
 * are committed in seq order: a claim never sees a later delivery of an endpoint before an earlier one.
 *
 * Times are the callers' epoch milliseconds: nodes' clocks must agree to well within a lease.
 */
import type pg from 'pg';
import { newWebhookRows, webhookAttemptOf, webhookDeliveryOf, type WebhookAttemptRow, type WebhookDeliveryRow } from '../webhook-rows.js';
import { noWebhookDeliveries, type WebhookDelivery, type WebhookDeliveryStatus, type WebhookEventDraft, type WebhookStore } from '../webhook-types.js';
import { inPgTransaction, renewLeasesEvery, type LeaseOptions } from './transaction.js';

/** Advisory transaction lock of new outbox rows: "kotakwhk" as 8 ASCII bytes. */
const OUTBOX_LOCK_KEY = '7741534246236809323';
/** The class of the per-endpoint claim locks (two-int4 form, a key space apart from the one-bigint locks): "kwhk". */
const CLAIM_LOCK_CLASS = 1802987627;

/** A row as `pg` returns it: bigint columns arrive as strings. */
interface DeliveryRow extends WebhookDeliveryRow {
  claim_seq: string;
  lease_owner: string | null;
  lease_until: string | null;
}

/**
 * Writes outbox rows for these drafts, pending and due at `now`, in the caller's transaction (the
 * message store's group commit, or enqueue's): one INSERT whatever their number, under the outbox
 * lock so seqs commit in order. Returns the rows when `returning`.
 */
export async function insertWebhookRows(client: pg.ClientBase, drafts: readonly WebhookEventDraft[], now: number, returning: boolean): Promise<WebhookDelivery[]> {
  if (drafts.length === 0) return [];
  const rows = newWebhookRows(drafts, now);
  await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [OUTBOX_LOCK_KEY]);
  // ORDER BY the ordinality: seqs are drawn in the drafts' order.
  const inserted = await client.query<DeliveryRow>(
    `INSERT INTO webhook_deliveries (id, endpoint, event, mailbox, payload, created_at, status, attempts, next_attempt_at)
     SELECT r.id, r.endpoint, r.event, r.mailbox, r.payload, $6, 'pending', 0, $6
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS r(id, endpoint, event, mailbox, payload, n)
      ORDER BY r.n
     ${returning ? 'RETURNING *' : ''}`,
    [rows.map((r) => r.id), rows.map((r) => r.draft.endpoint), rows.map((r) => r.draft.event), rows.map((r) => r.draft.mailbox), rows.map((r) => r.draft.payload), now],
  );
  return returning ? inserted.rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(webhookDeliveryOf) : [];
}

export interface PgWebhookStoreOptions extends LeaseOptions {
  /** The node's own pool (app.ts's small one); the store does not end it. */
  readonly pool: pg.Pool;
}

export interface PgWebhookStore extends WebhookStore {
  /** Pushes on the lease of every delivery this node holds; returns how many it still holds. */
  renewLeases(now: number): Promise<number>;
  /** Stops renewing (the pool belongs to the caller). Deliveries still held keep their lease until it runs out. */
  close(): void;
}

export function createPgWebhookStore({ pool, nodeId, leaseMs, renewEveryMs, now = Date.now, onRenewError }: PgWebhookStoreOptions): PgWebhookStore {
  /** The deliveries this node claimed and has not completed (by id), with the claim number each was taken at. */
  const held = new Map<string, number>();
  const heldIds = () => [...held.keys()];

  const transaction = <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => inPgTransaction(pool, work);

  async function renewLeases(at: number): Promise<number> {
    if (held.size === 0) return 0;
    const ids = heldIds();
    const { rows } = await pool.query<{ id: string }>(
      `UPDATE webhook_deliveries d SET lease_until = $1
         FROM unnest($2::text[], $3::bigint[]) AS h(id, claim_seq)
        WHERE d.id = h.id AND d.claim_seq = h.claim_seq AND d.status = 'sending' AND d.lease_owner = $4
       RETURNING d.id`,
      [at + leaseMs, ids, ids.map((id) => held.get(id)!), nodeId],
    );
    // A delivery not renewed was taken over (our lease had run out): its outcome is no longer ours to record.
    const kept = new Set(rows.map((r) => r.id));
    for (const id of ids) if (!kept.has(id)) held.delete(id);
    return kept.size;
  }

  const stopRenewing = renewLeasesEvery(renewEveryMs, renewLeases, now, onRenewError);

  /** The endpoint's head: its lowest-seq delivery neither delivered nor failed (the partial index's first entry). */
  const HEAD_SEQ = `(SELECT seq FROM webhook_deliveries WHERE endpoint = $1 AND status IN ('pending', 'sending') ORDER BY seq LIMIT 1)`;

  return {
    enqueue(drafts, at) {
      if (drafts.length === 0) return Promise.resolve([]);
      return transaction((client) => insertWebhookRows(client, drafts, at, true));
    },

    async claimNext(endpoint, at) {
      const rows = await transaction(async (client) => {
        // Claims for one endpoint take turns; the UPDATE then reads the head as the last claim left it.
        await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [CLAIM_LOCK_CLASS, endpoint]);
        // Claimable: a pending head that is due, or a head whose lease ran out (its node died or
        // was cut off) unless this node is the one sending it.
        return (
          await client.query<DeliveryRow>(
            `UPDATE webhook_deliveries d
                SET status = 'sending', lease_owner = $3, lease_until = $2 + $4::bigint, claim_seq = d.claim_seq + 1
              WHERE d.seq = ${HEAD_SEQ}
                AND ((d.status = 'pending' AND d.next_attempt_at <= $2)
                  OR (d.status = 'sending' AND d.lease_until <= $2 AND NOT (d.id = ANY($5::text[]))))
             RETURNING d.*`,
            [endpoint, at, nodeId, leaseMs, heldIds()],
          )
        ).rows;
      });
      const row = rows[0];
      if (!row) return null;
      held.set(row.id, Number(row.claim_seq));
      return webhookDeliveryOf(row);
    },

    async nextDueAt(endpoint) {
      // A head under another node's lease is due when that lease runs out (ours if the node has
      // died; if it lives it will have renewed, and the next look says so). One this node is
      // sending: the dispatcher asks again once it completes.
      const { rows } = await pool.query<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE seq = ${HEAD_SEQ}`, [endpoint]);
      const head = rows[0];
      if (!head) return null;
      if (head.status === 'pending') return head.next_attempt_at === null ? null : Number(head.next_attempt_at);
      return held.has(head.id) || head.lease_until === null ? null : Number(head.lease_until);
    },

    async complete(id, { status, nextAttemptAt, attempt }) {
      const claim = held.get(id);
      if (claim === undefined) return false;
      held.delete(id);
      // One statement: the outcome and its attempt are written only while the claim is current.
      const { rows } = await pool.query<{ seq: string }>(
        `WITH done AS (
           UPDATE webhook_deliveries
              SET status = $3, attempts = attempts + 1, next_attempt_at = $4, last_status_code = $5, last_error = $6, finished_at = $7,
                  lease_owner = NULL, lease_until = NULL
            WHERE id = $1 AND claim_seq = $2 AND status = 'sending' AND lease_owner = $8
           RETURNING seq
         ), attempt AS (
           INSERT INTO webhook_attempts (delivery_seq, at, status_code, error, duration_ms)
           SELECT seq, $9, $5, $6, $10 FROM done
         )
         SELECT seq FROM done`,
        [
          id, claim, status, status === 'pending' ? (nextAttemptAt ?? attempt.at) : null, attempt.statusCode, attempt.error,
          status === 'pending' ? null : attempt.at, nodeId, attempt.at, Math.round(attempt.durationMs),
        ],
      );
      return rows.length > 0;
    },

    async requeueInterrupted(at) {
      // Only deliveries whose lease ran out: one in `sending` with a live lease is another node's.
      const result = await pool.query(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, lease_owner = NULL, lease_until = NULL
          WHERE status = 'sending' AND lease_until <= $1 AND NOT (id = ANY($2::text[]))`,
        [at, heldIds()],
      );
      return result.rowCount ?? 0;
    },

    async list(scope, { endpoint, status, beforeSeq, limit }) {
      if (scope.kind === 'only' && scope.mailboxes.length === 0) return [];
      // `mailbox = ANY(...)` is never true of a NULL mailbox: a scoped list shows no mailbox-less event.
      // One statement, so a delivery and its attempts come from one snapshot.
      const { rows } = await pool.query<DeliveryRow & { history: WebhookAttemptRow[] }>(
        `SELECT d.*, COALESCE((SELECT json_agg(json_build_object('at', a.at, 'status_code', a.status_code, 'error', a.error, 'duration_ms', a.duration_ms) ORDER BY a.id)
                                 FROM webhook_attempts a WHERE a.delivery_seq = d.seq), '[]'::json) AS history
           FROM webhook_deliveries d
          WHERE ($1::text IS NULL OR d.endpoint = $1) AND ($2::text IS NULL OR d.status = $2) AND ($3::bigint IS NULL OR d.seq < $3)
            AND ($4::text[] IS NULL OR d.mailbox = ANY($4::text[]))
          ORDER BY d.seq DESC LIMIT $5`,
        [endpoint ?? null, status ?? null, beforeSeq ?? null, scope.kind === 'only' ? [...scope.mailboxes] : null, limit],
      );
      return rows.map(({ history, ...row }) => ({ ...webhookDeliveryOf(row), history: history.map(webhookAttemptOf) }));
    },

    async countByStatus() {
      const counts = noWebhookDeliveries();
      const { rows } = await pool.query<{ status: WebhookDeliveryStatus; n: string }>('SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status');
      // COUNT is a bigint, which the driver gives as text.
      for (const row of rows) if (row.status in counts) counts[row.status] = Number(row.n);
      return counts;
    },

    async pruneFinished(before) {
      // Their attempts go with them (ON DELETE CASCADE).
      const result = await pool.query(`DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND finished_at < $1`, [before]);
      return result.rowCount ?? 0;
    },

    renewLeases,

    close() {
      stopRenewing();
    },
  };
}
