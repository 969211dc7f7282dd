/**
 * A NewMessage from raw RFC 5322 text, parsed by the real parser (src/mail/parse.ts) as SMTP
 * ingest parses it, so that a store test stores what Kotak would store.
 */
import { newMessageId } from '../../src/mail/id.js';
import { parseMessage } from '../../src/mail/parse.js';
import type { Envelope, NewMessage } from '../../src/mail/types.js';

export interface RawMessageOptions {
  readonly id?: string;
  readonly mailbox?: string;
  /** Epoch ms; default now. */
  readonly receivedAt?: number;
  /** Default: the From and To headers' first addresses, from loopback. */
  readonly envelope?: Partial<Envelope>;
}

/** Lines joined with CRLF; a string is taken as UTF-8 (8-bit headers as sent with SMTPUTF8). */
export function rawMessage(lines: readonly string[]): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}

export async function newMessageFromRaw(raw: Buffer | string, options: RawMessageOptions = {}): Promise<NewMessage> {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const receivedAt = options.receivedAt ?? Date.now();
  const parsed = await parseMessage(bytes);
  const envelope: Envelope = {
    mailFrom: parsed.from?.address ?? 'sender@example.test',
    rcptTo: parsed.to.length > 0 ? parsed.to.map((a) => a.address) : ['rcpt@example.test'],
    clientAddress: '127.0.0.1',
    heloName: 'contract.test',
    user: null,
    tls: false,
    ...options.envelope,
  };
  return {
    id: options.id ?? newMessageId(receivedAt),
    mailbox: options.mailbox ?? 'default',
    receivedAt,
    envelope,
    raw: bytes,
    parsed: { ok: true, message: parsed },
  };
}
