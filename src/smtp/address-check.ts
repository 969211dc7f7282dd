/**
 * Envelope addresses must be text. A CR or LF in an address would split the reply or the log
 * line it is written to, or the Received and Return-Path headers a relay builds from it; NUL
 * truncates it in C software downstream. smtp-server refuses the raw characters with its own
 * generic reply, but not those that reach the address by decoding (an IDNA "xn--" label can
 * encode any code point), so both the command line and the decoded address are checked here.
 */

/** C0 and C1 controls (CR, LF, NUL, TAB, ESC...), DEL, and the Unicode line and paragraph separators. */
const FORBIDDEN = /[\p{Cc}\u2028\u2029]/u;

export function hasControlCharacter(text: string): boolean {
  return FORBIDDEN.test(text);
}
