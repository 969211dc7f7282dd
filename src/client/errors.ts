/**
 * The client's errors. Each message is written for the person reading a failed test: what was
 * asked, what happened instead, and what to look at next.
 */
import type { MessageSummary } from './types.js';

/** Anything the client reports: unreachable server, a missing attachment, too broad a wait. */
export class KotakError extends Error {
  override name = 'KotakError';
}

/** The server answered with an error status. */
export class KotakApiError extends KotakError {
  override name = 'KotakApiError';

  constructor(
    readonly status: number,
    /** The server's error code, e.g. 'not_found', 'invalid_query'; null when the body had none. */
    readonly code: string | null,
    /** The server's reason, e.g. 'no message 01J…'. */
    readonly reason: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path} → ${status}${code ? ` ${code}` : ''}: ${reason}`);
  }
}

export interface TimeoutDetails {
  /** The criteria as written in the message, e.g. `to "a@example.com", subject /welcome/i`. */
  readonly criteria: string;
  readonly count: number;
  /** Epoch ms, or null when any time counted. */
  readonly since: number | null;
  /** What the caller allowed, in ms. */
  readonly timeout: number;
  /** How long the wait actually took, in ms. */
  readonly elapsed: number;
  /** The messages that did match, oldest first (fewer than `count`). */
  readonly matched: readonly MessageSummary[];
  /** The newest messages received in the window that did not match, newest first. */
  readonly recent: readonly MessageSummary[];
}

/** Not enough messages matched in time. The message names what was expected and what came instead. */
export class KotakTimeoutError extends KotakError implements TimeoutDetails {
  override name = 'KotakTimeoutError';
  readonly criteria: string;
  readonly count: number;
  readonly since: number | null;
  readonly timeout: number;
  readonly elapsed: number;
  readonly matched: readonly MessageSummary[];
  readonly recent: readonly MessageSummary[];

  constructor(details: TimeoutDetails) {
    super(describeTimeout(details));
    this.criteria = details.criteria;
    this.count = details.count;
    this.since = details.since;
    this.timeout = details.timeout;
    this.elapsed = details.elapsed;
    this.matched = details.matched;
    this.recent = details.recent;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** One line per message: when, to whom, from whom, subject: enough to spot a typo in the criteria. */
export function describeSummary(message: MessageSummary): string {
  const to = [...message.to, ...message.cc, ...message.bcc].map((a) => a.address).join(', ') || '(no recipients)';
  const from = message.from?.address ?? '(no sender)';
  return `${message.receivedAt} to ${to} from ${from}: ${JSON.stringify(message.subject)}`;
}

function describeTimeout(d: TimeoutDetails): string {
  const wanted = d.count === 1 ? 'a message' : `${d.count} messages`;
  const window = d.since === null ? '' : ` received since ${new Date(d.since).toISOString()}`;
  const lines = [
    `Timed out after ${seconds(d.elapsed)} waiting for ${wanted} matching ${d.criteria}${window}: ` +
      `${d.matched.length === 0 ? 'none' : `${d.matched.length} of ${d.count}`} matched.`,
  ];
  if (d.matched.length > 0) lines.push('Matched:', ...d.matched.map((m) => `  - ${describeSummary(m)}`));
  if (d.recent.length === 0) {
    lines.push(`No other messages were received${d.since === null ? '' : ' in that window'}.`);
  } else {
    lines.push('Last messages seen that did not match (newest first):', ...d.recent.map((m) => `  - ${describeSummary(m)}`));
  }
  return lines.join('\n');
}
