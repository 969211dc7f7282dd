/**
 * Stored messages built without a parser, for the store's search tests, and a corpus with words of
 * every kind the search handles (shared by fts-behind-commit.test.ts and fts-contentless.test.ts).
 */
import { newMessageId } from '../../src/mail/id.js';
import type { NewMessage } from '../../src/mail/types.js';

export interface SearchMessageOptions {
  readonly html?: string;
  readonly attachment?: string;
  readonly to?: string;
  readonly fromName?: string;
}

export function searchMessage(subject: string, text: string, options: SearchMessageOptions = {}): NewMessage {
  const to = options.to ?? 'dev@example.test';
  return {
    id: newMessageId(),
    mailbox: 'default',
    receivedAt: Date.now(),
    envelope: { mailFrom: 'app@example.test', rcptTo: [to], clientAddress: '127.0.0.1', heloName: 'h', user: null, tls: false },
    raw: Buffer.from(`Subject: ${subject}\r\n\r\n${text}\r\n`),
    parsed: {
      ok: true,
      message: {
        from: { name: options.fromName ?? 'App', address: 'app@example.test' }, to: [{ name: '', address: to }], cc: [], bcc: [], replyTo: [],
        subject, messageId: null, date: null, text, html: options.html ?? null, htmlText: options.html ? options.html.replace(/<[^>]+>/g, ' ') : null,
        headers: [],
        attachments: options.attachment ? [{ id: '2', filename: options.attachment, contentType: 'application/pdf', size: 10, contentId: null, inline: false }] : [],
        snippet: text.slice(0, 100),
      },
    },
  };
}

/** Messages with words of every kind the index handles: prefixes, diacritics, phrases, scripts without spaces, addresses, file names. */
export const CORPUS: readonly NewMessage[] = [
  searchMessage('Confirm your account', 'Please confirm your account: https://app.example.test/confirm?t=abc123'),
  searchMessage('Confirmation received', 'Thanks, your confirmation was received.'),
  searchMessage('Café opening', 'Das Café öffnet um 9 Uhr. Grüße aus Köln.', { html: '<p>Besuchen Sie das <b>Café</b></p>' }),
  searchMessage('注文確認', 'ご注文ありがとうございます。注文番号は 4242 です。'),
  searchMessage('Invoice attached', 'See the attachment.', { attachment: 'invoice-2026-11.pdf' }),
  searchMessage('Password reset', 'Reset link: https://app.example.test/reset', { to: 'ops+reset@corp.test' }),
  searchMessage('Weekly digest', 'quick brown fox jumps over the lazy dog'),
  searchMessage('Order shipped', 'Your order 4242 has shipped.'),
  searchMessage('HTML only', '', { html: '<p>Only <i>htmlonlyword</i> here</p>' }),
];

export const QUERIES: readonly string[] = [
  'confirm', 'confirmation', 'confirm*', '"your account"', 'cafe', 'café', 'koln', 'grüße', 'besuchen', '注文', '確認', '4242',
  'invoice', 'invoice-2026', 'corp.test', 'ops', 'reset', '"brown fox"', '"fox brown"', 'quick -lazy', '-confirm', 'confirm subject:received',
  'shipped is:unread', 'abc123', 'htmlonly', 'nothingmatches',
];

/** A fresh copy of a corpus message, to store it again (ids are unique per store). */
export const copyOf = (message: NewMessage): NewMessage => ({ ...message, id: newMessageId() });
