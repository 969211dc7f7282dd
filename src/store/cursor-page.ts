/**
 * A page of a list read by cursor, as both stores cut it (store/sqlite.ts, store/pg/message-store.ts):
 * the rows read one past the limit say whether there is more in the reading direction; the other
 * direction is asked of the store (`exists`). Rows read upwards (a newer page) are turned back to
 * newest first.
 */
export interface CursorPage<R> {
  readonly page: R[];
  readonly nextCursor: string | null;
  readonly prevCursor: string | null;
}

export async function cursorPage<R extends { readonly seq: number }>(
  rows: R[],
  { limit, newer, older, start, exists }: {
    readonly limit: number;
    /** Read upwards from an `after` cursor. */
    readonly newer: boolean;
    /** Read downwards from a `cursor`. */
    readonly older: boolean;
    readonly start: number;
    /** Whether a matching row lies below ('<') or above ('>') this seq. */
    readonly exists: (comparison: '<' | '>', seq: number) => Promise<boolean>;
  },
): Promise<CursorPage<R>> {
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (newer) page.reverse();
  const first = page[0];
  const last = page[page.length - 1];
  if (newer) {
    return {
      page,
      prevCursor: more && first ? String(first.seq) : null,
      nextCursor: last && (await exists('<', last.seq)) ? String(last.seq) : null,
    };
  }
  return {
    page,
    nextCursor: more && last ? String(last.seq) : null,
    prevCursor: (older || start > 0) && first && (await exists('>', first.seq)) ? String(first.seq) : null,
  };
}
