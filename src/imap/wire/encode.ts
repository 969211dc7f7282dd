/**
 * Writes IMAP response data (RFC 3501 section 4): strings as quoted when they are short, 7-bit and
 * hold no CR, LF, `"` or `\`, else as literals; NIL; numbers; parenthesised lists. Output is a
 * list of chunks so a large literal (a message body) is written as the buffer it already is,
 * never copied into one big string.
 */

import type { ImapValue } from './values.js';

export type Chunk = string | Buffer;

/** Response data: a string (null: NIL), a number, a bare atom, a list. */
export type ResponseValue = string | Buffer | number | null | { readonly atom: string } | readonly ResponseValue[];

/** Longer strings are sent as literals (some clients choke on very long quoted strings). */
const MAX_QUOTED = 1024;

export const NIL = { atom: 'NIL' } as const;

export function atom(text: string): { readonly atom: string } {
  return { atom: text };
}

function quotable(bytes: Buffer): boolean {
  if (bytes.length > MAX_QUOTED) return false;
  for (const octet of bytes) {
    if (octet >= 0x80 || octet === 0x0d || octet === 0x0a || octet === 0x00 || octet === 0x22 || octet === 0x5c) return false;
  }
  return true;
}

/** A string as quoted or literal, whichever its content allows. */
export function encodeString(value: string | Buffer): Chunk[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (quotable(bytes)) return [`"${bytes.toString('latin1')}"`];
  return [`{${bytes.length}}\r\n`, bytes];
}

/** Appends the encoding of a value to `out` (strings joined where they can be). */
export function encodeValue(value: ResponseValue, out: Chunk[] = []): Chunk[] {
  if (value === null) out.push('NIL');
  else if (typeof value === 'number') out.push(String(value));
  else if (typeof value === 'string' || Buffer.isBuffer(value)) out.push(...encodeString(value));
  else if (Array.isArray(value)) {
    out.push('(');
    value.forEach((item, i) => {
      if (i > 0) out.push(' ');
      encodeValue(item, out);
    });
    out.push(')');
  } else out.push((value as { atom: string }).atom);
  return out;
}

/** Joins adjacent strings, so a response goes out in few writes. */
export function compact(chunks: readonly Chunk[]): Chunk[] {
  const out: Chunk[] = [];
  let text = '';
  for (const chunk of chunks) {
    if (typeof chunk === 'string') text += chunk;
    else {
      if (text !== '') out.push(text);
      text = '';
      out.push(chunk);
    }
  }
  if (text !== '') out.push(text);
  return out;
}

/** `"` and `\` escaped: for text that is known to be short 7-bit (mailbox names are). */
export function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A parsed value tree (src/imap/wire/values.ts) written back as response data: ENVELOPE and BODYSTRUCTURE come this way. */
export function encodeImapValue(value: ImapValue, out: Chunk[] = []): Chunk[] {
  if (value.kind === 'atom') out.push(value.value);
  else if (value.kind === 'string') out.push(...encodeString(value.value));
  else {
    out.push('(');
    value.items.forEach((item, i) => {
      if (i > 0) out.push(' ');
      encodeImapValue(item, out);
    });
    out.push(')');
  }
  return out;
}
