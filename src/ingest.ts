/**
 * The one way a message enters Kotak (SMTP now; the send API and sendmail later): parse off-thread,
 * route it to its mailboxes, then store and announce one copy per mailbox through the mailbox
 * service. The announcement comes strictly after the commit, so anything that hears
 * 'message:stored' can read the message back.
 */
import type { Logger } from 'pino';
import { newMessageId } from './mail/id.js';
import { KotakError } from './errors.js';
import { ALL_MAILBOXES, inScope, type MailboxScope } from './mail/mailbox-scope.js';
import type { Envelope, SpooledRaw } from './mail/types.js';
import type { MailboxRouting } from './mailbox/routing.js';
import type { MailboxService } from './mailbox/service.js';
import type { ParserPool } from './parse/pool.js';

/**
 * Stores a message; resolves with the id of every copy (one per mailbox it was routed to), the
 * first first. `scope`: the mailboxes the sender may write to (SMTP: every one; the HTTP send API:
 * its login's); a message routed to any other is refused whole, before anything is stored.
 */
export type Deliver = (raw: Buffer | SpooledRaw, envelope: Envelope, scope?: MailboxScope) => Promise<readonly string[]>;

const NO_BYTES: Buffer = Buffer.alloc(0);

export function createIngest(deps: { parser: ParserPool; mailboxes: MailboxService; routing: MailboxRouting; log: Logger; now?: () => number }): Deliver {
  const { parser, mailboxes, routing, log } = deps;
  const now = deps.now ?? Date.now;
  return async (raw, envelope, scope = ALL_MAILBOXES) => {
    const placements = routing.place(envelope);
    // Said without the mailbox's name: the sender may not know it exists, and must not learn it here.
    if (placements.some(({ mailbox }) => !inScope(scope, mailbox))) {
      throw new KotakError('mailbox_not_allowed', 'a recipient routes to a mailbox this login may not see; nothing was stored');
    }
    const receivedAt = now();
    const spooled = Buffer.isBuffer(raw) ? null : raw;
    const size = spooled ? spooled.size : (raw as Buffer).length;
    // A spooled message is parsed from its file, never held whole (parse/pool.ts).
    const parsed = spooled ? await parser.parseFile(spooled) : await parser.parse(raw as Buffer);
    if (!parsed.ok) log.warn({ reason: parsed.error, bytes: size }, 'message kept unparsed');
    const source = spooled ? { raw: NO_BYTES, spooled } : { raw: raw as Buffer };
    // Each copy is the whole message (envelope, Bcc view, raw bytes) with its own id and state;
    // the copies of a spooled message each get a raw file linked to the one spool file.
    const copies = placements.map(({ mailbox, rule }) => ({ id: newMessageId(receivedAt), mailbox, routeRule: rule, receivedAt, envelope, ...source, parsed }));
    const stored = await mailboxes.storeCopies(scope, copies);
    const ids = stored.map((summary) => summary.id);
    log.debug({ ids, mailboxes: copies.map((c) => c.mailbox), from: envelope.mailFrom, rcpts: envelope.rcptTo.length, bytes: size }, 'message stored');
    return ids;
  };
}
