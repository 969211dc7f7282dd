/**
 * MailHog's JSON shapes (github.com/mailhog/data, message.go) built from what Kotak stores: the
 * raw bytes and the SMTP envelope. Pure. Field names and nesting are MailHog's, since its clients
 * index into them directly (`mail.Content.Headers.Subject[0]`, `mail.Raw.From`, `mail.To[0].Mailbox`).
 */
import type { Envelope } from '../../mail/types.js';
import { parseContent, type MailhogContent, type MailhogMime } from './mime.js';

export type { MailhogContent, MailhogMime } from './mime.js';

/** An SMTP path. Relays are source routes, which no client sends any more: always null (Go's empty slice). */
export interface MailhogPath {
  readonly Relays: string[] | null;
  readonly Mailbox: string;
  readonly Domain: string;
  readonly Params: string;
}

/** The SMTP transaction: MAIL FROM, every RCPT TO, the message as received, and the HELO name. */
export interface MailhogRaw {
  readonly From: string;
  readonly To: string[];
  readonly Data: string;
  readonly Helo: string;
}

export interface MailhogMessage {
  /** Kotak's id: MailHog clients treat ids as opaque strings. */
  readonly ID: string;
  readonly From: MailhogPath;
  readonly To: MailhogPath[];
  /** The whole message; at this level MailHog keeps `Content.MIME` null and puts the parts in `MIME`. */
  readonly Content: MailhogContent;
  /** When the message arrived (RFC 3339). */
  readonly Created: string;
  readonly MIME: MailhogMime | null;
  readonly Raw: MailhogRaw;
}

/** The page of GET /api/v2/messages and /api/v2/search. */
export interface MailhogMessages {
  readonly total: number;
  readonly count: number;
  readonly start: number;
  readonly items: MailhogMessage[];
}

export interface StoredMessage {
  readonly id: string;
  /** ISO 8601. */
  readonly receivedAt: string;
  readonly envelope: Envelope;
  readonly raw: Buffer;
}

export function toPath(address: string): MailhogPath {
  const at = address.indexOf('@');
  return {
    Relays: null,
    Mailbox: at === -1 ? address : address.slice(0, at),
    Domain: at === -1 ? '' : address.slice(at + 1),
    Params: '',
  };
}

export function toMailhogMessage(message: StoredMessage): MailhogMessage {
  const { Headers, Body, Size, MIME } = parseContent(message.raw);
  const { mailFrom, rcptTo, heloName } = message.envelope;
  return {
    ID: message.id,
    From: toPath(mailFrom),
    To: rcptTo.map(toPath),
    Content: { Headers: withReturnPath(Headers, mailFrom), Body, Size, MIME: null },
    Created: message.receivedAt,
    MIME,
    Raw: { From: mailFrom, To: [...rcptTo], Data: message.raw.toString('utf8'), Helo: heloName },
  };
}

/**
 * MailHog records the envelope sender as a Return-Path header, as a delivering MTA does, and tests
 * written against it read the bounce address there.
 */
function withReturnPath(headers: Record<string, string[]>, mailFrom: string): Record<string, string[]> {
  const returnPath = `<${mailFrom}>`;
  const entries = Object.entries(headers);
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'return-path');
  // As MailHog does, a Return-Path already in the message keeps its value and gains this one.
  return Object.fromEntries(
    name === undefined ? [...entries, ['Return-Path', [returnPath]]] : entries.map(([key, values]) => [key, key === name ? [...values, returnPath] : values]),
  );
}
