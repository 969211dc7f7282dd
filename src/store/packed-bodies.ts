/**
 * Body texts stored packed (migration 011, store/blob-codec.ts), and the substring search over
 * them. SQL cannot read a packed text (node-sqlite3 has no user-defined functions), so for each
 * substring term (search-sql.ts's `substringCondition`) the store first scans the packed bodies
 * here, unpacks them and tests them in JavaScript with LIKE's own semantics, and hands the
 * matching seqs to the SQL, which tests the plain (TEXT) bodies itself. Every other part of the
 * query, and its paging, counts and deletes, stay in SQL: results are what they were.
 *
 * The scan is of every body, once per query, as the SQL subquery before it was; `body_chars`
 * lets it skip without unpacking the bodies lacking one of the term's characters.
 */
import type { Connection } from './sqlite-driver.js';
import { packText, unpack, type StoredText } from './blob-codec.js';

/**
 * A body's character mask: bits 0–25 the ASCII letters (either case), 26 any digit, 27–46 the
 * other ASCII characters (by code mod 20), 47–51 every other character (by code point mod 5).
 * 52 bits: exact in a JavaScript number and in SQLite's INTEGER.
 */
const ALL_CHARS = 2 ** 52 - 1;
/** Past this many characters a body gets every bit (it is always unpacked): the mask costs no more than a pass over 1 Mi characters. */
const MAX_MASKED_CHARS = 1024 * 1024;

function charBit(code: number): number {
  // A lone surrogate is stored as U+FFFD (the text is kept as UTF-8).
  if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61;
  if (code >= 0x41 && code <= 0x5a) return code - 0x41;
  if (code >= 0x30 && code <= 0x39) return 26;
  if (code < 0x80) return 27 + (code % 20);
  return 47 + (code % 5);
}

/** The mask of the characters of these texts (a bit set for each class present). */
export function charMask(...texts: readonly (string | null)[]): number {
  let chars = 0;
  for (const text of texts) chars += text?.length ?? 0;
  if (chars > MAX_MASKED_CHARS) return ALL_CHARS;
  // Bits 0–30 in one 32-bit word, the rest in another: JavaScript's | works on 32 bits.
  let low = 0;
  let high = 0;
  for (const text of texts) {
    if (!text) continue;
    for (let i = 0; i < text.length; i++) {
      let code = text.charCodeAt(i);
      // A surrogate pair is one character, as the search's term is split (charBit maps a lone one).
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        const next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
          i += 1;
        }
      }
      const bit = charBit(code);
      if (bit < 31) low |= 1 << bit;
      else high |= 1 << (bit - 31);
    }
  }
  return (low >>> 0) + (high >>> 0) * 2 ** 31;
}

/** A message's text, HTML and header list as message_bodies stores them (migration 011). */
export interface PackedBodies {
  readonly text: StoredText;
  readonly html: StoredText;
  /**
   * The header list (JSON), packed too: only `get()` reads it, and the header lists of real mail
   * (test/fixtures/corpus) packed to 0.24 of their ~2.5 KB (bench/blob-codecs.ts).
   */
  readonly headersJson: StoredText;
  /** The mask of both, or null when neither is packed (SQL reads them as they are). */
  readonly bodyChars: number | null;
}

export function packBodies(text: string | null, html: string | null, headersJson: string): PackedBodies {
  const [packedText, packedHtml, packedHeaders] = [packText(text), packText(html), packText(headersJson)];
  const packed = typeof packedText !== 'string' && packedText !== null ? true : typeof packedHtml !== 'string' && packedHtml !== null;
  return { text: packedText, html: packedHtml, headersJson: packedHeaders, bodyChars: packed ? charMask(text, html) : null };
}

/**
 * Whether the UTF-8 `text` holds `needle` as SQLite's LIKE '%…%' finds it: the needle is
 * lower-cased, and LIKE folds the case of ASCII letters only, so A–Z in the text are folded (in
 * place: the text is a fresh buffer) when the needle has an ASCII letter. Searched as bytes, not
 * decoded: UTF-8 never matches in the middle of a character, so the answer is the same.
 */
function likeContains(text: Buffer, needle: Buffer, foldAscii: boolean): boolean {
  if (foldAscii) {
    for (let i = 0; i < text.length; i++) {
      const byte = text[i]!;
      if (byte >= 0x41 && byte <= 0x5a) text[i] = byte + 0x20;
    }
  }
  return text.includes(needle);
}

/** Candidates sized per statement of the scan. */
const SCAN_BATCH = 2_000;
/**
 * Packed bytes read per statement at most (at least one body): bounds the scan's memory, where
 * 2,000 packed texts of 1 MB messages would be hundreds of MB at once.
 */
const SCAN_BATCH_BYTES = 8 * 1024 * 1024;

interface PackedRow {
  seq: number;
  /** Only packed values are read (the others are NULL here): SQL matches those itself. */
  text: Buffer | null;
  html: Buffer | null;
}

/**
 * The seqs of the messages whose packed text (or, when `withHtml`, packed HTML) contains `value`
 * as `IFNULL(column, '') LIKE '%value%'` would find it (search-sql.ts's `substringCondition`
 * reads the plain ones). In seq order.
 */
export async function packedBodiesContaining(reader: Connection, value: string, withHtml: boolean): Promise<number[]> {
  const lowered = value.toLowerCase();
  const mask = charMask(lowered);
  const needle = Buffer.from(lowered, 'utf8');
  const foldAscii = /[a-z]/.test(lowered);
  const holds = (stored: Buffer | null) => stored !== null && likeContains(unpack(stored), needle, foldAscii);
  const text = "CASE WHEN typeof(text) = 'blob' THEN text END";
  const html = withHtml ? "CASE WHEN typeof(html) = 'blob' THEN html END" : 'NULL';
  const candidate = `${withHtml ? "(typeof(text) = 'blob' OR typeof(html) = 'blob')" : "typeof(text) = 'blob'"} AND (body_chars & ?) = ?`;
  const found: number[] = [];
  for (let after = 0; ; ) {
    // First the candidates' sizes (length() of a BLOB reads no content), then their bodies in runs
    // of at most SCAN_BATCH_BYTES.
    const sizes = await reader.all<{ seq: number; bytes: number }>(
      `SELECT seq, IFNULL(length(${text}), 0) + IFNULL(length(${html}), 0) AS bytes FROM message_bodies
        WHERE seq > ? AND ${candidate} ORDER BY seq LIMIT ?`,
      [after, mask, mask, SCAN_BATCH],
    );
    for (let first = 0; first < sizes.length; ) {
      let last = first;
      let bytes = sizes[first]!.bytes;
      while (last + 1 < sizes.length && bytes + sizes[last + 1]!.bytes <= SCAN_BATCH_BYTES) bytes += sizes[++last]!.bytes;
      const rows = await reader.all<PackedRow>(
        `SELECT seq, ${text} AS text, ${html} AS html FROM message_bodies WHERE seq BETWEEN ? AND ? AND ${candidate} ORDER BY seq`,
        [sizes[first]!.seq, sizes[last]!.seq, mask, mask],
      );
      for (const row of rows) {
        if (holds(row.text) || holds(row.html)) found.push(row.seq);
      }
      first = last + 1;
    }
    if (sizes.length < SCAN_BATCH) return found;
    after = sizes[sizes.length - 1]!.seq;
  }
}
