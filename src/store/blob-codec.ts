/**
 * How the store keeps raw bytes and body texts compressed (migration 011; issue 19: database and
 * raw files under 1.3× the raw bytes). One format for both: a packed value is a BLOB whose first
 * byte names the codec and whose rest is the compressed bytes.
 *
 * - `message_raw.raw`: packed when `message_raw.packed` is 1; rows written before migration 011
 *   (and rows whose bytes did not get smaller) hold the bytes as received, with `packed` 0.
 * - `message_bodies.text`, `.html` and `.headers_json`: a TEXT value is the text as it is (every row before
 *   migration 011, and short texts); a BLOB value is the packed UTF-8 text. SQLite's `typeof()`
 *   tells them apart, so no rewrite happens at migration and SQL can still read the old rows.
 *
 * deflate-raw at level 3 (Node 20's zlib has no zstd): measured with bench/blob-codecs.ts on
 * bench/million.ts's messages, 0.24 of the raw bytes and 0.40 of the text at ~60 µs to compress
 * and ~20–30 µs to inflate a message; brotli (qualities 1–5, text mode) was no smaller below
 * quality 5 and slower to inflate, and level 6 saved 1% more for ~25% more CPU.
 *
 * Synchronous, on the store's insert path: one call costs ~10–15 µs of CPU for a 1 KB message with
 * a window sized to the input, where Node's async zlib calls (libuv's thread pool) cost ~90–230 µs
 * of CPU each, spent setting up a stream per call; at 1 KB × 10 connections the async calls cut
 * the ingest rate by more than half (bench/ingest.ts, alternated with the build before).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** The first byte of a packed value: which codec made the rest. */
const CODEC_DEFLATE_RAW = 1;
const DEFLATE_LEVEL = 3;

/**
 * Texts shorter than this many characters are stored as TEXT: their compressed form saves a few
 * bytes at best, and a TEXT value is read by SQL without a detour through JavaScript.
 */
export const MIN_PACKED_TEXT_CHARS = 256;

/**
 * The smallest window that holds the whole input (2^9 to 2^15 bytes): a smaller window is a
 * smaller state to set up per call, and compresses a short input exactly as well.
 */
function windowBitsFor(length: number): number {
  return Math.max(9, Math.min(15, Math.ceil(Math.log2(length + 262))));
}

/** The value packed, or null when packing does not make it smaller. */
function pack(bytes: Buffer): Buffer | null {
  const compressed = deflateRawSync(bytes, { level: DEFLATE_LEVEL, windowBits: windowBitsFor(bytes.length) });
  if (compressed.length + 1 >= bytes.length) return null;
  const packed = Buffer.allocUnsafe(compressed.length + 1);
  packed[0] = CODEC_DEFLATE_RAW;
  compressed.copy(packed, 1);
  return packed;
}

/** The bytes of a packed value. */
export function unpack(packed: Buffer): Buffer {
  if (packed[0] !== CODEC_DEFLATE_RAW) throw new Error(`stored value has an unknown codec (${packed[0] ?? 'empty'})`);
  return inflateRawSync(packed.subarray(1));
}

/** Raw bytes as `message_raw` stores them: `packed` says whether `bytes` must be unpacked to read. */
export interface StoredRaw {
  readonly bytes: Buffer;
  readonly packed: boolean;
}

export function packRaw(raw: Buffer): StoredRaw {
  if (raw.length === 0) return { bytes: raw, packed: false };
  const packed = pack(raw);
  return packed ? { bytes: packed, packed: true } : { bytes: raw, packed: false };
}

export function unpackRaw(bytes: Buffer, packed: boolean): Buffer {
  return packed ? unpack(bytes) : bytes;
}

/** A body text as `message_bodies` stores it: the text itself (TEXT), or packed (BLOB). */
export type StoredText = string | Buffer | null;

export function packText(text: string | null): StoredText {
  if (text === null || text.length < MIN_PACKED_TEXT_CHARS) return text;
  return pack(Buffer.from(text, 'utf8')) ?? text;
}

export function unpackText(stored: StoredText): string | null {
  if (stored === null || typeof stored === 'string') return stored;
  return unpack(stored).toString('utf8');
}
