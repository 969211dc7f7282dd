/**
 * The From, Date and Message-ID fields sendmail and Postfix add to a locally submitted message
 * that lacks them (RFC 5322 requires From and Date). Pure: the clock and the random id are inputs.
 *
 * They are put in front of the existing fields, so the submitted bytes stay one untouched run
 * after them. A message with no header section at all gets an empty line after them too.
 */
import libmime from 'libmime';
import { fieldsNamed, type HeaderSection } from './header-section.js';

export interface MissingHeaderInputs {
  /** The envelope sender ('' for the null sender: the From then names the local user). */
  readonly sender: string;
  /** user@hostname, for a From when the envelope sender is null. */
  readonly localUser: string;
  /** -F */
  readonly fullName: string | null;
  /** For Message-ID's right-hand side. */
  readonly hostname: string;
  readonly now: Date;
  /** Unique per message, e.g. random hex. */
  readonly uniqueId: string;
}

/** The lines to put in front of the message (CRLF-terminated), '' when nothing is missing. */
export function missingHeaders(section: HeaderSection, inputs: MissingHeaderInputs): string {
  const lines: string[] = [];
  if (fieldsNamed(section, 'From', 'Resent-From').length === 0) lines.push(`From: ${mailbox(inputs.fullName, inputs.sender || inputs.localUser)}`);
  if (fieldsNamed(section, 'Date', 'Resent-Date').length === 0) lines.push(`Date: ${rfc5322Date(inputs.now)}`);
  if (fieldsNamed(section, 'Message-ID', 'Resent-Message-ID').length === 0) lines.push(`Message-ID: <${inputs.uniqueId}@${inputs.hostname}>`);
  if (lines.length === 0) return '';
  const headerLess = section.fields.length === 0 && !section.hasSeparator;
  return lines.map((l) => `${l}\r\n`).join('') + (headerLess ? '\r\n' : '');
}

/** "Full Name <addr>": quoted when it has specials, RFC 2047-encoded when it is not ASCII. */
function mailbox(fullName: string | null, address: string): string {
  const name = fullName?.replace(/[\r\n]+/g, ' ').trim();
  if (!name) return address;
  if (/[^\x20-\x7e]/.test(name)) return `${libmime.encodeWord(name, 'Q')} <${address}>`;
  if (/[()<>[\]:;@\\,."]/.test(name)) return `"${name.replace(/["\\]/g, '\\$&')}" <${address}>`;
  return `${name} <${address}>`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Tue, 1 Jul 2003 10:52:37 +0200", in local time with its offset, as an MTA writes it. */
export function rfc5322Date(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const zone = `${offset >= 0 ? '+' : '-'}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`;
  return (
    `${DAYS[date.getDay()]}, ${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone}`
  );
}
