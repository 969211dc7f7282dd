/** The relay queue in SQLite (tables from migrations/004_relay.sql), on the message store's connections. */
import { inImmediateTransaction, type Connection } from './sqlite-driver.js';
import { isoOfMs, relayJobOf, type RelayJobRow } from './relay-rows.js';
import { noRelayJobs, type RelayAttempt, type RelayJobUpdate, type RelayStatus, type RelayStore } from './relay-types.js';

type JobRow = RelayJobRow;

interface AttemptRow {
  job_id: number;
  at: number;
  mx_host: string | null;
  outcome: RelayAttempt['outcome'];
  reply: string | null;
  transcript_json: string;
}


export interface RelayStoreDeps {
  readonly reader: Connection;
  readonly writer: Connection;
  /** The message store's write queue: relay writes take turns with message writes. */
  readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
}

export function createRelayStore({ reader, writer, exclusive }: RelayStoreDeps): RelayStore {
  const inTransaction = <T>(work: () => Promise<T>): Promise<T> => inImmediateTransaction(writer, work);

  return {
    enqueue(messageId, mailbox, recipients, now, giveUpAt) {
      if (recipients.length === 0) return Promise.resolve([]);
      return exclusive(async () => {
        const rows = await writer.all<JobRow>(
          `INSERT INTO relay_jobs (message_id, mailbox, recipient, domain, status, attempts, next_attempt_at, give_up_at, created_at, updated_at)
           VALUES ${recipients.map(() => "(?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)").join(', ')} RETURNING *`,
          recipients.flatMap((r) => [messageId, mailbox, r.recipient, r.domain, now, giveUpAt, now, now]),
        );
        return rows.map(relayJobOf);
      });
    },

    claimDue(now, limit) {
      return exclusive(() =>
        inTransaction(async () => {
          const rows = await writer.all<JobRow>(
            `SELECT * FROM relay_jobs WHERE status IN ('queued', 'deferred') AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
            [now, limit],
          );
          if (rows.length === 0) return [];
          await writer.run(`UPDATE relay_jobs SET status = 'sending', updated_at = ? WHERE id IN (${rows.map(() => '?').join(',')})`, [now, ...rows.map((r) => r.id)]);
          return rows.map((r) => relayJobOf({ ...r, status: 'sending', updated_at: now }));
        }),
      );
    },

    async nextDueAt() {
      const row = await reader.get<{ at: number | null }>(`SELECT MIN(next_attempt_at) AS at FROM relay_jobs WHERE status IN ('queued', 'deferred')`);
      return row?.at ?? null;
    },

    complete(jobId, update: RelayJobUpdate) {
      return exclusive(() =>
        inTransaction(async () => {
          const now = update.attempt.at;
          await writer.run(
            `UPDATE relay_jobs SET status = ?, attempts = attempts + 1, next_attempt_at = ?, updated_at = ?, mx_host = ?, reply = ?, reason = ?, tls = ? WHERE id = ?`,
            [update.status, update.nextAttemptAt, now, update.mxHost, update.reply, update.reason, update.tls, jobId],
          );
          await writer.run(`INSERT INTO relay_attempts (job_id, at, mx_host, outcome, reply, transcript_json) VALUES (?, ?, ?, ?, ?, ?)`, [
            jobId, now, update.attempt.mxHost, update.attempt.outcome, update.attempt.reply, JSON.stringify(update.attempt.transcript),
          ]);
          const row = await writer.get<JobRow>('SELECT * FROM relay_jobs WHERE id = ?', [jobId]);
          return row ? relayJobOf(row) : null;
        }),
      );
    },

    requeueInterrupted(now) {
      return exclusive(async () => (await writer.run(`UPDATE relay_jobs SET status = 'queued', next_attempt_at = ?, updated_at = ? WHERE status = 'sending'`, [now, now])).changes);
    },

    async jobsForMessage(messageId) {
      // One statement, so jobs and their attempts come from the same snapshot: two queries could
      // straddle a delivery and show a job's new attempt count with the attempt itself missing.
      const rows = await reader.all<JobRow & { history_json: string }>(
        `SELECT j.*, (SELECT json_group_array(json_object('job_id', a.job_id, 'at', a.at, 'mx_host', a.mx_host, 'outcome', a.outcome,
                                                          'reply', a.reply, 'transcript_json', a.transcript_json))
                        FROM (SELECT * FROM relay_attempts WHERE job_id = j.id ORDER BY id) a) AS history_json
           FROM relay_jobs j WHERE j.message_id = ? ORDER BY j.id`,
        [messageId],
      );
      return rows.map(({ history_json, ...row }) => ({
        ...relayJobOf(row),
        history: (JSON.parse(history_json) as AttemptRow[])
          .map((a) => ({ at: isoOfMs(a.at), mxHost: a.mx_host, outcome: a.outcome, reply: a.reply, transcript: JSON.parse(a.transcript_json) as string[] })),
      }));
    },

    async list(scope, { status, limit }) {
      if (scope.kind === 'only' && scope.mailboxes.length === 0) return [];
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (status) {
        where.push('status = ?');
        params.push(status);
      }
      if (scope.kind === 'only') {
        where.push(`mailbox IN (${scope.mailboxes.map(() => '?').join(',')})`);
        params.push(...scope.mailboxes);
      }
      const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      return (await reader.all<JobRow>(`SELECT * FROM relay_jobs ${filter} ORDER BY id DESC LIMIT ?`, [...params, limit])).map(relayJobOf);
    },

    async countByStatus() {
      // Read from the relay_jobs_due index (status first), not the table's rows.
      const counts = noRelayJobs();
      for (const row of await reader.all<{ status: RelayStatus; n: number }>('SELECT status, COUNT(*) AS n FROM relay_jobs GROUP BY status')) {
        if (row.status in counts) counts[row.status] = row.n;
      }
      return counts;
    },
  };
}
