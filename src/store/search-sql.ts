/**
 * Compiles a parsed search query (src/mail/search-query.ts) into a SQL condition over `messages`
 * (alias m). Text terms use the FTS5 index, except those it cannot split into words, which are
 * substring matches on the stored message; field filters are substring matches on the lower-cased
 * address lists, as Mailpit's are.
 */
import type { SearchQuery, SearchTerm } from '../mail/search-query.js';

export interface SqlCondition {
  readonly sql: string;
  readonly params: unknown[];
}

const ADDRESS_COLUMNS = {
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
 * every HTML message. No LIKE here reads a NULL, so that `NOT` stays exact.
 */
function substringCondition(value: string): SqlCondition {
  const pattern = likePattern(value);
  const like = (expression: string) => `${expression} LIKE ? ESCAPE '\\'`;
  // The envelope sender is parsed out of its JSON only where the JSON holds the term at all.
  const sender = JSON_ESCAPED.test(value)
    ? [like("IFNULL(m.envelope_json ->> '$.mailFrom', '')")]
    : [`(${like('m.envelope_json')} AND ${like("IFNULL(m.envelope_json ->> '$.mailFrom', '')")})`];
  const onMessage = ['m.subject', ...ADDRESS_COLUMNS.addressed].map(like).concat(sender);
  const onBody = [like("IFNULL(b.text, '')")];
  if (!ASCII_ONLY.test(value)) onBody.push(like("IFNULL(b.html, '')"));
  // Only the file names of the attachment list, never its keys or content types.
  onBody.push(`(b.attachments_json != '[]' AND EXISTS (SELECT 1 FROM json_each(b.attachments_json) a WHERE ${like("IFNULL(a.value ->> 'filename', '')")}))`);
  // The bodies are searched once per query (SQLite keeps the matching seqs), not once per message.
  const sql = `(${onMessage.join(' OR ')} OR m.seq IN (SELECT b.seq FROM message_bodies b WHERE ${onBody.join(' OR ')}))`;
  // Every placeholder is the same pattern.
  return { sql, params: Array<string>(sql.split('?').length - 1).fill(pattern) };
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

function termCondition(term: SearchTerm): SqlCondition {
  switch (term.kind) {
    case 'text': {
      if (NEEDS_SUBSTRING.test(term.value)) return substringCondition(term.value);
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
  }
}

/** True when the query reads the full-text index (message_fts): a free-text word or phrase. */
export function readsFullText(query: SearchQuery): boolean {
  return query.terms.some((term) => term.kind === 'text');
}

/** The whole query as one AND-ed condition; `1` when the query has no terms. */
export function compileSearch(query: SearchQuery): SqlCondition {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const term of query.terms) {
    const { sql, params: termParams } = termCondition(term);
    params.push(...termParams);
    parts.push(term.negated ? `NOT (${sql})` : sql);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params };
}
