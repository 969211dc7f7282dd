/**
 * Which codec for the stored raw bytes and body texts (issue 19: disk under 1.3× the raw bytes)?
 * Compresses messages shaped like bench/million.ts's (40–400 words, 5% with a 20 KB attachment)
 * and bench/ingest.ts's 1 KB and 50 KB templates with deflate-raw (levels 1, 3, 6) and brotli
 * (qualities 1, 3, 4, 5, text mode), one message at a time as the store does, and prints the ratio, the
 * compression and decompression time per message; then the same for the raw bytes and header
 * lists (as `message_bodies.headers_json` holds them) of the corpus of real mail in
 * test/fixtures/corpus. Prints; asserts nothing.
 *
 *   tsx bench/blob-codecs.ts
 */
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { readdirSync, readFileSync } from 'node:fs';
import { parseMessage } from '../src/mail/parse.js';
import { buildTemplate, SIZES } from './messages.js';
import { seededRandom } from '../test/helpers/random.js';
import { madeUpText, PDF_BASE64 } from './made-up-text.js';

const next = seededRandom(19);
const { sentence } = madeUpText(next);

/** As bench/million.ts builds message n: its raw bytes and its text. */
function millionMessage(n: number): { raw: Buffer; text: string } {
  const from = `sender${n % 30}@shop${n % 30}.example`;
  const subject = `Update ${sentence(4)} #${n}`;
  const text = sentence(40 + Math.floor(next() * 360));
  const headers = `From: ${from}\r\nTo: user${n % 2000}@team.example\r\nSubject: ${subject}\r\nMessage-ID: <m${n}@bench.example>\r\nMIME-Version: 1.0\r\n`;
  const raw =
    n % 20 === 0
      ? `${headers}Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--b\r\nContent-Type: application/pdf; name=report-${n}.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${PDF_BASE64}\r\n--b--\r\n`
      : `${headers}Content-Type: text/plain\r\n\r\n${text}\r\n`;
  return { raw: Buffer.from(raw), text };
}

interface Codec {
  readonly name: string;
  readonly compress: (input: Buffer) => Buffer;
  readonly decompress: (input: Buffer) => Buffer;
}
const codecs: Codec[] = [
  ...[1, 3, 6].map((level) => ({ name: `deflate-raw ${level}`, compress: (b: Buffer) => deflateRawSync(b, { level }), decompress: (b: Buffer) => inflateRawSync(b) })),
  ...[1, 3, 4, 5].map((quality) => ({
    name: `brotli ${quality}`,
    compress: (b: Buffer) =>
      brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }),
    decompress: (b: Buffer) => brotliDecompressSync(b),
  })),
];

function measure(label: string, inputs: readonly Buffer[]): void {
  const bytes = inputs.reduce((sum, b) => sum + b.length, 0);
  console.log(`\n${label}: ${inputs.length} inputs, ${(bytes / inputs.length).toFixed(0)} B each on average`);
  for (const codec of codecs) {
    const t0 = performance.now();
    const packed = inputs.map(codec.compress);
    const t1 = performance.now();
    for (const p of packed) codec.decompress(p);
    const t2 = performance.now();
    const out = packed.reduce((sum, b) => sum + b.length, 0);
    const us = (ms: number) => ((ms * 1000) / inputs.length).toFixed(1).padStart(7);
    console.log(`${codec.name.padEnd(14)} ratio ${(out / bytes).toFixed(3)}   compress ${us(t1 - t0)} µs   decompress ${us(t2 - t1)} µs   (per input)`);
  }
}

const million = Array.from({ length: 5000 }, (_, n) => millionMessage(n));
measure('million.ts raw messages', million.map((m) => m.raw));
measure('million.ts body texts', million.map((m) => Buffer.from(m.text)));
for (const size of ['1k', '50k']) {
  const template = buildTemplate(SIZES[size]!);
  measure(`ingest.ts ${size} raw messages`, Array.from({ length: size === '1k' ? 5000 : 500 }, (_, n) => template.stored(n)));
}

// Real mail (test/fixtures/corpus): its raw bytes, and its header list as message_bodies keeps it (JSON).
const CORPUS = new URL('../test/fixtures/corpus/', import.meta.url);
const raws = readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).map((f) => readFileSync(new URL(f, CORPUS)));
const headers: Buffer[] = [];
for (const raw of raws) {
  try {
    headers.push(Buffer.from(JSON.stringify((await parseMessage(raw)).headers)));
  } catch {
    // A message the parser refuses has no header list stored.
  }
}
measure('corpus raw messages', raws);
measure('corpus header lists (headers_json)', headers);
