/** At most `capacity` holders at once; the rest wait their turn, first come first served. */
export interface Turnstile {
  take(): Promise<void>;
  give(): void;
}

export function turnstile(capacity: number): Turnstile {
  let holders = 0;
  const waiting: (() => void)[] = [];
  return {
    take() {
      if (holders < capacity) {
        holders++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    give() {
      // The turn passes straight to the next in line: the count of holders stays the same.
      const next = waiting.shift();
      if (next) next();
      else holders--;
    },
  };
}
