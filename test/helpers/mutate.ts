/**
 * Seeded mutation of RFC 5322 messages for the adversarial suite (test/adversarial/). Every choice
 * comes from one PRNG, so a run is replayed exactly from its seed: the tests print it, and
 * KOTAK_FUZZ_SEED=<n> (or KOTAK_FUZZ_SEED=random) picks another.
 *
 * Messages are handled as latin1 strings: one char per byte, so every byte survives the round trip.
 */

/** Default seed: fixed, so `npm test` is deterministic; set KOTAK_FUZZ_SEED to explore or replay. */
export const DEFAULT_FUZZ_SEED = 20_250_707;

/** The seed to use: KOTAK_FUZZ_SEED (a number, or "random"), else the default. */
export function fuzzSeed(): number {
  const configured = process.env.KOTAK_FUZZ_SEED?.trim();
  if (!configured) return DEFAULT_FUZZ_SEED;
  if (configured === 'random') return Math.floor(Math.random() * 2 ** 32);
  const seed = Number(configured);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new Error(`KOTAK_FUZZ_SEED must be an integer in [0, 2^32) or "random", not "${configured}"`);
  return seed;
}

/** sfc32, seeded through splitmix32: fast, small, good enough for fuzzing, and stable across Node versions. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** [0, 1) */
  float(): number {
    return this.uint32() / 2 ** 32;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.float() * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** An independent generator derived from this one (so adding a draw here does not shift it). */
  fork(): Random {
    return new Random(this.uint32());
  }

  /** `n` bytes as a latin1 string. */
  bytes(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += String.fromCharCode(this.int(256));
    return out;
  }

  /** `n` printable ASCII characters, no spaces. */
  word(n: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers over latin1 message text.

export const latin1 = (raw: Buffer): string => raw.toString('latin1');
export const bytesOf = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Index just past the header block's blank line, or the text length when there is none. */
export function headerEnd(text: string): number {
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return text.length;
  if (crlf >= 0 && (lf < 0 || crlf + 2 <= lf)) return crlf + 4;
  return lf + 2;
}

/** Lines, each with its own terminator (the last may have none). */
function splitLines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

/** Positions of the starts of lines that match. */
function lineStarts(text: string, match: (line: string) => boolean): { start: number; end: number }[] {
  const found: { start: number; end: number }[] = [];
  let start = 0;
  for (const line of splitLines(text)) {
    if (match(line)) found.push({ start, end: start + line.length });
    start += line.length;
  }
  return found;
}

function insertAt(text: string, at: number, piece: string): string {
  return text.slice(0, at) + piece + text.slice(at);
}

/** A position at the start of a header line (so an inserted header lands between two). */
function headerInsertPoint(text: string, random: Random): number {
  const end = headerEnd(text);
  const starts = lineStarts(text.slice(0, end), (line) => !/^[ \t]/.test(line) && line.trim() !== '');
  return starts.length ? random.pick(starts).start : 0;
}

function base64Of(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function fold(value: string, width = 76): string {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += width) out.push(value.slice(i, i + width));
  return out.join('\r\n ');
}

/** Random UTF-8 text (mixed scripts, emoji), for encoded words. */
function utf8Text(random: Random, chars: number): string {
  const ranges: [number, number][] = [
    [0x41, 0x7a],
    [0xc0, 0x24f],
    [0x400, 0x4ff],
    [0x3040, 0x30ff],
    [0x4e00, 0x9fff],
    [0x1f600, 0x1f64f],
  ];
  let out = '';
  for (let i = 0; i < chars; i++) {
    const [lo, hi] = random.pick(ranges);
    out += String.fromCodePoint(random.between(lo, hi));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The mutations. Each takes a message (latin1) and returns another; none throws on any input.

export type Mutation = (text: string, random: Random) => string;

const bitFlips: Mutation = (text, random) => {
  const buf = bytesOf(text);
  if (buf.length === 0) return text;
  const flips = random.between(1, 24);
  for (let i = 0; i < flips; i++) {
    // Half the flips land in the header block, where parsers are most sensitive.
    const limit = random.chance(0.5) ? Math.max(1, headerEnd(text)) : buf.length;
    const at = random.int(Math.min(limit, buf.length));
    buf[at] = buf[at]! ^ (1 << random.int(8));
  }
  return latin1(buf);
};

const truncate: Mutation = (text, random) => {
  const kind = random.pick(['header', 'boundary', 'base64', 'anywhere'] as const);
  if (kind === 'header') return text.slice(0, random.int(headerEnd(text)));
  if (kind === 'boundary') {
    const boundaries = lineStarts(text, (line) => line.startsWith('--') && line.trim().length > 2);
    if (boundaries.length) {
      const { start, end } = random.pick(boundaries);
      return text.slice(0, random.between(start + 1, Math.max(start + 1, end - 1)));
    }
  }
  if (kind === 'base64') {
    const lines = lineStarts(text, (line) => /^[A-Za-z0-9+/]{40,}={0,2}\r?\n$/.test(line));
    if (lines.length) {
      const { start, end } = random.pick(lines);
      return text.slice(0, random.between(start + 1, Math.max(start + 1, end - 2)));
    }
  }
  return text.slice(0, random.int(text.length));
};

const duplicateLines: Mutation = (text, random) => {
  const lines = splitLines(text);
  const count = random.between(1, 12);
  for (let i = 0; i < count && lines.length; i++) {
    const at = random.int(lines.length);
    const times = random.chance(0.1) ? random.between(2, 200) : 1;
    lines.splice(at, 0, ...Array<string>(times).fill(lines[at]!));
  }
  return lines.join('');
};

const deleteLines: Mutation = (text, random) => {
  const lines = splitLines(text);
  const count = random.between(1, 12);
  for (let i = 0; i < count && lines.length > 1; i++) {
    // Boundary lines and the header/body separator are the interesting ones to lose.
    const special = lines.map((l, n) => (l.startsWith('--') || l.trim() === '' ? n : -1)).filter((n) => n >= 0);
    const at = special.length && random.chance(0.5) ? random.pick(special) : random.int(lines.length);
    lines.splice(at, random.chance(0.1) ? random.between(2, 20) : 1);
  }
  return lines.join('');
};

const oversizeHeader: Mutation = (text, random) => {
  // Below and above a 100 KB header limit (Kotak's default): the first reach the parser, the rest test the refusal.
  const size = random.pick([32 * 1024, 90 * 1024, 200 * 1024, 1024 * 1024]);
  const name = random.pick(['X-Big', 'Subject', 'To', 'References', 'Content-Type', 'Received', 'X-' + 'n'.repeat(2000)]);
  let value: string;
  switch (random.int(4)) {
    case 0:
      value = 'a'.repeat(size); // one unbroken line
      break;
    case 1:
      value = fold(random.word(size)); // folded
      break;
    case 2:
      value = Array.from({ length: Math.ceil(size / 24) }, (_, i) => `<m${i}@x.example>`).join(' ');
      break;
    default:
      value = `multipart/mixed; ${Array.from({ length: Math.ceil(size / 16) }, (_, i) => `p${i}="${i}"`).join('; ')}`;
  }
  return insertAt(text, headerInsertPoint(text, random), `${name}: ${value}\r\n`);
};

const manyHeaders: Mutation = (text, random) => {
  const count = random.pick([1000, 3000, 5000, 20_000]);
  const name = random.pick(['X-Many', 'Received', 'To', 'Subject', 'Content-Type', 'Comments']);
  const numbered = random.chance(0.5);
  let block = '';
  for (let i = 0; i < count; i++) block += `${numbered ? `${name}-${i}` : name}: ${name === 'To' ? `r${i}@example.com` : `value ${i}`}\r\n`;
  return insertAt(text, headerInsertPoint(text, random), block);
};

const deepNesting: Mutation = (text, random) => {
  const depth = random.pick([100, 500, 500, 2000]);
  const kind = random.pick(['multipart', 'rfc822', 'mixed'] as const);
  const closed = random.chance(0.5);
  let open = 'From: Nest <nest@example.com>\r\nSubject: nested\r\nMIME-Version: 1.0\r\n';
  let close = '';
  for (let level = 0; level < depth; level++) {
    const rfc822 = kind === 'rfc822' || (kind === 'mixed' && level % 2 === 1);
    if (rfc822) {
      open += `Content-Type: message/rfc822\r\n\r\nSubject: level ${level}\r\n`;
    } else {
      open += `Content-Type: multipart/mixed; boundary="b${level}"\r\n\r\n--b${level}\r\n`;
      if (closed) close = `\r\n--b${level}--\r\n${close}`;
    }
  }
  return open + text + close;
};

const manyParts: Mutation = (text, random) => {
  const parts = random.pick([200, 1000, 2000]);
  const boundary = `many-${random.word(8)}`;
  const subtype = random.pick(['mixed', 'alternative', 'related', 'digest']);
  let out = `From: Many <many@example.com>\r\nSubject: many parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/${subtype}; boundary="${boundary}"\r\n\r\n`;
  for (let i = 0; i < parts; i++) {
    out += `--${boundary}\r\n`;
    switch (i % 4) {
      case 0:
        out += `Content-Type: text/plain\r\n\r\npart ${i}\r\n`;
        break;
      case 1:
        out += `Content-Type: application/octet-stream; name="f${i}.bin"\r\nContent-Disposition: attachment; filename="f${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n`;
        break;
      case 2:
        out += `Content-Type: image/png\r\nContent-ID: <c${i}@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n`;
        break;
      default:
        out += `Content-Type: text/html\r\n\r\n<p>${i}</p>\r\n`;
    }
  }
  out += `--${boundary}\r\nContent-Type: message/rfc822\r\n\r\n${text}\r\n`;
  return random.chance(0.8) ? `${out}--${boundary}--\r\n` : out;
};

const CHARSETS = ['utf-7', 'UTF-7', 'x-unknown', 'utf-16', 'utf-16le', 'UTF-16BE', 'utf-32', '', '""', 'iso-2022-jp-3', 'x-mac-klingon', 'unicode-1-1-utf-7', 'binary', 'us-ascii"; charset="utf-16', 'b'.repeat(300)];

const wrongCharsets: Mutation = (text, random) => {
  let out = text.replace(/charset=("?)[^";\s]*\1/gi, () => `charset=${random.pick(CHARSETS)}`);
  if (out === text || random.chance(0.5)) {
    // Add parts whose bytes do not fit their label: utf-16 with an odd byte count, utf-7 with a payload.
    const odd = Buffer.from(random.bytes(random.int(64) * 2 + 1), 'latin1').toString('base64');
    const boundary = `cs-${random.word(6)}`;
    out =
      `From: =?utf-16?B?${Buffer.from('\u00d8\u00de\u0041', 'latin1').toString('base64')}?= <cs@example.com>\r\n` +
      `Subject: =?utf-7?Q?+ADw-script+AD4-alert(1)+ADw-/script+AD4-?= =?x-unknown?B?${odd}?= =?utf-16le?B?${odd}?=\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n` +
      `--${boundary}\r\nContent-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n\r\n${odd}\r\n` +
      `--${boundary}\r\nContent-Type: text/html; charset=utf-7\r\n\r\n+ADw-script+AD4-alert(1)+ADw-/script+AD4-\r\n` +
      `--${boundary}\r\nContent-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${random.bytes(200)}\r\n` +
      `--${boundary}\r\nContent-Type: message/rfc822\r\n\r\n${out}\r\n--${boundary}--\r\n`;
  }
  return out;
};

const brokenBoundaries: Mutation = (text, random) => {
  const kind = random.int(6);
  const params = [...text.matchAll(/boundary=("?)([^";\r\n]*)\1/gi)];
  if (params.length === 0 || kind === 5) {
    // No multipart to break: make one that is broken from the start.
    const b = random.pick(['', ' ', '--', 'a'.repeat(200), '(.*)+$', 'x\u0000y', '"']);
    return `From: b@example.com\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--${b}\r\n--${b}--x\r\n`;
  }
  const target = random.pick(params);
  const boundary = target[2]!;
  switch (kind) {
    case 0: // the declared boundary matches nothing
      return text.replace(target[0], `boundary="${random.word(12)}"`);
    case 1: // end boundaries removed
      return boundary ? text.split(`--${boundary}--`).join('') : text;
    case 2: // the boundary declared twice, differently
      return text.replace(target[0], `${target[0]}; boundary="${random.word(5)}"`);
    case 3: // boundary lines with trailing garbage or a missing dash
      return boundary ? text.split(`\n--${boundary}`).join(random.pick([`\n--${boundary}junk`, `\n-${boundary}`, `\n--${boundary} \t`, `\n--${boundary.slice(0, -1)}`])) : text;
    default: // an empty boundary
      return text.replace(target[0], 'boundary=""');
  }
};

const nulBytes: Mutation = (text, random) => {
  let out = text;
  const count = random.between(1, 20);
  for (let i = 0; i < count; i++) {
    const limit = random.chance(0.5) ? headerEnd(out) : out.length;
    out = insertAt(out, random.int(limit + 1), random.chance(0.8) ? '\u0000' : '\u0000'.repeat(random.between(2, 4096)));
  }
  return out;
};

const lineEndings: Mutation = (text, random) => {
  const kind = random.int(4);
  if (kind === 0) return text.replace(/\r\n/g, () => (random.chance(0.3) ? '\n' : '\r\n'));
  if (kind === 1) return text.replace(/\r\n/g, () => (random.chance(0.3) ? '\r' : '\r\n'));
  if (kind === 2) return text.replace(/\r?\n/g, () => random.pick(['\r\n', '\n', '\r', '\r\r\n', '\n\r']));
  let out = text;
  for (let i = 0; i < random.between(1, 30); i++) out = insertAt(out, random.int(out.length + 1), random.pick(['\r', '\n', '\r\r', '\n\n']));
  return out;
};

/** Lines that look like the end of DATA, or like SMTP smuggling attempts: the client stuffs them. */
const loneDots: Mutation = (text, random) => {
  const pieces = ['.\r\n', '..\r\n', '. \r\n', '.\n', '.\r', '.', '\r\n.\r\n', '\n.\n', '\r.\r', '\n.\r\n', '.\r\nMAIL FROM:<smuggled@example.com>\r\n', '\r\n.\r\nRSET\r\n'];
  let out = random.chance(0.2) ? `.${text}` : text;
  const lines = splitLines(out);
  for (let i = 0; i < random.between(1, 10); i++) lines.splice(random.int(lines.length + 1), 0, random.pick(pieces));
  out = lines.join('');
  return random.chance(0.2) ? `${out}\r\n.` : out;
};

const eightBitHeaders: Mutation = (text, random) => {
  const end = headerEnd(text);
  let head = text.slice(0, end);
  const count = random.between(1, 20);
  for (let i = 0; i < count; i++) {
    const piece = random.pick([
      random.bytes(random.between(1, 16)).replace(/[\r\n]/g, '\u00ff'),
      Buffer.from(utf8Text(random, random.between(1, 20)), 'utf8').toString('latin1'),
      '\u00c0\u0080', // overlong NUL
      '\u00ed\u00a0\u0080', // a UTF-16 surrogate in UTF-8
      '\u00ff\u00fe',
    ]);
    head = insertAt(head, random.int(Math.max(1, head.length - 2)), piece);
  }
  if (random.chance(0.3)) head = insertAt(head, headerInsertPoint(text, random), `X-\u00e9\u00e8\u00ff-N\u00e4me: v\u00e4lue\r\n`);
  return head + text.slice(end);
};

const badEncodings: Mutation = (text, random) => {
  let out = text;
  const b64 = lineStarts(out, (line) => /^[A-Za-z0-9+/]{16,}={0,2}\r?\n$/.test(line));
  if (b64.length && random.chance(0.7)) {
    for (let i = 0; i < random.between(1, 10); i++) {
      const { start, end } = random.pick(b64);
      const at = random.between(start, Math.max(start, end - 2));
      out = out.slice(0, at) + random.pick(['!', '====', '%', '-', '_', '=A', '\u00ff', '', 'A']) + out.slice(at + random.int(3));
    }
  }
  if (random.chance(0.5)) out = out.replace(/Content-Transfer-Encoding:[^\r\n]*/gi, () => `Content-Transfer-Encoding: ${random.pick(['base64', 'quoted-printable', 'x-uuencode', 'x-unknown', '8bit', 'binary', 'base64; x=1', ''])}`);
  if (random.chance(0.6) || out === text) {
    const boundary = `enc-${random.word(6)}`;
    const qp = random.pick(['=ZZ=\r\n=', '=\r', 'a=0', '=3D=3', `${'x'.repeat(5000)}=\r\n`, '=E2=82', '=\u00ff', '=\r\n=\r\n=\r\n']);
    const badB64 = random.pick(['!!!!', 'QUJD=RE', '====', 'A', 'QQ', `${'QUJD'.repeat(1000)}=x=`, '\u00ff\u00fe', 'Q\r\nU\r\nJ\r\nD']);
    out =
      `From: enc@example.com\r\nSubject: =?utf-8?B?${badB64}?= =?utf-8?Q?${qp.replace(/[\r\n]/g, '')}?=\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n` +
      `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp}\r\n` +
      `--${boundary}\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n${badB64}\r\n` +
      `--${boundary}\r\nContent-Type: application/pdf; name="x.pdf"\r\nContent-Disposition: attachment; filename="x.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${badB64}\r\n` +
      `--${boundary}\r\nContent-Type: message/rfc822\r\n\r\n${out}\r\n--${boundary}--\r\n`;
  }
  return out;
};

const hugeEncodedWords: Mutation = (text, random) => {
  let value: string;
  switch (random.int(4)) {
    case 0: {
      // One encoded word of hundreds of KB (RFC 2047 says at most 75 chars).
      value = `=?utf-8?B?${base64Of(utf8Text(random, random.pick([20_000, 50_000, 100_000])))}?=`;
      break;
    }
    case 1: {
      // Tens of thousands of small ones.
      const words = random.pick([2000, 10_000]);
      const parts: string[] = [];
      for (let i = 0; i < words; i++) parts.push(`=?utf-8?Q?w${i}_=E2=9C=93?=`);
      value = parts.join('\r\n ');
      break;
    }
    case 2: {
      // Malformed: unterminated, unknown charset, nested markers.
      value = `=?utf-8?B?${'QUJD'.repeat(25_000)}` + ` =?x-unknown?Q?${'=41'.repeat(20_000)}?= =?=?utf-8?Q?=?=?=`;
      break;
    }
    default: {
      // RFC 2231 continuations, thousands of them, in a filename.
      const parts: string[] = [];
      for (let i = 0; i < random.pick([1000, 5000]); i++) parts.push(`filename*${i}*=utf-8''%E2%9C%93${i}`);
      return insertAt(text, headerInsertPoint(text, random), `Content-Disposition: attachment;\r\n ${parts.join(';\r\n ')}\r\n`);
    }
  }
  const name = random.pick(['Subject', 'From', 'To', 'X-Encoded']);
  const header = name === 'From' || name === 'To' ? `${name}: ${value} <w@example.com>\r\n` : `${name}: ${value}\r\n`;
  return insertAt(text, headerInsertPoint(text, random), header);
};

/** Every mutation by name; the fuzz test reports counts per name. */
export const MUTATIONS = {
  bitFlips,
  truncate,
  duplicateLines,
  deleteLines,
  oversizeHeader,
  manyHeaders,
  deepNesting,
  manyParts,
  wrongCharsets,
  brokenBoundaries,
  nulBytes,
  lineEndings,
  loneDots,
  eightBitHeaders,
  badEncodings,
  hugeEncodedWords,
} satisfies Record<string, Mutation>;

export type MutationName = keyof typeof MUTATIONS;

/** Mutations that make a message much larger or deeper: applied once per message, and less often. */
const HEAVY: ReadonlySet<MutationName> = new Set(['oversizeHeader', 'manyHeaders', 'deepNesting', 'manyParts', 'hugeEncodedWords']);

/**
 * Which mutation comes first for the i-th mutant: all of them in turn, the heavy ones in one round
 * of five (they cost the most to send and parse), so each light one is used five times as often.
 */
const SCHEDULE: readonly MutationName[] = (() => {
  const names = Object.keys(MUTATIONS) as MutationName[];
  const schedule: MutationName[] = [];
  for (let round = 0; round < 5; round++) for (const name of names) if (round === 0 || !HEAVY.has(name)) schedule.push(name);
  return schedule;
})();

/**
 * The i-th mutant: its first mutation from SCHEDULE, then up to two light ones. Returns the bytes
 * and the names applied, in order.
 */
export function mutate(original: Buffer, index: number, random: Random): { raw: Buffer; applied: MutationName[] } {
  const light = SCHEDULE.filter((n) => !HEAVY.has(n));
  const applied: MutationName[] = [SCHEDULE[index % SCHEDULE.length]!];
  if (random.chance(0.5)) applied.push(random.pick(light));
  if (random.chance(0.2)) applied.push(random.pick(light));
  let text = latin1(original);
  for (const name of applied) text = MUTATIONS[name](text, random);
  return { raw: bytesOf(text), applied };
}
