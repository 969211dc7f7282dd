/**
 * Kotak with IMAP on (issue 21) for the real-client tests: started in-process on free loopback
 * ports (`withImapKotak`) or as the `kotak` command (`startImapKotakProcess`, when a test must read
 * the server's own memory), plus what those tests share: the raw bytes the API serves, a temporary
 * directory, and running a command-line client to completion.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { KotakOptions } from '../../src/index.js';
import { startKotakProcess } from './child.js';
import { withKotak, type RunningKotak } from './kotak.js';

/** The IMAP settings every real-client test starts with: any user name and password log in. */
export const IMAP_OPTIONS = { imap: '127.0.0.1:0', imapAuth: 'any' } as const;

export interface ImapKotak extends RunningKotak {
  readonly imapPort: number;
}

export async function withImapKotak(options: KotakOptions = {}): Promise<ImapKotak> {
  const kotak = await withKotak({ ...IMAP_OPTIONS, ...options });
  const { imapPort } = kotak;
  if (imapPort === null) {
    await kotak.stop();
    throw new Error('Kotak started without an IMAP port');
  }
  return Object.assign(kotak, { imapPort });
}

/** The exact bytes Kotak stored for a message: GET /api/messages/:id/raw. */
export async function rawOf(kotak: { url: string }, id: string): Promise<Buffer> {
  const res = await fetch(`${kotak.url}/api/messages/${id}/raw`);
  if (res.status !== 200) throw new Error(`GET /api/messages/${id}/raw: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Made by tempDir in this test file; removed after its last test (registered first, so it runs after the file's own cleanup). */
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory, removed when the test file is done. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kotak-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs a client command to completion (never through a shell); a non-zero exit is returned, not thrown. */
export function runClient(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { env: { ...process.env, LC_ALL: 'C', ...options.env }, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 120_000, cwd: options.cwd },
      (error, stdout, stderr) => {
        // A number is the exit status; anything else (ENOENT, a kill on timeout) is a failure to run.
        const status = error ? (error as { code?: unknown }).code : 0;
        if (typeof status === 'number') resolve({ code: status, stdout, stderr: stderr.toString('utf8') });
        else reject(new Error(`${command} did not run to completion: ${error!.message}\n${stderr.toString('utf8')}`));
      },
    );
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin?.end();
  });
}

export interface ImapKotakProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly smtpPort: number;
  readonly imapPort: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** `kotak` as a child process with IMAP on; resolves once its "kotak listening" line names the ports. */
export async function startImapKotakProcess(args: readonly string[] = []): Promise<ImapKotakProcess> {
  // KOTAK_* variables in the test's environment would change what is tested.
  const env = Object.fromEntries(Object.entries(process.env).map(([key, value]) => [key, key.startsWith('KOTAK_') ? undefined : value]));
  const started = await startKotakProcess(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--imap', '127.0.0.1:0', '--imap-auth', 'any', ...args], env);
  const { child } = started;
  const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  return {
    child,
    pid: child.pid!,
    smtpPort: started.smtpPort,
    imapPort: started.imapPort!,
    url: started.url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A process's resident memory in bytes now (VmRSS) and at its peak (VmHWM), from /proc. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}
