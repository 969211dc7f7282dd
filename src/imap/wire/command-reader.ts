/**
 * Frames an IMAP client's byte stream into whole commands (RFC 3501 section 2.2): a command is a
 * line, or several lines joined by literals (`{n}` synchronising, `{n+}` LITERAL+ from RFC 7888,
 * `~{n}` binary from RFC 3516). The size of a literal is checked against its cap when its
 * announcement arrives, before a byte of it is buffered: a synchronising one gets the `+`
 * continuation only when it fits, a non-synchronising one over the cap is a flood.
 *
 * Pure framing: no socket, no replies. The connection writes what the events ask for.
 */

export type ReaderEvent =
  /** A whole command, literals inline (`{n}\r\n` then the n octets), without its final CRLF. */
  | { readonly kind: 'command'; readonly bytes: Buffer }
  /** A synchronising literal fits: the client waits for a `+` continuation. */
  | { readonly kind: 'continue' }
  /** One line of a command was over the line cap; the command is dropped, the client stays in step. `head` is its start, for the tag. */
  | { readonly kind: 'too-long'; readonly head: Buffer }
  /** A synchronising literal over its cap: the command ends here, unanswered by `+` (the client abandons it). */
  | { readonly kind: 'literal-refused'; readonly head: Buffer; readonly size: number; readonly cap: number }
  /** A non-synchronising literal over its cap, or a line that never ends: the client cannot be kept in step. */
  | { readonly kind: 'flood' };

export interface ReaderLimits {
  /** A command line's longest, literals not counted, CRLF included. */
  readonly maxLineOctets: number;
  /** How much of an over-long line is skipped before it counts as a flood. */
  readonly maxSkipOctets: number;
  /** Lines one command may have (each literal starts a new one). */
  readonly maxLinesPerCommand: number;
  /** The cap of the literals of a command (all of them together), given its first line. */
  literalCap(firstLine: Buffer): number;
}

const LF = 0x0a;
const CR = 0x0d;
/** A literal announcement closing a line: `{12}`, `{12+}`, `~{12}`. */
const LITERAL_AT_END = /(~?)\{(\d{1,20})(\+?)\}$/;

export class CommandReader {
  readonly #limits: ReaderLimits;
  /** The command so far: its lines (with CRLF) and literals. */
  #parts: Buffer[] = [];
  #lines = 0;
  #literalOctets = 0;
  /** The line being read. */
  #pending: Buffer[] = [];
  #pendingOctets = 0;
  #skipping = false;
  #skipped = 0;
  /** The start of the skipped line, for the tag of the BAD that answers it. */
  #skipHead: Buffer = Buffer.alloc(0);
  /** Octets of the current literal still to come; 0 when reading lines. */
  #literalLeft = 0;
  #flooded = false;

  constructor(limits: ReaderLimits) {
    this.#limits = limits;
  }

  push(chunk: Buffer): ReaderEvent[] {
    const events: ReaderEvent[] = [];
    let at = 0;
    while (at < chunk.length && !this.#flooded) {
      if (this.#literalLeft > 0) {
        const take = Math.min(this.#literalLeft, chunk.length - at);
        // A copy: the chunk may be large and the literal small, or the chunk reused by the caller.
        this.#parts.push(Buffer.from(chunk.subarray(at, at + take)));
        this.#literalLeft -= take;
        at += take;
        continue;
      }
      const lf = chunk.indexOf(LF, at);
      if (lf < 0) {
        if (this.#keep(chunk.subarray(at))) {
          this.#flooded = true;
          events.push({ kind: 'flood' });
        }
        break;
      }
      const piece = chunk.subarray(at, lf);
      at = lf + 1;
      const event = this.#lineEnded(piece);
      if (event) events.push(event);
      if (event?.kind === 'flood') this.#flooded = true;
    }
    return events;
  }

  /** Forgets everything buffered (after STARTTLS: plaintext sent ahead must not count as encrypted). */
  clear(): void {
    this.#resetCommand();
    this.#pending = [];
    this.#pendingOctets = 0;
    this.#skipping = false;
    this.#skipped = 0;
    this.#literalLeft = 0;
  }

  #resetCommand(): void {
    this.#parts = [];
    this.#lines = 0;
    this.#literalOctets = 0;
  }

  #lineEnded(piece: Buffer): ReaderEvent | null {
    if (this.#skipping) {
      this.#skipping = false;
      this.#skipped = 0;
      const head = this.#skipHead;
      this.#resetCommand();
      return { kind: 'too-long', head };
    }
    if (this.#pendingOctets + piece.length + 1 > this.#limits.maxLineOctets) {
      const head = this.#parts[0] ?? (this.#pending[0] ?? piece).subarray(0, 64);
      this.#pending = [];
      this.#pendingOctets = 0;
      this.#resetCommand();
      return { kind: 'too-long', head };
    }
    let line = this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece]);
    this.#pending = [];
    this.#pendingOctets = 0;
    if (line[line.length - 1] === CR) line = line.subarray(0, -1);
    this.#lines += 1;
    const announced = LITERAL_AT_END.exec(line.toString('latin1'));
    if (!announced) {
      this.#parts.push(line);
      const bytes = this.#parts.length === 1 ? Buffer.from(line) : Buffer.concat(this.#parts);
      this.#resetCommand();
      return { kind: 'command', bytes };
    }
    const size = Number(announced[2]);
    const synchronising = announced[3] !== '+';
    const first = this.#parts[0] ?? line;
    const cap = this.#limits.literalCap(first);
    if (this.#literalOctets + size > cap || this.#lines >= this.#limits.maxLinesPerCommand) {
      this.#resetCommand();
      // A client that did not wait for `+` sends the octets anyway: nothing keeps it in step.
      return synchronising ? { kind: 'literal-refused', head: first.subarray(0, 64), size, cap } : { kind: 'flood' };
    }
    this.#literalOctets += size;
    this.#parts.push(Buffer.concat([line, Buffer.from('\r\n')]));
    this.#literalLeft = size;
    return synchronising ? { kind: 'continue' } : null;
  }

  /** Holds the start of an unfinished line; true when it has grown into a flood. */
  #keep(rest: Buffer): boolean {
    if (!this.#skipping && this.#pendingOctets + rest.length + 1 <= this.#limits.maxLineOctets) {
      this.#pending.push(Buffer.from(rest));
      this.#pendingOctets += rest.length;
      return false;
    }
    if (!this.#skipping) {
      this.#skipping = true;
      this.#skipHead = this.#parts[0] ?? Buffer.concat([...this.#pending, rest]).subarray(0, 64);
      this.#skipped = this.#pendingOctets;
      this.#pending = [];
      this.#pendingOctets = 0;
    }
    this.#skipped += rest.length;
    return this.#skipped > this.#limits.maxSkipOctets;
  }
}
