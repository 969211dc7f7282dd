/**
 * Password guessers against SMTP AUTH: how long a fresh client waits for its greeting, and
 * `/livez` for its answer, while N guessers (each from its own loopback address, so the
 * per-address AUTH limit does not stop them) send a wrong password for a bcrypt user at once.
 *
 *   npm run build && tsx bench/auth-guessers.ts                 # 50 guessers, bcrypt cost 10
 *   tsx bench/auth-guessers.ts --guessers 20 --cost 8 --runs 3
 *
 * Kotak runs as a child process (the compiled dist/), so the client's event loop is not the
 * server's. It prints figures and asserts nothing about time.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KOTAK_BIN = path.join(ROOT, 'bin', 'kotak.js');

const { values } = parseArgs({
  options: { guessers: { type: 'string', default: '50' }, cost: { type: 'string', default: '10' }, runs: { type: 'string', default: '1' } },
});
const GUESSERS = Number(values.guessers);
const COST = Number(values.cost);
const RUNS = Number(values.runs);

/** A connection that hands out each complete SMTP reply line (the last line of a reply). */
function connect(port: number, localAddress: string): Promise<{ socket: net.Socket; next: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve({ socket, next }));
    socket.once('error', reject);
    socket.setEncoding('latin1');
    let buffer = '';
    const lines: string[] = [];
    const waiting: ((line: string) => void)[] = [];
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (line[3] === '-') continue;
        const waiter = waiting.shift();
        if (waiter) waiter(line);
        else lines.push(line);
      }
    });
    function next(): Promise<string> {
      const line = lines.shift();
      return line !== undefined ? Promise.resolve(line) : new Promise((r) => waiting.push(r));
    }
  });
}

async function startKotak(htpasswd: string): Promise<{ stop: () => void; smtpPort: number; url: string }> {
  const args = ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:', '--smtp-auth', htpasswd];
  const child = spawn(process.execPath, [KOTAK_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KOTAK_LOG_LEVEL: 'info' } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      for (const line of out.split('\n')) {
        if (!line.includes('"kotak listening"')) continue;
        const log = JSON.parse(line) as { smtpPort: number; url: string };
        resolve({ smtpPort: log.smtpPort, url: log.url, stop: () => child.kill('SIGTERM') });
      }
    });
    child.once('exit', (code) => reject(new Error(`kotak exited with ${code}`)));
  });
}

async function run(htpasswd: string): Promise<{ greetingMs: number; livezMs: number; allAnsweredMs: number; refusedBusy: number }> {
  const kotak = await startKotak(htpasswd);
  try {
    const wrong = `AUTH PLAIN ${Buffer.from('\0alice\0wrong password').toString('base64')}\r\n`;
    const guessers = await Promise.all(
      Array.from({ length: GUESSERS }, async (_, i) => {
        const client = await connect(kotak.smtpPort, `127.0.1.${i + 1}`);
        await client.next();
        client.socket.write('EHLO guesser.test\r\n');
        await client.next();
        return client;
      }),
    );
    const started = performance.now();
    for (const g of guessers) g.socket.write(wrong);
    const answers = guessers.map((g) => g.next());
    const fresh = connect(kotak.smtpPort, '127.0.0.1').then(async (c) => {
      await c.next();
      const greetingMs = performance.now() - started;
      c.socket.destroy();
      return greetingMs;
    });
    const livez = fetch(`${kotak.url}/livez`).then(async (r) => {
      await r.text();
      return performance.now() - started;
    });
    const [greetingMs, livezMs] = await Promise.all([fresh, livez]);
    const replies = await Promise.all(answers);
    const allAnsweredMs = performance.now() - started;
    for (const g of guessers) g.socket.destroy();
    return { greetingMs, livezMs, allAnsweredMs, refusedBusy: replies.filter((r) => r.startsWith('454')).length };
  } finally {
    kotak.stop();
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-bench-auth-'));
try {
  const htpasswd = path.join(dir, 'users');
  writeFileSync(htpasswd, `alice:${bcrypt.hashSync('right password', COST)}\n`);
  console.log(`${GUESSERS} guessers, bcrypt cost ${COST}, ${os.availableParallelism()} cores`);
  for (let i = 0; i < RUNS; i++) {
    const r = await run(htpasswd);
    console.log(
      `fresh greeting ${r.greetingMs.toFixed(0)} ms · /livez ${r.livezMs.toFixed(0)} ms · all guessers answered ${r.allAnsweredMs.toFixed(0)} ms` +
        ` (${r.refusedBusy} of them "454 try later")`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
