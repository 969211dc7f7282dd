/**
 * The domain types every layer shares. The raw RFC 5322 bytes are the source of truth; everything
 * here except Envelope can be rebuilt from them by parsing again.
 */

export interface Address {
  readonly name: string;
  readonly address: string;
}

/** What the SMTP transaction said, as opposed to what the headers claim. */
export interface Envelope {
  /** MAIL FROM; '' for the null sender `<>`. */
  readonly mailFrom: string;
  /** Every RCPT TO, in order: this is how Bcc recipients become visible. */
  readonly rcptTo: readonly string[];
  readonly clientAddress: string;
  readonly heloName: string;
  /** The authenticated username, or null when the session did not authenticate. */
  readonly user: string | null;
  readonly tls: boolean;
  /** How DATA was sent, when it was unusual; present only then. Stored with the envelope, shown as MessageDetail.smtpWarnings. */
  readonly smtpWarnings?: readonly SmtpWarning[];
}

/**
 * What the SMTP transaction did that a test may want to know about: a bare LF or bare CR in DATA
 * (line endings SMTP smuggling relies on, and broken generators produce).
 */
export type SmtpWarning = 'bare-lf' | 'bare-cr';

export interface Header {
  readonly name: string;
  readonly value: string;
}

export interface AttachmentInfo {
  /** MIME part path ("2", "1.2"); the key of `/api/messages/:id/parts/:partId`. */
  readonly id: string;
  readonly filename: string | null;
  readonly contentType: string;
  /** Decoded size in bytes. */
  readonly size: number;
  readonly contentId: string | null;
  /** Referenced from the HTML body (Content-ID in a multipart/related, or disposition inline). */
  readonly inline: boolean;
}

/** Everything parsing extracts from the raw bytes. Produced off the SMTP thread. */
export interface ParsedMessage {
  readonly from: Address | null;
  readonly to: readonly Address[];
  readonly cc: readonly Address[];
  /** A Bcc header, rare but present when a client leaves it in (e.g. sendmail without -t). */
  readonly bcc: readonly Address[];
  readonly replyTo: readonly Address[];
  readonly subject: string;
  readonly messageId: string | null;
  /** The Date header, epoch ms, or null when absent or unreadable. */
  readonly date: number | null;
  readonly text: string | null;
  readonly html: string | null;
  /** The HTML body as plain text, for search and the snippet only. */
  readonly htmlText: string | null;
  readonly headers: readonly Header[];
  readonly attachments: readonly AttachmentInfo[];
  readonly snippet: string;
  /**
   * Set when a large text/plain or text/html part was read only in part (a spooled message,
   * parse/skeleton-file.ts): `text` and `html` are their first MAX_INDEXED_BODY_CHARS characters.
   */
  readonly textCut?: true;
}

/** The outcome of parsing: a parse can fail or time out, and the message is kept either way. */
export type ParseOutcome =
  | { readonly ok: true; readonly message: ParsedMessage }
  | { readonly ok: false; readonly error: string };

/**
 * A large message's raw bytes as received into a spool file (store/spool.ts) instead of memory.
 * The file belongs to whoever received it; a store links its own copy to it.
 */
export interface SpooledRaw {
  readonly path: string;
  readonly size: number;
}

/** A message as it is committed: raw bytes, envelope and whatever parsing produced. */
export interface NewMessage {
  readonly id: string;
  readonly mailbox: string;
  /** The routing rule that chose the mailbox (pattern text, 'smtp-user'); absent: DEFAULT_ROUTE_RULE. */
  readonly routeRule?: string;
  readonly receivedAt: number;
  readonly envelope: Envelope;
  /** The raw bytes; empty when they are in `spooled`. */
  readonly raw: Buffer;
  /** Present when the raw bytes were received into a spool file: the store links its raw file to it. */
  readonly spooled?: SpooledRaw;
  readonly parsed: ParseOutcome;
  /**
   * Tags it arrives with (intake's tag sources, mailbox/tag-rules.ts), written in its insert's
   * transaction so the stored message and its announcement carry them. Cleaned names.
   */
  readonly tags?: readonly string[];
  /** Stored flags it starts with (IMAP APPEND and COPY); absent: unread, unflagged, not deleted. */
  readonly initialFlags?: InitialFlags;
  /**
   * Webhook endpoints to hear of it (issue 22; the URLs subscribed to `message:stored`): the store
   * writes one outbox delivery per endpoint (store/webhook-types.ts; event `message:stored`,
   * payload the returned summary as JSON, mailbox its mailbox) in the insert's transaction, so
   * that the SMTP 250 implies the webhook will be sent.
   */
  readonly webhookEndpoints?: readonly string[];
}

export interface InitialFlags {
  readonly read: boolean;
  readonly flagged: boolean;
  readonly deleted: boolean;
}

/** The row of a list: cheap to load, enough to render an inbox line. */
export interface MessageSummary {
  readonly id: string;
  readonly mailbox: string;
  /** ISO 8601. */
  readonly receivedAt: string;
  readonly from: Address | null;
  readonly to: readonly Address[];
  readonly cc: readonly Address[];
  /** Envelope recipients that are in neither To nor Cc (plus any Bcc header). */
  readonly bcc: readonly Address[];
  readonly subject: string;
  readonly snippet: string;
  readonly size: number;
  readonly hasAttachments: boolean;
  readonly read: boolean;
  readonly messageId: string | null;
  /** Tag names, ordered by name without regard to case. */
  readonly tags: readonly string[];
}

export interface MessageDetail extends MessageSummary {
  readonly text: string | null;
  readonly html: string | null;
  readonly headers: readonly Header[];
  readonly attachments: readonly AttachmentInfo[];
  readonly envelope: Envelope;
  /** How it was placed in its mailbox at intake: the mailbox and the rule (pattern text, 'smtp-user' or 'default'). */
  readonly route: MessageRoute;
  readonly replyTo: readonly Address[];
  /** The Date header as ISO 8601, when readable. */
  readonly date: string | null;
  /** Why parsing failed; the raw source is still stored and served. */
  readonly parseError?: string;
  /** Present when DATA had bare LF or CR line endings (see SmtpWarning). */
  readonly smtpWarnings?: readonly SmtpWarning[];
  /**
   * From the store only: `text` and `html` are as stored, bounded (ParsedMessage.textCut). Never
   * leaves the store's wrapper (store/full-text.ts), which derives the whole text in their place.
   */
  readonly textCut?: true;
}

export const DEFAULT_MAILBOX = 'default';
/** The rule of a message no routing rule placed (and of every message stored before routing existed). */
export const DEFAULT_ROUTE_RULE = 'default';

export interface MessageRoute {
  readonly mailbox: string;
  readonly rule: string;
}
