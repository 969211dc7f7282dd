/** Relay job rows as both stores read them (store/relay-sqlite.ts, store/pg/relay-store.ts). */
import type { RelayJob, RelayStatus } from './relay-types.js';

/**
 * A relay_jobs row as a store reads it: SQLite's integers, or PostgreSQL's bigints as text
 * (store/pg/relay-store.ts).
 */
export interface RelayJobRow {
  id: number | string;
  message_id: string;
  recipient: string;
  domain: string;
  status: RelayStatus;
  attempts: number;
  next_attempt_at: number | string | null;
  give_up_at: number | string;
  created_at: number | string;
  updated_at: number | string;
  mx_host: string | null;
  reply: string | null;
  reason: string | null;
  tls: string | null;
  mailbox: string;
}

export const isoOfMs = (ms: number | string) => new Date(Number(ms)).toISOString();

export function relayJobOf(row: RelayJobRow): RelayJob {
  return {
    id: Number(row.id),
    messageId: row.message_id,
    recipient: row.recipient,
    domain: row.domain,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at === null ? null : isoOfMs(row.next_attempt_at),
    giveUpAt: isoOfMs(row.give_up_at),
    createdAt: isoOfMs(row.created_at),
    updatedAt: isoOfMs(row.updated_at),
    mxHost: row.mx_host,
    reply: row.reply,
    reason: row.reason,
    tls: row.tls,
    mailbox: row.mailbox,
  };
}
