/**
 * Reading the message from standard input, byte for byte. Without -i, traditional sendmail stops
 * at a line holding only "." (the line is not part of the message, nothing after it is read);
 * with -i, only the end of input ends the message.
 */
import type { Readable } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const NEWLINE_DOT = Buffer.from('\n.');

/**
 * Finds the first line that is exactly "." (ended by LF or CRLF, or by the end of input) in
 * chunks as they arrive. Pure. A chunk may end inside such a line, so up to two bytes ("." or
 * ".\r") at a line start are held back until the next chunk (or the end) decides.
 */
export class LoneDotScanner {
  readonly #parts: Buffer[] = [];
  #held: Buffer = Buffer.alloc(0);
  #atLineStart = true;
  #ended = false;

  /** Whether the lone dot line has been seen (later chunks are then ignored). */
  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Buffer): void {
    if (this.#ended || chunk.length === 0) return;
    // Held bytes always start a line.
    const startedAtLineStart = this.#held.length > 0 || this.#atLineStart;
    const data = this.#held.length ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held = Buffer.alloc(0);
    this.#atLineStart = data[data.length - 1] === LF;

    let lineStart = startedAtLineStart && data[0] === DOT ? 0 : nextDotLine(data, 0);
    while (lineStart !== -1) {
      const after = data[lineStart + 1];
      const isLoneDot = after === LF || (after === CR && data[lineStart + 2] === LF);
      if (isLoneDot) {
        this.#parts.push(data.subarray(0, lineStart));
        this.#ended = true;
        return;
      }
      // "." or ".\r" at the very end: the next chunk decides.
      if (after === undefined || (after === CR && lineStart + 2 === data.length)) {
        this.#parts.push(data.subarray(0, lineStart));
        this.#held = Buffer.from(data.subarray(lineStart));
        return;
      }
      lineStart = nextDotLine(data, lineStart + 1);
    }
    this.#parts.push(data);
  }

  /** The message: everything before the lone dot line, or everything when there was none. */
  finish(): Buffer {
    // A final "." with no line break is a lone dot line too; a final ".\r" is not a whole line.
    const heldIsDotLine = this.#held.length === 1;
    if (!this.#ended && !heldIsDotLine) this.#parts.push(this.#held);
    this.#ended = true;
    this.#held = Buffer.alloc(0);
    return Buffer.concat(this.#parts);
  }
}

/** The offset of the next "." that starts a line after `from`, or -1. */
function nextDotLine(data: Buffer, from: number): number {
  const at = data.indexOf(NEWLINE_DOT, from);
  return at === -1 ? -1 : at + 1;
}

/**
 * Reads `input` to its end, or (when `dotEndsInput`) to the first lone dot line, after which it
 * stops reading: a writer that keeps the pipe open after the dot is not waited for.
 */
export function readMessage(input: Readable, options: { dotEndsInput: boolean }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const scanner = options.dotEndsInput ? new LoneDotScanner() : null;
    const chunks: Buffer[] = [];
    const done = (): void => {
      input.off('data', onData);
      input.off('end', done);
      input.off('error', onError);
      if (scanner?.ended) input.pause();
      resolve(scanner ? scanner.finish() : Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer): void => {
      if (!scanner) return void chunks.push(chunk);
      scanner.push(chunk);
      if (scanner.ended) done();
    };
    const onError = (err: Error): void => {
      input.off('data', onData);
      input.off('end', done);
      reject(err);
    };
    input.on('data', onData);
    input.once('end', done);
    input.once('error', onError);
  });
}
