/** The relay queue's storage contract: jobs survive restarts; storage never announces changes. */
import type { MailboxScope } from '../mail/mailbox-scope.js';

export type RelayStatus = 'queued' | 'sending' | 'delivered' | 'deferred' | 'failed';

export interface RelayAttempt {
  /** ISO 8601. */
  readonly at: string;
  readonly mxHost: string | null;
  readonly outcome: 'delivered' | 'deferred' | 'failed';
  readonly reply: string | null;
  /** Commands and replies, without the message or credentials. */
  readonly transcript: readonly string[];
}

export interface RelayJob {
  readonly id: number;
  readonly messageId: string;
  readonly recipient: string;
  readonly domain: string;
  readonly status: RelayStatus;
  readonly attempts: number;
  /** ISO 8601; set while queued or deferred. */
  readonly nextAttemptAt: string | null;
  readonly giveUpAt: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The MX host of the last attempt. */
  readonly mxHost: string | null;
  /** The remote reply of the last attempt, as received. */
  readonly reply: string | null;
  /** Why it was deferred or failed, in words. */
  readonly reason: string | null;
  /** TLS of the last connection, e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384"; null = plaintext or none. */
  readonly tls: string | null;
  /** The mailbox of the message it delivers (scoped logins see only their mailboxes' jobs). */
  readonly mailbox: string;
}

export interface RelayJobUpdate {
  readonly status: Exclude<RelayStatus, 'queued' | 'sending'>;
  readonly nextAttemptAt: number | null;
  readonly mxHost: string | null;
  readonly reply: string | null;
  readonly reason: string | null;
  readonly tls: string | null;
  readonly attempt: Omit<RelayAttempt, 'at'> & { readonly at: number };
}

export interface RelayStore {
  enqueue(messageId: string, mailbox: string, recipients: readonly { recipient: string; domain: string }[], now: number, giveUpAt: number): Promise<RelayJob[]>;
  /** Jobs that are queued or deferred with their time come, marked `sending` (so no second worker takes them). */
  claimDue(now: number, limit: number): Promise<RelayJob[]>;
  /** The earliest time a queued or deferred job is due (epoch ms), or null. */
  nextDueAt(): Promise<number | null>;
  /** Records an attempt's outcome for a job. */
  complete(jobId: number, update: RelayJobUpdate): Promise<RelayJob | null>;
  /**
   * After a crash, jobs left `sending` go back to the queue. (The remote may have accepted a
   * message whose outcome we never recorded; it is sent again: at least once, as any MTA.)
   */
  requeueInterrupted(now: number): Promise<number>;
  jobsForMessage(messageId: string): Promise<(RelayJob & { readonly history: RelayAttempt[] })[]>;
  /** The newest jobs within the scope (by their message's mailbox). */
  list(scope: MailboxScope, options: { readonly status?: RelayStatus | null; readonly limit: number }): Promise<RelayJob[]>;
  /** How many jobs are in each status, every mailbox's (one grouped count; for the metrics' queue depth). */
  countByStatus(): Promise<Record<RelayStatus, number>>;
}

/** Every status at zero: what countByStatus starts from. */
export function noRelayJobs(): Record<RelayStatus, number> {
  return { queued: 0, sending: 0, delivered: 0, deferred: 0, failed: 0 };
}
