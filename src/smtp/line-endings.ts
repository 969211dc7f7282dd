/**
 * Watches the line endings of a message as DATA arrives. SMTP lines end in CRLF; a bare LF or a
 * bare CR in the data is what SMTP smuggling needs (one server reads "<LF>.<LF>" as the end of the
 * message, the next one does not) and what broken generators produce. Kotak never treats them as
 * line ends of the protocol (only <CRLF>.<CRLF> ends DATA, see data-stream.ts); it records that
 * they were there, so a test can see it on the message (`smtpWarnings`).
 *
 * Within a chunk, native searches go from one line break to the next and look at the byte beside
 * it: about 30 ns a break, so a megabyte of 76-character base64 lines in 64 KB chunks costs
 * ~0.8 ms, where regular expressions over each chunk as a latin1 string cost ~1.6 ms (a third of
 * it the conversion) and left a megabyte of garbage per message. A chunk that is mostly line
 * breaks would make the searches a loop over nearly every byte, so a chunk denser than one break
 * per DENSE_BYTES_PER_BREAK bytes goes to the regular expressions, whose cost depends only on its
 * length: a megabyte of nothing but CRLFs costs ~2.6 ms either way.
 */
import type { SmtpWarning } from '../mail/types.js';

const CR = 0x0d;
const LF = 0x0a;
/** Fewer bytes than this per line break, on average, and a chunk is scanned by regular expression. */
const DENSE_BYTES_PER_BREAK = 24;
/** Line breaks after which a chunk that is dense so far is handed to the regular expressions. */
const EARLY_LOOK = 64;
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
    let budget = 16 + Math.floor(chunk.length / DENSE_BYTES_PER_BREAK);
    if (!this.#bareLf) {
      const lf = scanBreaks(chunk, LF, budget);
      if (lf === DENSE) return this.#scanDense(chunk);
      if (lf === BARE) this.#bareLf = true;
      else budget -= lf;
    }
    if (!this.#bareCr) {
      const cr = scanBreaks(chunk, CR, budget);
      if (cr === DENSE) return this.#scanDense(chunk);
      if (cr === BARE) this.#bareCr = true;
    }
  }

  #scanDense(chunk: Buffer): void {
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

const BARE = -1;
const DENSE = -2;

/**
 * Looks at every LF (or every CR) of a chunk: an LF must follow a CR, a CR must precede an LF.
 * The chunk's first LF and last CR are judged across the chunk boundary by the caller. Returns
 * BARE at the first bare one, DENSE past `budget` of them (or when the first EARLY_LOOK of them
 * are dense), else how many there were.
 */
function scanBreaks(chunk: Buffer, byte: typeof LF | typeof CR, budget: number): number {
  let count = 0;
  for (let at = chunk.indexOf(byte); at >= 0; at = chunk.indexOf(byte, at + 1)) {
    // Dense from the start: give up early rather than at the budget.
    if (++count > budget || (count === EARLY_LOOK && at < EARLY_LOOK * DENSE_BYTES_PER_BREAK)) return DENSE;
    const bare = byte === LF ? at > 0 && chunk[at - 1] !== CR : at + 1 < chunk.length && chunk[at + 1] !== LF;
    if (bare) return BARE;
  }
  return count;
}
