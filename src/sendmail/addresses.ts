/**
 * Address lists (command-line recipients, To/Cc/Bcc values, -f) → envelope addresses. Pure.
 *
 * nodemailer's addressparser reads the RFC 5322 forms: "Name <addr>", groups ("Team: a@x, b@y;"),
 * comments, quoted names with commas; RFC 2047 encoded display names are only names, so they are
 * never decoded here (the envelope needs addresses). A bare local part ("root"), which sendmail
 * completes with the local domain, gets "@<local domain>".
 */
import addressparser from 'nodemailer/lib/addressparser/index.js';

export interface ParsedAddressList {
  readonly addresses: readonly string[];
  /** Entries that are not usable as an envelope address, as written. */
  readonly malformed: readonly string[];
}

/** local@domain: a dot-atom or quoted local part (UTF-8 allowed, RFC 6531), a domain or [literal]. */
const ADDRESS = /^(?:"(?:[^"\\\r\n]|\\.)*"|[^\s"(),:;<>@[\\\]]+)@(?:[^\s"(),:;<>@[\\\]]+|\[[^[\]\\\s]+\])$/u;
/** A bare local part: one atom, no "@". */
const LOCAL_PART = /^[^\s"(),:;<>@[\\\]]+$/u;

export function parseAddressList(text: string, localDomain: string): ParsedAddressList {
  const addresses: string[] = [];
  const malformed: string[] = [];
  const visit = (entries: ReturnType<typeof addressparser>): void => {
    for (const entry of entries) {
      if ('group' in entry && entry.group) {
        visit(entry.group);
        continue;
      }
      const address = completeAddress(entry.address || (entry.name && !/\s/.test(entry.name) ? entry.name : ''), localDomain);
      if (address) addresses.push(address);
      else malformed.push(entry.address || entry.name || text);
    }
  };
  visit(addressparser(text));
  return { addresses, malformed };
}

/** The address, completed with the local domain when it is a bare local part; null when unusable. */
export function completeAddress(address: string, localDomain: string): string | null {
  const trimmed = address.trim();
  if (ADDRESS.test(trimmed)) return trimmed;
  if (LOCAL_PART.test(trimmed)) return `${trimmed}@${localDomain}`;
  return null;
}

/**
 * The envelope sender from -f / -r: '' for the null sender ("", "<>"), angle brackets and a
 * display name allowed ("Name <a@x>"); null when unusable.
 */
export function parseSenderArgument(value: string, localDomain: string): string | null {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === '<>') return '';
  const bracketed = /<([^<>]*)>\s*$/.exec(trimmed);
  const address = bracketed ? bracketed[1]! : trimmed;
  return address.trim() === '' ? '' : completeAddress(address, localDomain);
}

/** Without repeats (compared without regard to case), in first-seen order. */
export function uniqueAddresses(addresses: Iterable<string>): string[] {
  const seen = new Map<string, string>();
  for (const address of addresses) if (!seen.has(address.toLowerCase())) seen.set(address.toLowerCase(), address);
  return [...seen.values()];
}
