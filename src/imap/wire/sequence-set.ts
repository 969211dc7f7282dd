/**
 * Sequence sets (RFC 3501 section 9, `sequence-set`): `1:4,7,9:*`. A set is parsed once into
 * ranges; `*` stays symbolic until matched against a view, where it is the largest number in
 * use (the last message's sequence number or UID). `3:1` is the same range as `1:3`.
 */

export interface SequenceRange {
  /** null: `*`. */
  readonly from: number | null;
  readonly to: number | null;
}

export type SequenceSet = readonly SequenceRange[];

const NUMBER = /^[1-9]\d{0,9}$/;

/** The ranges of a set, or null when the text is not a sequence set. */
export function parseSequenceSet(text: string): SequenceSet | null {
  if (text === '' || text.length > 65_536) return null;
  const ranges: SequenceRange[] = [];
  for (const item of text.split(',')) {
    const bounds = item.split(':');
    if (bounds.length > 2) return null;
    const parsed = bounds.map((bound) => (bound === '*' ? null : NUMBER.test(bound) ? Number(bound) : undefined));
    if (parsed.some((bound) => bound === undefined || (bound !== null && bound > 0xffffffff))) return null;
    const [from, to = from] = parsed as (number | null)[];
    ranges.push({ from: from!, to: to! });
  }
  return ranges;
}

/** True when `n` is in the set, `*` standing for `largest` (0 when the view is empty). */
export function inSequenceSet(set: SequenceSet, n: number, largest: number): boolean {
  for (const range of set) {
    const a = range.from ?? largest;
    const b = range.to ?? largest;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/** Writes numbers (ascending, no duplicates) as a compact set: `1:3,7`. */
export function formatSequenceSet(numbers: readonly number[]): string {
  const out: string[] = [];
  let start = -1;
  let end = -1;
  for (const n of numbers) {
    if (start >= 0 && n === end + 1) {
      end = n;
      continue;
    }
    if (start >= 0) out.push(start === end ? `${start}` : `${start}:${end}`);
    start = end = n;
  }
  if (start >= 0) out.push(start === end ? `${start}` : `${start}:${end}`);
  return out.join(',');
}
