/**
 * iCalendar (RFC 5545) invites, read far enough to show one as an event: the calendar's METHOD
 * and each VEVENT's summary, start and end (with their time zone), location, organiser and
 * attendees. Hand-written and small on purpose: content lines are unfolded, parameters (quoted or
 * not) and escaped text are decoded, and everything else (recurrence, alarms, VTIMEZONE rules) is
 * skipped. Pure: no DOM, so the unit tests run it in Node.
 */

/** A DATE-TIME or DATE value as written: times stay wall-clock times of their TZID, not converted. */
export type CalendarTime =
  /** `DTSTART:20240411T080000Z`: an instant. */
  | { readonly kind: 'utc'; readonly iso: string }
  /** `DTSTART;TZID=Europe/Tallinn:20240411T110000`: a wall-clock time in a named zone (IANA or Outlook's names). */
  | { readonly kind: 'zoned'; readonly local: string; readonly tzid: string }
  /** `DTSTART:20240411T110000`: the same wall-clock time wherever the reader is. */
  | { readonly kind: 'floating'; readonly local: string }
  /** `DTSTART;VALUE=DATE:20240411`: a whole day. */
  | { readonly kind: 'date'; readonly date: string };

export interface CalendarPerson {
  readonly name: string | null;
  /** The address of a `mailto:` value; otherwise the value as written. */
  readonly address: string;
  /** PARTSTAT (ACCEPTED, NEEDS-ACTION, DECLINED, TENTATIVE…), for attendees. */
  readonly status: string | null;
  /** ROLE (REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR…), for attendees. */
  readonly role: string | null;
}

export interface CalendarEvent {
  readonly uid: string | null;
  readonly summary: string | null;
  readonly start: CalendarTime | null;
  readonly end: CalendarTime | null;
  /** DURATION as written (`PT1H`), for events that give one instead of DTEND. */
  readonly duration: string | null;
  readonly location: string | null;
  readonly description: string | null;
  /** STATUS: CONFIRMED, TENTATIVE or CANCELLED. */
  readonly status: string | null;
  readonly organizer: CalendarPerson | null;
  readonly attendees: readonly CalendarPerson[];
}

export interface CalendarInvite {
  /** METHOD of the VCALENDAR (REQUEST, CANCEL, REPLY, PUBLISH…), upper-case; null without one. */
  readonly method: string | null;
  readonly events: readonly CalendarEvent[];
}

interface ContentLine {
  readonly name: string;
  readonly params: ReadonlyMap<string, string>;
  readonly value: string;
}

/** Lines folded by a CRLF (or a bare LF, as some senders write) followed by one space or tab are one line. */
export function unfoldLines(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split(/\r\n|\n|\r/)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && lines.length > 0) lines[lines.length - 1] += line.slice(1);
    else if (line !== '') lines.push(line);
  }
  return lines;
}

/** `NAME;PARAM=value;PARAM="quoted; value":the value`; null for a line that is not one. */
export function parseContentLine(line: string): ContentLine | null {
  const nameMatch = /^[A-Za-z0-9-]+/.exec(line);
  if (!nameMatch) return null;
  const params = new Map<string, string>();
  let at = nameMatch[0].length;
  while (line[at] === ';') {
    const eq = line.indexOf('=', at);
    if (eq < 0) return null;
    const key = line.slice(at + 1, eq).toUpperCase();
    at = eq + 1;
    const values: string[] = [];
    for (;;) {
      if (line[at] === '"') {
        const close = line.indexOf('"', at + 1);
        if (close < 0) return null;
        values.push(line.slice(at + 1, close));
        at = close + 1;
      } else {
        const rest = /^[^;:,]*/.exec(line.slice(at))![0];
        values.push(rest);
        at += rest.length;
      }
      if (line[at] !== ',') break;
      at += 1;
    }
    params.set(key, values.join(','));
  }
  if (line[at] !== ':') return null;
  return { name: nameMatch[0].toUpperCase(), params, value: line.slice(at + 1) };
}

/** TEXT values escape backslash, semicolon, comma and newline (RFC 5545 3.3.11). */
export function unescapeText(value: string): string {
  return value.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

const DATE = /^(\d{4})(\d{2})(\d{2})$/;
const DATE_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/;

/** A DTSTART/DTEND value with its parameters; null when it is not a date or date-time. */
export function parseCalendarTime(value: string, params: ReadonlyMap<string, string>): CalendarTime | null {
  const text = value.trim();
  const date = DATE.exec(text);
  if (date) return { kind: 'date', date: `${date[1]}-${date[2]}-${date[3]}` };
  const dateTime = DATE_TIME.exec(text);
  if (!dateTime) return null;
  const [, y, mo, d, h, mi, s, utc] = dateTime;
  const local = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
  if (utc) return { kind: 'utc', iso: `${local}Z` };
  // Some writers quote the zone or prefix it with a slash (a "globally unique" TZID).
  const tzid = params.get('TZID')?.replace(/^\//, '').trim();
  return tzid ? { kind: 'zoned', local, tzid } : { kind: 'floating', local };
}

function person(line: ContentLine): CalendarPerson {
  const value = line.value.trim();
  const address = /^mailto:/i.test(value) ? value.slice('mailto:'.length) : value;
  const name = line.params.get('CN')?.trim();
  return {
    name: name ? name : null,
    address,
    status: line.params.get('PARTSTAT')?.toUpperCase() ?? null,
    role: line.params.get('ROLE')?.toUpperCase() ?? null,
  };
}

/** Builds one VEVENT from its own lines (those of nested components such as VALARM are not passed in). */
function toEvent(lines: readonly ContentLine[]): CalendarEvent {
  const first = (name: string) => lines.find((l) => l.name === name);
  const text = (name: string) => {
    const line = first(name);
    const value = line ? unescapeText(line.value).trim() : '';
    return value === '' ? null : value;
  };
  const time = (name: string) => {
    const line = first(name);
    return line ? parseCalendarTime(line.value, line.params) : null;
  };
  const organizer = first('ORGANIZER');
  return {
    uid: text('UID'),
    summary: text('SUMMARY'),
    start: time('DTSTART'),
    end: time('DTEND'),
    duration: text('DURATION'),
    location: text('LOCATION'),
    description: text('DESCRIPTION'),
    status: text('STATUS')?.toUpperCase() ?? null,
    organizer: organizer ? person(organizer) : null,
    attendees: lines.filter((l) => l.name === 'ATTENDEE').map(person),
  };
}

/**
 * The invite in an iCalendar text; null when the text holds no VCALENDAR. Lines that are not
 * content lines are skipped, as is anything of an unclosed component.
 */
export function parseCalendar(text: string): CalendarInvite | null {
  let method: string | null = null;
  let sawCalendar = false;
  const events: CalendarEvent[] = [];
  // The open components, innermost last; a VEVENT collects only its own lines.
  const stack: { name: string; lines: ContentLine[] }[] = [];
  for (const raw of unfoldLines(text)) {
    const line = parseContentLine(raw);
    if (!line) continue;
    if (line.name === 'BEGIN') {
      const name = line.value.trim().toUpperCase();
      if (name === 'VCALENDAR') sawCalendar = true;
      stack.push({ name, lines: [] });
      continue;
    }
    if (line.name === 'END') {
      const name = line.value.trim().toUpperCase();
      const index = stack.map((c) => c.name).lastIndexOf(name);
      if (index < 0) continue;
      const [closed] = stack.splice(index);
      if (closed!.name === 'VEVENT') events.push(toEvent(closed!.lines));
      continue;
    }
    const current = stack[stack.length - 1];
    if (!current) continue;
    if (current.name === 'VCALENDAR' && line.name === 'METHOD') method = line.value.trim().toUpperCase() || null;
    current.lines.push(line);
  }
  return sawCalendar ? { method, events } : null;
}

/** Whether an attachment is an iCalendar invite, by its type or (for senders that say octet-stream) its name. */
export function isCalendarPart(contentType: string, filename: string | null): boolean {
  return /^(text\/calendar|application\/ics)\b/i.test(contentType) || /\.(ics|ical|ifb|vcs)$/i.test(filename ?? '');
}

/** What METHOD asks of the reader, in words. */
export function methodLabel(method: string | null): string | null {
  switch (method) {
    case null:
      return null;
    case 'REQUEST':
      return 'Invitation (REQUEST)';
    case 'CANCEL':
      return 'Cancelled (CANCEL)';
    case 'REPLY':
      return 'Reply (REPLY)';
    case 'PUBLISH':
      return 'Published event (PUBLISH)';
    case 'COUNTER':
      return 'Proposed new time (COUNTER)';
    default:
      return method;
  }
}

const WEEKDAY_AND_DATE: Intl.DateTimeFormatOptions = { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' };
const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

/**
 * A time as the invite means it: a zoned or floating time is shown as the wall-clock time it
 * names, with its zone's name (never converted, so a zone the browser does not know, such as
 * Outlook's "W. Europe Standard Time", is still right); a UTC instant is shown in `viewerZone`
 * (the reader's zone by default) with that zone's name.
 */
export function formatCalendarTime(time: CalendarTime, locale = 'en-GB', viewerZone?: string): string {
  switch (time.kind) {
    case 'date': {
      const at = new Date(`${time.date}T00:00:00Z`);
      return `${at.toLocaleDateString(locale, { ...WEEKDAY_AND_DATE, timeZone: 'UTC' })} (all day)`;
    }
    case 'zoned':
    case 'floating': {
      // The wall-clock fields, formatted in UTC so that no zone shifts them.
      const at = new Date(`${time.local}Z`);
      const wall = `${at.toLocaleDateString(locale, { ...WEEKDAY_AND_DATE, timeZone: 'UTC' })}, ${at.toLocaleTimeString(locale, { ...TIME, timeZone: 'UTC' })}`;
      return time.kind === 'zoned' ? `${wall} (${time.tzid})` : `${wall} (floating: the reader's own time)`;
    }
    case 'utc': {
      const at = new Date(time.iso);
      const zone = viewerZone ? { timeZone: viewerZone } : {};
      const wall = `${at.toLocaleDateString(locale, { ...WEEKDAY_AND_DATE, ...zone })}, ${at.toLocaleTimeString(locale, { ...TIME, ...zone })}`;
      const zoneName = viewerZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
      return `${wall} (${zoneName})`;
    }
  }
}
