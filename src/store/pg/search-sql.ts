/**
 * Compiles a parsed search query (src/mail/search-query.ts) into a PostgreSQL condition on
 * `messages m`, with the answers of the SQLite store (src/store/search-sql.ts) for every operator:
 *
 * - A word or phrase is an FTS5 phrase there (a word's last token a prefix). Here the text is cut
 *   into the same tokens (tokenize.ts): the GIN index of `fts_words` finds the rows holding every
 *   token, and a phrase of several tokens is then matched in `fts_doc`, the token stream, as
 *   ` a b` (a word: the last token may go on) or ` a b ` (a quoted phrase), within one column.
 * - Field filters and the substring search (CJK, Thai, punctuation) are SQLite's LIKE '%v%': the
 *   value lower-cased by JavaScript, the column with its ASCII letters folded (kotak_fold), as
 *   SQLite's LIKE folds ASCII only. Trigram (pg_trgm) indexes serve the field filters.
 */
import { MARKUP_JOINING_ENTITIES, markupPieces } from '../../mail/html-text.js';
import type { MayContainTerm, SearchQuery, SearchTerm } from '../../mail/search-query.js';
import { refuseNul } from '../../mail/search-query.js';
import { EARLIEST_TRUSTED_DATE, FOLDS_INTO_ASCII } from '../may-match.js';
import { ADDRESS_COLUMNS, looksInHtml, substringValues } from '../search-sql.js';
import { unicode61Tokens } from './tokenize.js';

/** Tokens are indexed in `fts_words` cut to this many characters (lexemes have a size limit). */
export const INDEXED_TOKEN_CHARS = 64;

/** Placeholders ($1, $2 …) in the order their values are added. */
export class SqlParams {
  readonly values: unknown[] = [];
  constructor(initial: readonly unknown[] = []) {
    this.values.push(...initial);
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Whether a text term is a substring search: decided by the SQLite store's own rule, so the two cannot drift. */
function needsSubstring(value: string): boolean {
  return substringValues({ terms: [{ kind: 'text', value, phrase: false, negated: false }] }).length > 0;
}

function likePattern(value: string): string {
  return `%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A tsquery lexeme: tokens hold no quote or backslash (they separate tokens), escaped anyway. */
function lexeme(token: string, prefix: boolean): string {
  const chars = [...token];
  const cut = chars.length >= INDEXED_TOKEN_CHARS;
  const text = cut ? chars.slice(0, INDEXED_TOKEN_CHARS).join('') : token;
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'${prefix || cut ? ':*' : ''}`;
}

/** The lexemes a message's tokens are indexed as (distinct, cut at INDEXED_TOKEN_CHARS). */
export function indexedWords(tokens: readonly string[]): string[] {
  const words = new Set<string>();
  for (const token of tokens) {
    words.add(token.length > INDEXED_TOKEN_CHARS ? [...token].slice(0, INDEXED_TOKEN_CHARS).join('') : token);
  }
  return [...words];
}

function wordCondition(value: string, prefix: boolean, params: SqlParams): string {
  const tokens = unicode61Tokens(value);
  // A value of diacritics alone has no token: FTS5 finds nothing for it.
  if (tokens.length === 0) return 'false';
  const query = tokens.map((token, i) => lexeme(token, prefix && i === tokens.length - 1)).join(' & ');
  const phrase = ` ${tokens.join(' ')}${prefix ? '' : ' '}`;
  const inDoc = `strpos(m.fts_doc, ${params.add(phrase)}) > 0`;
  // One token shorter than the cut: the index alone is exact.
  const exact = tokens.length === 1 && [...tokens[0]!].length < INDEXED_TOKEN_CHARS;
  const indexed = `m.fts_words @@ ${params.add(query)}::tsquery`;
  return `((${indexed}${exact ? '' : ` AND ${inDoc}`}) OR (m.fts_oversize AND ${inDoc}))`;
}

/**
 * SQLite's substring search (search-sql.ts's substringCondition): the subject, the address lists,
 * the envelope sender, the text, the HTML as stored (not for an ASCII-only value: it would match
 * markup), and the attachments' file names.
 */
function substringCondition(value: string, params: SqlParams): string {
  const lowered = params.add(value.toLowerCase());
  const pattern = params.add(likePattern(value));
  const contains = (column: string) => `strpos(kotak_fold(${column}), ${lowered}) > 0`;
  const inBody = (column: 'text' | 'html') =>
    `(CASE WHEN b.${column}_parts IS NULL THEN ${contains(`COALESCE(b.${column}, '')`)} ELSE EXISTS (SELECT 1 FROM unnest(b.${column}_parts) p WHERE ${contains('p')}) END)`;
  const onMessage = [`kotak_fold(m.subject) LIKE ${pattern}`, ...ADDRESS_COLUMNS.addressed.map((c) => `${c} LIKE ${pattern}`), `strpos(m.sender_search, ${lowered}) > 0`];
  const onBody = [inBody('text')];
  if (looksInHtml(value)) onBody.push(inBody('html'));
  onBody.push(`EXISTS (SELECT 1 FROM unnest(b.attachment_names) a WHERE ${contains('a')})`);
  return `(${onMessage.join(' OR ')} OR m.seq IN (SELECT b.seq FROM message_bodies b WHERE ${onBody.join(' OR ')}))`;
}

function fieldCondition(term: Extract<SearchTerm, { kind: 'field' }>, params: SqlParams): string {
  if (term.field === 'tag') {
    return `m.seq IN (SELECT mt.seq FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE kotak_fold(t.name) = kotak_fold(${params.add(term.value)}))`;
  }
  const pattern = params.add(likePattern(term.value));
  if (term.field === 'subject') return `kotak_fold(m.subject) LIKE ${pattern}`;
  if (term.field === 'message-id') return `kotak_fold(COALESCE(m.message_id, '')) LIKE ${pattern}`;
  return `(${ADDRESS_COLUMNS[term.field].map((c) => `${c} LIKE ${pattern}`).join(' OR ')})`;
}

function termCondition(term: SearchTerm, params: SqlParams): string {
  switch (term.kind) {
    case 'text':
      refuseNul(term.value);
      return needsSubstring(term.value) ? substringCondition(term.value, params) : wordCondition(term.value, !term.phrase, params);
    case 'field':
      refuseNul(term.value);
      return fieldCondition(term, params);
    case 'flag':
      switch (term.flag) {
        case 'read':
          return 'm.read';
        case 'unread':
          return 'NOT m.read';
        case 'tagged':
          return 'EXISTS (SELECT 1 FROM message_tags tg WHERE tg.seq = m.seq)';
        case 'attachment':
          return 'm.has_attachments';
        case 'inline':
          return 'm.has_inline';
      }
      break;
    case 'date':
      // As bigint, so that the received_at index serves it (a numeric would cast the column instead).
      // The column holds whole milliseconds: `< x` and `>= x` are `< ceil(x)` and `>= ceil(x)`.
      return `m.received_at ${term.op === 'before' ? '<' : '>='} ${params.add(Math.ceil(term.at))}::bigint`;
    case 'size':
      return `m.size ${term.op === 'larger' ? '>' : '<'} ${params.add(term.bytes)}::numeric`;
    case 'mailbox':
      return `m.mailbox = ${params.add(term.name)}`;
    case 'may-contain':
      refuseNul(term.value);
      if (term.in === 'text') return `(${mayContainInHeader(term, params)} OR ${mayContainInBody(term, params)})`;
      return term.in === 'body' ? mayContainInBody(term, params) : mayContainInHeader(term, params);
    case 'text-unknown':
      if (term.in === 'header') return `(m.parse_error_json IS NOT NULL OR ${foldsIntoAscii('m.subject', params)} OR ${foldsIntoAscii("COALESCE(m.message_id, '')", params)})`;
      return '(m.parse_error_json IS NOT NULL OR EXISTS (SELECT 1 FROM message_bodies b WHERE b.seq = m.seq AND b.text_cut))';
    case 'may-be-sent': {
      const range = [
        ...(term.from === null ? [] : [`m.date_header >= ${params.add(term.from)}::bigint`]),
        ...(term.to === null ? [] : [`m.date_header < ${params.add(term.to)}::bigint`]),
      ];
      return `(m.date_header IS NULL OR m.date_header < ${params.add(EARLIEST_TRUSTED_DATE)}::bigint OR (${range.length ? range.join(' AND ') : 'true'}))`;
    }
  }
}

/** Whether the text `column` holds a FOLDS_INTO_ASCII character. */
function foldsIntoAscii(column: string, params: SqlParams): string {
  return FOLDS_INTO_ASCII.map((char) => `strpos(${column}, ${params.add(char)}) > 0`).join(' OR ');
}

/**
 * store/may-match.ts's mayContainInBody as SQL. A text or HTML holding a NUL (kept as JSON, b.*_json)
 * is not read here: such a message stays a candidate.
 */
function mayContainInBody(term: MayContainTerm, params: SqlParams): string {
  const value = params.add(term.value);
  const markup = 'kotak_fold(b.html)';
  const joins = MARKUP_JOINING_ENTITIES.map((entity) => `strpos(${markup}, ${params.add(entity)}) > 0`);
  const pieces = markupPieces(term.value).map((piece) => `strpos(${markup}, ${params.add(piece)}) > 0`);
  const inHtml = [foldsIntoAscii('b.html', params), ...joins, pieces.length ? `(${pieces.join(' AND ')})` : 'true'].join(' OR ');
  const onBody = [
    'b.text_cut',
    '(b.text IS NULL AND b.text_json IS NOT NULL)',
    '(b.html IS NULL AND b.html_json IS NOT NULL)',
    `strpos(kotak_fold(b.text), ${value}) > 0`,
    foldsIntoAscii('b.text', params),
    `(b.html IS NOT NULL AND (${inHtml}))`,
  ];
  return `(m.parse_error_json IS NOT NULL OR EXISTS (SELECT 1 FROM message_bodies b WHERE b.seq = m.seq AND (${onBody.join(' OR ')})))`;
}

/**
 * store/may-match.ts's mayContainInHeader as SQL, over the stored header list (JSON). A list holding
 * an escaped NUL (`\u0000`, which PostgreSQL's json cannot give as text) is not read: a candidate.
 */
function mayContainInHeader(term: MayContainTerm, params: SqlParams): string {
  const value = params.add(term.value);
  const name = "kotak_fold(h->>'name')";
  const text = "kotak_fold(h->>'value')";
  const field =
    term.field === null
      ? `(h->>'name' ~ '[^[:ascii:]]' OR strpos(${name} || ': ' || ${text}, ${value}) > 0)`
      : `(${name} = ${params.add(term.field)} AND strpos(${text}, ${value}) > 0)`;
  // CASE, not OR: the JSON is read only when it holds no escaped NUL (OR may run either side first).
  const onList = `CASE WHEN strpos(b.headers_json, ${params.add('\\u0000')}) > 0 OR ${foldsIntoAscii('b.headers_json', params)} THEN true
    ELSE EXISTS (SELECT 1 FROM json_array_elements(b.headers_json::json) h WHERE ${field}) END`;
  return `(m.parse_error_json IS NOT NULL OR EXISTS (SELECT 1 FROM message_bodies b WHERE b.seq = m.seq AND ${onList}))`;
}

/** The query's terms AND-ed, as a condition on `messages m`; `true` when it has none. */
export function compilePgSearch(query: SearchQuery, params: SqlParams): string {
  const parts = query.terms.map((term) => {
    const sql = termCondition(term, params);
    return term.negated ? `NOT (${sql})` : sql;
  });
  return parts.length ? parts.join(' AND ') : 'true';
}
