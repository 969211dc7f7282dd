/**
 * SEARCH's arguments (RFC 3501 6.4.4 and the grammar of section 9) → a tree of search keys. Pure:
 * no I/O; evaluate.ts answers the tree. Keys are read case-insensitively; the string arguments
 * may be atoms, quoted strings or literals, as `astring` allows.
 */
import type { ImapValue } from '../wire/values.js';
import { parseImapDate } from './dates.js';
import { parseSequenceSet, type SequenceSet } from './sequence-set.js';

/** Where a string key looks (each a case-insensitive substring match, RFC 3501 6.4.4). */
export type StringTarget =
  /** One header field, by its lower-cased name: FROM, TO, CC, BCC, SUBJECT and HEADER. */
  | { readonly kind: 'header'; readonly name: string }
  /** BODY: the message's text. */
  | { readonly kind: 'body' }
  /** TEXT: any header field or the message's text. */
  | { readonly kind: 'text' };

export type DateOp = 'before' | 'on' | 'since';

export type SearchKey =
  | { readonly kind: 'all' }
  /** Keys of flags Kotak never sets (ANSWERED, DRAFT, RECENT, NEW): nothing matches. */
  | { readonly kind: 'none' }
  | { readonly kind: 'flag'; readonly flag: 'seen' | 'flagged' | 'deleted'; readonly set: boolean }
  | { readonly kind: 'keyword'; readonly keyword: string; readonly set: boolean }
  | { readonly kind: 'sequence'; readonly uid: boolean; readonly set: SequenceSet }
  | { readonly kind: 'size'; readonly op: 'larger' | 'smaller'; readonly octets: number }
  /** `day`: days since 1970-01-01 (a UTC calendar day). */
  | { readonly kind: 'internal-date'; readonly op: DateOp; readonly day: number }
  | { readonly kind: 'sent-date'; readonly op: DateOp; readonly day: number }
  | { readonly kind: 'string'; readonly target: StringTarget; readonly value: string }
  | { readonly kind: 'and'; readonly keys: readonly SearchKey[] }
  | { readonly kind: 'or'; readonly left: SearchKey; readonly right: SearchKey }
  | { readonly kind: 'not'; readonly key: SearchKey };

/** A syntax error in the keys: the session answers BAD with `message`. */
export class SearchSyntaxError extends Error {
  override readonly name = 'SearchSyntaxError';
}

/** NOT, OR and parentheses nest at most this deep: the reader and the evaluator recurse. */
export const MAX_SEARCH_DEPTH = 64;
/** Each string key may cost a store query: a bound on what one command can ask. */
export const MAX_SEARCH_KEYS = 1000;

const FLAG_KEYS = new Map<string, SearchKey>([
  ['ALL', { kind: 'all' }],
  ['SEEN', { kind: 'flag', flag: 'seen', set: true }],
  ['UNSEEN', { kind: 'flag', flag: 'seen', set: false }],
  ['FLAGGED', { kind: 'flag', flag: 'flagged', set: true }],
  ['UNFLAGGED', { kind: 'flag', flag: 'flagged', set: false }],
  ['DELETED', { kind: 'flag', flag: 'deleted', set: true }],
  ['UNDELETED', { kind: 'flag', flag: 'deleted', set: false }],
  // Kotak stores no \Answered or \Draft and never sets \Recent (docs/IMAP.md "Search").
  ['ANSWERED', { kind: 'none' }],
  ['UNANSWERED', { kind: 'all' }],
  ['DRAFT', { kind: 'none' }],
  ['UNDRAFT', { kind: 'all' }],
  ['RECENT', { kind: 'none' }],
  ['NEW', { kind: 'none' }],
  ['OLD', { kind: 'all' }],
]);

const HEADER_KEYS = new Map<string, string>([
  ['FROM', 'from'],
  ['TO', 'to'],
  ['CC', 'cc'],
  ['BCC', 'bcc'],
  ['SUBJECT', 'subject'],
]);

const DATE_KEYS = new Map<string, { kind: 'internal-date' | 'sent-date'; op: DateOp }>([
  ['BEFORE', { kind: 'internal-date', op: 'before' }],
  ['ON', { kind: 'internal-date', op: 'on' }],
  ['SINCE', { kind: 'internal-date', op: 'since' }],
  ['SENTBEFORE', { kind: 'sent-date', op: 'before' }],
  ['SENTON', { kind: 'sent-date', op: 'on' }],
  ['SENTSINCE', { kind: 'sent-date', op: 'since' }],
]);

/** RFC 3501's `number`: 32-bit unsigned. */
const MAX_NUMBER = 4_294_967_295;

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Reads keys from `args` until they run out: the top level (and each list) is an AND of its keys. */
export function parseSearchKeys(args: readonly ImapValue[]): SearchKey {
  if (args.length === 0) throw new SearchSyntaxError('SEARCH needs at least one search key, e.g. ALL');
  const reader = new KeyReader(args);
  const keys: SearchKey[] = [];
  while (!reader.done()) keys.push(reader.key(0));
  return andOf(keys);
}

function andOf(keys: SearchKey[]): SearchKey {
  return keys.length === 1 ? keys[0]! : { kind: 'and', keys };
}

class KeyReader {
  #at = 0;
  #count = 0;

  constructor(private readonly args: readonly ImapValue[]) {}

  done(): boolean {
    return this.#at >= this.args.length;
  }

  key(depth: number): SearchKey {
    if (depth > MAX_SEARCH_DEPTH) throw new SearchSyntaxError(`search keys nested too deeply (NOT, OR and parentheses: at most ${MAX_SEARCH_DEPTH} levels)`);
    if (++this.#count > MAX_SEARCH_KEYS) throw new SearchSyntaxError(`too many search keys (at most ${MAX_SEARCH_KEYS})`);
    const value = this.args[this.#at++];
    if (value === undefined) throw new SearchSyntaxError('a search key is missing at the end');
    if (value.kind === 'list') {
      if (value.items.length === 0) throw new SearchSyntaxError('empty parentheses: a parenthesised group needs at least one search key');
      const inner = new KeyReader(value.items);
      inner.#count = this.#count;
      const keys: SearchKey[] = [];
      while (!inner.done()) keys.push(inner.key(depth + 1));
      this.#count = inner.#count;
      return andOf(keys);
    }
    if (value.kind === 'string') throw new SearchSyntaxError(`expected a search key, got the string "${shown(value.value.toString('utf8'))}"`);
    if (value.section !== undefined || value.partial !== undefined) throw new SearchSyntaxError(`unknown search key ${shown(value.value)}[…]`);

    const name = value.value.toUpperCase();
    const flag = FLAG_KEYS.get(name);
    if (flag) return flag;
    const header = HEADER_KEYS.get(name);
    if (header !== undefined) return { kind: 'string', target: { kind: 'header', name: header }, value: this.string(name) };
    const date = DATE_KEYS.get(name);
    if (date) return { kind: date.kind, op: date.op, day: this.date(name) };
    switch (name) {
      case 'BODY':
        return { kind: 'string', target: { kind: 'body' }, value: this.string(name) };
      case 'TEXT':
        return { kind: 'string', target: { kind: 'text' }, value: this.string(name) };
      case 'HEADER': {
        const field = this.string(name, 'a header field name, e.g. HEADER X-Mailer "kotak"');
        if (field === '' || /[\x00-\x20\x7f:]/.test(field)) throw new SearchSyntaxError(`HEADER needs a header field name, got "${shown(field)}"`);
        return { kind: 'string', target: { kind: 'header', name: field.toLowerCase() }, value: this.string(name, 'a header field name and a string, e.g. HEADER X-Mailer "kotak"') };
      }
      case 'KEYWORD':
      case 'UNKEYWORD':
        return { kind: 'keyword', keyword: this.keyword(name), set: name === 'KEYWORD' };
      case 'LARGER':
      case 'SMALLER':
        return { kind: 'size', op: name === 'LARGER' ? 'larger' : 'smaller', octets: this.number(name) };
      case 'UID':
        return { kind: 'sequence', uid: true, set: this.sequenceSet(name) };
      case 'NOT':
        return { kind: 'not', key: this.operand(name, depth) };
      case 'OR': {
        const left = this.operand(name, depth);
        return { kind: 'or', left, right: this.operand(name, depth) };
      }
    }
    // A bare sequence set is a key of its own: message sequence numbers.
    if (/^[\d*]/.test(value.value)) {
      const set = parseSequenceSet(value.value);
      if (set === null) throw new SearchSyntaxError(`invalid sequence set "${shown(value.value)}" (e.g. 1:4,7,9:*)`);
      return { kind: 'sequence', uid: false, set };
    }
    throw new SearchSyntaxError(`unknown search key ${shown(value.value)}`);
  }

  private operand(name: string, depth: number): SearchKey {
    if (this.done()) throw new SearchSyntaxError(name === 'OR' ? 'OR needs two search keys, e.g. OR SEEN FLAGGED' : 'NOT needs a search key, e.g. NOT SEEN');
    return this.key(depth + 1);
  }

  private next(name: string, wanted: string): ImapValue {
    const value = this.args[this.#at++];
    if (value === undefined) throw new SearchSyntaxError(`${name} needs ${wanted}`);
    return value;
  }

  /** An astring: an atom, a quoted string or a literal, as text (UTF-8; US-ASCII is a subset). */
  private string(name: string, wanted = `a string, e.g. ${name} "text"`): string {
    const value = this.next(name, wanted);
    if (value.kind === 'list') throw new SearchSyntaxError(`${name} needs ${wanted}, not a parenthesised list`);
    if (value.kind === 'atom') {
      if (value.section !== undefined || value.partial !== undefined) throw new SearchSyntaxError(`${name} needs ${wanted}`);
      return value.value;
    }
    try {
      return STRICT_UTF8.decode(value.value);
    } catch {
      throw new SearchSyntaxError(`the string of ${name} is not valid UTF-8 (strings are read as UTF-8; US-ASCII is part of it)`);
    }
  }

  private date(name: string): number {
    const wanted = 'a date like 1-Feb-2024';
    const value = this.next(name, wanted);
    const text = value.kind === 'atom' && value.section === undefined ? value.value : value.kind === 'string' ? value.value.toString('latin1') : null;
    const day = text === null ? null : parseImapDate(text);
    if (day === null) throw new SearchSyntaxError(`${name} needs ${wanted}${text === null ? '' : `, got "${shown(text)}"`}`);
    return day;
  }

  private number(name: string): number {
    const value = this.next(name, `a number of octets, e.g. ${name} 1024`);
    const text = value.kind === 'atom' ? value.value : '';
    if (!/^\d{1,10}$/.test(text) || Number(text) > MAX_NUMBER) {
      throw new SearchSyntaxError(`${name} needs a number of octets (0 to ${MAX_NUMBER}), e.g. ${name} 1024`);
    }
    return Number(text);
  }

  private keyword(name: string): string {
    const value = this.next(name, `a keyword, e.g. ${name} $Important`);
    // flag-keyword is an atom; a quoted one is taken too, as some clients send it so.
    const text = value.kind === 'atom' ? value.value : value.kind === 'string' ? value.value.toString('utf8') : '';
    if (text === '' || /[\x00-\x20\x7f()*%"\\\]{]/.test(text)) throw new SearchSyntaxError(`${name} needs a keyword (an atom such as $Important), got "${shown(text)}"`);
    return text;
  }

  private sequenceSet(name: string): SequenceSet {
    const value = this.next(name, `a set of UIDs, e.g. ${name} 1:4,7`);
    const set = value.kind === 'atom' ? parseSequenceSet(value.value) : null;
    if (set === null) throw new SearchSyntaxError(`${name} needs a set of UIDs like 1:4,7,9:*`);
    return set;
  }
}

/** Client text in an error reply: short, and without characters that would break the reply line. */
function shown(text: string): string {
  const clean = text.replace(/[\x00-\x1f\x7f"\\]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
