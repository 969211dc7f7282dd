/**
 * The inbox's iCalendar reader (web/src/calendar.ts) on the shapes real calendars send: Google's
 * invite from the corpus (test/fixtures/corpus/postalmime--calendar-event.eml), and an Outlook
 * cancellation and an Apple Calendar invite written for this test after the shapes those
 * programs produce (Windows zone names, quoted parameters holding `:` `;` `,`, folding by tab,
 * all-day dates, UTC times).
 */
import { readFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import {
  formatCalendarTime, isCalendarPart, parseCalendar, parseCalendarTime, parseContentLine, unescapeText, unfoldLines,
} from '../../web/src/calendar.js';

const OUTLOOK_CANCEL = [
  'BEGIN:VCALENDAR',
  'METHOD:CANCEL',
  'PRODID:Microsoft Exchange Server 2010',
  'VERSION:2.0',
  'BEGIN:VTIMEZONE',
  'TZID:W. Europe Standard Time',
  'BEGIN:STANDARD',
  'DTSTART:16010101T030000',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10',
  'END:STANDARD',
  'END:VTIMEZONE',
  'BEGIN:VEVENT',
  'ORGANIZER;CN="Doe, Jane":mailto:jane.doe@contoso.example',
  'ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Max Mustermann:mailto:max@',
  ' contoso.example',
  'ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN="Room 4.01 (Berlin)":mailto:',
  ' room401@contoso.example',
  'DESCRIPTION;LANGUAGE=en-US:The review moves to next week\\; agenda to follow\\,',
  '  sorry.\\n\\nJane',
  'UID:040000008200E00074C5B7101A82E00800000000A0F5D1E9B5D0DA01000000000000000010000000',
  'SUMMARY;LANGUAGE=en-US:Canceled: Quarterly review',
  'DTSTART;TZID=W. Europe Standard Time:20241114T140000',
  'DTEND;TZID=W. Europe Standard Time:20241114T153000',
  'CLASS:PUBLIC',
  'PRIORITY:1',
  'DTSTAMP:20241107T091500Z',
  'TRANSP:TRANSPARENT',
  'STATUS:CANCELLED',
  'SEQUENCE:2',
  'LOCATION;LANGUAGE=en-US:Room 4.01 (Berlin)',
  'X-MICROSOFT-CDO-APPT-SEQUENCE:2',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

const APPLE_INVITE = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Apple Inc.//macOS 14.5//EN',
  'CALSCALE:GREGORIAN',
  'METHOD:REQUEST',
  'BEGIN:VEVENT',
  'TRANSP:TRANSPARENT',
  'DTSTART;VALUE=DATE:20250301',
  'DTEND;VALUE=DATE:20250303',
  'UID:6C4AC3C8-2F1F-4E7A-9A64-5B1A3F0C9D11',
  'DTSTAMP:20250210T181203Z',
  'X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS="Karl-Marx-Allee 1, 10178 Berlin";X-TITLE="Caf',
  '\té Moskau":geo:52.518611,13.408333',
  'LOCATION:Café Moskau\\nKarl-Marx-Allee 1\\, 10178 Berlin',
  'SUMMARY:Team offsite',
  'ORGANIZER;CN=Kim Lee;EMAIL=kim@icloud.example:mailto:kim@icloud.example',
  'ATTENDEE;CN=Kim Lee;CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:kim@icloud.example',
  'ATTENDEE;CN=Sam;CUTYPE=INDIVIDUAL;PARTSTAT=TENTATIVE:mailto:sam@example.test',
  'SEQUENCE:0',
  'BEGIN:VALARM',
  'TRIGGER:-PT15M',
  'ACTION:DISPLAY',
  'DESCRIPTION:Reminder',
  'SUMMARY:Alarm summary that is not the event',
  'END:VALARM',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:second@icloud.example',
  'SUMMARY:Dinner',
  'DTSTART:20250301T180000Z',
  'DURATION:PT2H',
  'END:VEVENT',
  'END:VCALENDAR',
].join('\n');

async function googleInvite(): Promise<string> {
  const mail = await simpleParser(readFileSync(new URL('../fixtures/corpus/postalmime--calendar-event.eml', import.meta.url)));
  const part = mail.attachments.find((a) => a.contentType === 'text/calendar');
  if (!part) throw new Error('the corpus message has no text/calendar part');
  return part.content.toString('utf8');
}

describe('content lines', () => {
  it('unfolds a CRLF, LF or tab continuation, dropping the one whitespace character', () => {
    expect(unfoldLines('A:one\r\n two\r\nB:x\n\tyz\n\nC:')).toEqual(['A:onetwo', 'B:xyz', 'C:']);
  });

  it('reads parameters, quoted ones holding : ; and , included, and keeps the value whole after the first unquoted colon', () => {
    const line = parseContentLine('ATTENDEE;CN="Doe, Jane: PM; EU";ROLE=CHAIR;DELEGATED-TO="mailto:a@x.test","mailto:b@x.test":mailto:jane@x.test');
    expect(line?.name).toBe('ATTENDEE');
    expect(line?.params.get('CN')).toBe('Doe, Jane: PM; EU');
    expect(line?.params.get('ROLE')).toBe('CHAIR');
    expect(line?.params.get('DELEGATED-TO')).toBe('mailto:a@x.test,mailto:b@x.test');
    expect(line?.value).toBe('mailto:jane@x.test');
    expect(parseContentLine('not a content line')).toBeNull();
    expect(parseContentLine('X;CN="unterminated:value')).toBeNull();
  });

  it('unescapes TEXT values', () => {
    expect(unescapeText('a\\, b\\; c\\nd\\Ne\\\\f')).toBe('a, b; c\nd\ne\\f');
  });

  it('reads UTC, zoned, floating and date-only values', () => {
    const none = new Map<string, string>();
    expect(parseCalendarTime('20240411T061944Z', none)).toEqual({ kind: 'utc', iso: '2024-04-11T06:19:44Z' });
    expect(parseCalendarTime('20240411T110000', new Map([['TZID', 'Europe/Tallinn']]))).toEqual({ kind: 'zoned', local: '2024-04-11T11:00:00', tzid: 'Europe/Tallinn' });
    expect(parseCalendarTime('20240411T110000', new Map([['TZID', '/Europe/Tallinn']]))).toMatchObject({ tzid: 'Europe/Tallinn' });
    expect(parseCalendarTime('20240411T110000', none)).toEqual({ kind: 'floating', local: '2024-04-11T11:00:00' });
    expect(parseCalendarTime('20250301', new Map([['VALUE', 'DATE']]))).toEqual({ kind: 'date', date: '2025-03-01' });
    expect(parseCalendarTime('tomorrow', none)).toBeNull();
  });
});

describe('invites', () => {
  it("reads Google Calendar's invitation (corpus): REQUEST, zoned times, organiser, attendees, the VALARM's lines kept out", async () => {
    const invite = parseCalendar(await googleInvite());
    expect(invite?.method).toBe('REQUEST');
    expect(invite?.events).toHaveLength(1);
    const event = invite!.events[0]!;
    expect(event.summary).toBe('Test event ⏰');
    expect(event.start).toEqual({ kind: 'zoned', local: '2024-04-11T11:00:00', tzid: 'Europe/Tallinn' });
    expect(event.end).toEqual({ kind: 'zoned', local: '2024-04-11T12:00:00', tzid: 'Europe/Tallinn' });
    expect(event.location).toBeNull();
    expect(event.status).toBe('CONFIRMED');
    expect(event.organizer).toEqual({ name: 'Andris Reinman', address: 'andris@postalsys.com', status: null, role: null });
    expect(event.attendees).toEqual([
      { name: 'Andris Reinman', address: 'andris@postalsys.com', status: 'ACCEPTED', role: 'REQ-PARTICIPANT' },
      // Folded inside a parameter value ("RSVP=\r\n TRUE").
      { name: 'andris@ethereal.email', address: 'andris@ethereal.email', status: 'NEEDS-ACTION', role: 'REQ-PARTICIPANT' },
    ]);
    expect(event.description).toContain('Join with Google Meet: https://meet.google.com/yew-afgi-ynf\nOr dial');
  });

  it("reads Outlook's cancellation: CANCEL, Windows zone names, quoted CN with a comma, values folded mid-address", () => {
    const invite = parseCalendar(OUTLOOK_CANCEL);
    expect(invite?.method).toBe('CANCEL');
    const event = invite!.events[0]!;
    expect(event.summary).toBe('Canceled: Quarterly review');
    expect(event.status).toBe('CANCELLED');
    expect(event.start).toEqual({ kind: 'zoned', local: '2024-11-14T14:00:00', tzid: 'W. Europe Standard Time' });
    expect(event.end).toEqual({ kind: 'zoned', local: '2024-11-14T15:30:00', tzid: 'W. Europe Standard Time' });
    expect(event.organizer).toMatchObject({ name: 'Doe, Jane', address: 'jane.doe@contoso.example' });
    expect(event.attendees.map((a) => [a.name, a.address, a.role])).toEqual([
      ['Max Mustermann', 'max@contoso.example', 'REQ-PARTICIPANT'],
      ['Room 4.01 (Berlin)', 'room401@contoso.example', 'OPT-PARTICIPANT'],
    ]);
    expect(event.description).toBe('The review moves to next week; agenda to follow, sorry.\n\nJane');
    expect(event.location).toBe('Room 4.01 (Berlin)');
  });

  it("reads Apple Calendar's invite: LF line ends, all-day dates, a second event with a UTC start and a DURATION", () => {
    const invite = parseCalendar(APPLE_INVITE);
    expect(invite?.method).toBe('REQUEST');
    expect(invite?.events.map((e) => e.summary)).toEqual(['Team offsite', 'Dinner']);
    const [offsite, dinner] = invite!.events;
    expect(offsite!.start).toEqual({ kind: 'date', date: '2025-03-01' });
    expect(offsite!.end).toEqual({ kind: 'date', date: '2025-03-03' });
    expect(offsite!.location).toBe('Café Moskau\nKarl-Marx-Allee 1, 10178 Berlin');
    expect(offsite!.attendees.map((a) => a.status)).toEqual(['ACCEPTED', 'TENTATIVE']);
    expect(dinner!.start).toEqual({ kind: 'utc', iso: '2025-03-01T18:00:00Z' });
    expect(dinner!.end).toBeNull();
    expect(dinner!.duration).toBe('PT2H');
    expect(dinner!.organizer).toBeNull();
  });

  it('answers null for text that holds no VCALENDAR, and skips an unclosed event', () => {
    expect(parseCalendar('hello\r\nworld')).toBeNull();
    expect(parseCalendar('BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x')).toEqual({ method: null, events: [] });
  });
});

describe('formatting and detection', () => {
  it('shows zoned and floating times as the wall-clock time they name, a UTC time in the given viewer zone, a date as all day', () => {
    expect(formatCalendarTime({ kind: 'zoned', local: '2024-04-11T11:00:00', tzid: 'Europe/Tallinn' })).toBe('Thu, 11 Apr 2024, 11:00 (Europe/Tallinn)');
    expect(formatCalendarTime({ kind: 'floating', local: '2024-04-11T11:00:00' })).toBe("Thu, 11 Apr 2024, 11:00 (floating: the reader's own time)");
    expect(formatCalendarTime({ kind: 'utc', iso: '2025-03-01T18:00:00Z' }, 'en-GB', 'Asia/Tokyo')).toBe('Sun, 2 Mar 2025, 03:00 (Asia/Tokyo)');
    expect(formatCalendarTime({ kind: 'date', date: '2025-03-01' })).toBe('Sat, 1 Mar 2025 (all day)');
  });

  it('knows an invite by its type or its file name', () => {
    expect(isCalendarPart('text/calendar', null)).toBe(true);
    expect(isCalendarPart('application/ics', 'invite.ics')).toBe(true);
    expect(isCalendarPart('application/octet-stream', 'Meeting.ICS')).toBe(true);
    expect(isCalendarPart('text/plain', 'notes.txt')).toBe(false);
  });
});
