/**
 * The one way a message enters Kotak (SMTP now; the send API and sendmail later): parse off-thread,
 * then store and announce through the mailbox service. The announcement comes strictly after the
 * commit, so anything that hears 'message:stored' can read the message back.
 */
import type { Logger } from 'pino';
import { newMessageId } from './mail/id.js';
import { ALL_MAILBOXES } from './mail/mailbox-scope.js';
import { DEFAULT_MAILBOX, type Envelope } from './mail/types.js';
import type { MailboxService } from './mailbox/service.js';
import type { ParserPool } from './parse/pool.js';

export type Deliver = (raw: Buffer, envelope: Envelope) => Promise<string>;

export function createIngest(deps: { parser: ParserPool; mailboxes: MailboxService; log: Logger; now?: () => number }): Deliver {
  const { parser, mailboxes, log } = deps;
  const now = deps.now ?? Date.now;
  return async (raw, envelope) => {
    const receivedAt = now();
    const parsed = await parser.parse(raw);
    if (!parsed.ok) log.warn({ reason: parsed.error, bytes: raw.length }, 'message kept unparsed');
    // SMTP intake may deliver to any mailbox (today there is one).
    const summary = await mailboxes.store(ALL_MAILBOXES, { id: newMessageId(receivedAt), mailbox: DEFAULT_MAILBOX, receivedAt, envelope, raw, parsed });
    log.debug({ id: summary.id, from: envelope.mailFrom, rcpts: envelope.rcptTo.length, bytes: raw.length }, 'message stored');
    return summary.id;
  };
}
