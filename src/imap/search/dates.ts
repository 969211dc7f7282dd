/**
 * Dates as SEARCH compares them: whole days, "disregarding time and timezone" (RFC 3501 6.4.4).
 * A day is a number of days since 1970-01-01. Pure.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_MS = 86_400_000;

/** IMAP's date (`1-Feb-2024`, `01-Feb-2024`), case-insensitive → its day, or null when it is not one. */
export function parseImapDate(text: string): number | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!m) return null;
  return calendarDay(Number(m[3]), MONTHS.indexOf(m[2]!.toLowerCase()), Number(m[1]));
}

/**
 * The day of an instant in UTC: INTERNALDATE's date for SINCE, ON and BEFORE. Kotak has no
 * timezone of its users to read it in, and a server's local zone would make an answer depend on
 * where Kotak runs (a container is in UTC, a laptop is not); UTC gives every client the same answer.
 */
export function utcDay(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS);
}

/**
 * The date a Date header (RFC 5322 3.3) was written on, as written: `Mon, 7 Dec 2026 23:30 -0800`
 * is 7 Dec whatever the zone, as the sender saw it (that is what "disregarding timezone" means for
 * SENTON). Two-digit years (obsolete syntax) are read as RFC 5322 4.3 says. Null when unreadable.
 */
export function writtenDay(dateHeader: string): number | null {
  const m = /^\s*(?:[A-Za-z]{3}\s*,\s*)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})(?:\s|$)/.exec(dateHeader);
  if (!m) return null;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  return calendarDay(year, MONTHS.indexOf(m[2]!.toLowerCase()), Number(m[1]));
}

function calendarDay(year: number, month: number, day: number): number | null {
  if (month < 0 || day < 1) return null;
  const ms = Date.UTC(year, month, day);
  // Date.UTC rolls 31-Feb over into March: such a date is refused, not moved.
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month || check.getUTCDate() !== day) return null;
  return ms / DAY_MS;
}

export function dayMatches(op: 'before' | 'on' | 'since', day: number | null, wanted: number): boolean {
  if (day === null) return false;
  return op === 'before' ? day < wanted : op === 'on' ? day === wanted : day >= wanted;
}
