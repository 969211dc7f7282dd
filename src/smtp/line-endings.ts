/**
 * Watches the line endings of a message as DATA arrives. SMTP lines end in CRLF; a bare LF or a
 * bare CR in the data is what SMTP smuggling needs (one server reads "<LF>.<LF>" as the end of the
 * message, the next one does not) and what broken generators produce. Kotak never treats them as
 * line ends of the protocol (only <CRLF>.<CRLF> ends DATA, see data-stream.ts); it records that
 * they were there, so a test can see it on the message (`smtpWarnings`).
 *
 * Regular expressions rather than a loop over every line break: their cost does not depend on how
 * many lines a chunk holds (a chunk of nothing but CRLFs cost a loop ten times as much).
 */
import type { SmtpWarning } from '../mail/types.js';

const CR = 0x0d;
const LF = 0x0a;
const ANY_BARE = /[^\r]\n|\r[^\n]/;
const BARE_LF = /[^\r]\n/;
const BARE_CR = /\r[^\n]/;

export class LineEndingWatch {
  #bareLf = false;
  #bareCr = false;
  /** The last byte of the previous chunk (-1 before the first): a line ending may span chunks. */
  #lastByte = -1;

  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const first = chunk[0];
    if (first === LF && this.#lastByte !== CR) this.#bareLf = true;
    if (this.#lastByte === CR && first !== LF) this.#bareCr = true;
    this.#lastByte = chunk[chunk.length - 1]!;
    if (this.#bareLf && this.#bareCr) return;
    // A CR at the end of the chunk is judged by the next chunk's first byte (above).
    const text = chunk.toString('latin1');
    if (!ANY_BARE.test(text)) return;
    if (!this.#bareLf && BARE_LF.test(text)) this.#bareLf = true;
    if (!this.#bareCr && BARE_CR.test(text)) this.#bareCr = true;
  }

  /** What was seen, once the data is complete. */
  warnings(): SmtpWarning[] {
    const bareCr = this.#bareCr || this.#lastByte === CR;
    return [...(this.#bareLf ? (['bare-lf'] as const) : []), ...(bareCr ? (['bare-cr'] as const) : [])];
  }
}
