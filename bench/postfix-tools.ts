/**
 * Postfix's own SMTP benchmark tools (Debian's `postfix` package), as a ceiling and as a second
 * load generator for bench/ingest.ts (issue 19):
 *
 * - `smtp-sink` accepts and discards every message, in C: the fastest an SMTP server can be here.
 * - `smtp-source` sends N messages over S sessions, each a plain-text body of `-l` bytes in lines
 *   of 79 characters, and exits when every one has its reply: a client that costs the server's
 *   cores almost nothing, and a message shape (long plain text) bench/ingest.ts's client does not send.
 *
 * Neither reports a port it was given 0 for, so a free port is found first (a race with another
 * process taking it is possible and would show as a failed start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { freePort } from '../test/helpers/free-port.js';

export const SMTP_SINK = '/usr/sbin/smtp-sink';
export const SMTP_SOURCE = '/usr/sbin/smtp-source';

export function postfixToolsInstalled(): boolean {
  return existsSync(SMTP_SINK) && existsSync(SMTP_SOURCE);
}

/** Resolves once something accepts connections on the port (smtp-sink prints nothing when ready). */
async function accepting(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`smtp-sink did not accept connections on port ${port}`);
}

/** Starts smtp-sink on a free loopback port; as root it needs a user to drop to (`-u nobody`). */
export async function startSmtpSink(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const asRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  // 256: the listen backlog; -4: IPv4 only, as the address is.
  const child = spawn(SMTP_SINK, [...asRoot, '-4', `127.0.0.1:${port}`, '256'], { stdio: ['ignore', 'ignore', 'pipe'] });
  await accepting(port, child);
  return { child, port };
}

export interface SourceRun {
  readonly seconds: number;
  readonly messagesPerSecond: number;
}

/**
 * Sends `messages` messages of a `bodyBytes` plain-text body over `sessions` parallel sessions with
 * smtp-source, each session sending one message after another over the same connection (`-d`, as
 * an app's SMTP pool does). Without `-d` smtp-source opens a connection per message, which at 1 KB
 * measures connection setup more than ingest (it did until 7 December; see bench/README.md).
 */
export async function runSmtpSource(port: number, options: { messages: number; sessions: number; bodyBytes: number }): Promise<SourceRun> {
  const args = ['-d', '-s', String(options.sessions), '-m', String(options.messages), '-l', String(options.bodyBytes), '-f', 'bench@kotak.test', '-t', 'user@example.test', `127.0.0.1:${port}`];
  const t0 = performance.now();
  const child = spawn(SMTP_SOURCE, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`smtp-source exited with ${code}: ${stderr.trim()}`);
  return { seconds, messagesPerSecond: options.messages / seconds };
}
