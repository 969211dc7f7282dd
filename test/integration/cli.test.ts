/** The `kotak` command line: flags, environment, help, and errors a person can act on. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.js';
import { KOTAK_BIN, runKotak, startKotakProcess } from '../helpers/child.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Runs `kotak args` under a pseudo-terminal (util-linux `script`), so its stdout is a TTY. */
function startInTerminal(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; lines: () => string[]; waitForLine: (re: RegExp) => Promise<RegExpMatchArray> } {
  const command = [process.execPath, KOTAK_BIN, ...args].join(' ');
  // stdin stays open: `script` ends the session when its input ends.
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    for (const wake of waiters.splice(0)) wake();
  });
  // Colours and the terminal's CRs are not what is being tested.
  const lines = (): string[] => out.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/);
  const waitForLine = (re: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = lines().map((l) => re.exec(l)).find((m) => m !== null);
        if (match) resolve(match);
        else if (child.exitCode !== null) reject(new Error(`exited before ${re}: ${out}`));
        else waiters.push(check);
      };
      child.once('exit', () => check());
      check();
    });
  return { child, lines, waitForLine };
}

function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', (d) => {
      resolve(String(d));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** Stops `kotak` and resolves once its output has been read to the end ('close', not 'exit'). */
async function stop(child: ChildProcess): Promise<void> {
  const closed = once(child, 'close');
  if (child.exitCode === null) child.kill('SIGTERM');
  await closed;
}

describe('kotak command line', () => {
  it('--help lists every flag with its default and environment variable', async () => {
    const { code, stdout } = await runKotak(['--help']);
    expect(code).toBe(0);
    for (const s of SETTINGS) {
      expect(stdout).toContain(`--${s.flag}`);
      expect(stdout).toContain(`KOTAK_${s.flag.toUpperCase().replace(/-/g, '_')}`);
    }
    expect(stdout).toContain('[default: 127.0.0.1:1025]');
    expect(stdout).toContain('[default: 50MB]');
  });

  it.each([['-h'], ['--help'], ['help']])('kotak %s prints the help in sections, wrapped to $COLUMNS', async (arg) => {
    const { code, stdout } = await runKotak([arg], { COLUMNS: '60' });
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(60);
    for (const heading of ['SMTP:', 'Storage:', 'Limits:']) expect(lines).toContain(heading);
    for (const prefix of ['HTTP', 'POP3', 'Relay']) expect(lines.some((l) => l.startsWith(prefix) && l.endsWith(':'))).toBe(true);
    for (const s of SETTINGS) expect(stdout).toContain(`KOTAK_${s.flag.toUpperCase().replace(/-/g, '_')}`);
  });

  it('--version prints the package version', async () => {
    const { code, stdout } = await runKotak(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${PACKAGE_VERSION}\n`);
  });

  it('in a terminal, prints pretty logs and a line with the ports it bound and the inbox URL', async () => {
    const kotak = startInTerminal(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:', '--pop3', '127.0.0.1:0', '--pop3-auth', 'any', '--http-base-path', '/mail/']);
    try {
      const [, version, smtpPort, pop3Port, inbox] = await kotak.waitForLine(/^Kotak (\S+): SMTP 127\.0\.0\.1:(\d+), POP3 127\.0\.0\.1:(\d+), inbox (http:\/\/127\.0\.0\.1:\d+\/mail\/)$/);
      expect(version).toBe(PACKAGE_VERSION);
      expect(await greeting(Number(smtpPort))).toMatch(/^220 /);
      expect(await greeting(Number(pop3Port))).toMatch(/^\+OK/);
      expect((await fetch(`${inbox}livez`)).status).toBe(200);
      const [listening] = await kotak.waitForLine(/^.*kotak listening.*$/);
      expect(listening).toMatch(/INFO.*kotak listening/);
      expect(listening.trimStart().startsWith('{')).toBe(false);
    } finally {
      await stop(kotak.child);
    }
  });

  it('--log-format json keeps JSON logs in a terminal (the start line still shows)', async () => {
    const kotak = startInTerminal(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:'], { KOTAK_LOG_FORMAT: 'json' });
    try {
      await kotak.waitForLine(/^Kotak \S+: SMTP 127\.0\.0\.1:\d+, inbox http:/);
      // pino writes JSON asynchronously, so this line may come after the start line.
      const [listening] = await kotak.waitForLine(/^\{.*"msg":"kotak listening".*\}$/);
      expect(JSON.parse(listening)).toMatchObject({ msg: 'kotak listening' });
    } finally {
      await stop(kotak.child);
    }
  });

  it('with stdout not a terminal, prints JSON lines only, from start to stop', async () => {
    const child = spawn(process.execPath, [KOTAK_BIN, '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    await new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('"kotak listening"') && resolve()));
    await stop(child);
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(expect.arrayContaining(['kotak listening', 'kotak stopped']));
  });

  it.each([
    [['--no-such-flag'], /--no-such-flag/],
    [['--smtp', 'nonsense'], /--smtp: "nonsense" is not HOST:PORT/],
    [['--max-message-size', 'lots'], /--max-message-size/],
    [['--max-age', '3 fortnights'], /--max-age/],
    [['--log-level', 'loud'], /--log-level/],
    [['--smtp-require-tls'], /needs --smtp-tls/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j exits 2 with a one-line reason', async (args, reason) => {
    const { code, stderr } = await runKotak(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(reason);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a bad environment value is reported like a bad flag', async () => {
    const { code, stderr } = await runKotak([], { KOTAK_MAX_RECIPIENTS: 'many' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/--max-recipients: "many"/);
  });

  it('takes settings from KOTAK_* variables, lets flags win, and logs the ports it picked', async () => {
    const running = await startKotakProcess(['serve', '--http', '127.0.0.1:0', '--db', ':memory:'], {
      KOTAK_SMTP: '127.0.0.1:0',
      KOTAK_HTTP: '127.0.0.1:1', // the flag above wins over this
      KOTAK_LOG_LEVEL: 'info',
    });
    try {
      expect(running.smtpPort).toBeGreaterThan(0);
      expect(running.httpPort).not.toBe(1);
      expect((await fetch(`${running.url}/livez`)).status).toBe(200);
    } finally {
      running.child.kill('SIGTERM');
      const [code] = await once(running.child, 'exit');
      expect(code).toBe(0);
    }
  });
});
