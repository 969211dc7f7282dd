/**
 * The messages the benchmarks send and store: realistic text + HTML alternatives, plus a base64
 * attachment at 50 KB and 1 MB. Shared by bench/ingest.ts (over SMTP) and bench/store-commit.ts
 * (the store alone), so both measure the same bytes.
 */

const MB = 1024 * 1024;

export interface SizeSpec {
  readonly label: string;
  readonly bytes: number;
  /**
   * Default messages per scenario, so that each takes about 5–10 s on a 2-core machine (measured:
   * roughly 500 / 1000–1300 msg/s at 1 KB, 175 / 400–475 at 50 KB, 34 / 46–51 at 1 MB, with one /
   * 10–50 connections). A single connection waits for each reply, so it gets half as many.
   */
  readonly messages: number;
}

export const SIZES: Record<string, SizeSpec> = {
  '1k': { label: '1 KB', bytes: 1024, messages: 8_000 },
  '50k': { label: '50 KB', bytes: 50 * 1024, messages: 3_000 },
  // Not in the default matrix: either side of where raw bytes move to files (store/sqlite.ts).
  '128k': { label: '128 KB', bytes: 128 * 1024, messages: 1_500 },
  '256k': { label: '256 KB', bytes: 256 * 1024, messages: 1_000 },
  '1m': { label: '1 MB', bytes: MB, messages: 400 },
};


/**
 * Deterministic pseudo-random bytes (xorshift32), so the attachment is incompressible like real
 * binary data, yet identical from run to run.
 */
function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function base64Lines(data: Buffer): string {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\r\n');
}

const WORDS = 'the quick brown fox jumps over a lazy dog while kotak catches every email your app sends'.split(' ');

/** `bytes` of plain prose, wrapped at ~70 columns with CRLF, as a real text/plain body would be. */
function prose(bytes: number): string {
  const lines: string[] = [];
  let line = '';
  let total = 0;
  for (let i = 0; total + line.length < bytes; i++) {
    const word = WORDS[i % WORDS.length] ?? 'x';
    if (line.length + word.length + 1 > 70) {
      lines.push(line);
      total += line.length + 2;
      line = '';
    }
    line += line ? ` ${word}` : word;
  }
  lines.push(line);
  return lines.join('\r\n');
}

/**
 * One message split in two: `head` (the headers that differ per message: Message-ID, To, Subject)
 * and `body` (everything else, identical for every message, already dot-stuffed and ending in the
 * DATA terminator). Keeping the shared part immutable lets all connections write the same Buffer
 * concurrently; socket.write keeps a reference, so a Buffer patched in place could be changed
 * while still queued.
 */
export interface Template {
  readonly head: (n: number) => Buffer;
  readonly headBytes: number;
  readonly body: Buffer;
  /** Size of one message as the server stores it (head + body, without stuffing/terminator). */
  readonly messageBytes: number;
  /** Message `n` as the server stores it. */
  readonly stored: (n: number) => Buffer;
}

/**
 * The envelope recipients of a run spread over `mailboxes` mailboxes: message n goes to the
 * (n mod count)th. One mailbox: inbox@kotak.test. More: user@mb<k>.inbox.test, k zero-padded to
 * one width so that every message has the same size, which MAILBOX_ROUTE puts in mailbox mb<k>.
 */
export function recipients(mailboxes: number): readonly string[] {
  if (mailboxes === 1) return ['inbox@kotak.test'];
  const width = String(mailboxes - 1).length;
  return Array.from({ length: mailboxes }, (_, k) => `user@mb${String(k).padStart(width, '0')}.inbox.test`);
}

/** The `--mailbox-route` that gives each of recipients()'s addresses its own mailbox. */
export const MAILBOX_ROUTE = '*@{mailbox}.inbox.test';

/**
 * Message n is addressed (To) to recipients[n mod count], the address it is sent to: spread over
 * mailboxes or not, the messages differ only in that address. (Until 6 December the To header was
 * always inbox@kotak.test, so with several mailboxes every message also carried a hidden
 * recipient, a Bcc, that the one-mailbox run did not.)
 */
export function buildTemplate(size: SizeSpec, to: readonly string[] = recipients(1)): Template {
  // Fixed width counter: every message has exactly the same size.
  const head = (n: number): Buffer => {
    const id = String(n).padStart(10, '0');
    return Buffer.from(`Message-ID: <bench-${id}@kotak.bench>\r\nTo: Inbox <${to[n % to.length]}>\r\nSubject: Kotak ingest bench ${size.label} #${id}\r\n`, 'latin1');
  };
  const headBytes = head(0).length;
  const withAttachment = size.bytes > 4096;

  const build = (textBytes: number, attachment: Buffer | null): string => {
    const text = prose(textBytes);
    const html = `<!doctype html>\r\n<html><body style="font-family: sans-serif">\r\n<h1>Kotak bench</h1>\r\n<p>${text}</p>\r\n</body></html>`;
    const alternative = [
      '--alt-7f3a',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 7bit',
      '',
      text,
      '--alt-7f3a',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: 7bit',
      '',
      html,
      '--alt-7f3a--',
    ];
    const common = ['From: Kotak Bench <bench@kotak.test>', 'Date: Sat, 01 Jan 2033 00:00:00 +0000', 'MIME-Version: 1.0'];
    const lines = attachment
      ? [
          ...common,
          'Content-Type: multipart/mixed; boundary="mix-91c2"',
          '',
          'This is a multi-part message in MIME format.',
          '--mix-91c2',
          'Content-Type: multipart/alternative; boundary="alt-7f3a"',
          '',
          ...alternative,
          '--mix-91c2',
          'Content-Type: application/octet-stream; name="payload.bin"',
          'Content-Disposition: attachment; filename="payload.bin"',
          'Content-Transfer-Encoding: base64',
          '',
          base64Lines(attachment),
          '--mix-91c2--',
        ]
      : [...common, 'Content-Type: multipart/alternative; boundary="alt-7f3a"', '', ...alternative];
    return `${lines.join('\r\n')}\r\n`;
  };

  let bodyText: string;
  if (!withAttachment) {
    // Grow the prose (which appears twice: text and HTML) until the message reaches the size.
    let textBytes = 0;
    while (headBytes + build(textBytes + 8, null).length <= size.bytes) textBytes += 8;
    bodyText = build(textBytes, null);
  } else {
    // ~600 bytes of prose; the attachment fills the rest. Base64 is 78 bytes per 57 raw bytes
    // (76 characters + CRLF per line), so this lands within a line of the target.
    const skeleton = headBytes + build(600, Buffer.alloc(0)).length;
    const raw = Math.max(0, Math.floor(((size.bytes - skeleton) * 57) / 78));
    bodyText = build(600, pseudoRandomBytes(raw));
  }
  const body = Buffer.from(bodyText, 'latin1');
  return {
    head,
    headBytes,
    body: Buffer.concat([dotStuff(body), Buffer.from('.\r\n')]),
    messageBytes: headBytes + body.length,
    stored: (n) => Buffer.concat([head(n), body]),
  };
}

/** RFC 5321 §4.5.2: a line that starts with "." gets a second one. `data` starts at a line start. */
function dotStuff(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x2e && (i === 0 || data[i - 1] === 0x0a)) {
      parts.push(data.subarray(from, i), Buffer.from('.'));
      from = i;
    }
  }
  parts.push(data.subarray(from));
  return Buffer.concat(parts);
}

