/** The pure parts of SMTP hardening: admission bookkeeping, DATA watches, the MIME structure limits. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createParserPool } from '../../src/parse/pool.js';
import { messageHeaderExceeded, mimeLimitExceeded, type MimeLimits } from '../../src/mail/mime-limits.js';
import { stripAttachmentBodies, stripAttachmentBodiesWithin } from '../../src/mail/skeleton.js';
import { hasControlCharacter } from '../../src/smtp/address-check.js';
import { ClientLimits } from '../../src/smtp/client-limits.js';
import { LineEndingWatch } from '../../src/smtp/line-endings.js';

/** Every way to cut `bytes` into two or three chunks, fed to a fresh watch each time. */
function everyChunking<T extends { feed(chunk: Buffer): void }>(bytes: Buffer, make: () => T, check: (watch: T) => void): void {
  for (let i = 0; i <= bytes.length; i++) {
    for (let j = i; j <= bytes.length; j++) {
      const watch = make();
      for (const chunk of [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]) watch.feed(chunk);
      check(watch);
    }
  }
}

describe('ClientLimits', () => {
  const none = { maxConnections: 0, maxConnectionsPerClient: 0, connectionRate: 0, messageRate: 0 };

  it('counts failed AUTH per client in a window: checks in flight count, successes are forgiven, others unaffected', () => {
    let now = 1_000;
    const limits = new ClientLimits({ ...none, authFailureRate: 3, windowMs: 60_000 }, () => now);
    // Three checks start at once (a parallel burst): all admitted, the fourth is refused before any finishes.
    expect([1, 2, 3].map(() => limits.admitAuth('10.0.0.1'))).toEqual([null, null, null]);
    expect(limits.admitAuth('10.0.0.1')).toMatchObject({ limit: 'auth-failure-rate', text: expect.stringContaining('at most 3 per minute') });
    // Another address is not affected.
    expect(limits.admitAuth('10.0.0.2')).toBeNull();
    // One of the three had the right password: it no longer counts, so one more try is allowed.
    limits.cancelAuthFailure('10.0.0.1');
    expect(limits.admitAuth('10.0.0.1')).toBeNull();
    expect(limits.admitAuth('10.0.0.1')).toMatchObject({ limit: 'auth-failure-rate' });
    // Refusals are not counted, and the window ends on time.
    now += 59_999;
    expect(limits.admitAuth('10.0.0.1')).toMatchObject({ limit: 'auth-failure-rate' });
    now += 1;
    expect(limits.admitAuth('10.0.0.1')).toBeNull();
    // Connections and messages are counted apart from logins.
    expect(limits.admitConnection('10.0.0.1')).toBeNull();
    expect(limits.admitMessage('10.0.0.1')).toBeNull();
  });

  it('has no AUTH limit when authFailureRate is 0 or absent', () => {
    for (const limits of [new ClientLimits(none), new ClientLimits({ ...none, authFailureRate: 0 })]) {
      for (let i = 0; i < 100; i++) expect(limits.admitAuth('10.0.0.1')).toBeNull();
    }
  });

  it('counts open connections per client and in total, and forgets released ones', () => {
    const limits = new ClientLimits({ ...none, maxConnections: 3, maxConnectionsPerClient: 2 });
    expect(limits.admitConnection('10.0.0.1')).toBeNull();
    expect(limits.admitConnection('10.0.0.1')).toBeNull();
    expect(limits.admitConnection('10.0.0.1')).toMatchObject({ limit: 'connections-per-client' });
    expect(limits.admitConnection('10.0.0.2')).toBeNull();
    expect(limits.admitConnection('10.0.0.3')).toMatchObject({ limit: 'connections' });
    limits.releaseConnection('10.0.0.1');
    expect(limits.openConnections).toBe(2);
    expect(limits.admitConnection('10.0.0.3')).toBeNull();
    // Releasing more than was admitted changes nothing.
    limits.releaseConnection('10.0.0.9');
    expect(limits.openConnections).toBe(3);
  });

  it('limits connection and message rates per client in a fixed window, refused attempts included', () => {
    let now = 1_000;
    const limits = new ClientLimits({ ...none, connectionRate: 2, messageRate: 3, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 2; i++) {
      expect(limits.admitConnection('10.0.0.1')).toBeNull();
      limits.releaseConnection('10.0.0.1');
    }
    expect(limits.admitConnection('10.0.0.1')).toMatchObject({ limit: 'connection-rate', text: expect.stringContaining('per minute') });
    expect(limits.admitConnection('10.0.0.2')).toBeNull();
    expect([1, 2, 3, 4].map(() => limits.admitMessage('10.0.0.2')?.limit ?? null)).toEqual([null, null, null, 'message-rate']);
    now += 59_999;
    expect(limits.admitConnection('10.0.0.1')).toMatchObject({ limit: 'connection-rate' });
    now += 1;
    expect(limits.admitConnection('10.0.0.1')).toBeNull();
    expect(limits.admitMessage('10.0.0.2')).toBeNull();
  });

  it('0 means no limit', () => {
    const limits = new ClientLimits(none);
    for (let i = 0; i < 1000; i++) {
      expect(limits.admitConnection('10.0.0.1')).toBeNull();
      expect(limits.admitMessage('10.0.0.1')).toBeNull();
    }
  });
});

describe('LineEndingWatch', () => {
  const cases: [string, string[]][] = [
    ['a\r\nb\r\n', []],
    ['a\nb\r\n', ['bare-lf']],
    ['\nb\r\n', ['bare-lf']],
    ['a\rb\r\n', ['bare-cr']],
    ['a\r\r\n', ['bare-cr']],
    ['a\n.\nb\r.\r\n', ['bare-lf', 'bare-cr']],
    ['a\r', ['bare-cr']],
  ];
  it.each(cases)('%j → %j, however the data is chunked', (text, expected) => {
    everyChunking(Buffer.from(text, 'latin1'), () => new LineEndingWatch(), (watch) => expect(watch.warnings()).toEqual(expected));
  });

  /** The definition, one byte at a time over the whole data. */
  function reference(data: Buffer): string[] {
    let bareLf = false;
    let bareCr = false;
    for (let i = 0; i < data.length; i++) {
      if (data[i] === 0x0a && data[i - 1] !== 0x0d) bareLf = true;
      if (data[i] === 0x0d && data[i + 1] !== 0x0a) bareCr = true;
    }
    return [...(bareLf ? ['bare-lf'] : []), ...(bareCr ? ['bare-cr'] : [])];
  }

  it('agrees with a byte-by-byte reading on generated data, sparse and dense in line breaks, in random chunks', () => {
    // Deterministic pseudo-random numbers (xorshift32), so a failure can be replayed.
    let seed = 0x2545f491;
    const random = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    // Dense data (a break every few bytes) takes the regular-expression path, sparse data the
    // native searches; a rare stray CR or LF is placed anywhere, chunk edges included.
    for (let round = 0; round < 3000; round++) {
      const lineLength = [1, 2, 4, 8, 30, 76, 1000][random(7)]!;
      const length = random(3) === 0 ? random(64) : random(20_000);
      const bytes = Buffer.alloc(length, 0x41);
      for (let at = lineLength; at + 1 < length; at += lineLength + 2) bytes.write('\r\n', at, 'latin1');
      for (let stray = random(3); stray > 0; stray--) if (length > 0) bytes[random(length)] = random(2) ? 0x0a : 0x0d;
      const expected = reference(bytes);
      const watch = new LineEndingWatch();
      for (let at = 0; at < length; ) {
        const size = random(4) === 0 ? random(4) : random(5000);
        watch.feed(bytes.subarray(at, at + size));
        at += size;
      }
      expect(watch.warnings(), `round ${round}`).toEqual(expected);
    }
  });
});

describe('header size limit', () => {
  const limit = (maxHeaderBytes: number): MimeLimits => ({ maxHeaderBytes, maxParts: 1000, maxDepth: 50 });
  const over = (text: string, max: number): [boolean, boolean] => [messageHeaderExceeded(Buffer.from(text, 'latin1'), limit(max)) !== null, mimeLimitExceeded(Buffer.from(text, 'latin1'), limit(max)) !== null];

  it('measures the header up to the first empty line, CRLF or bare LF, the same way in both checks', () => {
    const message = 'Subject: 12345\r\nX: y\r\n\r\nbody\r\n'; // header: 22 bytes
    expect(over(message, 22)).toEqual([false, false]);
    expect(over(message, 21)).toEqual([true, true]);
    const bareLf = 'Subject: 12345\nX: y\n\nbody\n'; // header: 20 bytes
    expect(over(bareLf, 20)).toEqual([false, false]);
    expect(over(bareLf, 19)).toEqual([true, true]);
    expect(over('\r\nno header at all, long body\r\n', 0)).toEqual([false, false]);
    expect(over('Subject: x\r\n', 12)).toEqual([false, false]);
    expect(over('Subject: x\r\n', 11)).toEqual([true, true]);
    expect(over(`X: ${'h'.repeat(10 * 1024 * 1024)}\r\n\r\nbody\r\n`, 100 * 1024)).toEqual([true, true]);
  });

  it('applies to the header of every MIME part too', () => {
    const part = (header: string) => `Subject: s\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\n${header}Content-Type: text/plain\r\n\r\nx\r\n--p--\r\n`;
    expect(over(part(`X-Long: ${'h'.repeat(900)}\r\n`), 1024)).toEqual([false, false]);
    expect(over(part(`X-Long: ${'h'.repeat(1100)}\r\n`), 1024)).toEqual([false, true]);
  });
});

describe('mimeLimitExceeded', () => {
  const limits = { maxHeaderBytes: 100 * 1024, maxParts: 1000, maxDepth: 50 };

  function multipart(boundary: string, parts: string[], type = 'mixed'): string {
    return `Content-Type: multipart/${type}; boundary="${boundary}"\r\n\r\npreamble\r\n${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`;
  }
  const leaf = (text: string): string => `Content-Type: text/plain\r\n\r\n${text}`;
  function nested(levels: number): string {
    let body = leaf('deepest');
    for (let i = levels; i >= 1; i--) body = multipart(`b${i}`, [body]);
    return `Subject: nested\r\n${body}`;
  }
  function wide(count: number): string {
    return `Subject: wide\r\n${multipart('w', Array.from({ length: count }, (_, i) => leaf(`part ${i}`)))}`;
  }

  it('counts every entity, the message and containers included', () => {
    expect(mimeLimitExceeded(Buffer.from(wide(3)), { maxHeaderBytes: 1024 * 1024, maxParts: 4, maxDepth: 50 })).toBeNull();
    expect(mimeLimitExceeded(Buffer.from(wide(4)), { maxHeaderBytes: 1024 * 1024, maxParts: 4, maxDepth: 50 })).toMatch(/more than 4 MIME parts/);
    expect(mimeLimitExceeded(Buffer.from('Subject: plain\r\n\r\nhello\r\n'), { maxHeaderBytes: 1024 * 1024, maxParts: 1, maxDepth: 0 })).toBeNull();
  });

  it('measures depth: the parts of a top-level multipart are at depth 1', () => {
    expect(mimeLimitExceeded(Buffer.from(nested(3)), { maxHeaderBytes: 1024 * 1024, maxParts: 1000, maxDepth: 3 })).toBeNull();
    expect(mimeLimitExceeded(Buffer.from(nested(4)), { maxHeaderBytes: 1024 * 1024, maxParts: 1000, maxDepth: 3 })).toMatch(/nested more than 3 deep/);
  });

  it('follows outer delimiters that close inner parts, and attached messages', () => {
    // The inner multipart is never closed: the outer delimiter ends it (as mailparser reads it).
    const unclosed = `Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n${leaf('a')}\r\n--outer\r\n${leaf('b')}\r\n--outer--\r\n`;
    expect(mimeLimitExceeded(Buffer.from(unclosed), { maxHeaderBytes: 1024 * 1024, maxParts: 4, maxDepth: 2 })).toBeNull();
    expect(mimeLimitExceeded(Buffer.from(unclosed), { maxHeaderBytes: 1024 * 1024, maxParts: 3, maxDepth: 2 })).toMatch(/more than 3/);
    const attached = `Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: message/rfc822\r\n\r\n${nested(2)}\r\n--m--\r\n`;
    // message → rfc822 part (1) → attached message (2) → its two multiparts' parts (3, 4)
    expect(mimeLimitExceeded(Buffer.from(attached), { maxHeaderBytes: 1024 * 1024, maxParts: 1000, maxDepth: 4 })).toBeNull();
    expect(mimeLimitExceeded(Buffer.from(attached), { maxHeaderBytes: 1024 * 1024, maxParts: 1000, maxDepth: 3 })).toMatch(/nested more than 3/);
  });

  it('stops early on pathological shapes: 100,000 nested multiparts, a million tiny parts', () => {
    expect(mimeLimitExceeded(Buffer.from(nested(100_000)), limits)).toMatch(/nested more than 50 deep/);
    const tiny = Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${'--b\r\n\r\nx\r\n'.repeat(1_000_000)}--b--\r\n`);
    expect(mimeLimitExceeded(tiny, limits)).toMatch(/more than 1000 MIME parts/);
  });

  it('passes ordinary mail, however long its lines', () => {
    const longHeader = `Subject: x\r\nX-Long: ${'a'.repeat(1_000_000)}\r\n${multipart('q', [leaf('one'), leaf('two')])}`;
    expect(mimeLimitExceeded(Buffer.from(longHeader), { ...limits, maxHeaderBytes: 2 * 1024 * 1024 })).toBeNull();
    expect(mimeLimitExceeded(Buffer.from(wide(999)), limits)).toBeNull();
  });

  it('sees the same structure in a skeleton as in its message', () => {
    const attachment = `Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(30_000, 7).toString('base64').replace(/.{76}/g, '$&\r\n')}`;
    const raw = Buffer.from(`Subject: s\r\n${multipart('s', [leaf('text'), attachment, attachment])}`);
    const skeleton = stripAttachmentBodies(raw);
    expect(skeleton.bytes.length).toBeLessThan(raw.length / 10);
    for (const maxParts of [3, 4]) {
      const max = { maxHeaderBytes: 1024, maxParts, maxDepth: 5 };
      expect(mimeLimitExceeded(skeleton.bytes, max)).toBe(mimeLimitExceeded(raw, max));
    }
  });
});

describe('structure limits in the parser pool', () => {
  // With limits at least as roomy as the fast parser's own bounds (32 entities, depth 8, headers
  // within a 64 KB message), the pool asks the fast parser first and skips the separate limit
  // pass for what it accepts. These sit right at those bounds, on both sides.
  const attachment = (i: number): string => `Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA`;
  const withEntities = (count: number): Buffer =>
    Buffer.from(`Subject: wide\r\nContent-Type: multipart/mixed; boundary="w"\r\n\r\n--w\r\nContent-Type: text/plain\r\n\r\nhello\r\n${Array.from({ length: count - 2 }, (_, i) => `--w\r\n${attachment(i)}\r\n`).join('')}--w--\r\n`);
  const atDepth = (levels: number): Buffer => {
    let body = 'Content-Type: text/plain\r\n\r\ndeepest';
    for (let i = levels; i >= 1; i--) body = `Content-Type: multipart/mixed; boundary="d${i}"\r\n\r\n--d${i}\r\n${body}\r\n--d${i}--\r\n`;
    return Buffer.from(`Subject: deep\r\n${body}`);
  };
  const roomy: MimeLimits = { maxHeaderBytes: 64 * 1024, maxParts: 32, maxDepth: 8 };

  async function outcomes(limits: MimeLimits, messages: Buffer[]) {
    const pool = createParserPool({ size: 1, timeoutMs: 10_000, mimeLimits: limits }, { log: pino({ level: 'silent' }) });
    try {
      return await Promise.all(messages.map((raw) => pool.parse(raw)));
    } finally {
      await pool.close();
    }
  }

  it('parses what is within the limits and flags what is over them, when the fast parser goes first', async () => {
    const [parts32, parts33, depth8, depth9] = await outcomes(roomy, [withEntities(32), withEntities(33), atDepth(8), atDepth(9)]);
    expect(parts32).toMatchObject({ ok: true, message: { text: 'hello' } });
    expect(parts32?.ok && parts32.message.attachments).toHaveLength(30);
    expect(parts33).toEqual({ ok: false, error: 'more than 32 MIME parts (limit: --max-mime-parts); kept unparsed' });
    expect(depth8).toMatchObject({ ok: true, message: { text: 'deepest' } });
    expect(depth9).toEqual({ ok: false, error: 'MIME parts nested more than 8 deep (limit: --max-mime-depth); kept unparsed' });
  });

  it('checks lower limits before parsing, whatever the fast parser would accept', async () => {
    const [parts, depth] = await outcomes({ ...roomy, maxParts: 31, maxDepth: 7 }, [withEntities(32), atDepth(8)]);
    expect(parts).toEqual({ ok: false, error: 'more than 31 MIME parts (limit: --max-mime-parts); kept unparsed' });
    expect(depth).toEqual({ ok: false, error: 'MIME parts nested more than 7 deep (limit: --max-mime-depth); kept unparsed' });
  });
});

describe('stripAttachmentBodiesWithin (the SMTP thread\'s time limit on stripping)', () => {
  it('gives up on a hostile structure instead of holding the thread, and strips ordinary mail as without a limit', () => {
    let body = 'Content-Type: text/plain\r\n\r\nx';
    for (let i = 50_000; i >= 1; i--) body = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${body}\r\n--b${i}--`;
    expect(stripAttachmentBodiesWithin(Buffer.from(body), 0)).toBeNull();
    const attachment = `Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(100_000, 7).toString('base64').replace(/.{76}/g, '$&\r\n')}`;
    const raw = Buffer.from(`Subject: s\r\nContent-Type: multipart/mixed; boundary=s\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\nhi\r\n--s\r\n${attachment}\r\n--s--\r\n`);
    const within = stripAttachmentBodiesWithin(raw, 60_000);
    expect(within).toEqual(stripAttachmentBodies(raw));
    expect(within!.sizes.size).toBe(1);
  });
});

describe('hasControlCharacter', () => {
  it('finds C0 and C1 controls, DEL and the Unicode line separators, and nothing else', () => {
    for (const bad of ['a\rb', 'a\nb', 'a\0b', 'a\tb', 'a\x7fb', 'a\u0085b', 'a\u2028b', 'a\u2029b']) expect(hasControlCharacter(bad)).toBe(true);
    for (const good of ['user@example.com', 'üñí@exämple.test', '"quoted local"@x.test', 'a+tag@x.test']) expect(hasControlCharacter(good)).toBe(false);
  });
});
