/**
 * Bounds the bytes of messages held in memory between their first DATA chunk and their commit.
 * Past the budget, connections stop being read (TCP backpressure slows the senders) until earlier
 * messages are stored, so fifty clients sending large messages at once cannot exhaust memory.
 * One message is always let through whatever its size, so nothing can wait forever.
 */
export class IntakeBudget {
  #held = 0;
  readonly #waiting = new Set<() => void>();

  constructor(readonly limitBytes: number) {}

  get heldBytes(): number {
    return this.#held;
  }

  /** Counts bytes in; returns false when the caller should pause until `whenRoom` fires. */
  take(bytes: number): boolean {
    this.#held += bytes;
    return this.#held <= this.limitBytes;
  }

  release(bytes: number): void {
    this.#held -= bytes;
    if (this.#held > this.limitBytes) return;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const resume of waiting) resume();
  }

  /**
   * Calls `resume` once there is room again. `ownBytes` are the caller's own held bytes: a
   * message that is alone in holding the budget is never made to wait for itself.
   */
  whenRoom(ownBytes: number, resume: () => void): void {
    if (this.#held <= this.limitBytes || this.#held === ownBytes) resume();
    else this.#waiting.add(resume);
  }

  /** Forgets a waiter whose connection went away. */
  cancel(resume: () => void): void {
    this.#waiting.delete(resume);
  }
}
