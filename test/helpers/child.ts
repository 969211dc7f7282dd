/** Running the real `kotak` command as a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export const KOTAK_BIN = new URL('../../bin/kotak.js', import.meta.url).pathname;

export interface KotakProcess {
  readonly child: ChildProcess;
  readonly smtpPort: number;
  readonly httpPort: number;
  /** Null unless started with --pop3. */
  readonly pop3Port: number | null;
  /** Null unless started with --imap. */
  readonly imapPort: number | null;
  readonly url: string;
}

/**
 * Starts `kotak` and resolves once its "listening" log line names the ports. `wrapper` runs it
 * under another command (e.g. `['strace', '-f', …]`), which must pass stdout through.
 */
export function startKotakProcess(args: string[], env: NodeJS.ProcessEnv = {}, wrapper: readonly string[] = []): Promise<KotakProcess> {
  const command = [...wrapper, process.execPath, KOTAK_BIN, ...args];
  const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      for (const line of out.split('\n')) {
        if (!line.includes('"kotak listening"')) continue;
        const log = JSON.parse(line) as { smtpPort: number; httpPort: number; pop3Port?: number | null; imapPort?: number | null; url: string };
        resolve({ child, smtpPort: log.smtpPort, httpPort: log.httpPort, pop3Port: log.pop3Port ?? null, imapPort: log.imapPort ?? null, url: log.url });
        out = '';
        return;
      }
      // Only the line being written is kept: a long run logs a lot.
      out = out.slice(out.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => reject(new Error(`kotak exited with ${code}: ${err}${out}`)));
  });
}

/** Runs `kotak` to completion and returns what it printed. */
export async function runKotak(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [KOTAK_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
