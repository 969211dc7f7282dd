/**
 * Mailpit's JSON shapes (field names and nesting as its API v1 and the `mailpit-api` client's types
 * have them) and the mapping from Kotak's own types. Pure.
 */
import { htmlToText } from '../../mail/html-text.js';
import type { Address, AttachmentInfo, MessageDetail, MessageSummary } from '../../mail/types.js';
import type { SummaryExtras } from '../../store/types.js';

export interface MailpitAddress {
  readonly Name: string;
  readonly Address: string;
}

/** A list row, also the Data of the WebSocket's `new` frame. */
export interface MailpitSummary {
  readonly ID: string;
  readonly MessageID: string;
  readonly Read: boolean;
  readonly From: MailpitAddress;
  readonly To: MailpitAddress[];
  readonly Cc: MailpitAddress[];
  readonly Bcc: MailpitAddress[];
  readonly ReplyTo: MailpitAddress[];
  readonly Subject: string;
  readonly Created: string;
  readonly Username?: string;
  readonly Tags: readonly string[];
  readonly Size: number;
  /** How many (non-inline) attachments. */
  readonly Attachments: number;
  readonly Snippet: string;
}

export interface MailpitChecksums {
  readonly MD5: string;
  readonly SHA1: string;
  readonly SHA256: string;
}

export interface MailpitAttachment {
  readonly PartID: string;
  readonly FileName: string;
  readonly ContentType: string;
  readonly ContentID: string;
  readonly Size: number;
  readonly Checksums: MailpitChecksums;
}

export interface MailpitListUnsubscribe {
  readonly Header: string;
  readonly Links: string[];
  readonly Errors: string;
  readonly HeaderPost: string;
}

export interface MailpitMessage {
  readonly ID: string;
  readonly MessageID: string;
  readonly From: MailpitAddress;
  readonly To: MailpitAddress[];
  readonly Cc: MailpitAddress[];
  readonly Bcc: MailpitAddress[];
  readonly ReplyTo: MailpitAddress[];
  readonly ReturnPath: string;
  readonly Subject: string;
  readonly ListUnsubscribe: MailpitListUnsubscribe;
  readonly Date: string;
  readonly Tags: readonly string[];
  readonly Username?: string;
  readonly Text: string;
  readonly HTML: string;
  readonly Size: number;
  readonly Inline: MailpitAttachment[];
  readonly Attachments: MailpitAttachment[];
}

export interface MailpitMessages {
  /** Messages in the mailbox. */
  readonly total: number;
  readonly unread: number;
  /** Undocumented by Mailpit but still sent: how many are in `messages`. */
  readonly count: number;
  /** Messages matching the search (all of them for a plain list). */
  readonly messages_count: number;
  readonly messages_unread: number;
  readonly start: number;
  /** Every tag in use. */
  readonly tags: string[];
  readonly messages: MailpitSummary[];
}

/** Mailpit sends an empty address, never null, for a message without a usable From. */
const NO_ADDRESS: MailpitAddress = Object.freeze({ Name: '', Address: '' });

const NO_EXTRAS: SummaryExtras = Object.freeze({ tags: [], replyTo: [], attachments: 0, inline: 0, user: null });

export function toAddress(address: Address | null): MailpitAddress {
  return address ? { Name: address.name, Address: address.address } : NO_ADDRESS;
}

const toAddresses = (list: readonly Address[]): MailpitAddress[] => list.map(toAddress);

/** Username is left out when nobody authenticated, as Mailpit's `omitempty` does. */
function username(user: string | null): { Username?: string } {
  return user ? { Username: user } : {};
}

/** `extras` may be missing when the message was deleted between two reads: a row is still a row. */
export function toMailpitSummary(summary: MessageSummary, extras: SummaryExtras = NO_EXTRAS): MailpitSummary {
  return {
    ID: summary.id,
    MessageID: summary.messageId ?? '',
    Read: summary.read,
    From: toAddress(summary.from),
    To: toAddresses(summary.to),
    Cc: toAddresses(summary.cc),
    Bcc: toAddresses(summary.bcc),
    ReplyTo: toAddresses(extras.replyTo),
    Subject: summary.subject,
    Created: summary.receivedAt,
    ...username(extras.user),
    Tags: extras.tags,
    Size: summary.size,
    Attachments: extras.attachments,
    Snippet: summary.snippet,
  };
}

const NO_CHECKSUMS: MailpitChecksums = Object.freeze({ MD5: '', SHA1: '', SHA256: '' });

export function toMailpitAttachment(part: AttachmentInfo, checksums: MailpitChecksums = NO_CHECKSUMS): MailpitAttachment {
  return {
    PartID: part.id,
    // Mailpit names an unnamed inline part by its Content-ID.
    FileName: part.filename ?? part.contentId ?? '',
    ContentType: part.contentType,
    ContentID: part.contentId ?? '',
    Size: part.size,
    Checksums: checksums,
  };
}

function headerValue(message: MessageDetail, name: string): string {
  const wanted = name.toLowerCase();
  return message.headers.find((h) => h.name.toLowerCase() === wanted)?.value ?? '';
}

/**
 * List-Unsubscribe as Mailpit summarises it: the `<…>` entries that are mailto: or http(s): links,
 * and what is wrong with the rest.
 */
export function listUnsubscribe(header: string, post: string): MailpitListUnsubscribe {
  const links: string[] = [];
  const errors: string[] = [];
  if (header.trim() !== '') {
    for (const entry of header.split(',').map((e) => e.trim()).filter(Boolean)) {
      const link = /^<([^<>]*)>$/.exec(entry)?.[1]?.trim();
      if (link === undefined) errors.push(`"${entry}" is not enclosed in <>`);
      else if (!/^(mailto:|https?:\/\/)/i.test(link)) errors.push(`"${link}" is not a mailto: or http(s) link`);
      else links.push(link);
    }
  }
  return { Header: header, Links: links, Errors: errors.join('; '), HeaderPost: post };
}

/** Return-Path as written, else the SMTP sender, else From: Mailpit's order, with Kotak's envelope in the middle. */
function returnPath(message: MessageDetail): string {
  const header = headerValue(message, 'Return-Path').trim().replace(/^<|>$/g, '');
  return header || message.envelope.mailFrom || message.from?.address || '';
}

export function toMailpitMessage(
  message: MessageDetail,
  extras: SummaryExtras | undefined,
  checksums: ReadonlyMap<string, MailpitChecksums>,
): MailpitMessage {
  const part = (a: AttachmentInfo) => toMailpitAttachment(a, checksums.get(a.id));
  return {
    ID: message.id,
    MessageID: message.messageId ?? '',
    From: toAddress(message.from),
    To: toAddresses(message.to),
    Cc: toAddresses(message.cc),
    Bcc: toAddresses(message.bcc),
    ReplyTo: toAddresses(message.replyTo),
    ReturnPath: returnPath(message),
    Subject: message.subject,
    ListUnsubscribe: listUnsubscribe(headerValue(message, 'List-Unsubscribe'), headerValue(message, 'List-Unsubscribe-Post')),
    // Mailpit: the Date header when readable, else when the message arrived.
    Date: message.date ?? message.receivedAt,
    Tags: (extras ?? NO_EXTRAS).tags,
    ...username(message.envelope.user),
    Text: messageText(message),
    HTML: message.html ?? '',
    Size: message.size,
    Inline: message.attachments.filter((a) => a.inline).map(part),
    Attachments: message.attachments.filter((a) => !a.inline).map(part),
  };
}

/** Like Mailpit's parser, an HTML-only message has its text derived from the HTML. */
export function messageText(message: MessageDetail): string {
  if (message.text !== null) return message.text;
  return message.html !== null ? htmlToText(message.html) : '';
}
