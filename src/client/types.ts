/**
 * What the HTTP API answers, as the client hands it on. Every shape is the route schemas' own
 * (src/api/schemas.ts: they validate the server's requests and generate /api/openapi.json), taken
 * as types only, so this module adds nothing to a bundle and cannot drift from the server. The
 * web inbox imports its shapes from here too.
 */
import type { z } from '@hono/zod-openapi';
import type {
  AddressSchema, AttachmentSchema, DeliveriesSchema, EnvelopeSchema, HeaderSchema, LinkSchema, MailboxListSchema, MailboxSchema, MessagePageSchema, TagCountSchema, TagListSchema,
  MessageSummarySchema, MessageViewSchema, PartChecksumsSchema, RelayJobSchema, RelayStatusSchema, SmtpInfoSchema, StatsSchema,
  SpamCheckSchema, SpamRuleSchema,
  DeliverabilityReportSchema,
  LinkCheckSchema, LinkResultSchema,
  HtmlCheckSchema,
} from '../api/schemas.js';
import type { ChaosRefusalListSchema, ChaosRefusalSchema, ChaosRuleBodySchema, ChaosRuleSchema } from '../api/chaos-schemas.js';

/** A schema's type, read-only at the top as the client never changes what it was given. */
type Wire<T extends z.ZodType> = Readonly<z.infer<T>>;

export type Address = Wire<typeof AddressSchema>;
export type Header = Wire<typeof HeaderSchema>;
/** An attachment or inline part; `id` is its MIME part path ("2", "1.2"). */
export type AttachmentInfo = Wire<typeof AttachmentSchema>;
/** What the SMTP transaction said, as opposed to what the headers claim. */
export type Envelope = Wire<typeof EnvelopeSchema>;
/** A list row: `GET /api/messages`, waits, the `message:stored` frame. */
export type MessageSummary = Wire<typeof MessageSummarySchema>;
/** A link found in a message's HTML (with its anchor text) or text part (text ''). */
export type MessageLink = Wire<typeof LinkSchema>;
/** `GET /api/messages/:id`: the summary plus everything parsed from the message, its links and likely one-time codes. */
export type MessageDetail = Wire<typeof MessageViewSchema>;
/** One page of `GET /api/messages`, newest first; `nextCursor` is null on the last. */
export type MessagePage = Wire<typeof MessagePageSchema>;
/** `GET /api/messages/:id/parts/:partId/checksums`: digests of an attachment's decoded bytes, lower-case hex. */
export type PartChecksums = Wire<typeof PartChecksumsSchema>;
/** A mailbox with its kept counts. */
export type Mailbox = Wire<typeof MailboxSchema>;
/** `GET /api/mailboxes`, by name. */
export type MailboxList = Wire<typeof MailboxListSchema>;
export type TagCount = Wire<typeof TagCountSchema>;
export type TagList = Wire<typeof TagListSchema>;
/** `GET /api/stats`. */
export type Stats = Wire<typeof StatsSchema>;
/** A relay job (one message to one recipient). */
export type RelayJob = Wire<typeof RelayJobSchema>;
/** `GET /api/messages/:id/deliveries`: each job with its attempts. */
export type Delivery = Readonly<z.infer<typeof DeliveriesSchema>['deliveries'][number]>;
/** `GET /api/relay`. */
export type RelayStatus = Wire<typeof RelayStatusSchema>;
/** `GET /api/smtp`: where to send mail. */
export type SmtpInfo = Wire<typeof SmtpInfoSchema>;

// checks: spam
/** `GET /api/messages/:id/checks/spam`: SpamAssassin's score, threshold, verdict and the rules that hit. */
export type SpamCheck = Wire<typeof SpamCheckSchema>;
/** One SpamAssassin rule that hit, with its points. */
export type SpamRule = Wire<typeof SpamRuleSchema>;
// checks: deliverability
/** `GET /api/messages/:id/checks/deliverability`: DKIM, DMARC, List-Unsubscribe and the Gmail/Yahoo sender rules. */
export type DeliverabilityReport = Wire<typeof DeliverabilityReportSchema>;
// checks: links
/** `GET /api/messages/:id/checks/links`: every unique link and image URL with its outcome. */
export type LinkCheck = Wire<typeof LinkCheckSchema>;
/** One link of a link check: outcome, last status, every hop. */
export type LinkCheckResult = Wire<typeof LinkResultSchema>;
// checks: html
/** `GET /api/messages/:id/checks/html`: the HTML and CSS features used, and their support per email client. */
export type HtmlCheck = Wire<typeof HtmlCheckSchema>;

export interface RawOptions {
  /** 'text' decodes the bytes as UTF-8 (invalid sequences become U+FFFD); the default is the exact bytes. */
  readonly as?: 'bytes' | 'text';
}

// chaos
/** A chaos rule in force (`GET /api/chaos`), with its counters. */
export type ChaosRule = Wire<typeof ChaosRuleSchema>;
/** A rule as set: `{ spec: '…' }` in --chaos-rule's syntax, or `{ stage, match, action, when }`. */
export type ChaosRuleBody = z.input<typeof ChaosRuleBodySchema>;
/** A message chaos refused. */
export type ChaosRefusal = Wire<typeof ChaosRefusalSchema>;
export type ChaosRefusalList = Wire<typeof ChaosRefusalListSchema>;
