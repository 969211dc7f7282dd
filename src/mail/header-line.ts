/** Reading one raw header line ("Name: value", possibly folded), shared by both parsers. Pure. */
import libmime from 'libmime';
import type { Header } from './types.js';

/** RFC 2047 encoded-words decoded; the input as it is when it has none or they are broken. */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** A header for display: the name as written, the value unfolded (RFC 5322 2.2.3) and decoded. */
export function headerFromLine(line: string): Header {
  const colon = line.indexOf(':');
  if (colon < 0) return { name: line.trim(), value: '' };
  return { name: line.slice(0, colon).trim(), value: decodeWords(line.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').trim()) };
}
