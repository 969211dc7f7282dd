/**
 * The bytes of one message as its DATA arrives. Small messages are kept in memory, counted against
 * the intake budget (./intake-budget.ts). Once a message reaches the spool's threshold (the size
 * from which the store keeps raw bytes in a file anyway), what arrived so far and everything after
 * it go to a spool file (store/spool.ts) instead, and leave the budget: a 50 MB message costs the
 * process a megabyte of write-ahead, not 50 MB of chunks.
 *
 * The chunks are written exactly as they would have been concatenated: the stored bytes are the
 * same whichever way a message came in.
 */
import type { Readable } from 'node:stream';
import type { SpooledRaw } from '../mail/types.js';
import type { Spool, SpoolWriter } from '../store/spool.js';
import type { IntakeBudget } from './intake-budget.js';

export class MessageData {
  readonly #stream: Readable;
  readonly #budget: IntakeBudget;
  readonly #spool: Spool | null;
  #chunks: Buffer[] = [];
  /** Bytes received (kept or spooled). */
  #size = 0;
  /** Bytes counted against the budget and not yet released. */
  #held = 0;
  /** Set once spooling began: resolves with the writer, or rejects when the file could not be made. */
  #spooling: Promise<SpoolWriter> | null = null;
  #writer: SpoolWriter | null = null;
  #dropped = false;
  readonly #resume = (): void => void this.#stream.resume();

  constructor(stream: Readable, budget: IntakeBudget, spool: Spool | null) {
    this.#stream = stream;
    this.#budget = budget;
    this.#spool = spool;
  }

  get size(): number {
    return this.#size;
  }

  /** A chunk of the message, in order. */
  add(chunk: Buffer): void {
    if (this.#dropped) return;
    this.#size += chunk.length;
    if (this.#writer) {
      if (!this.#writer.write(chunk)) {
        this.#stream.pause();
        this.#writer.onDrain(this.#resume);
      }
      return;
    }
    this.#chunks.push(chunk);
    if (this.#spool && !this.#spooling && this.#size >= this.#spool.minBytes) {
      this.#startSpooling(this.#spool);
      return;
    }
    if (this.#spooling) return; // the file is being made; the stream is paused meanwhile
    this.#held += chunk.length;
    if (!this.#budget.take(chunk.length)) {
      this.#stream.pause();
      this.#budget.whenRoom(this.#held, this.#resume);
    }
  }

  #startSpooling(spool: Spool): void {
    // Paused while the file is made, so that nothing arrives out of order.
    this.#stream.pause();
    this.#spooling = spool.create().then(
      (writer) => {
        this.#writer = writer;
        const held = this.#chunks;
        this.#chunks = [];
        this.#releaseBudget();
        if (this.#dropped) {
          void writer.discard();
        } else {
          let room = true;
          for (const chunk of held) room = writer.write(chunk);
          if (!room) {
            writer.onDrain(this.#resume);
            return writer;
          }
        }
        this.#resume();
        return writer;
      },
      (err: unknown) => {
        // No spool file: nothing more is kept, and the message is refused at its end.
        this.#drop();
        this.#resume();
        throw err;
      },
    );
    // Reported by finish(); not an unhandled rejection meanwhile.
    this.#spooling.catch(() => undefined);
  }

  /** The whole message: its bytes, or its spool file, which the caller must `discard()` once it is stored or refused. */
  async finish(): Promise<Buffer | SpooledRaw> {
    if (this.#spooling) {
      const writer = await this.#spooling;
      return writer.finish();
    }
    const raw = Buffer.concat(this.#chunks, this.#size);
    // The stream's listeners keep this object reachable until the reply is sent: emptied now, the
    // chunks are not a second copy of the message through parsing and storing.
    this.#chunks = [];
    return raw;
  }

  /** Nothing more is kept (over the size limit): what was received is let go. */
  drop(): void {
    this.#drop();
    void this.discard();
  }

  #drop(): void {
    this.#dropped = true;
    this.#chunks = [];
  }

  /** Releases the budget and removes the spool file, if any. Call once the message is stored or refused, or the client left. */
  async discard(): Promise<void> {
    this.#releaseBudget();
    this.#chunks = [];
    if (!this.#spooling) return;
    const writer = await this.#spooling.catch(() => null);
    await writer?.discard();
  }

  #releaseBudget(): void {
    this.#budget.cancel(this.#resume);
    const held = this.#held;
    this.#held = 0;
    this.#budget.release(held);
  }
}
