/**
 * `kotak sendmail` as a real child process against a real Kotak: corpus messages piped through it
 * arrive byte for byte, and each sendmail flag does what sendmail(8) and Postfix's sendmail do.
 * What arrived is read back through the HTTP API (raw bytes, envelope, hidden recipients).
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeLineEndings } from '../../src/relay/smtp-message.js';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { wireForm } from '../helpers/smtp-client.js';
import { closedPort, queuedIdFrom, runSendmail, startScriptedServer, type SendmailRun, type SendmailRunOptions } from '../helpers/sendmail.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url).pathname;
const corpus = (name: string): Buffer => readFileSync(`${CORPUS}${name}`);
const HOSTNAME = os.hostname();
const DEFAULT_SENDER = `${os.userInfo().username}@${HOSTNAME}`;
/** Fields sendmail adds in front of a message that lacks them, and the empty line a header-less message gets. */
const ADDED_PREFIX = /^(?:(?:From|Date|Message-ID): [^\r\n]*\r\n)*(?:\r\n)?$/;

let kotak: RunningKotak;
beforeAll(async () => {
  kotak = await withKotak();
});
afterAll(() => kotak.stop());

function sendmail(args: readonly string[], options: SendmailRunOptions = {}): Promise<SendmailRun> {
  return runSendmail(['-S', `127.0.0.1:${kotak.smtpPort}`, ...args], options);
}

async function raw(id: string): Promise<Buffer> {
  const res = await fetch(`${kotak.url}/api/messages/${id}/raw`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read by the assertions
async function stored(id: string): Promise<any> {
  const { status, body } = await getJson(kotak, `/api/messages/${id}`);
  expect(status).toBe(200);
  return body;
}

/** What Kotak stores for `input` sent as it is: CRLF line breaks (SMTP's), a final CRLF. */
function onTheWire(input: Buffer): Buffer {
  return wireForm(normalizeLineEndings(input));
}

/** The stored bytes split into what sendmail added in front and the rest. */
function splitAdded(bytes: Buffer, original: Buffer): { added: string; rest: Buffer } {
  return { added: bytes.subarray(0, bytes.length - original.length).toString('utf8'), rest: bytes.subarray(bytes.length - original.length) };
}

async function mapLimit<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: limit }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
  }));
}

describe('kotak sendmail delivers messages as they are', () => {
  it('every corpus message arrives byte for byte (-i), with only missing From/Date/Message-ID added in front', async () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.eml'));
    expect(files.length).toBeGreaterThan(50);
    await mapLimit(files, 4, async (file) => {
      const input = corpus(file);
      const run = await sendmail(['-i', '-v', 'corpus@kotak.test'], { input });
      expect(run.code, `${file}: ${run.stderr}`).toBe(0);
      // A leading mbox "From " line is not part of the message (Postfix's sendmail skips it too).
      const withoutMboxLine = input.subarray(0, 5).toString('latin1') === 'From ' ? input.subarray(input.indexOf(0x0a) + 1) : input;
      const expected = onTheWire(withoutMboxLine);
      const bytes = await raw(queuedIdFrom(run));
      const { added, rest } = splitAdded(bytes, expected);
      expect(rest.equals(expected), `${file}: stored bytes differ`).toBe(true);
      expect(added, file).toMatch(ADDED_PREFIX);
    });
  });

  it('sends 8-bit bodies and UTF-8 headers and addresses (8BITMIME, SMTPUTF8), -t reading the UTF-8 To', async () => {
    const input = corpus('rubymail--utf8_headers.eml');
    const run = await sendmail(['-t', '-i', '-v'], { input });
    expect(run.code, run.stderr).toBe(0);
    const id = queuedIdFrom(run);
    expect((await stored(id)).envelope.rcptTo).toEqual(['märy@exämple.net']);
    expect(splitAdded(await raw(id), onTheWire(input)).rest.equals(onTheWire(input))).toBe(true);

    const sjis = corpus('rubymail--japanese_shift_jis.eml');
    const sjisRun = await sendmail(['-i', '-v', 'sjis@kotak.test'], { input: sjis });
    expect(sjisRun.code, sjisRun.stderr).toBe(0);
    expect((await raw(queuedIdFrom(sjisRun))).includes(onTheWire(sjis))).toBe(true);
  });
});

describe('a line with a single dot', () => {
  const input = Buffer.concat([corpus('rubymail--basic_email_lf.eml'), Buffer.from('.\nafter the dot\n')]);
  const beforeDot = corpus('rubymail--basic_email_lf.eml');

  it.each([['-i'], ['-oi'], ['-o', 'i'], ['-O', 'IgnoreDots=true']])('with %s does not end the message', async (...flags) => {
    const run = await sendmail([...flags, '-v', 'dots@kotak.test'], { input });
    expect(run.code, run.stderr).toBe(0);
    const bytes = await raw(queuedIdFrom(run));
    expect(bytes.toString('latin1')).toMatch(/\r\n\.\r\nafter the dot\r\n$/);
    expect(splitAdded(bytes, onTheWire(input)).rest.equals(onTheWire(input))).toBe(true);
  });

  it('without -i ends the message there, as traditional sendmail does (LF and CRLF)', async () => {
    for (const variant of [input, normalizeLineEndings(input)]) {
      const run = await sendmail(['-v', 'dots@kotak.test'], { input: variant });
      expect(run.code, run.stderr).toBe(0);
      const bytes = await raw(queuedIdFrom(run));
      expect(bytes.toString('latin1')).not.toContain('after the dot');
      expect(bytes.subarray(bytes.length - onTheWire(beforeDot).length).equals(onTheWire(beforeDot))).toBe(true);
    }
  });

  it('without -i, sendmail stops reading at the dot even if the writer keeps its end open', async () => {
    const run = await sendmail(['-v', 'open@kotak.test'], { input: 'Subject: still open\n\nbody\n.\n', keepStdinOpen: true });
    expect(run.code, run.stderr).toBe(0);
    expect((await raw(queuedIdFrom(run))).toString()).toMatch(/\r\n\r\nbody\r\n$/);
  });
});

describe('-t: recipients from the headers', () => {
  const message = [
    'From: App <app@kotak.test>',
    'To: "Doe, John" <john@kotak.test>, Team: ann@kotak.test, =?UTF-8?Q?B=C3=B6b_Bauer?= <bob@kotak.test>;',
    'Subject: -t with everything',
    'To: second-to@kotak.test',
    'Cc: carol@kotak.test,',
    '\tdave@kotak.test (Dave)',
    'Bcc: hidden@kotak.test,',
    ' "Hidden Two" <hidden2@kotak.test>',
    'Date: Mon, 1 Jan 2024 00:00:00 +0000',
    'Message-ID: <t-flag@kotak.test>',
    '',
    'Body.',
    '',
  ].join('\n');

  it('delivers to To, Cc and Bcc (several fields, groups, folding, encoded names) plus the arguments, and removes Bcc', async () => {
    const run = await sendmail(['-t', '-i', '-v', 'extra@kotak.test', 'john@kotak.test'], { input: message });
    expect(run.code, run.stderr).toBe(0);
    const id = queuedIdFrom(run);
    const body = await stored(id);
    // Postfix's rule: command-line recipients are added; duplicates go once.
    expect(body.envelope.rcptTo).toEqual([
      'extra@kotak.test', 'john@kotak.test', 'ann@kotak.test', 'bob@kotak.test', 'second-to@kotak.test',
      'carol@kotak.test', 'dave@kotak.test', 'hidden@kotak.test', 'hidden2@kotak.test',
    ]);
    expect(body.bcc.map((a: { address: string }) => a.address)).toEqual(expect.arrayContaining(['hidden@kotak.test', 'hidden2@kotak.test']));
    const bytes = (await raw(id)).toString('utf8');
    expect(bytes).not.toMatch(/^Bcc:/im);
    expect(bytes).not.toContain('hidden2');
    // Everything else is untouched, the folded Cc included; nothing was added (From, Date, Message-ID present).
    expect(bytes).toBe(onTheWire(Buffer.from(message.replace(/Bcc: hidden@kotak.test,\n "Hidden Two" <hidden2@kotak.test>\n/, ''))).toString('utf8'));
  });

  it('a Resent-To/Cc/Bcc block names the recipients of a resent message, and Resent-Bcc is removed', async () => {
    const input = `Resent-To: again@kotak.test\nResent-Bcc: quiet@kotak.test\nTo: original@kotak.test\nSubject: resent\n\nx\n`;
    const run = await sendmail(['-t', '-v'], { input });
    expect(run.code, run.stderr).toBe(0);
    const id = queuedIdFrom(run);
    expect((await stored(id)).envelope.rcptTo).toEqual(['again@kotak.test', 'quiet@kotak.test']);
    expect((await raw(id)).toString()).not.toContain('quiet@');
  });

  it('an unusable address in a header is a data error (65) and nothing is sent', async () => {
    const before = (await getJson(kotak, '/api/messages')).body.total;
    const run = await sendmail(['-t'], { input: 'To: good@kotak.test, not an address\nSubject: bad\n\nx\n' });
    expect(run.code).toBe(65);
    expect(run.stderr).toBe('sendmail: -t: "not an address" in the To header is not an email address; nothing was sent\n');
    expect((await getJson(kotak, '/api/messages')).body.total).toBe(before);
  });

  it('no address in the headers and none as arguments is a usage error (64)', async () => {
    const run = await sendmail(['-t'], { input: 'To: undisclosed-recipients:;\nSubject: nobody\n\nx\n' });
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(/^sendmail: no recipients: -t found no address in the To, Cc or Bcc headers/);
  });
});

describe('sender and added headers', () => {
  const noHeaders = 'Subject: who am I\n\nbody\n';

  it('defaults to user@hostname, and adds From, Date and Message-ID when missing', async () => {
    const run = await sendmail(['-v', 'me@kotak.test'], { input: noHeaders });
    expect(run.code, run.stderr).toBe(0);
    const id = queuedIdFrom(run);
    const body = await stored(id);
    expect(body.envelope.mailFrom).toBe(DEFAULT_SENDER);
    const text = (await raw(id)).toString();
    expect(text).toMatch(new RegExp(`^From: ${DEFAULT_SENDER.replace(/[.+]/g, '\\$&')}\r\nDate: \\w{3}, \\d{1,2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}\r\nMessage-ID: <[^>]+@${HOSTNAME.replace(/\./g, '\\.')}>\r\nSubject: who am I\r\n\r\nbody\r\n$`));
    expect(Math.abs(Date.parse(body.date) - Date.now())).toBeLessThan(60_000);
  });

  it.each([
    [['-f', 'app@kotak.test'], 'app@kotak.test'],
    [['-fapp@kotak.test'], 'app@kotak.test'],
    [['-r', 'bounce@kotak.test'], 'bounce@kotak.test'],
    [['-f', '<angle@kotak.test>'], 'angle@kotak.test'],
    [['-f', '<>'], ''],
    [['-f', ''], ''],
  ])('%j sets the envelope sender', async (flags, mailFrom) => {
    const run = await sendmail([...flags, '-v', 'me@kotak.test'], { input: 'From: header@kotak.test\nSubject: sender\n\nx\n' });
    expect(run.code, run.stderr).toBe(0);
    const body = await stored(queuedIdFrom(run));
    expect(body.envelope.mailFrom).toBe(mailFrom);
    expect(body.from.address).toBe('header@kotak.test');
  });

  it('KOTAK_SENDMAIL_FROM sets the default sender; -f wins over it', async () => {
    const env = { KOTAK_SENDMAIL_FROM: 'env@kotak.test' };
    const fromEnv = await sendmail(['-v', 'me@kotak.test'], { input: noHeaders, env });
    expect((await stored(queuedIdFrom(fromEnv))).envelope.mailFrom).toBe('env@kotak.test');
    const fromFlag = await sendmail(['-v', '-f', 'flag@kotak.test', 'me@kotak.test'], { input: noHeaders, env });
    expect((await stored(queuedIdFrom(fromFlag))).envelope.mailFrom).toBe('flag@kotak.test');
  });

  it('-F names the sender in the added From; encoded when not ASCII; ignored when the message has a From', async () => {
    const plain = await sendmail(['-v', '-f', 'app@kotak.test', '-F', 'Kotak App', 'me@kotak.test'], { input: noHeaders });
    expect((await raw(queuedIdFrom(plain))).toString()).toMatch(/^From: Kotak App <app@kotak\.test>\r\n/);
    const quoted = await sendmail(['-v', '-fapp@kotak.test', '-FDoe, J.', 'me@kotak.test'], { input: noHeaders });
    expect((await raw(queuedIdFrom(quoted))).toString()).toMatch(/^From: "Doe, J\." <app@kotak\.test>\r\n/);
    const utf8 = await sendmail(['-v', '-f', 'app@kotak.test', '-F', 'Jörg Müller', 'me@kotak.test'], { input: noHeaders });
    const utf8Body = await stored(queuedIdFrom(utf8));
    expect(utf8Body.from).toEqual({ name: 'Jörg Müller', address: 'app@kotak.test' });
    const kept = await sendmail(['-v', '-F', 'Ignored', 'me@kotak.test'], { input: 'From: Real <real@kotak.test>\nSubject: s\n\nx\n' });
    const keptRaw = (await raw(queuedIdFrom(kept))).toString();
    expect(keptRaw).not.toContain('Ignored');
    expect(keptRaw).toMatch(/^Date: .*\r\nMessage-ID: .*\r\nFrom: Real <real@kotak\.test>\r\n/);
  });

  it('a message with no header section gets the added fields and an empty line before its body', async () => {
    const run = await sendmail(['-v', '-f', 'app@kotak.test', 'me@kotak.test'], { input: 'just a body line\nand another\n' });
    expect(run.code, run.stderr).toBe(0);
    expect((await raw(queuedIdFrom(run))).toString()).toMatch(/^From: app@kotak\.test\r\nDate: [^\r]+\r\nMessage-ID: [^\r]+\r\n\r\njust a body line\r\nand another\r\n$/);
  });

  it('an unusable -f is a usage error (64)', async () => {
    const run = await sendmail(['-f', 'not an address', 'me@kotak.test'], { input: noHeaders });
    expect(run.code).toBe(64);
    expect(run.stderr).toBe(`sendmail: -f: "not an address" is not an email address (use '<>' for the null sender)\n`);
  });
});

describe('recipients and flags', () => {
  it('takes recipients from the arguments: several, lists with names, bare local parts (completed with the hostname)', async () => {
    const run = await sendmail(['-v', 'one@kotak.test', 'Two <two@kotak.test>, three@kotak.test', 'root', '--', 'four@kotak.test'], { input: 'Subject: args\n\nx\n' });
    expect(run.code, run.stderr).toBe(0);
    expect((await stored(queuedIdFrom(run))).envelope.rcptTo).toEqual(['one@kotak.test', 'two@kotak.test', 'three@kotak.test', `root@${HOSTNAME}`, 'four@kotak.test']);
  });

  it('accepts and ignores the flags applications pass, each taking its value (attached or separate)', async () => {
    const ignored = [
      '-oem', '-oee', '-odi', '-odb', '-oQ/var/spool/mqueue', '-o', 'DeliveryMode=b', '-U', '-B', '8BITMIME', '-B8BITMIME',
      '-N', 'never', '-Nsuccess,failure', '-R', 'hdrs', '-V', 'envid-1', '-X', '/tmp/sendmail.log', '-C', '/etc/mail/sendmail.cf',
      '-L', 'myapp', '-O', 'DeliveryMode=i', '-h', '17', '-G', '-n', '-m', '-c', '-e', 'm', '-Ac', '-p', 'smtp:kotak', '-bm', '-tiv',
    ];
    const run = await sendmail([...ignored, 'arg@kotak.test'], { input: 'To: header@kotak.test\nSubject: ignored flags\n\nx\n' });
    expect(run.code, run.stderr).toBe(0);
    // No flag value was taken for a recipient.
    expect((await stored(queuedIdFrom(run))).envelope.rcptTo).toEqual(['arg@kotak.test', 'header@kotak.test']);
  });

  it.each([[['-q']], [['-q30m']], [['-bi']], [['-I']]])('%j has nothing to do (no queue, no aliases): exits 0 without reading stdin', async (flags) => {
    const run = await sendmail(flags, { input: 'Subject: never read\n\n', keepStdinOpen: true });
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });

  it.each([
    [['-bv', 'x@kotak.test'], /^sendmail: -bv \(verify addresses\) is not supported; kotak sendmail does -bm .* and -bs .*\n$/],
    [['-bp'], /^sendmail: -bp \(print the queue\) is not supported/],
    [['-bd'], /^sendmail: -bd \(run as a daemon\) is not supported/],
    [['-Z', 'x@kotak.test'], /^sendmail: unknown option -Z\n$/],
    [['--frobnicate'], /^sendmail: unknown option --frobnicate\n$/],
    [['x@kotak.test', '-f'], /^sendmail: -f needs a value \(envelope sender\)\n$/],
    [['-S', 'nonsense:port', 'x@kotak.test'], /^sendmail: -S: "nonsense:port" is not HOST:PORT/],
    [['bad address@'], /^sendmail: ".*" is not an email address\n$/],
  ])('%j is a usage error (64) with one line on stderr', async (args, reason) => {
    const run = await runSendmail(args, { input: 'Subject: x\n\n', keepStdinOpen: true });
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(reason);
  });

  it('no recipients is a usage error (64), reported without waiting for input', async () => {
    const run = await sendmail([], { keepStdinOpen: true });
    expect(run.code).toBe(64);
    expect(run.stderr).toBe('sendmail: no recipients: give them as arguments, or use -t to take them from the To, Cc and Bcc headers\n');
  });

  it('--help prints the usage and exits 0', async () => {
    const run = await runSendmail(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: kotak sendmail');
  });
});

describe('where Kotak is', () => {
  it('KOTAK_SENDMAIL_SMTP and --smtp-addr name the server; "localhost" works for a server on 127.0.0.1', async () => {
    const input = 'Subject: address\n\nx\n';
    for (const [args, env] of [
      [[], { KOTAK_SENDMAIL_SMTP: `127.0.0.1:${kotak.smtpPort}` }],
      [['--smtp-addr', `localhost:${kotak.smtpPort}`], {}],
      [[`--smtp-addr=localhost:${kotak.smtpPort}`], {}],
      [[`-Slocalhost:${kotak.smtpPort}`], { KOTAK_SENDMAIL_SMTP: '127.0.0.1:1' }],
    ] as const) {
      const run = await runSendmail([...args, '-v', 'where@kotak.test'], { input, env });
      expect(run.code, `${JSON.stringify(args)}: ${run.stderr}`).toBe(0);
    }
  });

  it('Kotak not running: exit 69 and one line saying where it tried', async () => {
    const port = await closedPort();
    const run = await runSendmail(['-S', `127.0.0.1:${port}`, 'down@kotak.test'], { input: 'Subject: down\n\nx\n' });
    expect(run.code).toBe(69);
    expect(run.stderr).toBe(`sendmail: cannot reach Kotak's SMTP server at 127.0.0.1:${port} (connection refused); set -S or KOTAK_SENDMAIL_SMTP\n`);
    const byEnv = await runSendmail(['down@kotak.test'], { input: 'Subject: down\n\nx\n', env: { KOTAK_SENDMAIL_SMTP: `localhost:${port}` } });
    expect(byEnv.code).toBe(69);
    expect(byEnv.stderr).toMatch(new RegExp(`^sendmail: cannot reach Kotak's SMTP server at localhost:${port} \\(connection refused\\); set -S or KOTAK_SENDMAIL_SMTP\\n$`));
  });
});

describe('refusals become sysexits statuses', () => {
  it('a 452 for one of two recipients (--max-recipients 1) is a temporary failure (75); the other got it', async () => {
    const strict = await withKotak({ maxRecipients: 1 });
    try {
      const run = await runSendmail(['-S', `127.0.0.1:${strict.smtpPort}`, 'first@kotak.test', 'second@kotak.test'], { input: 'Subject: too many\n\nx\n' });
      expect(run.code).toBe(75);
      expect(run.stderr).toBe(
        `sendmail: Kotak's SMTP server at 127.0.0.1:${strict.smtpPort} deferred second@kotak.test (452 4.5.3 Too many recipients (at most 1 per message)); the message was delivered to first@kotak.test\n`,
      );
      const { body } = await getJson(strict, '/api/messages');
      expect(body.messages).toHaveLength(1);
    } finally {
      await strict.stop();
    }
  });

  it('a message over the size limit is a data error (65)', async () => {
    const small = await withKotak({ maxMessageSize: '1kb' });
    try {
      const run = await runSendmail(['-S', `127.0.0.1:${small.smtpPort}`, 'big@kotak.test'], { input: `Subject: big\n\n${'x'.repeat(4000)}\n` });
      expect(run.code).toBe(65);
      expect(run.stderr).toMatch(/^sendmail: the message is \d{4} bytes and Kotak's SMTP server at 127\.0\.0\.1:\d+ accepts at most 1024 \(its --max-message-size\); nothing was sent\n$/);
    } finally {
      await small.stop();
    }
  });

  it.each([
    { name: '550 to one RCPT of two', replies: { rcpt: (a: string) => (a.startsWith('nobody') ? 550 : undefined) }, recipients: ['nobody@kotak.test', 'somebody@kotak.test'], status: 67, line: /refused nobody@kotak\.test \(550 5\.1\.1 No such user here\); the message was delivered to somebody@kotak\.test$/ },
    { name: '550 to the only RCPT', replies: { rcpt: () => 550 }, recipients: ['nobody@kotak.test'], status: 67, line: /refused nobody@kotak\.test \(550 5\.1\.1 No such user here\); nothing was sent$/ },
    { name: '451 to the only RCPT', replies: { rcpt: () => 451 }, recipients: ['busy@kotak.test'], status: 75, line: /deferred busy@kotak\.test \(451 4\.2\.1 Mailbox busy, try later\); nothing was sent$/ },
    { name: '554 after DATA', replies: { data: 554 }, recipients: ['x@kotak.test'], status: 65, line: /refused the message: 554 5\.6\.0 Message content rejected$/ },
    { name: '451 after DATA', replies: { data: 451 }, recipients: ['x@kotak.test'], status: 75, line: /deferred the message: 451 4\.3\.0 Storage busy$/ },
    { name: '553 to MAIL FROM', replies: { mail: 553 }, recipients: ['x@kotak.test'], status: 65, line: /refused the sender <app@kotak\.test>: 553 5\.1\.8 Sender refused$/ },
    { name: '530 to MAIL FROM', replies: { mail: 530 }, recipients: ['x@kotak.test'], status: 77, line: /requires authentication, which kotak sendmail does not do: 530 5\.7\.0 Authentication required$/ },
  ])('$name → exit $status', async ({ replies, recipients, status, line }) => {
    const server = await startScriptedServer(replies);
    try {
      const run = await runSendmail(['-S', `127.0.0.1:${server.port}`, '-f', 'app@kotak.test', ...recipients], { input: 'Subject: refused\n\nx\n' });
      expect(run.code).toBe(status);
      expect(run.stderr.split('\n')).toHaveLength(2); // one line and its newline
      expect(run.stderr.trim()).toMatch(/^sendmail: Kotak's SMTP server at 127\.0\.0\.1:\d+ /);
      expect(run.stderr.trim()).toMatch(line);
    } finally {
      await server.close();
    }
  });
});
