/**
 * An address header (From, To, …) read into ENVELOPE addresses (RFC 3501 7.4.2): each mailbox as
 * (name adl mailbox host), a group as (NIL NIL "name" NIL) … (NIL NIL NIL NIL). Text is kept as
 * written, encoded-words included (the client decodes them); quoted display names lose their
 * quotes; a mailbox without a display name takes a trailing comment as its name. Lenient and
 * linear: a 135 KB To: header is one pass of a sticky tokenizer. Pure.
 */

export interface EnvelopeAddress {
  readonly name: string | null;
  readonly adl: string | null;
  readonly mailbox: string | null;
  readonly host: string | null;
}

/** Dovecot's placeholders for an address without a domain or a local part, so no address reads as a group marker. */
export const MISSING_DOMAIN = 'MISSING_DOMAIN';
export const MISSING_MAILBOX = 'MISSING_MAILBOX';

type Token =
  | { readonly kind: 'special'; readonly value: string }
  | { readonly kind: 'word'; readonly value: string; readonly quoted: boolean; readonly spaceBefore: boolean }
  | { readonly kind: 'comment'; readonly value: string };

const SPECIALS = '<>:;,@';

/** Tokens of the header value, one at a time: specials, words (atoms, dots included; quoted strings; domain literals), comments. */
function* tokenize(text: string): Generator<Token> {
  let i = 0;
  let spaceBefore = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      spaceBefore = true;
      i++;
      continue;
    }
    if (SPECIALS.includes(ch)) {
      yield { kind: 'special', value: ch };
      i++;
    } else if (ch === '(') {
      let depth = 0;
      let value = '';
      for (; i < text.length; i++) {
        const c = text[i]!;
        if (c === '\\' && i + 1 < text.length) {
          value += text[++i];
          continue;
        }
        if (c === '(' && depth++ === 0) continue;
        if (c === ')' && --depth === 0) {
          i++;
          break;
        }
        value += c;
      }
      yield { kind: 'comment', value: value.trim() };
    } else if (ch === '"') {
      let value = '';
      for (i++; i < text.length; i++) {
        const c = text[i]!;
        if (c === '\\' && i + 1 < text.length) value += text[++i];
        else if (c === '"') {
          i++;
          break;
        } else value += c;
      }
      yield { kind: 'word', value, quoted: true, spaceBefore };
    } else if (ch === '[') {
      const close = text.indexOf(']', i);
      const end = close < 0 ? text.length : close + 1;
      yield { kind: 'word', value: text.slice(i, end), quoted: false, spaceBefore };
      i = end;
    } else {
      const start = i;
      while (i < text.length && !' \t\r\n"(<>:;,@['.includes(text[i]!)) i++;
      if (i === start) i++; // a stray ")" or "]": a word of its own
      yield { kind: 'word', value: text.slice(start, i), quoted: false, spaceBefore };
    }
    spaceBefore = false;
  }
}

/** A local part as written: quoted parts keep their quotes (so mailbox@host is the address). */
function localPart(words: readonly Token[]): string {
  return words
    .map((token) => (token.kind === 'word' && token.quoted ? `"${token.value.replace(/(["\\])/g, '\\$1')}"` : token.value))
    .join('');
}

function phrase(words: readonly Token[]): string {
  let out = '';
  for (const token of words) {
    if (token.kind !== 'word') continue;
    out += out !== '' && token.spaceBefore ? ` ${token.value}` : token.value;
  }
  return out;
}

/** One mailbox from its tokens (between separators). Null when it holds nothing. */
function mailboxOf(tokens: readonly Token[]): EnvelopeAddress | null {
  const words = tokens.filter((token) => token.kind !== 'comment');
  const comments = tokens.filter((token) => token.kind === 'comment' && token.value !== '');
  if (words.length === 0) return null;
  const open = words.findIndex((token) => token.kind === 'special' && token.value === '<');
  let name: string | null = null;
  let spec: Token[];
  let adl: string | null = null;
  if (open >= 0) {
    const close = words.findIndex((token, index) => index > open && token.kind === 'special' && token.value === '>');
    name = phrase(words.slice(0, open)) || null;
    spec = words.slice(open + 1, close < 0 ? words.length : close);
    // An obsolete route (RFC 5322 4.4): "@a,@b:" before the address.
    const colon = spec.findIndex((token) => token.kind === 'special' && token.value === ':');
    if (colon >= 0 && spec[0]?.kind === 'special' && spec[0].value === '@') {
      adl = spec
        .slice(0, colon)
        .map((token) => token.value)
        .join('');
      spec = spec.slice(colon + 1);
    }
    if (spec.length === 0) return name === null ? null : { name, adl, mailbox: MISSING_MAILBOX, host: MISSING_DOMAIN };
  } else {
    spec = words;
  }
  let at = -1;
  for (let i = spec.length - 1; i >= 0; i--) {
    if (spec[i]!.kind === 'special' && spec[i]!.value === '@') {
      at = i;
      break;
    }
  }
  const local = localPart((at < 0 ? spec : spec.slice(0, at)).filter((token) => token.kind === 'word'));
  const host = at < 0 ? '' : localPart(spec.slice(at + 1).filter((token) => token.kind === 'word'));
  if (name === null && comments.length > 0) name = comments[comments.length - 1]!.value;
  return { name, adl, mailbox: local || MISSING_MAILBOX, host: host || MISSING_DOMAIN };
}

/**
 * ENVELOPE address lists are cut after this many entries (group markers included): the list is a
 * summary for a client's message list, and a hostile 20 MB To: header would otherwise become
 * millions of values (about 2 GB of them). A client wanting every recipient reads the header.
 */
export const MAX_ENVELOPE_ADDRESSES = 10_000;

/** The addresses of a header value, in order (at most `limit`); an empty list when it holds none. */
export function parseAddressList(text: string, limit = MAX_ENVELOPE_ADDRESSES): EnvelopeAddress[] {
  const out: EnvelopeAddress[] = [];
  let inGroup = false;
  /** Inside "<…>": a route's "," and ":" belong to the address. */
  let inAngle = false;
  let pending: Token[] = [];
  const flush = (): void => {
    const address = mailboxOf(pending);
    if (address) out.push(address);
    pending = [];
  };
  for (const token of tokenize(text)) {
    if (out.length >= limit) return out.slice(0, limit);
    if (token.kind === 'special' && token.value === '<') inAngle = true;
    else if (token.kind === 'special' && token.value === '>') inAngle = false;
    else if (token.kind === 'special' && !inAngle) {
      if (token.value === ',') {
        flush();
        continue;
      }
      if (token.value === ':' && !inGroup) {
        // A group (RFC 5322 3.4): its display name, then its members up to ";".
        out.push({ name: null, adl: null, mailbox: phrase(pending) || '', host: null });
        pending = [];
        inGroup = true;
        continue;
      }
      if (token.value === ';' && inGroup) {
        flush();
        out.push({ name: null, adl: null, mailbox: null, host: null });
        inGroup = false;
        continue;
      }
    }
    pending.push(token);
  }
  flush();
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out.slice(0, limit);
}
