/**
 * HTML → plain text for search and snippets only (never for display). mailparser's own
 * html-to-text conversion builds a DOM and costs more than the rest of parsing together, and a
 * search index does not need layout: dropping tags and decoding entities is enough.
 */

/** Work on at most this much HTML; the rest of a huge body is not worth indexing. */
const MAX_HTML_CHARS = 2 * 1024 * 1024;

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  laquo: '«',
  raquo: '»',
  ldquo: '“',
  rdquo: '”',
  lsquo: '‘',
  rsquo: '’',
  bull: '•',
  middot: '·',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  zwnj: '',
  zwj: '',
  shy: '',
};

/**
 * What the markup of an HTML body must hold, with ASCII letters folded, for its text (htmlToText,
 * lower-cased) to hold `value`: the pieces of `value` between the characters an entity or a tag can
 * stand for (whitespace, and what a named entity decodes to). Unless the markup has an entity that
 * joins text or may stand for any character (MARKUP_JOINING_ENTITIES): then it may hold anything.
 * Why it holds: outside entities, htmlToText only drops markup (each tag or comment becomes
 * whitespace), cuts the HTML short, and folds whitespace; so a run of text without whitespace and
 * without an entity's character is in the markup as it is in the text.
 */
export function markupPieces(value: string): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const char of value) {
    if (/\s/u.test(char) || ENTITY_CHARS.has(char)) {
      if (piece) pieces.push(piece);
      piece = '';
    } else piece += char;
  }
  if (piece) pieces.push(piece);
  return pieces;
}

/** What the named entities decode to (one character each, or none). */
const ENTITY_CHARS = new Set(Object.values(NAMED_ENTITIES).filter((char) => char !== ''));

/** Entities that may stand for any character (numeric: `&#…;`) or for none (joining the text around them), lower-cased. */
export const MARKUP_JOINING_ENTITIES: readonly string[] = [
  '&#',
  ...Object.entries(NAMED_ENTITIES)
    .filter(([, char]) => char === '')
    .map(([name]) => `&${name};`),
];

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z][a-z0-9]{1,31});/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : '';
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/*
 * Runs of blanks (and of whitespace) become one space. A lone space is already that, so the
 * patterns leave it alone: replacing every space between words with a space cost ~5 µs per KB.
 */
/** Runs of [ \t\r\f\v\u00a0] other than a lone space. */
const BLANK_RUNS = / [ \t\r\f\v\u00a0]+|[\t\r\f\v\u00a0][ \t\r\f\v\u00a0]*/g;
/** Runs of \s other than a lone space. */
const WHITESPACE_RUNS = / \s+|[^\S ]\s*/g;

export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .slice(0, MAX_HTML_CHARS)
      .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
      .replace(/<(script|style|head|title|template)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
      .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h[1-6]|\/table)\b[^>]*>/gi, '\n')
      .replace(/<[^>]*>/g, ' '),
  )
    .replace(BLANK_RUNS, ' ')
    .replace(/ ?\n[\s]*/g, '\n')
    .trim();
}

/** A one-line preview, as inbox lists show under the subject. */
export function makeSnippet(text: string, maxChars = 200): string {
  const line = text.slice(0, maxChars * 4).replace(WHITESPACE_RUNS, ' ').trim();
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}
