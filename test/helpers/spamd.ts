/**
 * A real SpamAssassin spamd (Debian's `spamd` package, with the rules of `spamassassin`) for a
 * test file: on 127.0.0.1 at a free port and on a Unix socket in a temporary directory, local
 * tests only (-L: no DNS, nothing leaves the machine), no user configuration, one child. Started
 * once per file (it loads the whole ruleset, which takes several seconds here); ready when it
 * has answered PING; stopped with SIGTERM, waited for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export const SPAMD_BIN = '/usr/sbin/spamd';

export interface RunningSpamd {
  readonly port: number;
  /** `127.0.0.1:PORT`, as --spamassassin takes it. */
  readonly address: string;
  /** The Unix socket spamd also listens on (`unix:` + this, for --spamassassin). */
  readonly socketPath: string;
  /** Whatever spamd logged (to stderr), for a failure message. */
  log(): string;
  stop(): Promise<void>;
}


/** One PING/PONG exchange; resolves with spamd's answer line. */
export function pingSpamd(options: net.NetConnectOpts): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options);
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.end('PING SPAMC/1.5\r\n\r\n'));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1').split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

/** A started spamd, once its master logged that it listens (or null if it exited first: a port taken meanwhile). */
async function launch(dir: string, port: number, socketPath: string): Promise<{ child: ChildProcess; stderr: () => string } | null> {
  const args = [
    '--listen', `127.0.0.1:${port}`, '--listen', socketPath, '--allowed-ips', '127.0.0.1',
    '--local', '--nouser-config', '--helper-home-dir', dir, '--pidfile', join(dir, 'spamd.pid'),
    '--max-children', '1', '--min-children', '1', '--syslog', 'stderr',
  ];
  // spamd refuses to keep root for its children; `nobody` reads the rules and the temporary home.
  if (process.getuid?.() === 0) args.push('--username', 'nobody');
  const child = spawn(SPAMD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const listening = new Promise<boolean>((resolve) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      log += text;
      // Its master listens: a connection now waits in the backlog until a child takes it.
      if (/server started on/.test(log)) resolve(true);
    });
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  return (await listening) ? { child, stderr: () => log } : null;
}

export async function startSpamd(): Promise<RunningSpamd> {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-spamd-'));
  // Read (and written: its caches) by the unprivileged user spamd's children run as.
  chmodSync(dir, 0o777);
  const socketPath = join(dir, 'spamd.sock');
  let started: Awaited<ReturnType<typeof launch>> = null;
  let port = 0;
  // The free port can be taken between our check and spamd's bind: then spamd exits; try another.
  for (let attempt = 0; attempt < 3 && started === null; attempt++) {
    port = await freePort();
    started = await launch(dir, port, socketPath);
  }
  if (started === null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`spamd (${SPAMD_BIN}) did not start; is Debian's spamd package installed?`);
  }
  const { child, stderr } = started;
  const exited = once(child, 'exit');
  // Should the test process end without stop(), spamd must not outlive it.
  const killOnExit = (): void => void child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const pong = await pingSpamd({ host: '127.0.0.1', port });
  if (!/PONG/.test(pong)) throw new Error(`spamd answered PING with "${pong}"\n${stderr()}`);
  let stopping: Promise<void> | null = null;
  return {
    port,
    address: `127.0.0.1:${port}`,
    socketPath,
    log: stderr,
    stop() {
      stopping ??= (async () => {
        process.off('exit', killOnExit);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
