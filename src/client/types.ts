/**
 * What the HTTP API answers, as the client hands it on. The shared domain types come from the
 * server's src/mail/types.ts as types only, so this module adds nothing to a browser bundle.
 */
import type { Address, AttachmentInfo, Envelope, Header, MessageSummary } from '../mail/types.js';

export type { Address, AttachmentInfo, Envelope, Header, MessageSummary };

/** A link found in a message's HTML (with its anchor text) or text part (text ''). */
export interface MessageLink {
  readonly url: string;
  readonly text: string;
}

/** `GET /api/messages/:id`: the summary plus everything parsed from the message. */
export interface MessageDetail extends MessageSummary {
  readonly text: string | null;
  readonly html: string | null;
  /** Every header, in order; names as written. */
  readonly headers: readonly Header[];
  readonly attachments: readonly AttachmentInfo[];
  readonly envelope: Envelope;
  readonly replyTo: readonly Address[];
  /** The Date header as ISO 8601, when readable. */
  readonly date: string | null;
  /** Why parsing failed; the raw bytes are still there (`raw()`). */
  readonly parseError?: string;
  /** Every link in the HTML (in order), then bare URLs of the text part. */
  readonly links: readonly MessageLink[];
  /** Likely one-time codes ("Your code is 482913"), best first. */
  readonly codes: readonly string[];
}

/** One page of `GET /api/messages`, newest first. */
export interface MessagePage {
  /** How many messages match in all, not just on this page. */
  readonly total: number;
  readonly messages: readonly MessageSummary[];
  /** Pass as `cursor` for the next (older) page; null on the last. */
  readonly nextCursor: string | null;
  readonly prevCursor: string | null;
}

export interface RawOptions {
  /** 'text' decodes the bytes as UTF-8 (invalid sequences become U+FFFD); the default is the exact bytes. */
  readonly as?: 'bytes' | 'text';
}
