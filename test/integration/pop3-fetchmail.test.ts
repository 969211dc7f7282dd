/**
 * Debian's fetchmail as the POP3 client: every message comes back byte for byte (CRLF mail exactly
 * as GET /api/messages/:id/raw serves it; bare-LF mail with CRLF line endings, as POP3 sends it),
 * over plaintext, STLS and implicit TLS; without --keep it deletes, and the deletions reach the
 * API and the WebSocket.
 *
 * fetchmail delivers each message to an MDA that writes it to its own file. `--invisible` leaves
 * out its Received header, `no stripcr` keeps the CRLFs, `no rewrite` leaves addresses alone.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, LiveClient, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const run = promisify(execFile);
const FETCHMAIL = '/usr/bin/fetchmail';
const CORPUS = new URL('../fixtures/corpus/', import.meta.url);
/** Real mail of several shapes: CRLF and bare LF, 8-bit bodies and headers, a line starting with ".", 177 KB. */
const CORPUS_FILES = [
  'mailparser--nodemailer.eml',
  'mailpit--mime-attachment.eml',
  'mimekit--japanese.eml',
  'mailparser--decoderended.eml',
  'rubymail--utf8_headers.eml',
  'mimekit--startrek.eml',
  'inbucket--gmail.eml',
];
const CRAFTED = [
  Buffer.from('From: a@example.com\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n.one dot\r\n..two dots\r\n.\r\n. after a lone dot\r\n'),
  Buffer.concat([Buffer.from('From: a@example.com\r\nSubject: 8-bit caf'), Buffer.from([0xe9]), Buffer.from('\r\n\r\nbytes: '), Buffer.from([0xe9, 0xff, 0x80, 0xc3, 0xa9]), Buffer.from('\r\n')]),
  Buffer.from('From: a@example.com\nSubject: bare LF\n\nline one\n.dotted after bare LF\r\nmixed endings\n'),
];

/** Stores the corpus and crafted messages; returns each id with the bytes POP3 must hand out. */
async function seed(kotak: RunningKotak, corpusFiles = CORPUS_FILES): Promise<Map<string, { raw: Buffer; expected: Buffer }>> {
  const messages = new Map<string, { raw: Buffer; expected: Buffer }>();
  for (const source of [...corpusFiles.map((f) => readFileSync(new URL(f, CORPUS))), ...CRAFTED]) {
    const id = queuedId(await sendRaw(kotak.smtpPort, source));
    const raw = Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer());
    messages.set(id, { raw, expected: Buffer.from(raw.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'), 'latin1') });
  }
  return messages;
}

interface FetchOptions {
  readonly keep: boolean;
  /** rcfile words for TLS, e.g. `sslproto tls1.2+ no sslcertck`. */
  readonly tls: string;
}

/** Runs fetchmail once against Kotak's POP3 port; returns the delivered messages and its log. */
async function fetchmail(port: number, options: FetchOptions): Promise<{ delivered: Buffer[]; log: string }> {
  const home = mkdtempSync(join(tmpdir(), 'kotak-fetchmail-'));
  const out = join(home, 'out');
  const rc = join(home, 'fetchmailrc');
  // The MDA: each message on its stdin, written to a file of its own.
  const deliver = join(home, 'deliver');
  writeFileSync(deliver, `#!/bin/sh\nexec cat > "$(mktemp ${out}/msg.XXXXXX)"\n`, { mode: 0o755 });
  mkdirSync(out);
  writeFileSync(
    rc,
    [
      'set no syslog',
      `poll 127.0.0.1 protocol pop3 port ${port} auth password no envelope`,
      `  user "tester" password "secret" is "${userInfo().username}" here`,
      `  options ${options.keep ? 'keep' : 'no keep'} fetchall no rewrite no stripcr no forcecr no dropstatus no dropdelivered ${options.tls}`,
      `  mda "${deliver}"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  let log: string;
  try {
    const result = await run(FETCHMAIL, ['-f', rc, '--invisible', '-v', '--nosyslog'], {
      env: { ...process.env, HOME: home, FETCHMAILHOME: home, LC_ALL: 'C' },
      timeout: 60_000,
    });
    log = result.stdout + result.stderr;
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`fetchmail exited with ${failed.code}:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
  const delivered = readdirSync(out).map((name) => readFileSync(join(out, name)));
  return { delivered, log };
}

/** Sorted digests: compares sets of messages fast (vitest's deep equality walks Buffers byte by byte). */
const digests = (buffers: Buffer[]): string[] => buffers.map((b) => `${createHash('sha256').update(b).digest('hex')} ${b.length}`).sort();

describe('POP3 with fetchmail', () => {
  // One Kotak with STLS available serves the plaintext, STLS and deleting runs (in that order).
  let kotak: RunningKotak;
  let messages: Map<string, { raw: Buffer; expected: Buffer }>;
  let expected: string[];
  beforeAll(async () => {
    kotak = await withKotak({ pop3: '127.0.0.1:0', pop3Auth: 'any', pop3Tls: 'auto' });
    messages = await seed(kotak);
    expected = digests([...messages.values()].map((m) => m.expected));
  });
  afterAll(() => kotak.stop());

  it('retrieves every message byte for byte over plaintext, leaving them in place with keep', async () => {
    const { delivered, log } = await fetchmail(kotak.pop3Port!, { keep: true, tls: "sslproto ''" });
    expect(log).toContain(`${messages.size} messages for tester`);
    expect(log).not.toContain('POP3> STLS');
    expect(digests(delivered)).toEqual(expected);
    // Mail that arrived with CRLF endings is exactly what the API serves as raw.
    const crlfOnly = [...messages.values()].filter((m) => m.raw.equals(m.expected));
    expect(crlfOnly.length).toBeGreaterThanOrEqual(4);
    for (const m of crlfOnly) expect(delivered.some((d) => d.equals(m.raw))).toBe(true);
    expect((await getJson(kotak, '/api/messages')).body.total).toBe(messages.size);
  });

  it('upgrades with STLS when asked to, and retrieves the same bytes', async () => {
    const { delivered, log } = await fetchmail(kotak.pop3Port!, { keep: true, tls: 'sslproto tls1.2+ no sslcertck' });
    expect(log).toContain('POP3> STLS');
    expect(log).toContain('upgrade to TLS succeeded');
    expect(digests(delivered)).toEqual(expected);
  });

  it('deletes what it retrieved when not keeping: gone from the API, announced on the WebSocket', async () => {
    const live = await LiveClient.connect(kotak);
    try {
      const { delivered, log } = await fetchmail(kotak.pop3Port!, { keep: false, tls: "sslproto ''" });
      expect(log).toContain('POP3> DELE');
      expect(digests(delivered)).toEqual(expected);
      expect((await getJson(kotak, '/api/messages')).body.total).toBe(0);
      const frame = await live.next('message:deleted');
      expect([...frame.data.ids].sort()).toEqual([...messages.keys()].sort());
    } finally {
      live.close();
    }
  });

  it('speaks implicit TLS (fetchmail --ssl)', async () => {
    const implicit = await withKotak({ pop3: '127.0.0.1:0', pop3Auth: 'any', pop3Tls: 'auto', pop3TlsImplicit: true });
    try {
      const seeded = await seed(implicit, CORPUS_FILES.slice(0, 3));
      const { delivered, log } = await fetchmail(implicit.pop3Port!, { keep: true, tls: 'ssl no sslcertck' });
      expect(log).toMatch(/SSL\/TLS: using protocol TLSv1\.[23]/);
      expect(digests(delivered)).toEqual(digests([...seeded.values()].map((m) => m.expected)));
    } finally {
      await implicit.stop();
    }
  });
});
