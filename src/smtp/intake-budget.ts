/**
 * Bounds the bytes of messages held in memory between their first DATA chunk and their commit.
 * Past the budget, connections stop being read (TCP backpressure slows the senders) until earlier
 * messages are stored, so fifty clients sending large messages at once cannot exhaust memory.
 *
 * It never deadlocks: when every held byte belongs to a paused message, nothing would ever be
 * released, so the paused message holding the most (the nearest to complete) goes on.
 */
export class IntakeBudget {
  #held = 0;
  /** Paused messages: their resume callback and the bytes they hold. */
  readonly #waiting = new Map<() => void, number>();

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
    this.#unblock();
  }

  /** Calls `resume` once there is room again; `ownBytes` are the bytes the caller holds. */
  whenRoom(ownBytes: number, resume: () => void): void {
    this.#waiting.set(resume, ownBytes);
    this.#unblock();
  }

  /** Forgets a waiter whose connection went away. */
  cancel(resume: () => void): void {
    this.#waiting.delete(resume);
  }

  #unblock(): void {
    if (this.#waiting.size === 0) return;
    if (this.#held <= this.limitBytes) {
      const all = [...this.#waiting.keys()];
      this.#waiting.clear();
      for (const resume of all) resume();
      return;
    }
    let pausedBytes = 0;
    let largest: [() => void, number] | null = null;
    for (const entry of this.#waiting) {
      pausedBytes += entry[1];
      if (!largest || entry[1] > largest[1]) largest = entry;
    }
    if (pausedBytes < this.#held || !largest) return; // someone still receiving or storing will release
    this.#waiting.delete(largest[0]);
    largest[0]();
  }
}
