/**
 * MailHog's MIME structure (src/compat/mailhog/mime.ts): the hand-written indexOf scanner against
 * the same result built on @zone-eu/mailsplit's Splitter (bench/mailsplit-structure.ts), which
 * issue 15 proposed instead. First checks that both give the same MimeTree on every input, then
 * times both on three loads:
 *
 *   (a) every test/fixtures/corpus/*.eml, one after the other;
 *   (b) a 5 MB text part inside 31 nested multipart/mixed (test/compat/hostile-bodies.test.ts);
 *   (c) a 20 MB message with one base64 attachment (76-character lines).
 *
 *   npx tsx bench/mailhog-structure.ts            # 7 runs per load, median and best
 *
 * "Splitter alone" is the Splitter with its output dropped: what any use of it costs at least.
 *   npx tsx bench/mailhog-structure.ts --runs 3
 *
 * In-process, no server; about 10 seconds. Prints; exits 1 only if the two disagree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isDeepStrictEqual } from 'node:util';
import { parseStructure, type MimeTree, type StructureLimits } from '../src/compat/mailhog/mime.js';
import { MESSAGE_LIMITS } from '../src/compat/mailhog/shapes.js';
import { splitStructure } from './mailsplit-structure.js';
import mailsplit from '@zone-eu/mailsplit';
import { finished } from 'node:stream/promises';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MB = 1024 * 1024;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);
const limits: StructureLimits = { maxParts: MESSAGE_LIMITS.maxParts, maxHeaderBytes: MESSAGE_LIMITS.headerBytes };

function corpus(): Buffer[] {
  const dir = path.join(ROOT, 'test/fixtures/corpus');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.eml'))
    .sort()
    .map((name) => readFileSync(path.join(dir, name)));
}

function nested(depth: number, bytes: number): Buffer {
  const line = 'All work and no play makes Jack a dull boy, again and again and again.\r\n';
  let message = `Content-Type: text/plain; charset=us-ascii\r\n\r\n${line.repeat(Math.ceil(bytes / line.length))}`;
  for (let level = depth; level >= 1; level--) {
    const headers = level === 1 ? 'From: sender@example.com\r\nSubject: nested\r\nMIME-Version: 1.0\r\n' : '';
    message = `${headers}Content-Type: multipart/mixed; boundary="level-${level}"\r\n\r\n--level-${level}\r\n${message}\r\n--level-${level}--\r\n`;
  }
  return Buffer.from(message, 'latin1');
}

function attachment(bytes: number): Buffer {
  const data = Buffer.alloc(Math.floor((bytes * 3) / 4));
  for (let i = 0, x = 1; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const base64 = data.toString('base64').replace(/.{76}/g, '$&\r\n');
  const head = 'From: a@example.test\r\nSubject: attachment\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n';
  return Buffer.from(`${head}--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64}\r\n--b--\r\n`);
}

/** The shapes test/compat/mailhog.test.ts checks, and a few more edges. */
const edges: Buffer[] = [
  'Received: one\r\nreceived: two\r\nSubject: a\r\n\tb\r\n__proto__: x\r\nnot a header\r\n\r\nbody',
  ['Content-Type: multipart/mixed; boundary="b"', '', 'preamble --b not a delimiter', '--b', 'Content-Type: text/plain', '', 'first', '--bb is not the boundary', '', '--b  ', '', 'no headers', '--b--', 'epilogue'].join('\n'),
  'Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\r\nA\r\n--inner--\r\n--outer\r\n\r\nB',
  'Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nA',
  'Subject: no blank line',
  '',
  'Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\nx\r\n--i--\r\nepi\r\n--o--\r\nouter epi\r\n',
  'Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\nnever closed\r\n--o\r\nContent-Type: text/plain\r\n--o--\r\n',
  `Content-Type: multipart/mixed; boundary=b\r\n\r\n${Array.from({ length: 3000 }, (_, i) => `--b\r\n\r\npart ${i}\r\n`).join('')}--b--\r\n`,
].map((text) => Buffer.from(text, 'utf8'));

const loads: [string, Buffer[]][] = [
  ['(a) corpus', corpus()],
  ['(b) 5 MB, 31 deep', [nested(31, 5 * MB)]],
  ['(c) 20 MB base64', [attachment(20 * MB)]],
];

let disagreements = 0;
for (const [name, messages] of [['edges', edges] as [string, Buffer[]], ...loads, ['5,000 deep', [nested(5000, 1 * MB)]] as [string, Buffer[]]]) {
  for (const [index, raw] of messages.entries()) {
    const scanned = parseStructure(raw, limits);
    const split = await splitStructure(raw, limits);
    if (!isDeepStrictEqual(scanned, split)) {
      disagreements += 1;
      console.log(`DIFFERENT: ${name} #${index}\n  scanner:   ${brief(scanned)}\n  mailsplit: ${brief(split)}`);
    }
  }
}
console.log(disagreements === 0 ? 'same MimeTree from both on every input' : `${disagreements} inputs differ`);

function brief(tree: MimeTree): string {
  return JSON.stringify(tree, (key, value: unknown) => (key === 'headers' ? undefined : value)).slice(0, 600);
}

/** The Splitter with nothing built from its output: the floor under the mailsplit version's cost. */
async function splitOnly(raw: Buffer): Promise<void> {
  const splitter = new mailsplit.Splitter({ ignoreEmbedded: true, maxChildNodes: Infinity, maxHeadSize: Infinity });
  splitter.resume();
  splitter.end(raw);
  await finished(splitter);
}

async function time(work: () => unknown): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;
console.log(`\n${runs} runs each; median (best)`);
console.log('load                 size       scanner             mailsplit           ratio   Splitter alone');
for (const [name, messages] of loads) {
  const size = messages.reduce((sum, raw) => sum + raw.length, 0);
  const scanner = await time(() => messages.forEach((raw) => parseStructure(raw, limits)));
  const splitter = await time(async () => {
    for (const raw of messages) await splitStructure(raw, limits);
  });
  const bare = await time(async () => {
    for (const raw of messages) await splitOnly(raw);
  });
  const median = (times: number[]): number => times[Math.floor(times.length / 2)]!;
  console.log(
    `${name.padEnd(20)} ${`${(size / MB).toFixed(1)} MB`.padEnd(10)} ${`${ms(median(scanner))} (${ms(scanner[0]!)})`.padEnd(19)} ${`${ms(median(splitter))} (${ms(splitter[0]!)})`.padEnd(19)} ${`${(median(splitter) / median(scanner)).toFixed(1)}×`.padEnd(7)} ${ms(median(bare))} (${ms(bare[0]!)})`,
  );
}
process.exitCode = disagreements === 0 ? 0 : 1;
