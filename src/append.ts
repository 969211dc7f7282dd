/**
 * The way a mail client puts a whole message into a mailbox (IMAP APPEND and COPY, issue 21),
 * beside SMTP's src/ingest.ts and through the same steps: parsed off-thread by the same parser
 * pool (same structure limits), stored and announced ('message:stored') by the mailbox service.
 * What differs: the mailbox is the caller's (no routing), there is no SMTP envelope (one is read
 * from the headers: From → MAIL FROM, To, Cc and Bcc → RCPT TO), the received time may be given
 * (APPEND's date-time), and the message starts with the caller's flags.
 */
import type { Logger } from 'pino';
import { KotakError } from './errors.js';
import { newMessageId } from './mail/id.js';
import { onlyMailboxes } from './mail/mailbox-scope.js';
import type { Envelope, InitialFlags, MessageSummary, ParseOutcome } from './mail/types.js';
import type { MailboxService } from './mailbox/service.js';
import type { ParserPool } from './parse/pool.js';

/** The route rule of a message a client appended, or copied from another folder (the detail's `route`). */
export type AppendRule = 'imap-append' | 'imap-copy';

export interface AppendRequest {
  readonly mailbox: string;
  readonly rule: AppendRule;
  /** The message's bytes, stored exactly. */
  readonly raw: Buffer;
  readonly flags: InitialFlags;
  /** Epoch ms (APPEND's date-time, a copy's original time); null: now. */
  readonly receivedAt: number | null;
  /** The client: its login (the envelope's `user`), address and whether it used TLS. */
  readonly client: { readonly user: string; readonly address: string; readonly tls: boolean };
}

/** Stores the message (one copy, in the request's mailbox) and announces it; resolves after the commit. */
export type AppendMessage = (request: AppendRequest) => Promise<MessageSummary>;

export interface AppendDeps {
  readonly parser: ParserPool;
  readonly mailboxes: MailboxService;
  readonly log: Logger;
  /** `--max-message-size`: what SMTP would take is what a client may append. */
  readonly maxMessageSize: number;
  readonly now?: () => number;
}

/** The envelope SMTP would have carried, read from the headers (none when the message did not parse). */
export function envelopeFromHeaders(parsed: ParseOutcome, client: AppendRequest['client']): Envelope {
  const message = parsed.ok ? parsed.message : null;
  const recipients = message ? [...message.to, ...message.cc, ...message.bcc].map((a) => a.address).filter((a) => a !== '') : [];
  return {
    mailFrom: message?.from?.address ?? '',
    rcptTo: [...new Set(recipients)],
    clientAddress: client.address,
    heloName: '',
    user: client.user,
    tls: client.tls,
  };
}

export function createAppend(deps: AppendDeps): AppendMessage {
  const { parser, mailboxes, log, maxMessageSize } = deps;
  const now = deps.now ?? Date.now;
  return async ({ mailbox, rule, raw, flags, receivedAt, client }) => {
    if (raw.length > maxMessageSize) throw new KotakError('message_too_big', `the message is ${raw.length} bytes, more than the ${maxMessageSize} this server takes`);
    const parsed = await parser.parse(raw);
    if (!parsed.ok) log.warn({ reason: parsed.error, bytes: raw.length }, 'appended message kept unparsed');
    const at = receivedAt ?? now();
    const summary = await mailboxes.store(onlyMailboxes([mailbox]), {
      id: newMessageId(at),
      mailbox,
      routeRule: rule,
      receivedAt: at,
      envelope: envelopeFromHeaders(parsed, client),
      raw,
      parsed,
      initialFlags: flags,
    });
    log.debug({ id: summary.id, mailbox, rule, bytes: raw.length }, 'message appended');
    return summary;
  };
}
