/**
 * Parser for Kotak's search syntax, compatible with Mailpit's:
 *
 *   invoice from:shop@example.com -is:read "order confirmed" after:2024-05-01 larger:2kb
 *
 * Whitespace separates terms, and terms are AND-ed. A leading `-` or `!` negates a term. Pure: no
 * I/O; the SQL layer turns the terms into a query. Unlike Mailpit, which silently ignores what it
 * cannot read, every syntax error is a KotakError('invalid_query') naming the problem, so a typo
 * never quietly widens a search (or a search-based delete).
 */
import { KotakError } from '../errors.js';
import { parseSize } from '../units.js';
import { isMailboxName } from './mailbox-name.js';

export type AddressField = 'to' | 'from' | 'cc' | 'bcc' | 'reply-to' | 'addressed';

export type SearchTerm =
  | { kind: 'text'; value: string; phrase: boolean; negated: boolean }
  | { kind: 'field'; field: AddressField | 'subject' | 'message-id' | 'tag'; value: string; negated: boolean }
  | { kind: 'flag'; flag: 'read' | 'unread' | 'tagged' | 'attachment' | 'inline'; negated: boolean }
  | { kind: 'date'; op: 'before' | 'after'; at: number; negated: boolean }
  | { kind: 'size'; op: 'larger' | 'smaller'; bytes: number; negated: boolean }
  /** The mailbox a message is in, by its whole name (case-folded, as names are stored). */
  | { kind: 'mailbox'; name: string; negated: boolean }
  | MayContainTerm
  | MayBeSentTerm
  | TextUnknownTerm;

/**
 * A narrowing term: never made by the parser (no user types one); IMAP SEARCH asks it of the store
 * (src/imap/search/narrowing.ts), then checks each message it matches exactly. It matches a
 * superset: every message whose text, lower-cased as JavaScript does, may hold `value` (in the
 * body: the text, or the HTML's text; in the header: a field named `field`, or with `field` null
 * any field as `name: value`; or either, for `text`), and every message the store cannot tell about (kept raw after a
 * parse failure, a text cut at 256 Ki characters, a text holding a character that lower-cases into
 * ASCII, HTML with entities that may stand for any character). `value` is lower-cased and holds no
 * whitespace and no letter with a case outside ASCII (the stores fold ASCII letters only); `field`
 * is a lower-cased ASCII name. Its `negated` is always false: the NOT of a superset means nothing.
 * src/store/may-match.ts says exactly what each store matches.
 */
export interface MayContainTerm {
  readonly kind: 'may-contain';
  /** `text`: the header (any field, as `name: value`) or the body, as IMAP's TEXT. */
  readonly in: 'body' | 'header' | 'text';
  readonly field: string | null;
  readonly value: string;
  readonly negated: false;
}

/**
 * A narrowing term (as MayContainTerm): the messages whose Date header the store read as an instant
 * in [from, to) (either bound may be absent), and every message whose Date header the store could
 * not read as a date of year 1000 or later (none, unreadable, or an obsolete 3-digit year, which
 * JavaScript's Date reads as written where RFC 5322 adds 1900).
 */
/**
 * A narrowing term (as MayContainTerm): the messages whose text the store holds in part or not at
 * all, which neither its indexes nor its columns can rule out: in the body, a text cut at 256 Ki
 * characters or a message kept raw after a parse failure; in the header, a message kept raw, or a
 * subject or message id holding a character that lower-cases into ASCII (those columns are compared
 * folding A-Z only). IMAP adds them to what the full-text index and the header columns answer.
 */
export interface TextUnknownTerm {
  readonly kind: 'text-unknown';
  readonly in: 'body' | 'header';
  readonly negated: false;
}

export interface MayBeSentTerm {
  readonly kind: 'may-be-sent';
  readonly from: number | null;
  readonly to: number | null;
  readonly negated: false;
}

export interface SearchQuery {
  readonly terms: readonly SearchTerm[];
}

/** Frozen because it is shared by every caller. */
export const EMPTY_QUERY: SearchQuery = Object.freeze({ terms: Object.freeze([]) });

/** Each term becomes a LIKE clause or two; these bound the work one request can ask of the database. */
export const MAX_QUERY_LENGTH = 4096;
export const MAX_QUERY_TERMS = 64;

type FlagName = Extract<SearchTerm, { kind: 'flag' }>['flag'];

/**
 * Every operator, with the example shown when its value is missing or wrong. Maps rather than
 * object literals, so that user-typed names like `constructor:` cannot hit Object.prototype.
 */
const OPERATOR_EXAMPLES = new Map<string, string>([
  ['to', 'to:alice@example.com'],
  ['from', 'from:alice@example.com'],
  ['cc', 'cc:alice@example.com'],
  ['bcc', 'bcc:alice@example.com'],
  ['reply-to', 'reply-to:alice@example.com'],
  ['addressed', 'addressed:alice@example.com'],
  ['subject', 'subject:"order confirmed"'],
  ['message-id', 'message-id:<abc@example.com>'],
  ['tag', 'tag:important'],
  ['is', 'is:unread'],
  ['has', 'has:attachment'],
  ['before', 'before:2024-05-31'],
  ['after', 'after:2024-05-31'],
  ['larger', 'larger:2kb'],
  ['smaller', 'smaller:1.5M'],
  ['mailbox', 'mailbox:w3'],
]);
const KNOWN_OPERATORS = [...OPERATOR_EXAMPLES.keys()].map((name) => `${name}:`).join(', ');

const IS_FLAGS = new Map<string, FlagName>([
  ['read', 'read'],
  ['unread', 'unread'],
  ['tagged', 'tagged'],
]);
// Mailpit accepts the singular and the plural.
const HAS_FLAGS = new Map<string, FlagName>([
  ['attachment', 'attachment'],
  ['attachments', 'attachment'],
  ['inline', 'inline'],
  ['inlines', 'inline'],
]);

/**
 * An operator name and its colon. The lookahead keeps URLs (`https://a.b/c`) plain words; a name
 * must start with a letter so that times like `12:30` stay plain words too.
 */
const OPERATOR_PREFIX = /[A-Za-z][A-Za-z-]*:(?!\/\/)/y;

/** A term as written, before its operator (if any) is interpreted. */
interface Token {
  readonly negated: boolean;
  /** Lowercased operator name without the colon; null for a plain word or phrase. */
  readonly name: string | null;
  /** The operator as typed, for error messages. */
  readonly typedName: string;
  /** Without surrounding quotes. */
  readonly value: string;
  readonly quoted: boolean;
}

/**
 * SQLite reads a LIKE pattern and an FTS5 query only up to a NUL character: `subject:a<NUL>b`
 * would become "the subject ends in a", widening a search or a search-based delete, and a
 * full-text term would fail as a syntax error. Nobody types one, so a query holding one is refused.
 * Exported for callers that build terms without this parser (the MailHog search).
 */
export function refuseNul(text: string): void {
  if (text.includes('\0')) throw invalid('search query contains a NUL character (U+0000), which cannot be searched for');
}

export function parseSearchQuery(input: string): SearchQuery {
  if (input.length > MAX_QUERY_LENGTH) {
    throw invalid(`search query is too long (${input.length} characters; the limit is ${MAX_QUERY_LENGTH})`);
  }
  refuseNul(input);
  const terms: SearchTerm[] = [];
  let pos = skipSpace(input, 0);
  while (pos < input.length) {
    if (terms.length === MAX_QUERY_TERMS) {
      throw invalid(`too many search terms (the limit is ${MAX_QUERY_TERMS})`);
    }
    const [token, end] = readToken(input, pos);
    terms.push(toTerm(token));
    pos = skipSpace(input, end);
  }
  return terms.length === 0 ? EMPTY_QUERY : { terms };
}

function readToken(input: string, start: number): [Token, number] {
  let pos = start;
  const negated = input[pos] === '-' || input[pos] === '!';
  if (negated) {
    pos++;
    if (pos === input.length || isSpace(input[pos]!)) {
      throw invalid(`"${input[start]}" must be followed directly by the term to exclude, e.g. -word or -from:alice`);
    }
  }

  // A quoted phrase is never an operator: quoting is how to search for the text "to:x" itself.
  let name: string | null = null;
  let typedName = '';
  OPERATOR_PREFIX.lastIndex = pos;
  const prefix = input[pos] === '"' ? null : OPERATOR_PREFIX.exec(input);
  // `mailto:` is the one URL scheme without `//`; addresses pasted from links stay plain words.
  if (prefix && prefix[0].toLowerCase() !== 'mailto:') {
    typedName = prefix[0];
    name = typedName.slice(0, -1).toLowerCase();
    pos += typedName.length;
  }

  const [value, quoted, end] = readValue(input, pos);
  return [{ negated, name, typedName, value, quoted }, end];
}

/**
 * A value runs to the next whitespace, or is a "quoted string" that may contain spaces. Quotes are
 * only special at the start of a value: `5"` or `say"hi` are kept as typed, since punctuation is
 * searchable. There is no escaping; a phrase cannot contain a double quote.
 */
function readValue(input: string, start: number): [value: string, quoted: boolean, end: number] {
  if (input[start] !== '"') {
    let end = start;
    while (end < input.length && !isSpace(input[end]!)) end++;
    return [input.slice(start, end), false, end];
  }
  const close = input.indexOf('"', start + 1);
  if (close === -1) {
    throw invalid(`unterminated quote in ${cut(input.slice(start))}: add a closing "`);
  }
  const end = close + 1;
  // Refuse `"a b"c` instead of guessing whether `c` belongs to the phrase.
  if (end < input.length && !isSpace(input[end]!)) {
    throw invalid(`expected a space after the closing quote in ${cut(input.slice(start, end + 1))}`);
  }
  return [input.slice(start + 1, close), true, end];
}

function toTerm(token: Token): SearchTerm {
  const { negated, name, value } = token;
  if (name === null) {
    if (value.trim() === '') throw invalid('empty phrase "": put the text to search for between the quotes');
    return { kind: 'text', value, phrase: token.quoted, negated };
  }

  const example = OPERATOR_EXAMPLES.get(name);
  // A word that merely ends in a colon, as in `Re: meeting`, is text: no operator takes an empty value.
  if (example === undefined && value === '' && !token.quoted) return { kind: 'text', value: token.typedName, phrase: false, negated };
  if (example === undefined) {
    throw invalid(
      `unknown operator ${show(token.typedName)} (known: ${KNOWN_OPERATORS}); ` +
        `to search for the text itself, put it in quotes: "${cut(token.typedName + value)}"`,
    );
  }
  if (value.trim() === '') throw invalid(`${name}: needs a value, e.g. ${example}`);

  switch (name) {
    case 'to':
    case 'from':
    case 'cc':
    case 'bcc':
    case 'reply-to':
    case 'addressed':
    case 'subject':
    // A tag name matches whole, without regard to case (src/store/search-sql.ts).
    case 'tag':
      return { kind: 'field', field: name, value, negated };
    case 'message-id': {
      // Message-IDs are written <id@host> but stored without the brackets.
      const id = value.replace(/^<|>$/g, '');
      if (id === '') throw invalid(`message-id: needs a value, e.g. ${example}`);
      return { kind: 'field', field: 'message-id', value: id, negated };
    }
    case 'is':
    case 'has': {
      const flags = name === 'is' ? IS_FLAGS : HAS_FLAGS;
      const flag = flags.get(value.toLowerCase());
      if (flag === undefined) {
        const known = [...flags.keys()].map((v) => `${name}:${v}`).join(', ');
        throw invalid(`unknown ${name}: value ${show(value)} (known: ${known})`);
      }
      return { kind: 'flag', flag, negated };
    }
    case 'before':
    case 'after':
      return { kind: 'date', op: name, at: parseDate(value, name), negated };
    case 'larger':
    case 'smaller':
      return { kind: 'size', op: name, bytes: parseSizeValue(value, name), negated };
    case 'mailbox': {
      const mailbox = value.toLowerCase();
      // A name no mailbox can have is a typo; refused rather than quietly matching nothing (or, negated, everything).
      if (!isMailboxName(mailbox)) throw invalid(`${show(value)} is not a mailbox name for mailbox: (1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit)`);
      return { kind: 'mailbox', name: mailbox, negated };
    }
    default:
      // Unreachable while OPERATOR_EXAMPLES and this switch list the same names.
      throw new Error(`search operator "${name}:" has no handler`);
  }
}

/** y-m-d, y/m/d, optionally with "T" or " " and HH:MM[:SS], then optionally Z or ±HH:MM. */
const DATE = /^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?)?$/i;

/** → epoch ms. Without a zone the date is the server's local time, as in Mailpit. */
function parseDate(text: string, op: 'before' | 'after'): number {
  const word = text.trim().toLowerCase();
  if (word === 'today' || word === 'yesterday') {
    const now = new Date();
    // Local midnight; Date normalises day 0 to the last day of the previous month.
    return new Date(now.getFullYear(), now.getMonth(), now.getDate() - (word === 'yesterday' ? 1 : 0)).getTime();
  }

  const bad = () =>
    invalid(
      `invalid date ${show(text)} for ${op}: (examples: ${op}:2024-05-31, ${op}:2024/05/31, ` +
        `${op}:2024-05-31T14:30, ${op}:2024-05-31T14:30:00Z, ${op}:"2024-05-31 14:30", ${op}:today, ${op}:yesterday)`,
    );
  const m = DATE.exec(text.trim());
  if (!m) throw bad();
  const num = (group: number) => Number(m[group] ?? 0);
  const [y, mo, d, h, mi, s] = [num(1), num(3), num(4), num(5), num(6), num(7)];
  const zone = m[8];

  // Date silently rolls 2024-02-30 over to March 1 and 25:00 to the next day. Round-trip through
  // UTC (which, unlike local time, has no DST gaps) to reject such dates instead.
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    check.getUTCHours() !== h ||
    check.getUTCMinutes() !== mi ||
    check.getUTCSeconds() !== s
  ) {
    throw bad();
  }

  if (zone === undefined) return new Date(y, mo - 1, d, h, mi, s).getTime();
  if (zone.toUpperCase() === 'Z') return utc;
  const offsetHours = Number(zone.slice(1, 3));
  const offsetMinutes = Number(zone.slice(4, 6));
  if (offsetHours > 23 || offsetMinutes > 59) throw bad();
  const sign = zone[0] === '-' ? -1 : 1;
  // 14:30+02:00 is 12:30Z: subtract the offset.
  return utc - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

function parseSizeValue(text: string, op: 'larger' | 'smaller'): number {
  try {
    return parseSize(text);
  } catch (err) {
    // parseSize speaks for the command line ('invalid_request'); here it is a query error.
    throw new KotakError(
      'invalid_query',
      `invalid size ${show(text)} for ${op}: (examples: ${op}:1024, ${op}:2kb, ${op}:1.5M, ${op}:10MB)`,
      { cause: err },
    );
  }
}

function invalid(reason: string): KotakError {
  return new KotakError('invalid_query', reason);
}

function isSpace(ch: string): boolean {
  return /\s/.test(ch);
}

function skipSpace(input: string, pos: number): number {
  while (pos < input.length && isSpace(input[pos]!)) pos++;
  return pos;
}

/** User text for an error message, cut short: the query may be 4096 characters long. */
function cut(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** User text in quotes, for an error message. */
function show(text: string): string {
  return `"${cut(text)}"`;
}
