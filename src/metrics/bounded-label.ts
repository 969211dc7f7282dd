/**
 * A label whose values come from users (mailbox and tag names) must stay a bounded set, or every
 * new name is a new time series in Prometheus forever. The first `limit` distinct values seen get
 * their own series; every later one is counted under OTHER_LABEL. What is kept per value (labelled
 * children of one or more metrics) is made once and cached, so counting allocates nothing.
 */
export const OTHER_LABEL = '_other';

export class BoundedLabel<T> {
  readonly #children = new Map<string, T>();
  #other: T | null = null;

  constructor(
    private readonly limit: number,
    private readonly make: (value: string) => T,
  ) {}

  get(value: string): T {
    const known = this.#children.get(value);
    if (known !== undefined) return known;
    if (this.#children.size < this.limit && value !== OTHER_LABEL) {
      const child = this.make(value);
      this.#children.set(value, child);
      return child;
    }
    return (this.#other ??= this.make(OTHER_LABEL));
  }
}
