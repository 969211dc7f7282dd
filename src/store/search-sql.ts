/**
 * Compiles a parsed search query (src/mail/search-query.ts) into SQL over `messages` (alias m).
 * Text terms use the FTS5 index, except those it cannot split into words, which are substring
 * matches on the stored message (packed texts are matched in JavaScript beforehand, their seqs
 * given as `PackedMatches`: store/packed-bodies.ts); field filters are substring matches on the lower-cased address
 * lists, as Mailpit's are, looked up in the trigram index (migration 010) when 3 characters or
 * longer.
 *
 * At a million messages, `m.seq IN (SELECT rowid FROM <index> WHERE … MATCH ?)` builds the whole
 * match list before the newest 50 are taken. So the first index term *drives* the query instead:
 * the index is read in rowid order (rowid = seq) and joined to `messages`, and ordering and cursors
 * use the index's rowid (`CompiledSearch.seq`), so reading stops after the rows a page needs.
 */
import type { MayContainTerm, SearchQuery, SearchTerm } from '../mail/search-query.js';
import { EARLIEST_TRUSTED_DATE, FOLDS_INTO_ASCII } from './may-match.js';

export interface SqlCondition {
  readonly sql: string;
  readonly params: unknown[];
}

/** A search as SQL: `SELECT … FROM ${from} WHERE ${sql} ORDER BY ${seq} DESC`. */
export interface CompiledSearch extends SqlCondition {
  /** `messages m`, or the index driving the query (alias d) joined to it; takes no parameters. */
  readonly from: string;
  /** The column holding a row's seq on the driving side: order and bound by it so that reading stops early. */
  readonly seq: string;
}

/** Trigram lookups find nothing shorter than a trigram; shorter values are scanned with LIKE alone. */
const MIN_TRIGRAM_CHARS = 3;

/** The columns of message_trigram (migration 010) each field operator searches. */
const TRIGRAM_COLUMNS = {
  to: ['to_search'],
  from: ['from_search'],
  cc: ['cc_search'],
  bcc: ['bcc_search'],
  'reply-to': ['reply_to_search'],
  addressed: ['from_search', 'to_search', 'cc_search', 'bcc_search', 'reply_to_search'],
  subject: ['subject'],
  'message-id': ['message_id'],
} as const;

type FieldTerm = Extract<SearchTerm, { kind: 'field' }>;
type TrigramField = keyof typeof TRIGRAM_COLUMNS;
type TextTerm = Extract<SearchTerm, { kind: 'text' }>;

/** The search columns of each address operator (both stores name them alike: store/pg/search-sql.ts). */
export const ADDRESS_COLUMNS = {
  to: ['m.to_search'],
  from: ['m.from_search'],
  cc: ['m.cc_search'],
  bcc: ['m.bcc_search'],
  'reply-to': ['m.reply_to_search'],
  addressed: ['m.from_search', 'm.to_search', 'm.cc_search', 'm.bcc_search', 'm.reply_to_search'],
} as const;

/**
 * unicode61 cannot find words inside runs of CJK or Thai text (they have no spaces to split on),
 * and a term without letters or digits has no tokens at all: both are searched with LIKE instead.
 */
const NEEDS_SUBSTRING = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]|^[^\p{L}\p{N}]*$/u;

/** A term of ASCII characters only could match the HTML's markup (`=`, `/`, `#`) rather than its text. */
const ASCII_ONLY = /^[\x00-\x7f]*$/;
/** Characters JSON writes escaped: a term holding one is not found in JSON text as it is typed. */
const JSON_ESCAPED = /["\\\u0000-\u001f]/;

/**
 * A substring search of what the full-text index covers, read from the stored message (the index
 * holds no text, migration 009): the subject, the names and addresses of From, To, Cc, Bcc (with
 * the envelope's recipients) and Reply-To and the envelope sender, the whole text, the attachments'
 * file names, and the HTML as stored. The HTML is read with its markup (its text is kept nowhere),
 * so a term of ASCII characters only does not look there: it would match the markup of nearly
 * every HTML message. No LIKE here reads a NULL, so that `NOT` stays exact. A packed text or HTML
 * (migration 011) is not read here: the seqs of those holding the term come in `packedMatches`.
 */
function substringCondition(value: string, packedMatches: PackedMatches): SqlCondition {
  const pattern = likePattern(value);
  const like = (expression: string) => `${expression} LIKE ? ESCAPE '\\'`;
  // The envelope sender is parsed out of its JSON only where the JSON holds the term at all.
  const sender = JSON_ESCAPED.test(value)
    ? [like("IFNULL(m.envelope_json ->> '$.mailFrom', '')")]
    : [`(${like('m.envelope_json')} AND ${like("IFNULL(m.envelope_json ->> '$.mailFrom', '')")})`];
  const onMessage = ['m.subject', ...ADDRESS_COLUMNS.addressed].map(like).concat(sender);
  // A packed text or HTML (a BLOB, migration 011) is searched in JavaScript: its matches are given.
  const onBody = [`(typeof(b.text) != 'blob' AND ${like("IFNULL(b.text, '')")})`];
  if (looksInHtml(value)) onBody.push(`(typeof(b.html) != 'blob' AND ${like("IFNULL(b.html, '')")})`);
  // Only the file names of the attachment list, never its keys or content types.
  onBody.push(`(b.attachments_json != '[]' AND EXISTS (SELECT 1 FROM json_each(b.attachments_json) a WHERE ${like("IFNULL(a.value ->> 'filename', '')")}))`);
  // The bodies are searched once per query (SQLite keeps the matching seqs), not once per message.
  const sql = `(${onMessage.join(' OR ')} OR m.seq IN (SELECT b.seq FROM message_bodies b WHERE ${onBody.join(' OR ')})`;
  // Every placeholder so far is the same pattern.
  const params: unknown[] = Array<string>(sql.split('?').length - 1).fill(pattern);
  const packed = packedMatches.get(value);
  if (packed === undefined) throw new Error(`the packed bodies were not searched for "${value}"`);
  if (packed.length === 0) return { sql: `${sql})`, params };
  return { sql: `${sql} OR m.seq IN (SELECT value FROM json_each(?)))`, params: [...params, JSON.stringify(packed)] };
}

/**
 * The seqs of the messages whose packed text or HTML holds a substring term's value, by value
 * (store/packed-bodies.ts finds them before the query is compiled).
 */
export type PackedMatches = ReadonlyMap<string, readonly number[]>;

/** Whether a substring term looks in the HTML too (see substringCondition). */
export function looksInHtml(value: string): boolean {
  return !ASCII_ONLY.test(value);
}

/** The values of the query's substring terms, negated or not: each needs its packed bodies searched. */
export function substringValues(query: SearchQuery): string[] {
  return [...new Set(query.terms.flatMap((term) => (term.kind === 'text' && NEEDS_SUBSTRING.test(term.value) ? [term.value] : [])))];
}

function likePattern(value: string): string {
  return `%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** An FTS5 string literal: the tokenizer splits it as it splits documents. */
function ftsPhrase(value: string, prefix: boolean): string {
  return `"${value.replace(/"/g, '""')}"${prefix ? '*' : ''}`;
}

function fieldCondition(term: Extract<SearchTerm, { kind: 'field' }>): SqlCondition {
  const pattern = likePattern(term.value);
  if (term.field === 'subject') return { sql: `m.subject LIKE ? ESCAPE '\\'`, params: [pattern] };
  if (term.field === 'message-id') return { sql: `IFNULL(m.message_id, '') LIKE ? ESCAPE '\\'`, params: [pattern] };
  // The whole name, as Mailpit matches it; tags.name is NOCASE, so case does not matter.
  if (term.field === 'tag') {
    return { sql: 'm.seq IN (SELECT mt.seq FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE t.name = ?)', params: [term.value] };
  }
  const columns = ADDRESS_COLUMNS[term.field];
  return {
    sql: `(${columns.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`,
    params: columns.map(() => pattern),
  };
}

/** A field term the trigram index can answer: not a tag (matched whole), and long enough to hold a trigram. */
function usesTrigrams(term: SearchTerm): term is FieldTerm & { field: TrigramField } {
  return term.kind === 'field' && term.field !== 'tag' && [...term.value].length >= MIN_TRIGRAM_CHARS;
}

/** A text term FTS5 answers with MATCH (not the LIKE fallback for scripts without spaces). */
function matchesFullText(term: SearchTerm): term is TextTerm {
  return term.kind === 'text' && !NEEDS_SUBSTRING.test(term.value);
}

/**
 * The trigram lookup for a field term: the rows whose columns hold every trigram of the value, in
 * order, which includes every row the LIKE matches (the tokenizer folds case at least as widely).
 * The LIKE is still applied to each row, so what matches is exactly what the scan would match.
 */
/** The trigram lookup of `part` of the term's value (the whole, lower-cased, by default) in its columns. */
export function trigramPhrase(term: FieldTerm & { field: TrigramField }, part = term.value.toLowerCase()): string {
  return `{${TRIGRAM_COLUMNS[term.field].join(' ')}} : ${ftsPhrase(part, false)}`;
}

/** A field term that drives a search through the trigram index. */
export type TrigramTerm = FieldTerm & { field: TrigramField };

/**
 * For a driving field term, the part of its (lower-cased) value to look up instead of the whole
 * (store/trigram-narrowing.ts); a term missing here is looked up whole.
 */
export type TrigramParts = ReadonlyMap<TrigramTerm, string>;

const NO_TRIGRAM_PARTS: TrigramParts = new Map();

/** The field terms that drive the query through the trigram index (none when a word drives it). */
export function drivingTrigramTerms(query: SearchQuery): TrigramTerm[] {
  if (query.terms.some((term) => !term.negated && matchesFullText(term))) return [];
  return query.terms.filter((term): term is TrigramTerm => !term.negated && usesTrigrams(term));
}


function termCondition(term: SearchTerm, packedMatches: PackedMatches, narrowedSeqs: NarrowedSeqs): SqlCondition {
  switch (term.kind) {
    case 'text': {
      if (NEEDS_SUBSTRING.test(term.value)) return substringCondition(term.value, packedMatches);
      return {
        sql: 'm.seq IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?)',
        params: [ftsPhrase(term.value, !term.phrase)],
      };
    }
    case 'field':
      return fieldCondition(term);
    case 'flag':
      switch (term.flag) {
        case 'read':
          return { sql: 'm.read = 1', params: [] };
        case 'unread':
          return { sql: 'm.read = 0', params: [] };
        case 'tagged':
          return { sql: 'm.seq IN (SELECT seq FROM message_tags)', params: [] };
        case 'attachment':
          return { sql: 'm.has_attachments = 1', params: [] };
        case 'inline':
          return { sql: 'm.has_inline = 1', params: [] };
      }
      break;
    case 'date':
      return term.op === 'before'
        ? { sql: 'm.received_at < ?', params: [term.at] }
        : { sql: 'm.received_at >= ?', params: [term.at] };
    case 'size':
      return term.op === 'larger'
        ? { sql: 'm.size > ?', params: [term.bytes] }
        : { sql: 'm.size < ?', params: [term.bytes] };
    case 'mailbox':
      // Names are stored case-folded (src/mail/mailbox-name.ts), and the parser folded this one.
      return { sql: 'm.mailbox = ?', params: [term.name] };
    case 'may-contain': {
      const seqs = narrowedSeqs.get(term);
      if (seqs === undefined) throw new Error('a may-contain term reached the SQL without its scan (only find() answers it)');
      return { sql: 'm.seq IN (SELECT value FROM json_each(?))', params: [JSON.stringify(seqs)] };
    }
    case 'may-be-sent':
      return maySentCondition(term.from, term.to);
    case 'text-unknown':
      if (term.in === 'header') {
        // The subject and message-id columns are compared folding A-Z only (a field term's LIKE).
        const folds = FOLDS_INTO_ASCII.flatMap((char) => [`instr(m.subject, ?) > 0`, `instr(IFNULL(m.message_id, ''), ?) > 0`]);
        return { sql: `(m.parse_error IS NOT NULL OR ${folds.join(' OR ')})`, params: FOLDS_INTO_ASCII.flatMap((char) => [char, char]) };
      }
      // Correlated, so that a find among a few ids reads only their bodies' rows.
      return { sql: '(m.parse_error IS NOT NULL OR EXISTS (SELECT 1 FROM message_bodies b WHERE b.seq = m.seq AND b.text_cut = 1))', params: [] };
  }
}

/** store/may-match.ts's mayBeSent as SQL (PostgreSQL's is the same but for its placeholders). */
function maySentCondition(from: number | null, to: number | null): SqlCondition {
  const range = [...(from === null ? [] : ['m.date_header >= ?']), ...(to === null ? [] : ['m.date_header < ?'])];
  const params = [EARLIEST_TRUSTED_DATE, ...(from === null ? [] : [from]), ...(to === null ? [] : [to])];
  return { sql: `(m.date_header IS NULL OR m.date_header < ? OR (${range.length ? range.join(' AND ') : '1'}))`, params };
}

/** For each may-contain term of a query, the seqs the store's scan found it may match (store/narrowing-scan.ts). */
export type NarrowedSeqs = ReadonlyMap<MayContainTerm, readonly number[]>;

/** The query's may-contain terms, which the SQLite store answers by a scan before the SQL. */
export function mayContainTerms(query: SearchQuery): MayContainTerm[] {
  return query.terms.filter((term): term is MayContainTerm => term.kind === 'may-contain');
}

/**
 * The earliest `before:` time among the query's positive terms, or null. Its matches are the
 * oldest messages, which a walk from the newest reaches last: the store reads them from the
 * received_at index instead when they are few (`receivedAtIndexed`).
 */
export function earliestBefore(query: SearchQuery): number | null {
  const times = query.terms.flatMap((term) => (term.kind === 'date' && term.op === 'before' && !term.negated ? [term.at] : []));
  return times.length ? Math.min(...times) : null;
}

/** The search read through the received_at index (a `before:` term's few matches), then sorted by seq. */
export function receivedAtIndexed(search: CompiledSearch): CompiledSearch {
  return search.from === 'messages m' ? { ...search, from: 'messages m INDEXED BY messages_received_at' } : search;
}

/**
 * For a driving word searched as a prefix, the index's terms with that prefix (store/prefix-terms.ts),
 * keyed by the word as typed; a word missing here is matched as a prefix.
 */
export type PrefixTerms = ReadonlyMap<string, readonly string[]>;

const NO_PREFIX_TERMS: PrefixTerms = new Map();

/** The driving words whose prefix terms are worth looking up: the rest are phrases or the substring kind. */
export function drivingPrefixWords(query: SearchQuery): string[] {
  return query.terms.flatMap((term) => (term.kind === 'text' && !term.negated && !term.phrase && matchesFullText(term) ? [term.value] : []));
}

/** A driving word's MATCH: its terms OR-ed when known (read newest first), else the prefix query. */
function drivingWord(term: TextTerm, prefixTerms: PrefixTerms): string {
  const terms = term.phrase ? undefined : prefixTerms.get(term.value);
  if (!terms || terms.length === 0) return ftsPhrase(term.value, !term.phrase);
  return `(${terms.map((t) => ftsPhrase(t, false)).join(' OR ')})`;
}

/**
 * True when the query reads an index built behind the commit (fts-indexer.ts): a free-text word
 * or phrase (message_fts), or a field term looked up in message_trigram.
 */
export function readsFullText(query: SearchQuery): boolean {
  // A substring term reads the stored bodies, committed with the row: it need not wait for the indexer.
  return query.terms.some((term) => (term.kind === 'text' ? matchesFullText(term) : !term.negated && usesTrigrams(term)));
}

/**
 * The whole query, its terms AND-ed; `1` when it has no terms. With `drive` (the default), its
 * positive full-text terms, or failing those its positive trigram-able field terms, drive it (one
 * MATCH of them all) and every other term is a condition on the row. Without, every term is a
 * condition on `messages m`: for lookups already narrowed to a few rows (by id, by a recent time),
 * which walking a common word's index entries would only slow down.
 */
export function compileSearch(
  query: SearchQuery,
  {
    drive = true,
    prefixTerms = NO_PREFIX_TERMS,
    trigramParts = NO_TRIGRAM_PARTS,
    packedMatches = new Map(),
    narrowedSeqs = new Map(),
  }: { drive?: boolean; prefixTerms?: PrefixTerms; trigramParts?: TrigramParts; packedMatches?: PackedMatches; narrowedSeqs?: NarrowedSeqs } = {},
): CompiledSearch {
  const parts: string[] = [];
  const params: unknown[] = [];
  const words = drive ? query.terms.filter((term): term is TextTerm => !term.negated && matchesFullText(term)) : [];
  const fields = !drive || words.length > 0 ? [] : drivingTrigramTerms(query);
  let from = 'messages m';
  let seq = 'm.seq';
  if (words.length > 0) {
    from = 'message_fts d CROSS JOIN messages m ON m.seq = d.rowid';
    seq = 'd.rowid';
    parts.push('d.message_fts MATCH ?');
    params.push(words.map((term) => drivingWord(term, prefixTerms)).join(' AND '));
  } else if (fields.length > 0) {
    from = 'message_trigram d CROSS JOIN messages m ON m.seq = d.rowid';
    seq = 'd.rowid';
    parts.push('d.message_trigram MATCH ?');
    params.push(fields.map((term) => trigramPhrase(term, trigramParts.get(term))).join(' AND '));
  }
  for (const term of query.terms) {
    // A driving full-text term is wholly answered by the MATCH; a field term keeps its LIKE.
    if (words.includes(term as TextTerm)) continue;
    const { sql, params: termParams } = termCondition(term, packedMatches, narrowedSeqs);
    params.push(...termParams);
    parts.push(term.negated ? `NOT (${sql})` : sql);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params, from, seq };
}
