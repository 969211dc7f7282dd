/**
 * Splits a POP3 client's byte stream into command lines, holding at most one bounded line in
 * memory. Lines end in CRLF; a bare LF is accepted too (lenient to hand-typed sessions). A line
 * longer than the limit is not kept: the reader skips to its end and reports it once, so the
 * client gets one `-ERR` and stays in step; a "line" that never ends is a flood and ends the
 * connection.
 */

export type LineEvent =
  | { readonly kind: 'line'; readonly line: Buffer }
  | { readonly kind: 'too-long' }
  | { readonly kind: 'flood' };

const LF = 0x0a;
const CR = 0x0d;

export class LineReader {
  readonly #maxLineOctets: number;
  readonly #maxSkipOctets: number;
  #pending: Buffer[] = [];
  #pendingOctets = 0;
  /** Inside an over-long line: bytes are dropped until its LF. */
  #skipping = false;
  #skipped = 0;

  /**
   * @param maxLineOctets the longest line kept, CRLF included
   * @param maxSkipOctets how much of an over-long line is skipped before it counts as a flood
   */
  constructor(maxLineOctets: number, maxSkipOctets: number) {
    this.#maxLineOctets = maxLineOctets;
    this.#maxSkipOctets = maxSkipOctets;
  }

  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    for (let lf = chunk.indexOf(LF); lf >= 0; lf = chunk.indexOf(LF, start)) {
      const piece = chunk.subarray(start, lf);
      start = lf + 1;
      if (this.#skipping) {
        this.#skipping = false;
        this.#skipped = 0;
        events.push({ kind: 'too-long' });
        continue;
      }
      if (this.#pendingOctets + piece.length + 1 > this.#maxLineOctets) {
        events.push({ kind: 'too-long' });
      } else {
        const line = this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece]);
        events.push({ kind: 'line', line: line[line.length - 1] === CR ? line.subarray(0, -1) : line });
      }
      this.#pending = [];
      this.#pendingOctets = 0;
    }
    if (start < chunk.length && this.#keep(chunk.subarray(start))) events.push({ kind: 'flood' });
    return events;
  }

  /** Forgets buffered input (after STLS, plaintext sent ahead must not count as encrypted). */
  clear(): void {
    this.#pending = [];
    this.#pendingOctets = 0;
    this.#skipping = false;
    this.#skipped = 0;
  }

  /** Holds the start of an unfinished line; true when it has grown into a flood. */
  #keep(rest: Buffer): boolean {
    if (!this.#skipping && this.#pendingOctets + rest.length + 1 <= this.#maxLineOctets) {
      // A copy, so a large chunk is not kept alive for the few bytes of a line start.
      this.#pending.push(Buffer.from(rest));
      this.#pendingOctets += rest.length;
      return false;
    }
    if (!this.#skipping) {
      this.#skipping = true;
      this.#skipped = this.#pendingOctets;
      this.#pending = [];
      this.#pendingOctets = 0;
    }
    this.#skipped += rest.length;
    return this.#skipped > this.#maxSkipOctets;
  }
}
