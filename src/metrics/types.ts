/**
 * What the instrumented modules are handed (types only): each calls a few one-line methods and
 * knows nothing of Prometheus. Every one is optional where it is taken, so a module built without
 * metrics (a unit test, an embedding) counts nothing and costs nothing.
 */
import type { SmtpWarning } from '../mail/types.js';
import type { SmtpRefusalReason } from '../smtp/refusal-reason.js';
import type { ConnectionCounter } from './connections.js';

/** The protocols whose open connections are counted; `http-live` is the WebSockets (read at scrape time). */
export type MetricsProtocol = 'smtp' | 'pop3' | 'imap' | 'http-live';
/** The protocols whose failed logins are counted. */
export type AuthProtocol = 'smtp' | 'pop3' | 'imap' | 'http';

export interface SmtpMetrics {
  readonly connections: ConnectionCounter;
  /** A DATA transfer ended (whatever happens to the message next). */
  messageReceived(): void;
  /** The 250 for a message was sent this long after its DATA ended. */
  replied(seconds: number): void;
  /** A reply of 400 or more was sent. */
  refused(reason: SmtpRefusalReason, code: number): void;
}

export interface IntakeMetrics {
  /** A message was parsed (or kept raw: `ok` false) at intake, with what its transfer showed. */
  parsed(ok: boolean, textCut: boolean, smtpWarnings: readonly SmtpWarning[] | undefined): void;
  /** A full-text tag rule, asked of the store after the commit, tagged this many new messages. */
  ruleTagged(tag: string, count: number): void;
}

export interface WebhookMetrics {
  /**
   * One delivery attempt ended, after this long: `delivered` (a 2xx), `retry` (it will be tried
   * again) or `failed` (given up: its retry window is over).
   */
  attempted(outcome: 'delivered' | 'retry' | 'failed', seconds: number): void;
}
