/**
 * RFC 5322 forms the bulk-sender rules ask for: a msg-id (3.6.4) and a date-time (3.3), each in
 * exactly one field. Obsolete forms a receiver must still accept (a zone name such as GMT, a
 * trailing comment) are accepted; a date that does not exist (31 Feb, a wrong weekday) is not.
 */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const DOT_ATOM = `${ATEXT}(?:\\.${ATEXT})*`;
const MSG_ID = new RegExp(`^<${DOT_ATOM}@(?:${DOT_ATOM}|\\[[\\x21-\\x5a\\x5e-\\x7e]*\\])>$`);

export function isMsgId(value: string): boolean {
  return MSG_ID.test(value.trim());
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** RFC 5322 4.3 obs-zone names; military single letters are not accepted (their meaning was never reliable). */
const ZONE_NAMES = new Set(['UT', 'GMT', 'EST', 'EDT', 'CST', 'CDT', 'MST', 'MDT', 'PST', 'PDT']);
const DATE_TIME = /^(?:([A-Za-z]{3})\s*,\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+([+-]\d{4}|[A-Za-z]{2,3})$/;

/** A reason the value is not an RFC 5322 date-time, or null when it is one. */
export function dateProblem(value: string): string | null {
  const text = value.replace(/\s*\([^()]*\)\s*$/, '').trim();
  const m = DATE_TIME.exec(text);
  if (!m) return `"${value}" is not an RFC 5322 date-time (e.g. "Mon, 7 Dec 2026 09:30:00 +0000")`;
  const [, day, dd, mon, yyyy, hh, mi, ss, zone] = m;
  const month = MONTHS.findIndex((name) => name.toLowerCase() === mon!.toLowerCase());
  if (month === -1) return `"${mon}" is not a month name`;
  if (!/^[+-]\d{4}$/.test(zone!) && !ZONE_NAMES.has(zone!.toUpperCase())) return `"${zone}" is not a time zone`;
  if (Number(hh) > 23 || Number(mi) > 59 || Number(ss ?? 0) > 60) return `${hh}:${mi}${ss ? `:${ss}` : ''} is not a time of day`;
  const date = new Date(Date.UTC(Number(yyyy), month, Number(dd)));
  if (date.getUTCMonth() !== month || Number(dd) < 1) return `${dd} ${mon} ${yyyy} is not a day of the calendar`;
  if (day !== undefined && DAYS[date.getUTCDay()]!.toLowerCase() !== day.toLowerCase()) return `${dd} ${mon} ${yyyy} was a ${DAYS[date.getUTCDay()]}, not a ${day}`;
  return null;
}
