/**
 * A field value is looked up in the trigram index as the phrase of all its trigrams, and FTS5
 * walks every one of their entry lists to line them up: `to:user123@` at a million messages took
 * 37 ms for its 500 matches, nearly all of it in `use` and `ser`, which every address holds, where
 * `123@` alone took 0.8 ms. Any part of the value of 3+ characters finds a superset of what the
 * whole finds, and the LIKE on the row (search-sql.ts) still decides each one, so the lookup may
 * use the value's most selective part. Which part that is is probed in the index itself: trigrams'
 * entries are counted up to a cap, likeliest-rare first, and the rarest trigram with its rarer
 * neighbour (4 characters) is looked up instead of the whole value.
 */
import type { Connection } from './sqlite-driver.js';

/**
 * A trigram with at least this many entries is common: counting stops there (~1 ms at a million
 * messages; `37@` of `user37@` has 10,000 there, `use` a million).
 */
export const PROBE_CAP = 10_000;
/** At most this many probes for a value, and none after this many common ones in a row: a few ms at most. */
const MAX_PROBES = 8;
const GIVE_UP_AFTER_COMMON = 3;
/** A trigram this rare is selective enough: probing stops. */
const RARE_ENOUGH = 100;

export interface ProbedValue {
  /** The value as the index sees it (lower-cased). */
  readonly value: string;
  /** The MATCH expression that looks `part` up in the term's columns. */
  readonly match: (part: string) => string;
}

/**
 * Trigram positions in the order they are probed: those with digits or punctuation first (in
 * addresses and subjects those are the rare ones: `37@` of `user37@`), then the rest; ties from the
 * end of the value (a shared start such as `user` or `sender` comes first).
 */
function probeOrder(chars: readonly string[]): number[] {
  const unusual = chars.map((c) => (/\p{L}/u.test(c) ? 0 : 1));
  const score = (at: number) => unusual[at]! + unusual[at + 1]! + unusual[at + 2]!;
  return Array.from({ length: chars.length - 2 }, (_, at) => at).sort((a, b) => score(b) - score(a) || b - a);
}

/**
 * The part of the value to look up: 4 characters around its rarest trigram, or null to look the
 * whole value up (4 characters or fewer, or no trigram below the cap).
 */
export async function selectivePart(reader: Connection, term: ProbedValue, cap = PROBE_CAP): Promise<string | null> {
  const chars = [...term.value];
  if (chars.length <= 4) return null;
  const trigram = (at: number) => chars.slice(at, at + 3).join('');
  const counts = new Map<number, number>();
  let commonInARow = 0;
  for (const at of probeOrder(chars).slice(0, MAX_PROBES)) {
    const row = await reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM (SELECT 1 FROM message_trigram WHERE message_trigram MATCH ? LIMIT ?)', [
      term.match(trigram(at)),
      cap,
    ]);
    const n = row?.n ?? 0;
    counts.set(at, n);
    if (n < RARE_ENOUGH) break;
    // The likeliest ones came first: past a few common ones in a row, the rest are too.
    commonInARow = n >= cap ? commonInARow + 1 : 0;
    if (commonInARow >= GIVE_UP_AFTER_COMMON) break;
  }
  let rarest = -1;
  for (const [at, n] of counts) if (n < cap && (rarest < 0 || n < counts.get(rarest)!)) rarest = at;
  if (rarest < 0) return null;
  // With its neighbour on the side that is rarer (or was not probed: unknown counts as common).
  const before = counts.get(rarest - 1) ?? (rarest > 0 ? cap : Infinity);
  const after = counts.get(rarest + 1) ?? (rarest + 3 < chars.length ? cap : Infinity);
  const from = after <= before ? rarest : rarest - 1;
  return chars.slice(from, from + 4).join('');
}
