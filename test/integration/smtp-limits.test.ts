/**
 * SMTP limits over real sockets: each refusal has its code, and a well-behaved client (nodemailer
 * from 127.0.0.1) is served normally at the same time. Hostile clients connect from other loopback
 * addresses (127.0.0.2 and up), so per-client limits can be told apart. Limits are configured tiny;
 * nothing here waits on a clock, only on replies and closed connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { RawSmtp } from '../helpers/raw-smtp.js';
import { dataPayload, queuedId } from '../helpers/smtp-client.js';
import type { KotakOptions } from '../../src/index.js';

let kotak: RunningKotak | null = null;
const clients: RawSmtp[] = [];

async function start(options: KotakOptions): Promise<RunningKotak> {
  kotak = await withKotak(options);
  return kotak;
}

async function connect(localAddress: string): Promise<RawSmtp> {
  const client = await RawSmtp.connect(kotak!.smtpPort, { localAddress });
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await kotak?.stop();
  kotak = null;
});

/** The well-behaved client: nodemailer from 127.0.0.1; its message must be stored and readable. */
async function wellBehavedClientIsServed(subject: string): Promise<void> {
  const info = await transport(kotak!).sendMail({ from: 'app@example.com', to: 'user@example.com', subject, text: 'Served normally.' });
  const { status, body } = await getJson(kotak!, `/api/messages/${queuedId(info.response)}`);
  expect(status).toBe(200);
  expect(body).toMatchObject({ subject, text: 'Served normally.' });
}

function message(subject: string, extraHeaders = ''): Buffer {
  return dataPayload(Buffer.from(`From: a@example.com\r\nTo: b@example.com\r\nSubject: ${subject}\r\n${extraHeaders}\r\nBody of ${subject}\r\n`));
}

async function subjects(): Promise<string[]> {
  const { body } = await getJson(kotak!, '/api/messages?limit=100');
  return (body.messages as { subject: string }[]).map((m) => m.subject).sort();
}

describe('connection limits (421 4.7.0, then the connection is closed)', () => {
  it('refuses a client past --smtp-max-connections-per-ip while others are served; a closed connection frees its place', async () => {
    await start({ smtpMaxConnectionsPerIp: 2 });
    const [first, second] = [await connect('127.0.0.2'), await connect('127.0.0.2')];
    await Promise.all([first.hello(), second.hello()]);
    const third = await connect('127.0.0.2');
    const refusal = await third.read();
    expect(refusal.text).toMatch(/^421 4\.7\.0 Too many connections from 127\.0\.0\.2 \(at most 2 at once\)/);
    await third.closed;
    await wellBehavedClientIsServed('per-ip neighbour');
    await first.quit();
    const fourth = await connect('127.0.0.2');
    expect((await fourth.hello()).code).toBe(250);
  });

  it('refuses any client past --smtp-max-connections; connections already open go on', async () => {
    await start({ smtpMaxConnections: 2 });
    const [first, second] = [await connect('127.0.0.2'), await connect('127.0.0.3')];
    await Promise.all([first.hello(), second.hello()]);
    const third = await connect('127.0.0.4');
    expect((await third.read()).text).toMatch(/^421 4\.7\.0 Too many connections \(2\), try again later/);
    await third.closed;
    expect((await second.transaction(message('open connection'))).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    await first.quit();
    await wellBehavedClientIsServed('after the total freed up');
  });

  it('refuses a client past --smtp-connection-rate per minute, and only that client', async () => {
    await start({ smtpConnectionRate: 2 });
    for (let i = 0; i < 2; i++) {
      const client = await connect('127.0.0.2');
      await client.hello();
      await client.quit();
    }
    const refused = await connect('127.0.0.2');
    expect((await refused.read()).text).toMatch(/^421 4\.7\.0 Too many connections from 127\.0\.0\.2 \(at most 2 per minute\)/);
    await refused.closed;
    // 127.0.0.1 has its own count: two connections are within it.
    await wellBehavedClientIsServed('rate neighbour 1');
    await wellBehavedClientIsServed('rate neighbour 2');
  });

  it('refuses a client past --smtp-message-rate per minute at MAIL FROM, and closes its connection', async () => {
    await start({ smtpMessageRate: 2 });
    const client = await connect('127.0.0.2');
    await client.hello();
    expect((await client.transaction(message('rate 1'))).code).toBe(250);
    expect((await client.transaction(message('rate 2'))).code).toBe(250);
    const refusal = await client.command('MAIL FROM:<sender@example.com>');
    expect(refusal.text).toMatch(/^421 4\.7\.0 Too much mail from 127\.0\.0\.2 \(at most 2 messages per minute\)/);
    await client.closed;
    await wellBehavedClientIsServed('message-rate neighbour');
    expect(await subjects()).toEqual(['message-rate neighbour', 'rate 1', 'rate 2']);
  });
});

describe('timeouts (421 4.4.2)', () => {
  it('closes a connection silent past --smtp-idle-timeout in the middle of DATA; nothing half-sent is stored', async () => {
    await start({ smtpIdleTimeout: '1s' });
    const silent = await connect('127.0.0.2');
    await silent.hello();
    for (const line of ['MAIL FROM:<slow@example.com>', 'RCPT TO:<rcpt@example.com>', 'DATA']) await silent.command(line);
    silent.write('Subject: never finished\r\n\r\nhalf a mess');
    await wellBehavedClientIsServed('idle neighbour');
    expect((await silent.read()).text).toMatch(/^421 4\.4\.2 /);
    await silent.closed;
    expect(await subjects()).toEqual(['idle neighbour']);
  });

  it('cuts off a slow-drip client (a byte every 50 ms never trips the idle timeout) at --smtp-session-timeout', async () => {
    await start({ smtpSessionTimeout: '2s' });
    const drip = await connect('127.0.0.2');
    await drip.hello();
    for (const line of ['MAIL FROM:<drip@example.com>', 'RCPT TO:<rcpt@example.com>', 'DATA']) await drip.command(line);
    const bytes = Buffer.from(`Subject: drip\r\n\r\n${'x'.repeat(10_000)}`);
    let sent = 0;
    const timer = setInterval(() => drip.write(bytes.subarray(sent, ++sent)), 50);
    try {
      // Served while the drip goes on: the drip holds nothing but its own connection.
      await wellBehavedClientIsServed('drip neighbour');
      expect((await drip.read()).text).toBe('421 4.4.2 Session time limit reached, closing connection');
      await drip.closed;
    } finally {
      clearInterval(timer);
    }
    expect(await subjects()).toEqual(['drip neighbour']);
  });
});

describe('line and header sizes', () => {
  it('answers a command line over 512 octets with 500 5.5.2 and goes on; past 16 KB the connection closes', async () => {
    await start({});
    const client = await connect('127.0.0.2');
    await client.hello();
    // 510 octets + CRLF = 512: the longest command line RFC 5321 4.5.3.1.4 allows.
    expect((await client.command(`NOOP ${'x'.repeat(505)}`)).code).toBe(250);
    expect((await client.command(`NOOP ${'x'.repeat(506)}`)).text).toBe('500 5.5.2 Line too long');
    // MAIL carries ESMTP parameters, which extensions allow room for (whatever smtp-server thinks of this one).
    const mail = await client.command(`MAIL FROM:<a@example.com> BODY=8BITMIME AUTH=<${'a'.repeat(600)}@example.com>`);
    expect(mail.text).not.toMatch(/Line too long/);
    expect((await client.command('RSET')).code).toBe(250);
    expect((await client.command(`RCPT TO:<a@example.com> ${'X'.repeat(2100)}`)).text).toBe('500 5.5.2 Line too long');
    expect((await client.transaction(message('after long lines'))).code).toBe(250);
    client.write(`NOOP ${'y'.repeat(20_000)}`);
    expect((await client.read()).text).toBe('500 5.5.2 Line too long');
    await client.closed;
    await wellBehavedClientIsServed('line neighbour');
    expect(await subjects()).toEqual(['after long lines', 'line neighbour']);
  });

  it('keeps a message whose header is over --max-header-size raw and flagged, never parsed', async () => {
    await start({ maxHeaderSize: '1kb' });
    const client = await connect('127.0.0.2');
    await client.hello();
    const big = message('big header', `X-Padding: ${'p'.repeat(1100)}\r\n`);
    const flagged = await client.transaction(big);
    expect(flagged.code).toBe(250);
    // A header just within the limit, then a body far larger than it: parsed as usual.
    const within = `From: a@example.com\r\nSubject: small header\r\nX-Padding: ${'p'.repeat(900)}\r\n\r\n${'body line\r\n'.repeat(2000)}`;
    expect(Buffer.byteLength(within.slice(0, within.indexOf('\r\n\r\n') + 2))).toBeLessThanOrEqual(1024);
    const parsed = await client.transaction(dataPayload(Buffer.from(within)));
    await wellBehavedClientIsServed('header neighbour');
    const flaggedMessage = (await getJson(kotak!, `/api/messages/${queuedId(flagged)}`)).body;
    expect(flaggedMessage.parseError).toBe('a header section is over 1024 bytes (limit: --max-header-size); kept unparsed');
    expect(flaggedMessage.subject).toBe('');
    expect(await (await fetch(`${kotak!.url}/api/messages/${queuedId(flagged)}/raw`)).text()).toBe(big.toString('latin1').slice(0, -3));
    expect((await getJson(kotak!, `/api/messages/${queuedId(parsed)}`)).body).toMatchObject({ subject: 'small header', text: expect.stringContaining('body line') });
  });
});

describe('MIME structure limits (stored raw and flagged, never parsed)', () => {
  function wide(count: number): string {
    const parts = Array.from({ length: count }, (_, i) => `--w\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
    return `Subject: ${count} parts\r\nContent-Type: multipart/mixed; boundary=w\r\n\r\n${parts}--w--\r\n`;
  }
  function nested(levels: number): string {
    let body = 'Content-Type: text/plain\r\n\r\ndeepest';
    for (let i = levels; i >= 1; i--) body = `Content-Type: multipart/mixed; boundary=n${i}\r\n\r\n--n${i}\r\n${body}\r\n--n${i}--`;
    return `Subject: ${levels} levels\r\n${body}\r\n`;
  }

  it('flags messages over --max-mime-parts or --max-mime-depth with the reason, keeps their bytes, and parses the rest', async () => {
    await start({ maxMimeParts: 10, maxMimeDepth: 3 });
    const client = await connect('127.0.0.2');
    await client.hello();
    const sent: Record<string, { id: string; raw: string }> = {};
    for (const raw of [wide(20), wide(5), nested(5), nested(2)]) {
      const reply = await client.transaction(dataPayload(Buffer.from(raw)));
      expect(reply.code).toBe(250);
      sent[/Subject: (.*)\r\n/.exec(raw)![1]!] = { id: queuedId(reply), raw };
    }
    await wellBehavedClientIsServed('mime neighbour');
    const detail = async (name: string) => (await getJson(kotak!, `/api/messages/${sent[name]!.id}`)).body;
    expect((await detail('20 parts')).parseError).toBe('more than 10 MIME parts (limit: --max-mime-parts); kept unparsed');
    expect((await detail('5 levels')).parseError).toBe('MIME parts nested more than 3 deep (limit: --max-mime-depth); kept unparsed');
    expect(await detail('5 parts')).toMatchObject({ subject: '5 parts', text: expect.stringContaining('part 0') });
    expect((await detail('5 parts')).parseError).toBeUndefined();
    expect(await detail('2 levels')).toMatchObject({ subject: '2 levels', text: 'deepest' });
    const raw = await fetch(`${kotak!.url}/api/messages/${sent['20 parts']!.id}/raw`);
    expect(await raw.text()).toBe(sent['20 parts']!.raw);
  });
});
