/**
 * POP3 reply lines (RFC 1939 section 3): `+OK`/`-ERR` status lines and multi-line responses,
 * whose lines are dot-stuffed and end with a line holding a single ".". Response codes in
 * brackets (RFC 2449 RESP-CODES, RFC 3206 [AUTH]) come from the one error registry.
 */
import { pop3ErrorLine, type ErrorCode } from '../errors.js';

export type ReplyChunk = string | Buffer;

const DOT = 0x2e;
const LF = 0x0a;
const TERMINATOR = '.\r\n';

export function ok(text: string): string {
  return `+OK ${text}\r\n`;
}

/** A plain `-ERR text` (a refused command, nothing wrong with the server). */
export function err(text: string): string {
  return `-ERR ${text}\r\n`;
}

/** `-ERR [CODE] text` for a failure named in src/errors.ts (auth, temporary server trouble). */
export function errFor(code: ErrorCode, text: string): string {
  return pop3ErrorLine(code, text);
}

/** `+OK first`, then the lines (dot-stuffed), then the terminating "." line. */
export function multiline(first: string, lines: readonly string[]): string {
  const body = lines.map((line) => `${line.startsWith('.') ? '.' : ''}${line}\r\n`).join('');
  return `${ok(first)}${body}${TERMINATOR}`;
}

/** `+OK first`, then message text (already CRLF-terminated lines), dot-stuffed, then ".". */
export function messageReply(first: string, text: Buffer): ReplyChunk[] {
  return [ok(first), dotStuff(text), TERMINATOR];
}

/**
 * Every line that starts with "." gets one more in front (RFC 1939 section 3). One pass to find
 * them, one copy when there are any; most messages have none and are returned as they are.
 */
export function dotStuff(text: Buffer): Buffer {
  const starts: number[] = [];
  if (text[0] === DOT) starts.push(0);
  for (let at = text.indexOf('\n.'); at >= 0; at = text.indexOf('\n.', at + 2)) starts.push(at + 1);
  if (starts.length === 0) return text;
  const out = Buffer.allocUnsafe(text.length + starts.length);
  let written = 0;
  let from = 0;
  for (const start of starts) {
    written += text.copy(out, written, from, start);
    out[written++] = DOT;
    from = start;
  }
  text.copy(out, written, from);
  return out;
}

/**
 * What TOP answers (RFC 1939 section 7): the header section, the blank line after it, and the
 * first `lines` lines of the body. A message without a body is returned whole.
 */
export function headerAndFirstLines(text: Buffer, lines: number): Buffer {
  // An empty header section: the message starts with the blank line.
  const blank = text[0] === 0x0d && text[1] === LF ? -2 : text.indexOf('\r\n\r\n');
  if (blank === -1) return text;
  let end = blank + 4;
  for (let n = 0; n < lines && end < text.length; n++) {
    const lf = text.indexOf(LF, end);
    end = lf < 0 ? text.length : lf + 1;
  }
  return text.subarray(0, end);
}
