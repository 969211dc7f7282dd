/**
 * The webhook outbox in SQLite (tables from migrations/015_webhooks.sql), on the message store's
 * connections and write queue, as relay-sqlite.ts is. One process owns the database file, so a row
 * left `sending` can only be this process's own interrupted delivery: `requeueInterrupted` (at
 * start) makes every one of them pending again.
 */
import { inImmediateTransaction, type Connection } from './sqlite-driver.js';
import { newWebhookRows, webhookAttemptOf, webhookDeliveryOf, type WebhookAttemptRow, type WebhookDeliveryRow } from './webhook-rows.js';
import { noWebhookDeliveries, type WebhookDelivery, type WebhookDeliveryStatus, type WebhookEventDraft, type WebhookStore } from './webhook-types.js';

/** SQLite's compiled-in limit of bound parameters per statement, over the 7 of a row. */
const MAX_ROWS_PER_INSERT = Math.floor(32_766 / 7);

const INSERT_COLUMNS = '(id, endpoint, event, mailbox, payload, created_at, status, attempts, next_attempt_at)';
const INSERT_ROW = "(?, ?, ?, ?, ?, ?, 'pending', 0, ?)";

/**
 * The endpoint's head: its lowest seq among pending and sending rows, found as two seeks of the
 * (endpoint, status, seq) index rather than a walk through a long backlog.
 */
const HEAD_SEQ = `(SELECT MIN(seq) FROM (
    SELECT MIN(seq) AS seq FROM webhook_deliveries WHERE endpoint = ?1 AND status = 'pending'
    UNION ALL
    SELECT MIN(seq) AS seq FROM webhook_deliveries WHERE endpoint = ?1 AND status = 'sending'))`;

/**
 * Writes outbox rows for these drafts, pending and due at `now`, as multi-row INSERTs on the
 * writer, in the caller's transaction (the message insert's, or enqueue's statement). Returns the
 * rows when `returning` (enqueue), else nothing (the insert path needs none: no extra work).
 */
export async function insertWebhookRows(writer: Connection, drafts: readonly WebhookEventDraft[], now: number, returning: boolean): Promise<WebhookDelivery[]> {
  const created: WebhookDelivery[] = [];
  const rows = newWebhookRows(drafts, now);
  for (let start = 0; start < rows.length; start += MAX_ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + MAX_ROWS_PER_INSERT);
    const sql = `INSERT INTO webhook_deliveries ${INSERT_COLUMNS} VALUES ${chunk.map(() => INSERT_ROW).join(', ')}`;
    const params = chunk.flatMap(({ id, draft, now: at }) => [id, draft.endpoint, draft.event, draft.mailbox, draft.payload, at, at]);
    if (!returning) {
      await writer.runPrepared(sql, params);
      continue;
    }
    const inserted = await writer.all<WebhookDeliveryRow>(`${sql} RETURNING *`, params);
    created.push(...inserted.sort((a, b) => Number(a.seq) - Number(b.seq)).map(webhookDeliveryOf));
  }
  return created;
}

export interface WebhookStoreDeps {
  readonly reader: Connection;
  readonly writer: Connection;
  /** The message store's write queue: outbox writes take turns with message writes. */
  readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
}

export function createSqliteWebhookStore({ reader, writer, exclusive }: WebhookStoreDeps): WebhookStore {
  const inTransaction = <T>(work: () => Promise<T>): Promise<T> => inImmediateTransaction(writer, work);

  return {
    enqueue(drafts, now) {
      if (drafts.length === 0) return Promise.resolve([]);
      // Several statements only past 4,681 drafts: then one transaction, so they land together.
      return exclusive(() => (drafts.length > MAX_ROWS_PER_INSERT ? inTransaction(() => insertWebhookRows(writer, drafts, now, true)) : insertWebhookRows(writer, drafts, now, true)));
    },

    claimNext(endpoint, now) {
      // One statement on the one writer: the head is read and marked in the same step.
      return exclusive(async () => {
        const rows = await writer.all<WebhookDeliveryRow>(
          `UPDATE webhook_deliveries SET status = 'sending'
            WHERE seq = ${HEAD_SEQ} AND status = 'pending' AND next_attempt_at <= ?2
           RETURNING *`,
          [endpoint, now],
        );
        return rows[0] ? webhookDeliveryOf(rows[0]) : null;
      });
    },

    async nextDueAt(endpoint) {
      // A head being sent is this process's: the dispatcher asks again once it completes.
      const row = await reader.get<{ status: WebhookDeliveryStatus; next_attempt_at: number | null }>(
        `SELECT status, next_attempt_at FROM webhook_deliveries WHERE seq = ${HEAD_SEQ}`,
        [endpoint],
      );
      return row?.status === 'pending' ? row.next_attempt_at : null;
    },

    complete(id, { status, nextAttemptAt, attempt }) {
      return exclusive(() =>
        inTransaction(async () => {
          const done = status === 'pending' ? null : attempt.at;
          const updated = await writer.all<{ seq: number }>(
            `UPDATE webhook_deliveries
                SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_status_code = ?, last_error = ?, finished_at = ?
              WHERE id = ? AND status = 'sending'
             RETURNING seq`,
            [status, status === 'pending' ? (nextAttemptAt ?? attempt.at) : null, attempt.statusCode, attempt.error, done, id],
          );
          if (updated.length === 0) return false;
          await writer.run('INSERT INTO webhook_attempts (delivery_seq, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?)', [
            updated[0]!.seq, attempt.at, attempt.statusCode, attempt.error, Math.round(attempt.durationMs),
          ]);
          return true;
        }),
      );
    },

    requeueInterrupted(now) {
      return exclusive(async () => (await writer.run(`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? WHERE status = 'sending'`, [now])).changes);
    },

    async list(scope, { endpoint, status, beforeSeq, limit }) {
      if (scope.kind === 'only' && scope.mailboxes.length === 0) return [];
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (endpoint) {
        where.push('d.endpoint = ?');
        params.push(endpoint);
      }
      if (status) {
        where.push('d.status = ?');
        params.push(status);
      }
      if (beforeSeq !== undefined && beforeSeq !== null) {
        where.push('d.seq < ?');
        params.push(beforeSeq);
      }
      // `mailbox IN (...)` is never true of a NULL mailbox: a scoped list shows no mailbox-less event.
      if (scope.kind === 'only') {
        where.push(`d.mailbox IN (${scope.mailboxes.map(() => '?').join(',')})`);
        params.push(...scope.mailboxes);
      }
      const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      // One statement, so a delivery and its attempts come from one snapshot (as relay-sqlite.ts).
      const rows = await reader.all<WebhookDeliveryRow & { history_json: string }>(
        `SELECT d.*, (SELECT json_group_array(json_object('at', a.at, 'status_code', a.status_code, 'error', a.error, 'duration_ms', a.duration_ms))
                        FROM (SELECT * FROM webhook_attempts WHERE delivery_seq = d.seq ORDER BY id) a) AS history_json
           FROM webhook_deliveries d ${filter} ORDER BY d.seq DESC LIMIT ?`,
        [...params, limit],
      );
      return rows.map(({ history_json, ...row }) => ({
        ...webhookDeliveryOf(row),
        history: (JSON.parse(history_json) as WebhookAttemptRow[]).map(webhookAttemptOf),
      }));
    },

    async countByStatus() {
      const counts = noWebhookDeliveries();
      for (const row of await reader.all<{ status: WebhookDeliveryStatus; n: number }>('SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status')) {
        if (row.status in counts) counts[row.status] = row.n;
      }
      return counts;
    },

    pruneFinished(before) {
      return exclusive(() =>
        inTransaction(async () => {
          const finished = `SELECT seq FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND finished_at < ?`;
          await writer.run(`DELETE FROM webhook_attempts WHERE delivery_seq IN (${finished})`, [before]);
          return (await writer.run(`DELETE FROM webhook_deliveries WHERE seq IN (${finished})`, [before])).changes;
        }),
      );
    },
  };
}
