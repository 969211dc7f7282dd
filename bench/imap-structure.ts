/**
 * The IMAP structure module (src/imap/structure/) on large and hostile shapes: parse, then
 * BODYSTRUCTURE, ENVELOPE, one section and one BINARY, each message parsed 5 times; prints the
 * median time and the heap the parsed structure keeps (heap with it alive, after a GC, minus
 * before: the tree holds offsets only, so this is noise-sized), then the process's peak RSS.
 * Linear work means the time per MB stays flat as sizes grow.
 *
 *   node --expose-gc --import tsx bench/imap-structure.ts [--only <shape name prefix>]
 */
import { parseMessageStructure } from '../src/imap/structure/index.js';

const MB = 1024 * 1024;

function manyParts(totalBytes: number, parts: number): Buffer {
  const chunks: string[] = ['From: a@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'];
  const line = `${'QUJD'.repeat(19)}\r\n`; // a base64 line of 76 characters
  const perPart = Math.floor(totalBytes / parts / line.length);
  for (let i = 0; i < parts; i++) {
    chunks.push(`--b\r\nContent-Type: application/octet-stream; name="f${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`, line.repeat(perPart));
  }
  chunks.push('--b--\r\n');
  return Buffer.from(chunks.join(''));
}

/** Every line starts with "--" under an open multipart: each is compared with the boundary. */
function dashLines(totalBytes: number): Buffer {
  const head = 'Content-Type: multipart/mixed; boundary="boundary-of-some-length"\r\n\r\n--boundary-of-some-length\r\n\r\n';
  return Buffer.from(head + '--boundary-of-some-lengtX\r\n'.repeat(Math.floor(totalBytes / 27)));
}

/** A header of tiny fields, with the envelope fields at its end. */
function manyFields(totalBytes: number): Buffer {
  return Buffer.from(`${'X-A: b\r\n'.repeat(Math.floor(totalBytes / 8))}Subject: end\r\n\r\nbody`);
}

/** One To: header of many addresses. */
function longAddressList(totalBytes: number): Buffer {
  return Buffer.from(`To: ${'"N" <a@example.com>, '.repeat(Math.floor(totalBytes / 22))}x@example.com\r\n\r\nbody`);
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] ?? '' : '';

function measure(name: string, make: () => Buffer, part: number[]): void {
  if (!name.startsWith(only)) return;
  const raw = make();
  const times: number[] = [];
  let kept = 0;
  let alive: unknown = null;
  for (let round = 0; round < 5; round++) {
    const before = heapUsed();
    const started = performance.now();
    const structure = parseMessageStructure(raw);
    structure.bodyStructure(true);
    structure.envelope();
    structure.section({ part, text: 'MIME' });
    structure.binary(part);
    times.push(performance.now() - started);
    alive = structure;
    kept = heapUsed() - before;
    if (structure.section({ part: [], text: null })!.length !== raw.length) throw new Error('BODY[] differs');
  }
  if (alive === null) throw new Error('unreachable');
  times.sort((a, b) => a - b);
  const median = times[2]!;
  console.log(
    `${name.padEnd(34)} ${(raw.length / MB).toFixed(1).padStart(5)} MB  ${median.toFixed(0).padStart(5)} ms  ${((median / raw.length) * MB).toFixed(1).padStart(5)} ms/MB  structure kept ${Math.max(0, kept / 1024).toFixed(0)} KB`,
  );
}

console.log(`node ${process.version}; ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'with' : 'WITHOUT'} --expose-gc`);
measure('20 MB, 1,000 base64 parts', () => manyParts(20 * MB, 1000), [500]);
measure('20 MB, 10,000 parts', () => manyParts(20 * MB, 10_000), [5000]);
measure('5 MB, 1,000 parts', () => manyParts(5 * MB, 1000), [500]);
measure('20 MB of "--" lines', () => dashLines(20 * MB), [1]);
measure('5 MB of "--" lines', () => dashLines(5 * MB), [1]);
measure('20 MB header, 2.6 M fields', () => manyFields(20 * MB), [1]);
measure('5 MB To: of 240,000 addresses', () => longAddressList(5 * MB), [1]);
measure('20 MB To: of 950,000 addresses', () => longAddressList(20 * MB), [1]);
console.log(`peak RSS of the process (messages built as strings included): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
