/**
 * Address lists in the plain shape most application mail uses (`bench@kotak.test`,
 * `Kotak Bench <bench@kotak.test>`, `"Doe, Jane" <jane@example.com>`, comma-separated), read with
 * one sticky regular expression. nodemailer's addressparser tokenizes character by character and
 * took ~7 µs per address, the largest single cost of parsing a small message on the SMTP thread.
 *
 * Anything else (comments, groups, escapes, routes, odd spacing, empty items, 8-bit) returns null
 * and goes to addressparser. test/unit/header-fast-paths.test.ts requires the same result as
 * addressparser for every input this accepts, on generated and hand-picked lists.
 */
import type { Address } from './types.js';

/** RFC 5322 atext and ".", so that "John Q. Public" and encoded words (=?utf-8?Q?...?=) pass. */
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+";
const NAME = `${ATOM}(?: ${ATOM})*`;
/** A quoted name without escapes, quotes or blanks at either end (addressparser trims them). */
const QUOTED_NAME = '[^"\\\\\\s](?:[^"\\\\\\r\\n]*[^"\\\\\\s])?';
const ADDRESS = '[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*';
/** One item and what ends it: a comma (more follow) or the end of the value. */
const ITEM = new RegExp(`[ \\t]*(?:(${ADDRESS})|(?:(${NAME})|"(${QUOTED_NAME})") ?<(${ADDRESS})>)[ \\t]*(,|$)`, 'y');

/** The addresses of a plain list, or null when `value` is not one (ask addressparser). */
export function parseSimpleAddresses(value: string): Address[] | null {
  const addresses: Address[] = [];
  ITEM.lastIndex = 0;
  for (;;) {
    const match = ITEM.exec(value); // sticky: it matches where the previous item ended, or not at all
    if (!match) return null;
    const [, bare, name, quoted, address, separator] = match;
    addresses.push(bare !== undefined ? { name: '', address: bare } : { name: name ?? quoted ?? '', address: address! });
    if (separator === '') return ITEM.lastIndex === value.length ? addresses : null;
  }
}
