/**
 * Hostile SMTP input over real sockets: smuggling line endings, STARTTLS command injection,
 * control characters in envelope addresses, and messages built to choke a parser. Each time a
 * well-behaved client (nodemailer from 127.0.0.1) is served normally alongside.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { RawSmtp } from '../helpers/raw-smtp.js';
import { dataPayload, queuedId } from '../helpers/smtp-client.js';

let kotak: RunningKotak;
beforeAll(async () => {
  kotak = await withKotak({ smtpTls: 'auto' });
});
afterAll(() => kotak.stop());

async function connect(): Promise<RawSmtp> {
  const client = await RawSmtp.connect(kotak.smtpPort, { localAddress: '127.0.0.2' });
  await client.hello();
  return client;
}

async function wellBehavedClientIsServed(subject: string): Promise<void> {
  const info = await transport(kotak).sendMail({ from: 'app@example.com', to: 'user@example.com', subject, text: 'Served normally.' });
  const { body } = await getJson(kotak, `/api/messages/${queuedId(info.response)}`);
  expect(body).toMatchObject({ subject, text: 'Served normally.' });
  expect(body.smtpWarnings).toBeUndefined();
}

async function detail(id: string) {
  return (await getJson(kotak, `/api/messages/${id}`)).body;
}

async function count(query: string): Promise<number> {
  return (await getJson(kotak, `/api/messages?query=${encodeURIComponent(query)}`)).body.total as number;
}

describe('line endings in DATA', () => {
  it('records bare LF and bare CR on the message (smtpWarnings) and keeps the bytes as sent', async () => {
    const client = await connect();
    const cases: [string, string[]][] = [
      ['Subject: bare lf\r\n\r\nline one\nline two\r\n', ['bare-lf']],
      ['Subject: bare cr\r\n\r\nline one\rline two\r\n', ['bare-cr']],
      ['Subject: both\nX: y\r\n\r\na\rb\r\n', ['bare-lf', 'bare-cr']],
    ];
    for (const [raw, warnings] of cases) {
      const reply = await client.transaction(`${raw}.\r\n`);
      expect(reply.code).toBe(250);
      const id = queuedId(reply);
      expect((await detail(id)).smtpWarnings).toEqual(warnings);
      expect(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).text()).toBe(raw);
    }
    await wellBehavedClientIsServed('line endings neighbour');
    client.destroy();
  });

  // SMTP smuggling: a server that ends DATA at any of these would run the commands after it as a
  // second transaction. Only <CRLF>.<CRLF> ends DATA; the rest is message content.
  it.each([
    ['<LF>.<LF>', '\n.\n'],
    ['<CR>.<CR>', '\r.\r'],
    ['<LF>.<CR><LF>', '\n.\r\n'],
    ['<CR><LF>.<LF>', '\r\n.\n'],
    ['<CR>.<CR><LF>', '\r.\r\n'],
  ])('never ends DATA at %s: the "smuggled" transaction stays inside the one message', async (name, terminator) => {
    const client = await connect();
    const tag = `smuggle-${name.replace(/\W/g, '')}`;
    const smuggled = `MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nSubject: ${tag}-evil\r\n\r\nforged\r\n`;
    const payload = `Subject: ${tag}\r\n\r\nbefore${terminator}${smuggled}.\r\n`;
    const reply = await client.transaction(payload);
    expect(reply.code).toBe(250);
    // Nothing else was answered: the next reply is the one to our own NOOP.
    expect((await client.command('NOOP')).text).toMatch(/^250 /);
    const message = await detail(queuedId(reply));
    expect(message.subject).toBe(tag);
    expect(message.text).toContain('MAIL FROM:<evil@example.com>');
    expect(message.smtpWarnings?.length).toBeGreaterThan(0);
    expect(await count(`subject:${tag}-evil`)).toBe(0);
    expect(await count('to:victim@example.com')).toBe(0);
    client.destroy();
  });
});

describe('STARTTLS', () => {
  it('discards commands pipelined after STARTTLS: they are answered neither in plaintext nor inside TLS', async () => {
    const client = await connect();
    client.write('STARTTLS\r\nRSET\r\nMAIL FROM:<injected@example.com>\r\n');
    expect((await client.read()).text).toMatch(/^220 /);
    expect(client.unread).toEqual({ replies: 0, bytes: 0 });
    await client.startTls();
    // The session starts over (RFC 3207 4.2): the first reply in TLS is to our own EHLO, and the
    // transaction the injected MAIL would have opened does not exist (a nested MAIL gets 503).
    const ehlo = await client.command('EHLO hostile.test');
    expect(ehlo.lines[0]).toMatch(/^250-/);
    expect((await client.command('MAIL FROM:<honest@example.com>')).text).toMatch(/^250 /);
    expect((await client.command('RCPT TO:<rcpt@example.com>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(dataPayload(Buffer.from('Subject: after starttls\r\n\r\nsecure\r\n')));
    const reply = await client.read();
    expect(reply.code).toBe(250);
    expect((await detail(queuedId(reply))).envelope).toMatchObject({ mailFrom: 'honest@example.com', tls: true });
    expect(await count('from:injected@example.com')).toBe(0);
    await wellBehavedClientIsServed('starttls neighbour');
    await client.quit();
  });
});

describe('control characters in envelope addresses (501 5.1.3)', () => {
  it.each([
    ['CR', 'a\rb@example.com'],
    ['NUL', 'a\0b@example.com'],
    ['TAB', 'a\tb@example.com'],
    ['ESC', 'a\x1bb@example.com'],
    ['DEL', 'a\x7fb@example.com'],
    ['C1 NEL, in UTF-8', Buffer.from('a\u0085b@example.com').toString('latin1')],
    ['U+2028, in UTF-8', Buffer.from('a\u2028b@example.com').toString('latin1')],
    // IDNA: smtp-server decodes "xn--" labels; these decode to a\u0085b and x\u2028y.
    ['NEL encoded as IDNA', 'user@xn--ab-qa.example.com'],
    ['U+2028 encoded as IDNA', 'user@xn--xy-x3t.example.com'],
  ])('refuses %s in MAIL FROM and RCPT TO', async (_name, address) => {
    const client = await connect();
    expect((await client.command(`MAIL FROM:<${address}>`)).text).toBe('501 5.1.3 Address contains control characters');
    expect((await client.command('MAIL FROM:<sender@example.com>')).code).toBe(250);
    expect((await client.command(`RCPT TO:<${address}>`)).text).toBe('501 5.1.3 Address contains control characters');
    // Nothing was accepted: DATA has no recipient.
    expect((await client.command('DATA')).code).toBe(503);
    client.destroy();
  });

  it('a LF always ends the command line: "<a" LF "b>" is a refused address and a refused command', async () => {
    const client = await connect();
    client.write('MAIL FROM:<a\nb@example.com>\r\n');
    expect((await client.read()).code).toBe(501);
    expect((await client.read()).code).toBe(500);
    client.write('MAIL FROM:<sender@example.com>\r\nRCPT TO:<a\nb@example.com>\r\n');
    expect((await client.read()).code).toBe(250);
    expect((await client.read()).text).toMatch(/^501 5\.1\.3 /);
    expect((await client.read()).code).toBe(500);
    await wellBehavedClientIsServed('address neighbour');
    client.destroy();
  });
});

describe('messages built to choke a parser', () => {
  function nestedMultiparts(levels: number): Buffer {
    const open: string[] = [];
    const close: string[] = [];
    for (let i = 0; i < levels; i++) {
      open.push(`Content-Type: multipart/mixed; boundary=n${i}\r\n\r\n--n${i}\r\n`);
      close.push(`\r\n--n${i}--`);
    }
    return Buffer.from(`Subject: nested ${levels}\r\n${open.join('')}Content-Type: text/plain\r\n\r\ndeep${close.reverse().join('')}\r\n`);
  }

  /** Sends the hostile message and, at the same time, a well-behaved one; returns the hostile reply. */
  async function alongside(raw: Buffer, subject: string) {
    const client = await connect();
    try {
      const [reply] = await Promise.all([client.transaction(dataPayload(raw)), wellBehavedClientIsServed(subject)]);
      return reply;
    } finally {
      client.destroy();
    }
  }

  it('100,000 nested multiparts: stored raw, flagged with the depth limit', async () => {
    const raw = nestedMultiparts(100_000);
    const reply = await alongside(raw, 'nested neighbour');
    expect(reply.code).toBe(250);
    const message = await detail(queuedId(reply));
    expect(message.parseError).toBe('MIME parts nested more than 50 deep (limit: --max-mime-depth); kept unparsed');
    expect(message.size).toBe(raw.length);
  });

  it('a million tiny parts: stored raw, flagged with the part limit', async () => {
    const raw = Buffer.from(`Subject: tiny parts\r\nContent-Type: multipart/mixed; boundary=t\r\n\r\n${'--t\r\n\r\nx\r\n'.repeat(1_000_000)}--t--\r\n`);
    const reply = await alongside(raw, 'tiny parts neighbour');
    expect(reply.code).toBe(250);
    const message = await detail(queuedId(reply));
    expect(message.parseError).toBe('more than 1000 MIME parts (limit: --max-mime-parts); kept unparsed');
    expect(message.size).toBe(raw.length);
  });

  it('a 10 MB header line: stored raw, flagged with the header limit (--max-header-size)', async () => {
    const raw = Buffer.from(`Subject: long header\r\nX-Long: ${'h'.repeat(10 * 1024 * 1024)}\r\n\r\nbody\r\n`);
    const reply = await alongside(raw, 'header line neighbour');
    expect(reply.code).toBe(250);
    const message = await detail(queuedId(reply));
    expect(message.parseError).toBe(`a header section is over ${100 * 1024} bytes (limit: --max-header-size); kept unparsed`);
    expect(message.size).toBe(raw.length);
  });

  it('a 10 MB header line inside a MIME part: stored raw, flagged with the header limit', async () => {
    const raw = Buffer.from(
      `Subject: long part header\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--p\r\nX-Long: ${'h'.repeat(10 * 1024 * 1024)}\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--p--\r\n`,
    );
    const reply = await alongside(raw, 'part header neighbour');
    expect(reply.code).toBe(250);
    const message = await detail(queuedId(reply));
    expect(message.size).toBe(raw.length);
    expect(message.parseError).toBe(`a header section is over ${100 * 1024} bytes (limit: --max-header-size); kept unparsed`);
  });
});
