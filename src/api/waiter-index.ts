/**
 * Finds the waiters a stored message might satisfy without looking at every waiter.
 *
 * A waiter whose query requires a substring of a field (`to:t-7f3a@kotak.test`) is filed under
 * one 4-character piece (a gram) of that substring, chosen among its grams as the one with the
 * fewest waiters so far. Any field value containing the substring contains that gram, so looking
 * up every gram of the message's field finds the waiter: the index never misses, it only narrows.
 * Candidates are then checked in full by the caller. Waiters without such a term (or with a
 * shorter substring) are kept in a plain list and always checked.
 */
import type { FoldedField, MatchView } from '../mail/search-match.js';

const GRAM = 4;

export class WaiterIndex<W> {
  private readonly buckets = new Map<string, Set<W>>();
  private readonly placement = new Map<W, string>();
  private readonly unindexed = new Set<W>();
  private readonly fields = new Map<FoldedField, number>();

  add(waiter: W, required: { field: FoldedField; needle: string } | null): void {
    if (!required || required.needle.length < GRAM) {
      this.unindexed.add(waiter);
      return;
    }
    let bestKey = '';
    let bestSize = Infinity;
    for (let i = 0; i + GRAM <= required.needle.length; i++) {
      const key = `${required.field}:${required.needle.slice(i, i + GRAM)}`;
      const size = this.buckets.get(key)?.size ?? 0;
      if (size < bestSize) {
        bestKey = key;
        bestSize = size;
        if (size === 0) break;
      }
    }
    let bucket = this.buckets.get(bestKey);
    if (!bucket) this.buckets.set(bestKey, (bucket = new Set()));
    bucket.add(waiter);
    this.placement.set(waiter, bestKey);
    this.fields.set(required.field, (this.fields.get(required.field) ?? 0) + 1);
  }

  delete(waiter: W): void {
    if (this.unindexed.delete(waiter)) return;
    const key = this.placement.get(waiter);
    if (key === undefined) return;
    this.placement.delete(waiter);
    const bucket = this.buckets.get(key)!;
    bucket.delete(waiter);
    if (bucket.size === 0) this.buckets.delete(key);
    const field = key.slice(0, key.indexOf(':')) as FoldedField;
    const left = (this.fields.get(field) ?? 1) - 1;
    if (left === 0) this.fields.delete(field);
    else this.fields.set(field, left);
  }

  /** Every waiter that could match this message (a superset of those that do). */
  candidates(view: MatchView): Set<W> {
    const found = new Set(this.unindexed);
    for (const field of this.fields.keys()) {
      const value = view[field];
      for (let i = 0; i + GRAM <= value.length; i++) {
        const bucket = this.buckets.get(`${field}:${value.slice(i, i + GRAM)}`);
        if (bucket) for (const waiter of bucket) found.add(waiter);
      }
    }
    return found;
  }
}
