/**
 * The README's shell commands, run as a reader would, against a real Kotak: so the README cannot
 * drift from the program again.
 *
 * Every ```sh block of README.md is preceded by a marker comment:
 *   <!-- readme-test: run -->                       run it (optionally: expect="text" or expect='text' in its output)
 *   <!-- readme-test: skip: <reason> -->            not run, and the reason says why (docker, …)
 * A block without a marker fails the test, so a new block is either run or knowingly skipped.
 *
 * Run blocks are run in README order with bash (`set -euo pipefail`), in one scratch directory
 * (also HOME), like one reader following the README:
 * - Kotak is `kotak` as a child process (compiled code, as `npx kotak` runs it), on free ports:
 *   1025, 8025, 1110 and 1143 in a block are replaced by the real SMTP, HTTP, POP3 and IMAP ports.
 * - A line `npx kotak [flags]` that starts a server is started by this test before its block runs,
 *   with those flags (addresses moved to 127.0.0.1, port 0), and stopped after it; the block's
 *   other lines talk to it. Without such a line, a block talks to one Kotak shared by all blocks,
 *   started with `--db :memory: --pop3 127.0.0.1:1110 --pop3-auth any` (as "How mail flows" says).
 * - Every Kotak the test starts first receives one message, to alice@example.com with the subject
 *   "Confirm your account", which the wait example waits for and POP3 examples read.
 * - `npx kotak …` runs bin/kotak.js (no registry); any other `npx` fails: skip such a block.
 * - `curl` fails on an HTTP error status (--fail-with-body), so a 404 fails the block.
 * - `<id>` is the id of the newest message at that moment.
 * - The scratch directory holds a `message.eml` (To, Cc and Bcc) for the sendmail example.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KOTAK_BIN } from '../helpers/child.js';

interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly marker: { readonly run: true; readonly expect: readonly string[] } | { readonly run: false; readonly reason: string } | null;
  readonly code: string;
}

/** The ```sh blocks of a Markdown text, each with the marker comment on the line before it. */
function shellBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end === -1) throw new Error(`README.md:${i + 1}: code block never closed`);
    if (fence[2] === 'sh') {
      const before = lines.slice(0, i).reverse().find((l) => l.trim() !== '')?.trim() ?? '';
      const code = lines.slice(i + 1, end).map((l) => l.slice(fence[1]!.length)).join('\n');
      blocks.push({ line: i + 1, marker: parseMarker(before), code });
    }
    i = end;
  }
  return blocks;
}

function parseMarker(text: string): ReadmeBlock['marker'] {
  const marker = /^<!--\s*readme-test:\s*(.*?)\s*-->$/.exec(text);
  if (!marker) return null;
  const skip = /^skip:\s*(\S.*)$/.exec(marker[1]!);
  if (skip) return { run: false, reason: skip[1]! };
  if (!/^run\b/.test(marker[1]!)) return null;
  // expect="…" or, for text holding double quotes (JSON), expect='…'.
  return { run: true, expect: [...marker[1]!.matchAll(/expect=(?:"([^"]*)"|'([^']*)')/g)].map((m) => m[1] ?? m[2]!) };
}

interface Ports {
  readonly smtp: number;
  readonly http: number;
  readonly pop3: number | null;
  readonly imap: number | null;
}

interface Server {
  readonly child: ChildProcess;
  readonly ports: Ports;
}

/** A server line: `npx kotak` with flags, not a sub-command such as `npx kotak sendmail`. */
const SERVER_LINE = /^npx kotak(?:\s+(?!sendmail\b|help\b|-h\b|--help\b|--version\b)(.*))?$/;

/** The words of a README command line as bash splits them (quotes, comments), without running it. */
function shellWords(text: string): string[] {
  const result = spawnSync('bash', ['-c', 'eval "set -- $1"; printf "%s\\0" "$@"', 'words', text], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`cannot split ${text}: ${result.stderr}`);
  return result.stdout.split('\0').slice(0, -1);
}

async function startServer(args: readonly string[], cwd: string): Promise<Server> {
  // Later flags win: every listener moves to a free port on loopback.
  const pop3 = args.includes('--pop3') || args.some((a) => a.startsWith('--pop3=')) ? ['--pop3', '127.0.0.1:0'] : [];
  const imap = args.includes('--imap') || args.some((a) => a.startsWith('--imap=')) ? ['--imap', '127.0.0.1:0'] : [];
  const child = spawn(process.execPath, [KOTAK_BIN, ...args, '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', ...pop3, ...imap], {
    cwd,
    env: { ...process.env, HOME: cwd, KOTAK_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ports = await new Promise<Ports>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"kotak listening"'));
      if (!line) return;
      const log = JSON.parse(line) as { smtpPort: number; httpPort: number; pop3Port?: number; imapPort?: number };
      resolve({ smtp: log.smtpPort, http: log.httpPort, pop3: log.pop3Port ?? null, imap: log.imapPort ?? null });
    });
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.once('exit', (code) => reject(new Error(`kotak ${args.join(' ')} exited with ${code}: ${out}`)));
  });
  // The message the wait example waits for, and the one POP3 examples read.
  await nodemailer
    .createTransport({ host: '127.0.0.1', port: ports.smtp, secure: false, ignoreTLS: true })
    .sendMail({ from: 'app@example.com', to: 'alice@example.com', subject: 'Confirm your account', text: 'https://app.example.test/confirm?token=1' });
  return { child, ports };
}

async function stopServer(server: Server): Promise<void> {
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await exited;
}

function prelude(ports: Ports): string {
  return `set -euo pipefail
curl() { command curl --fail-with-body "$@"; }
npx() {
  if [ "$1" = kotak ]; then shift; node ${JSON.stringify(KOTAK_BIN)} "$@"; return; fi
  echo "README test: npx $1 would need the npm registry; mark this block skip" >&2; return 127
}
readme_newest_id() {
  command curl -sf 'http://127.0.0.1:${ports.http}/api/messages?limit=1' | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).messages[0].id))'
}
export KOTAK_SENDMAIL_SMTP=127.0.0.1:${ports.smtp}
`;
}

/** The block as bash will run it: README ports replaced by the real ones, `<id>` looked up. */
function script(code: string, ports: Ports): string {
  const body = code
    .split('\n')
    .map((line) => (SERVER_LINE.test(line.trim()) ? `: started by the test: ${line}` : line))
    .join('\n')
    .replace(/\b1025\b/g, String(ports.smtp))
    .replace(/\b8025\b/g, String(ports.http))
    .replace(/\b1110\b/g, String(ports.pop3 ?? 1110))
    .replace(/\b1143\b/g, String(ports.imap ?? 1143))
    .replaceAll('<id>', '$(readme_newest_id)');
  return `${prelude(ports)}\n${body}\n`;
}

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const BLOCKS = shellBlocks(README);

describe('README commands', () => {
  let scratch: string;
  let shared: Server;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'kotak-readme-'));
    writeFileSync(
      join(scratch, 'message.eml'),
      'From: app@example.com\r\nTo: bob@example.com\r\nCc: carol@example.com\r\nBcc: dave@example.com\r\nSubject: From message.eml\r\n\r\nHello from the sendmail example.\r\n',
    );
    shared = await startServer(['--db', ':memory:', '--pop3', '127.0.0.1:1110', '--pop3-auth', 'any'], scratch);
  });

  afterAll(async () => {
    if (shared) await stopServer(shared);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('marks every shell block as run or skipped, with a reason', () => {
    expect(BLOCKS.filter((b) => b.marker === null).map((b) => `README.md:${b.line}`)).toEqual([]);
    expect(BLOCKS.filter((b) => b.marker?.run).length).toBeGreaterThanOrEqual(5);
  });

  it('finds the markers and server lines it relies on', () => {
    const sample = ['<!-- readme-test: skip: needs Docker -->', '```sh', 'docker run kotak', '```', '', '<!-- readme-test: run expect="250" -->', '  ```sh', '  npx kotak --pop3 127.0.0.1:1110 # a comment', '  ```'].join('\n');
    expect(shellBlocks(sample)).toEqual([
      { line: 2, marker: { run: false, reason: 'needs Docker' }, code: 'docker run kotak' },
      { line: 7, marker: { run: true, expect: ['250'] }, code: 'npx kotak --pop3 127.0.0.1:1110 # a comment' },
    ]);
    expect(shellWords("--relay-allow '*@a.test,qa+*@b.test' --db x.db # comment")).toEqual(['--relay-allow', '*@a.test,qa+*@b.test', '--db', 'x.db']);
    expect(SERVER_LINE.test('npx kotak sendmail -t')).toBe(false);
    expect(SERVER_LINE.exec('npx kotak --pop3 127.0.0.1:1110')?.[1]).toBe('--pop3 127.0.0.1:1110');
  });

  // Sequential, in README order: later blocks rely on what earlier ones did (files, messages).
  for (const block of BLOCKS.filter((b) => b.marker?.run)) {
    const title = `README.md:${block.line}: ${block.code.split('\n').find((l) => l.trim() && !l.trim().startsWith('#'))?.trim()}`;
    it(title, async () => {
      const serverLine = block.code.split('\n').map((l) => SERVER_LINE.exec(l.trim())).find((m) => m !== null);
      const own = serverLine ? await startServer(shellWords(serverLine[1] ?? ''), scratch) : null;
      try {
        const server = own ?? shared;
        const child = spawn('bash', ['-c', script(block.code, server.ports)], {
          cwd: scratch,
          // No proxy: everything the README talks to is on 127.0.0.1.
          env: { ...process.env, HOME: scratch, FETCHMAILHOME: scratch, LC_ALL: 'C', no_proxy: '*', NO_PROXY: '*' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d));
        child.stderr.on('data', (d: Buffer) => (output += d));
        const [code] = (await once(child, 'close')) as [number | null];
        expect(code, `README.md:${block.line} failed:\n${output}`).toBe(0);
        const expected = block.marker?.run ? block.marker.expect : [];
        for (const text of expected) expect(output, `README.md:${block.line}`).toContain(text);
      } finally {
        if (own) await stopServer(own);
      }
    });
  }
});
