/**
 * `kotak sendmail -bs` (an SMTP session on stdin/stdout, proxied to Kotak), sendmail started
 * through a link named `sendmail` (php.ini's sendmail_path), and sessions Kotak's peer refuses.
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { closedPort, queuedIdFrom, runSendmail, sendmailLink, spawnSendmail } from '../helpers/sendmail.js';
import { startReceiver } from '../helpers/smtp-receiver.js';

let kotak: RunningKotak;
beforeAll(async () => {
  kotak = await withKotak();
});
afterAll(() => kotak.stop());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read by the assertions
async function stored(id: string): Promise<any> {
  return (await getJson(kotak, `/api/messages/${id}`)).body;
}

async function raw(id: string): Promise<string> {
  return (await fetch(`${kotak.url}/api/messages/${id}/raw`)).text();
}

/** Reads whole SMTP replies (multi-line ones joined) from the child's stdout. */
class ReplyReader {
  #buffer = '';
  #lines: string[] = [];
  readonly #replies: string[] = [];
  readonly #waiting: ((reply: string) => void)[] = [];

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.#buffer += chunk;
      for (let end = this.#buffer.indexOf('\r\n'); end !== -1; end = this.#buffer.indexOf('\r\n')) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        this.#lines.push(line);
        if (line[3] === '-') continue;
        const reply = this.#lines.join('\n');
        this.#lines = [];
        const waiter = this.#waiting.shift();
        if (waiter) waiter(reply);
        else this.#replies.push(reply);
      }
    });
  }

  next(): Promise<string> {
    const ready = this.#replies.shift();
    return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => this.#waiting.push(resolve));
  }
}

describe('-bs: SMTP on standard input and output', () => {
  it('proxies a live session to Kotak: its greeting, extensions and replies, the message stored as sent', async () => {
    const child = spawnSendmail(['-bs', '-S', `127.0.0.1:${kotak.smtpPort}`]);
    const replies = new ReplyReader(child.stdout);
    const say = async (line: string): Promise<string> => {
      child.stdin.write(`${line}\r\n`);
      return replies.next();
    };
    expect(await replies.next()).toMatch(/^220 \S+ ESMTP Kotak ready$/);
    const ehlo = await say('EHLO php.test');
    expect(ehlo).toMatch(/^250-/);
    expect(ehlo).toContain('250-PIPELINING');
    expect(await say('MAIL FROM:<app@kotak.test>')).toMatch(/^250 /);
    expect(await say('RCPT TO:<session@kotak.test>')).toMatch(/^250 /);
    expect(await say('DATA')).toMatch(/^354 /);
    // The client dot-stuffs; Kotak removes the stuffing.
    const queued = await say('Subject: over -bs\r\n\r\nfirst\r\n..\r\n..leading dot\r\n.');
    expect(queued).toMatch(/^250 2\.0\.0 Ok: queued as \S+$/);
    expect(await say('QUIT')).toMatch(/^221 /);
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);

    const id = /queued as (\S+)/.exec(queued)![1]!;
    expect(await raw(id)).toBe('Subject: over -bs\r\n\r\nfirst\r\n.\r\n.leading dot\r\n');
    expect((await stored(id)).envelope).toMatchObject({ mailFrom: 'app@kotak.test', rcptTo: ['session@kotak.test'], heloName: 'php.test' });
  });

  it('a whole session written at once, input closed without QUIT: every command is still answered', async () => {
    const session = 'EHLO batch.test\r\nMAIL FROM:<batch@kotak.test>\r\nRCPT TO:<one@kotak.test>\r\nRCPT TO:<two@kotak.test>\r\nDATA\r\nSubject: batch\r\n\r\nbody\r\n.\r\n';
    const run = await runSendmail(['-bs', '-S', `127.0.0.1:${kotak.smtpPort}`], { input: session });
    expect(run.code, run.stderr).toBe(0);
    const codes = run.stdout.split('\r\n').filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3));
    expect(codes).toEqual(['220', '250', '250', '250', '250', '354', '250']);
    const id = /queued as (\S+)/.exec(run.stdout)![1]!;
    expect((await stored(id)).envelope.rcptTo).toEqual(['one@kotak.test', 'two@kotak.test']);
  });

  it('input that ends inside DATA abandons that message, as a dropped connection does', async () => {
    const before = (await getJson(kotak, '/api/messages')).body.total;
    const run = await runSendmail(['-bs', '-S', `127.0.0.1:${kotak.smtpPort}`], {
      input: 'HELO cut.test\r\nMAIL FROM:<cut@kotak.test>\r\nRCPT TO:<cut@kotak.test>\r\nDATA\r\nSubject: cut\r\n\r\nno end',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^354 /m);
    expect((await getJson(kotak, '/api/messages')).body.total).toBe(before);
  });

  it('Kotak not running: a 421 for the SMTP client, one line on stderr, exit 69', async () => {
    const port = await closedPort();
    const run = await runSendmail(['-bs', '-S', `127.0.0.1:${port}`], { input: 'EHLO x\r\n', keepStdinOpen: true });
    expect(run.code).toBe(69);
    expect(run.stdout).toBe(`421 4.3.2 Kotak's SMTP server at 127.0.0.1:${port} is not reachable (connection refused)\r\n`);
    expect(run.stderr).toBe(`sendmail: cannot reach Kotak's SMTP server at 127.0.0.1:${port} (connection refused); set -S or KOTAK_SENDMAIL_SMTP\n`);
  });
});

describe('started through a link named sendmail', () => {
  const link = sendmailLink();
  afterAll(() => link.remove());

  it('is sendmail: sendmail_path = "/path/to/sendmail -t -i" delivers to the header recipients', async () => {
    const input = 'From: PHP <php@kotak.test>\nTo: linked@kotak.test\nBcc: secret@kotak.test\nSubject: through the link\n\nline\n.\nafter\n';
    const run = await runSendmail(['-t', '-i', '-v'], { input, executable: link.path, env: { KOTAK_SENDMAIL_SMTP: `127.0.0.1:${kotak.smtpPort}` } });
    expect(run.code, run.stderr).toBe(0);
    const id = queuedIdFrom(run);
    expect((await stored(id)).envelope.rcptTo).toEqual(['linked@kotak.test', 'secret@kotak.test']);
    const bytes = await raw(id);
    expect(bytes).toMatch(/^Date: [^\r]+\r\nMessage-ID: [^\r]+\r\nFrom: PHP <php@kotak\.test>\r\nTo: linked@kotak\.test\r\nSubject: through the link\r\n\r\nline\r\n\.\r\nafter\r\n$/);
  });

  it('reads sendmail flags, not kotak server flags, and --help shows sendmail usage', async () => {
    const run = await runSendmail(['--help'], { executable: link.path });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: kotak sendmail');
    const usage = await runSendmail(['--smtp', '127.0.0.1:0'], { executable: link.path });
    expect(usage.code).toBe(64);
    expect(usage.stderr).toBe('sendmail: unknown option --smtp\n');
  });
});

describe('a server that refuses the session', () => {
  it.each([
    { greeting: 'greeting421' as const, status: 75, line: /^sendmail: Kotak's SMTP server at 127\.0\.0\.1:\d+ is not taking mail now: 421 / },
    { greeting: 'greeting554' as const, status: 69, line: /^sendmail: Kotak's SMTP server at 127\.0\.0\.1:\d+ refused the session: 554 / },
  ])('$greeting → exit $status', async ({ greeting, status, line }) => {
    const receiver = await startReceiver('127.0.0.1', 0, { [greeting]: true });
    try {
      const run = await runSendmail(['-S', `127.0.0.1:${receiver.port}`, 'x@kotak.test'], { input: 'Subject: refused\n\nx\n' });
      expect(run.code).toBe(status);
      expect(run.stderr).toMatch(line);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });
});
