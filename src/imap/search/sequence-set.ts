/**
 * RFC 3501's sequence-set (`1:4,7,9:*`), for message sequence numbers and UIDs alike. Pure. A
 * range may be written in either order (`9:4` is `4:9`); `*` is the largest number in use, given
 * when the set is matched (the view's last message, or its UID).
 */

/** A number, or `*` as null. */
export type SequenceBound = number | null;

export interface SequenceRange {
  readonly from: SequenceBound;
  readonly to: SequenceBound;
}

export type SequenceSet = readonly SequenceRange[];

/** RFC 3501's nz-number: 1 to 2^32 - 1. */
const MAX_NZ_NUMBER = 4_294_967_295;
const RANGE = /^(\d+|\*)(?::(\d+|\*))?$/;

/** The set, or null when the text is not a sequence set (a 0, an empty element, anything else). */
export function parseSequenceSet(text: string): SequenceSet | null {
  const ranges: SequenceRange[] = [];
  for (const element of text.split(',')) {
    const m = RANGE.exec(element);
    if (!m) return null;
    const from = bound(m[1]!);
    const to = m[2] === undefined ? from : bound(m[2]);
    if (from === undefined || to === undefined) return null;
    ranges.push({ from, to });
  }
  return ranges;
}

function bound(text: string): SequenceBound | undefined {
  if (text === '*') return null;
  // Leading zeros are not nz-numbers; 0 is not one either.
  if (!/^[1-9]\d{0,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n > MAX_NZ_NUMBER ? undefined : n;
}

/**
 * A test of numbers against the set, with `*` standing for `largest` (null when there is nothing to
 * number, an empty view: then `*` matches nothing, and neither does a range that reaches it).
 */
export function sequenceMatcher(set: SequenceSet, largest: number | null): (n: number) => boolean {
  const ranges: [number, number][] = [];
  for (const { from, to } of set) {
    if ((from === null || to === null) && largest === null) continue;
    const a = from ?? largest!;
    const b = to ?? largest!;
    ranges.push([Math.min(a, b), Math.max(a, b)]);
  }
  return (n) => ranges.some(([low, high]) => n >= low && n <= high);
}
