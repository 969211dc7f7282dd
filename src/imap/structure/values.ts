/** Building the ImapValue lists that ENVELOPE and BODYSTRUCTURE answer with. Pure. */
import type { ImapValue } from '../wire/values.js';

export const NIL: ImapValue = { kind: 'atom', value: 'NIL' };

export function numberValue(n: number): ImapValue {
  return { kind: 'atom', value: String(n) };
}

/**
 * A string as its bytes. Header text is given as a binary string (one character per byte) so that
 * 8-bit bytes (raw UTF-8 headers) reach the client unchanged; the encoder picks quoted or literal.
 */
export function stringValue(text: string): ImapValue {
  return { kind: 'string', value: Buffer.from(text, 'latin1'), literal: false };
}

export function nstringValue(text: string | null): ImapValue {
  return text === null ? NIL : stringValue(text);
}

export function listValue(items: readonly ImapValue[]): ImapValue {
  return { kind: 'list', items };
}
