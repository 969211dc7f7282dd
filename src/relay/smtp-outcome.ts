/**
 * Turns the replies of one SMTP transaction into a status per recipient (pure, no I/O).
 *
 * A recipient's fate is the first negative reply on its path (MAIL FROM, its own RCPT TO, DATA),
 * else the reply to the message data: 2xx delivered, 4xx deferred, 5xx failed. A recipient the
 * server never answered for (connection lost, timeout) is deferred with the local reason and no
 * code: after the data was sent that is the RFC 5321 6.1 gap where a retry may duplicate.
 */
import { MESSAGE_DATA, type Exchange } from './smtp-session-recorder.js';

export type RecipientStatus = 'delivered' | 'deferred' | 'failed';

export interface RecipientOutcome {
  readonly recipient: string;
  readonly status: RecipientStatus;
  /** The remote reply code; null when the server never answered for this recipient. */
  readonly code: number | null;
  /** The remote reply, code included; the local reason when `code` is null. */
  readonly reply: string;
}

export function decideRecipients(recipients: readonly string[], exchanges: readonly Exchange[], unanswered: string): RecipientOutcome[] {
  const start = exchanges.findLastIndex((e) => /^MAIL FROM:/i.test(e.command));
  const transaction = start < 0 ? [] : exchanges.slice(start);
  const mail = transaction[0];
  const rcpt = new Map<string, Exchange>();
  for (const exchange of transaction) {
    const address = /^RCPT TO:<([^>]*)>/i.exec(exchange.command)?.[1];
    if (address !== undefined && !rcpt.has(address)) rcpt.set(address, exchange);
  }
  const data = transaction.find((e) => /^DATA$/i.test(e.command));
  const final = transaction.find((e) => e.command === MESSAGE_DATA);

  return recipients.map((recipient): RecipientOutcome => {
    const own = rcpt.get(recipient);
    const refusal = [mail, own, own && data].find(isRefusal);
    const decisive = refusal ?? (own ? final : undefined);
    if (!decisive) return { recipient, status: 'deferred', code: null, reply: unanswered };
    return { recipient, status: statusOf(decisive.code), code: decisive.code, reply: decisive.reply };
  });
}

/**
 * Whether the server decided anything about any recipient. When it did not (nothing answered,
 * or only 421, which closes the session rather than judging a recipient) and the message data
 * never left, the attempt is a host failure and the caller tries the next host.
 */
export function anyRecipientAnswered(outcomes: readonly RecipientOutcome[]): boolean {
  return outcomes.some((o) => o.code !== null && o.code !== 421);
}

/** Anything but 2xx, or 3xx (354 to DATA), ends the recipient's path. */
function isRefusal(exchange: Exchange | undefined): exchange is Exchange {
  return exchange !== undefined && (exchange.code < 200 || exchange.code >= 400);
}

function statusOf(code: number): RecipientStatus {
  if (code >= 200 && code < 300) return 'delivered';
  if (code >= 500 && code < 600) return 'failed';
  return 'deferred';
}
