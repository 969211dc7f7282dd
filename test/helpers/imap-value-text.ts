/**
 * A minimal IMAP encoder for tests of values (ENVELOPE, BODYSTRUCTURE): atoms as they are,
 * strings quoted when they are printable US-ASCII, else as literals, lists in parentheses. The
 * protocol slice owns the real encoder; this one only lets a test hand a value to a client's
 * parser (imapflow's) or read it.
 */
import type { ImapValue } from '../../src/imap/wire/values.js';

function isQuotable(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte < 0x20 || byte > 0x7e) return false;
  return true;
}

export function encodeImapValue(value: ImapValue): Buffer {
  switch (value.kind) {
    case 'atom':
      return Buffer.from(value.value, 'latin1');
    case 'string':
      if (isQuotable(value.value)) return Buffer.from(`"${value.value.toString('latin1').replace(/(["\\])/g, '\\$1')}"`, 'latin1');
      return Buffer.concat([Buffer.from(`{${value.value.length}}\r\n`), value.value]);
    case 'list': {
      const parts: Buffer[] = [Buffer.from('(')];
      value.items.forEach((item, index) => {
        if (index > 0) parts.push(Buffer.from(' '));
        parts.push(encodeImapValue(item));
      });
      parts.push(Buffer.from(')'));
      return Buffer.concat(parts);
    }
  }
}

/** The value as text, for readable assertions (strings quoted, 8-bit bytes read as UTF-8). */
export function imapValueText(value: ImapValue): string {
  switch (value.kind) {
    case 'atom':
      return value.value;
    case 'string':
      return JSON.stringify(value.value.toString('utf8'));
    case 'list':
      return `(${value.items.map(imapValueText).join(' ')})`;
  }
}
