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
 * Two codecs (Node 20's zlib has no zstd), chosen by size; measured with bench/blob-codecs.ts and
 * one at a time in CPU time:
 * - under 8 KiB, deflate-raw at level 3: bench/million.ts's messages (~2.9 KB) pack to 0.24 and
 *   their texts to 0.40, at ~15 µs to pack a 1 KB message and ~8 µs to unpack it; brotli at
 *   quality 1 packed them 2–6 points worse, and no quality up to 5 clearly better for the CPU.
 * - from 8 KiB, brotli at quality 1: bench/ingest.ts's 50 KB message (mostly a base64 attachment
 *   of random bytes, as real attachments are already compressed) packs to 0.742 either way, but
 *   in ~230 µs where deflate takes ~810 µs.
 *
 * Synchronous, on the store's insert path, with a window sized to the input: Node's async zlib
 * calls (libuv's thread pool) cost ~90–230 µs of CPU each, spent setting up a stream per call,
 * and at 1 KB × 10 connections they cut the ingest rate by more than half (bench/ingest.ts,
 * alternated with the build before).
 */
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';

/** The first byte of a packed value: which codec made the rest. */
const CODEC_DEFLATE_RAW = 1;
const CODEC_BROTLI = 2;
const DEFLATE_LEVEL = 3;
const BROTLI_QUALITY = 1;
/** Inputs this large or larger are packed with brotli, smaller ones with deflate-raw. */
const BROTLI_MIN_BYTES = 8 * 1024;

/**
 * Texts shorter than this many characters are stored as TEXT: a TEXT value is read by SQL without
 * a detour through JavaScript, and packing one costs ~15 µs of CPU on the insert path to save at
 * most a few hundred bytes (at 1 KB × 10 connections, packing the 1 KB message's ~300-character
 * HTML and ~400-character header list was a fifth of what packing cost).
 */
export const MIN_PACKED_TEXT_CHARS = 512;

/**
 * The smallest window that holds the whole input (2^9 to 2^15 bytes): a smaller window is a
 * smaller state to set up per call, and compresses a short input exactly as well.
 */
function windowBitsFor(length: number): number {
  return Math.max(9, Math.min(15, Math.ceil(Math.log2(length + 262))));
}

function compress(bytes: Buffer): [codec: number, compressed: Buffer] {
  if (bytes.length < BROTLI_MIN_BYTES) return [CODEC_DEFLATE_RAW, deflateRawSync(bytes, { level: DEFLATE_LEVEL, windowBits: windowBitsFor(bytes.length) })];
  const params = {
    [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
    [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    // Brotli's window is 2^10 to 2^24 bytes: as small as holds the input.
    [constants.BROTLI_PARAM_LGWIN]: Math.max(10, Math.min(24, Math.ceil(Math.log2(bytes.length + 16)))),
  };
  return [CODEC_BROTLI, brotliCompressSync(bytes, { params })];
}

/** The value packed, or null when packing does not make it smaller (unless `always`). */
function pack(bytes: Buffer, always = false): Buffer | null {
  const [codec, compressed] = compress(bytes);
  if (!always && compressed.length + 1 >= bytes.length) return null;
  const packed = Buffer.allocUnsafe(compressed.length + 1);
  packed[0] = codec;
  compressed.copy(packed, 1);
  return packed;
}

/** The bytes of a packed value. */
export function unpack(packed: Buffer): Buffer {
  switch (packed[0]) {
    case CODEC_DEFLATE_RAW:
      return inflateRawSync(packed.subarray(1));
    case CODEC_BROTLI:
      return brotliDecompressSync(packed.subarray(1));
    default:
      throw new Error(`stored value has an unknown codec (${packed[0] ?? 'empty'})`);
  }
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
  if (text === null) return text;
  // SQL's LIKE reads a text only up to its first NUL, so a text holding one is always packed:
  // the substring search then reads it in JavaScript (packed-bodies.ts), NULs and all.
  const holdsNul = text.includes('\0');
  if (!holdsNul && text.length < MIN_PACKED_TEXT_CHARS) return text;
  return pack(Buffer.from(text, 'utf8'), holdsNul) ?? text;
}

export function unpackText(stored: StoredText): string | null {
  if (stored === null || typeof stored === 'string') return stored;
  return unpack(stored).toString('utf8');
}
