/** Running `kotak sendmail` as a child process, the way PHP, cron or a mail library runs sendmail. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { KOTAK_BIN } from './child.js';

export interface SendmailRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SendmailRunOptions {
  /** Written to stdin, which is then closed unless `keepStdinOpen`. */
  readonly input?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
  /** Leave stdin open after the input, as a writer that never closes its end. */
  readonly keepStdinOpen?: boolean;
  /** Run this executable (e.g. a link named sendmail) instead of `node bin/kotak.js sendmail`. */
  readonly executable?: string;
}

/** Environment without the variables that would change sendmail's defaults behind a test's back. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.KOTAK_SENDMAIL_SMTP;
  delete env.KOTAK_SENDMAIL_FROM;
  return { ...env, ...extra };
}

export function spawnSendmail(args: readonly string[], options: Omit<SendmailRunOptions, 'input' | 'keepStdinOpen'> = {}): ChildProcessWithoutNullStreams {
  const [command, argv] = options.executable ? [options.executable, [...args]] : [process.execPath, [KOTAK_BIN, 'sendmail', ...args]];
  return spawn(command, argv, { env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
}

export async function runSendmail(args: readonly string[], options: SendmailRunOptions = {}): Promise<SendmailRun> {
  const child = spawnSendmail(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  // sendmail may stop reading early (a lone dot, no recipients): a write after that is not an error here.
  child.stdin.on('error', () => undefined);
  if (options.input !== undefined) child.stdin.write(options.input);
  if (!options.keepStdinOpen) child.stdin.end();
  const [code] = (await once(child, 'exit')) as [number | null];
  if (options.keepStdinOpen) child.stdin.destroy();
  return { code, stdout, stderr };
}

/** The id in "-v" output ("sendmail: sent to …: 250 2.0.0 Ok: queued as ID"). */
export function queuedIdFrom(run: SendmailRun): string {
  const match = /queued as (\S+)/.exec(run.stderr);
  if (!match) throw new Error(`no queued id: exit ${run.code}, stderr ${run.stderr}`);
  return match[1]!;
}

/** A directory with a link named `sendmail` to the kotak command; `remove` deletes it. */
export function sendmailLink(): { readonly path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-sendmail-link-'));
  const path = join(dir, 'sendmail');
  symlinkSync(KOTAK_BIN, path);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port nothing listens on: bound, then closed again. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ScriptedReplies {
  /** Reply code to MAIL FROM (with text chosen by class). */
  readonly mail?: number;
  readonly rcpt?: (address: string) => number | undefined;
  /** Reply code to the end of DATA. */
  readonly data?: number;
}

/** An SMTP server that answers as scripted, for replies Kotak itself never gives (550 to RCPT, 554 to DATA, 530). */
export async function startScriptedServer(replies: ScriptedReplies): Promise<{ readonly port: number; readonly messages: Buffer[]; close(): Promise<void> }> {
  const messages: Buffer[] = [];
  const refuse = (code: number, text: string): Error => Object.assign(new Error(text), { responseCode: code });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onMailFrom(_address, _session, callback) {
      const code = replies.mail;
      if (code === 530) return callback(refuse(530, '5.7.0 Authentication required'));
      if (code && code >= 400) return callback(refuse(code, code >= 500 ? '5.1.8 Sender refused' : '4.3.0 Try later'));
      callback();
    },
    onRcptTo(address, _session, callback) {
      const code = replies.rcpt?.(address.address);
      if (code && code >= 400) return callback(refuse(code, code >= 500 ? '5.1.1 No such user here' : '4.2.1 Mailbox busy, try later'));
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = replies.data;
        if (code && code >= 400) return callback(refuse(code, code >= 500 ? '5.6.0 Message content rejected' : '4.3.0 Storage busy'));
        messages.push(Buffer.concat(chunks));
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as net.AddressInfo;
  return { port, messages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
