/**
 * One delivery attempt over SMTP (src/relay/smtp-delivery.ts) against real receiving servers:
 * smtp-server instances on 127.0.0.1, port 0, recording the commands they saw, the envelopes, the
 * exact bytes and whether the session was encrypted. Nothing leaves loopback; nothing sleeps.
 */
import { generateKeyPairSync } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { dkimVerify } from 'mailauth';
import pino from 'pino';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KotakError } from '../../src/errors.js';
import {
  deliverToHost,
  normalizeLineEndings,
  type DeliveryOptions,
  type HostAttempt,
  type HostAttempted,
  type HostFailed,
} from '../../src/relay/smtp-delivery.js';
import { createSelfSignedCertificate, type TlsMaterial } from '../../src/smtp/tls.js';

interface ReceivedMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly bytes: Buffer;
  readonly secure: boolean;
}

interface Receiver {
  readonly port: number;
  /** Client command lines as the server logged them (it redacts AUTH itself). */
  readonly commands: string[];
  readonly messages: ReceivedMessage[];
  readonly logins: { method: string; user: string; pass: string }[];
  readonly connections: { count: number };
  close(): Promise<void>;
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A receiving server that records everything; `options` override its hooks and settings. */
async function startReceiver(options: Partial<SMTPServerOptions> = {}): Promise<Receiver> {
  const commands: string[] = [];
  const messages: ReceivedMessage[] = [];
  const logins: Receiver['logins'] = [];
  const connections = { count: 0 };
  const record = (entry: unknown, ...args: unknown[]): void => {
    if ((entry as { tnx?: string }).tnx === 'command') commands.push(String(args[1]));
  };
  const logger = { trace: record, debug: record, info: record, warn: record, error: record, fatal: record };
  const server = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    hideSTARTTLS: !options.key,
    // Teardown: a connection the receiver stopped reading never notices the client left.
    closeTimeout: 200,
    logger: logger as unknown as SMTPServerOptions['logger'],
    onConnect(_session, callback) {
      connections.count += 1;
      callback();
    },
    onAuth(auth, _session, callback) {
      logins.push({ method: auth.method, user: auth.username ?? '', pass: auth.password ?? '' });
      if (auth.password === PASSWORD) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        messages.push({ from, to: session.envelope.rcptTo.map((r) => r.address), bytes: Buffer.concat(chunks), secure: session.secure });
        callback(null, `Ok: queued as test-${messages.length}`);
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const receiver: Receiver = {
    port,
    commands,
    messages,
    logins,
    connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  servers.push(receiver);
  return receiver;
}

/** A TCP server that accepts and never says a word. */
async function startSilentServer(): Promise<{ port: number; accepted: { count: number } }> {
  const sockets = new Set<net.Socket>();
  const accepted = { count: 0 };
  const server = net.createServer((socket) => {
    accepted.count += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
  return { port: (server.address() as AddressInfo).port, accepted };
}

/** A port with nothing listening: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function smtpReply(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

function logCapture(): { log: pino.Logger; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'trace' }, sink), text: () => lines.join('') };
}

function attempted(result: HostAttempt): HostAttempted {
  if (result.kind !== 'attempted') throw new Error(`expected an attempted transaction, got host-failed: ${result.reason}`);
  return result;
}

function hostFailed(result: HostAttempt): HostFailed {
  if (result.kind !== 'host-failed') throw new Error(`expected host-failed, got ${JSON.stringify(result.recipients)}`);
  return result;
}

const PASSWORD = 'S3cret-Pa55word!';

const TIMEOUTS = { connectMs: 5000, greetingMs: 5000, commandMs: 5000, dataInitMs: 5000, dataBlockMs: 5000, dataTerminationMs: 5000 };

const OPTIONS: DeliveryOptions = {
  heloName: 'relay.kotak.test',
  tls: 'opportunistic',
  rejectUnauthorized: false,
  timeouts: TIMEOUTS,
};

const BODY_MARKER = 'Hello Zoë, the body stays out of every transcript';

const MESSAGE = Buffer.from(
  [
    'From: App <app@sender.test>',
    'To: QA <qa@example.test>',
    'Subject: Relay check',
    'Message-ID: <relay-check-1@sender.test>',
    'Date: Mon, 02 Mar 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    BODY_MARKER,
    '.a line that starts with a dot',
    '..and one with two',
    '',
    'bye',
    '',
  ].join('\r\n'),
);

const ENVELOPE = { from: 'app@sender.test', to: ['qa@example.test', 'dev@example.test'] };

function target(port: number, label = 'mx1.example.test'): { host: string; port: number; label: string } {
  return { host: '127.0.0.1', port, label };
}

let certificate: TlsMaterial;
beforeAll(async () => {
  certificate = await createSelfSignedCertificate('mx1.example.test');
});

describe('normalizeLineEndings', () => {
  it('turns bare LF and bare CR into CRLF and leaves CRLF alone', () => {
    const input = Buffer.from('a\nb\r\nc\rd\r\r\ne\n', 'latin1');
    expect(normalizeLineEndings(input).toString('latin1')).toBe('a\r\nb\r\nc\r\nd\r\n\r\ne\r\n');
  });

  it('returns the same buffer when every line already ends in CRLF', () => {
    expect(normalizeLineEndings(MESSAGE)).toBe(MESSAGE);
  });

  it('agrees with a regular-expression reference on random input', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = [0x0d, 0x0a, 0x2e, 0x61, 0xe9];
    for (let round = 0; round < 2000; round++) {
      const input = Buffer.from(Array.from({ length: random(120) }, () => alphabet[random(alphabet.length)]!));
      const reference = Buffer.from(input.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
      expect(normalizeLineEndings(input).equals(reference), JSON.stringify(input.toString('latin1'))).toBe(true);
    }
  });

  it('keeps every other byte, 8-bit included, and adds no final line break', () => {
    const input = Buffer.concat([Buffer.from('x\n'), Buffer.from([0xc3, 0xa9, 0xff, 0x00, 0x0a, 0x80]), Buffer.from('\rend')]);
    const expected = Buffer.concat([Buffer.from('x\r\n'), Buffer.from([0xc3, 0xa9, 0xff, 0x00, 0x0d, 0x0a, 0x80]), Buffer.from('\r\nend')]);
    expect(normalizeLineEndings(input).equals(expected)).toBe(true);
  });
});

describe('deliverToHost', () => {
  it('delivers to a plain server: the bytes arrive unchanged, every recipient is delivered with the remote reply', async () => {
    const receiver = await startReceiver({ size: 1_000_000 });
    const result = attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, OPTIONS));

    expect(receiver.messages).toHaveLength(1);
    const [received] = receiver.messages;
    expect(received!.bytes.equals(MESSAGE)).toBe(true);
    expect(received!.from).toBe('app@sender.test');
    expect(received!.to).toEqual(['qa@example.test', 'dev@example.test']);
    expect(received!.secure).toBe(false);

    expect(result.recipients).toEqual([
      { recipient: 'qa@example.test', status: 'delivered', code: 250, reply: '250 Ok: queued as test-1' },
      { recipient: 'dev@example.test', status: 'delivered', code: 250, reply: '250 Ok: queued as test-1' },
    ]);
    expect(result).toMatchObject({ host: '127.0.0.1', port: receiver.port, label: 'mx1.example.test', connected: true, tls: null });

    // One transaction for both recipients, EHLO with the configured name, SIZE and 8BITMIME declared.
    expect(receiver.commands[0]).toBe('EHLO relay.kotak.test');
    expect(receiver.commands.filter((c) => c.startsWith('MAIL FROM'))).toEqual([`MAIL FROM:<app@sender.test> BODY=8BITMIME SIZE=${MESSAGE.length}`]);
    expect(receiver.commands.at(-1)).toBe('QUIT');

    expect(result.transcript).toContain(`C: MAIL FROM:<app@sender.test> BODY=8BITMIME SIZE=${MESSAGE.length}`);
    expect(result.transcript).toContain('C: RCPT TO:<dev@example.test>');
    expect(result.transcript).toContain(`C: <message, ${MESSAGE.length} bytes>`);
    expect(result.transcript).toContain('S: 250 Ok: queued as test-1');
    expect(result.transcript.join('\n')).not.toContain('Zoë');
    expect(result.transcript.join('\n')).not.toContain('Subject');
  });

  it('sends a message with bare LF line breaks with CRLF', async () => {
    const receiver = await startReceiver();
    const bareLf = Buffer.from(MESSAGE.toString('utf8').replaceAll('\r\n', '\n'));
    attempted(await deliverToHost(target(receiver.port), ENVELOPE, bareLf, OPTIONS));
    expect(receiver.messages[0]!.bytes.equals(MESSAGE)).toBe(true);
  });

  it('reports a 421 greeting as a temporary host failure with the server text', async () => {
    const receiver = await startReceiver({
      onConnect: (_session, callback) => callback(smtpReply(421, '4.3.2 Too busy, try later')),
    });
    const result = hostFailed(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, OPTIONS));
    expect(result).toMatchObject({ temporary: true, code: 421, connected: true });
    expect(result.reason).toContain('421 4.3.2 Too busy, try later');
    expect(result.transcript).toContain('S: 421 4.3.2 Too busy, try later');
    expect(receiver.commands).toEqual([]);
  });

  it('reports a closed port as a temporary host failure without a connection', async () => {
    const port = await closedPort();
    const result = hostFailed(await deliverToHost(target(port), ENVELOPE, MESSAGE, OPTIONS));
    expect(result).toMatchObject({ temporary: true, code: null, connected: false, reason: 'connection refused', tls: null });
  });

  it('gives up on a server that never sends its greeting after the greeting timeout', async () => {
    const silent = await startSilentServer();
    const started = performance.now();
    const result = hostFailed(await deliverToHost(target(silent.port), ENVELOPE, MESSAGE, { ...OPTIONS, timeouts: { ...TIMEOUTS, greetingMs: 200 } }));
    expect(result).toMatchObject({ temporary: true, code: null, connected: true, reason: 'timed out after 200 ms waiting for the greeting' });
    expect(silent.accepted.count).toBe(1);
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it('gives up on a server that does not answer RCPT TO after the command timeout', async () => {
    const receiver = await startReceiver({ onRcptTo: () => undefined });
    const result = hostFailed(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, timeouts: { ...TIMEOUTS, commandMs: 300 } }));
    expect(result).toMatchObject({ temporary: true, reason: 'timed out after 300 ms waiting for the reply to RCPT TO' });
  });

  it('defers the recipients when the reply to the message data never comes (it may have been delivered)', async () => {
    const receiver = await startReceiver({
      onData: (stream) => {
        stream.resume();
      },
    });
    const result = attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, timeouts: { ...TIMEOUTS, dataTerminationMs: 300 } }));
    const reply = 'timed out after 300 ms waiting for the reply to the message data';
    expect(result.recipients).toEqual([
      { recipient: 'qa@example.test', status: 'deferred', code: null, reply },
      { recipient: 'dev@example.test', status: 'deferred', code: null, reply },
    ]);
  });

  it('stops when the server stops taking message data, after the data block timeout, and lets the next host try', async () => {
    // The receiver never reads the DATA stream, so smtp-server stops reading the socket and the
    // client's writes back up once the loopback buffers are full. The dot was never sent, so no
    // copy can have been delivered: the next host may try.
    const receiver = await startReceiver({ onData: (stream) => stream.pause() });
    const large = Buffer.concat([MESSAGE, Buffer.alloc(80 * 256 * 1024, `${'x'.repeat(78)}\r\n`)]);
    const result = hostFailed(await deliverToHost(target(receiver.port), ENVELOPE, large, { ...OPTIONS, timeouts: { ...TIMEOUTS, dataBlockMs: 300 } }));
    expect(result).toMatchObject({ temporary: true, code: null, reason: 'timed out after 300 ms waiting for the server to take more message data' });
    expect(result.elapsedMs).toBeLessThan(10_000);
    expect(result.transcript.some((line) => line.startsWith('C: <message'))).toBe(false);
  });

  it('defers a recipient refused with 451 and delivers the other, each with the remote text', async () => {
    const receiver = await startReceiver({
      onRcptTo: (address, _session, callback) =>
        address.address === 'qa@example.test' ? callback(smtpReply(451, '4.2.1 Mailbox busy, try again later')) : callback(),
    });
    const result = attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, OPTIONS));
    expect(result.recipients).toEqual([
      { recipient: 'qa@example.test', status: 'deferred', code: 451, reply: '451 4.2.1 Mailbox busy, try again later' },
      { recipient: 'dev@example.test', status: 'delivered', code: 250, reply: '250 Ok: queued as test-1' },
    ]);
    expect(receiver.messages.map((m) => m.to)).toEqual([['dev@example.test']]);
  });

  it('fails recipients refused with 550 and keeps the reply; nothing is delivered', async () => {
    const receiver = await startReceiver({
      onRcptTo: (_address, _session, callback) => callback(smtpReply(550, '5.1.1 No such user here')),
    });
    const result = attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, OPTIONS));
    expect(result.recipients).toEqual([
      { recipient: 'qa@example.test', status: 'failed', code: 550, reply: '550 5.1.1 No such user here' },
      { recipient: 'dev@example.test', status: 'failed', code: 550, reply: '550 5.1.1 No such user here' },
    ]);
    expect(receiver.messages).toEqual([]);
  });

  it('applies a refused sender to every recipient', async () => {
    const receiver = await startReceiver({
      onMailFrom: (_address, _session, callback) => callback(smtpReply(553, '5.7.1 Sender address rejected')),
    });
    const result = attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, OPTIONS));
    expect(result.recipients.map((r) => [r.status, r.reply])).toEqual([
      ['failed', '553 5.7.1 Sender address rejected'],
      ['failed', '553 5.7.1 Sender address rejected'],
    ]);
    expect(receiver.messages).toEqual([]);
  });

  it('applies a refusal of the message data to every accepted recipient', async () => {
    const receiver = await startReceiver({
      onRcptTo: (address, _session, callback) =>
        address.address === 'qa@example.test' ? callback(smtpReply(550, '5.1.1 No such user here')) : callback(),
      onData: (stream, _session, callback) => {
        stream.resume();
        stream.on('end', () => callback(smtpReply(554, '5.7.1 Message rejected as spam')));
      },
    });
    const result = attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, OPTIONS));
    expect(result.recipients).toEqual([
      { recipient: 'qa@example.test', status: 'failed', code: 550, reply: '550 5.1.1 No such user here' },
      { recipient: 'dev@example.test', status: 'failed', code: 554, reply: '554 5.7.1 Message rejected as spam' },
    ]);
  });

  it('uses STARTTLS when offered and records the protocol and cipher', async () => {
    const receiver = await startReceiver({ key: certificate.key, cert: certificate.cert });
    const result = attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, OPTIONS));
    expect(result.recipients.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect(receiver.messages[0]!.secure).toBe(true);
    expect(receiver.messages[0]!.bytes.equals(MESSAGE)).toBe(true);
    expect(receiver.commands.slice(0, 3)).toEqual(['EHLO relay.kotak.test', 'STARTTLS', 'EHLO relay.kotak.test']);
    expect(result.tls).toMatchObject({ protocol: expect.stringMatching(/^TLSv1\.[23]$/), authorized: false });
    expect(result.tls!.cipher).toMatch(/^[A-Z0-9_-]+$/);
    expect(result.transcript).toContain('C: STARTTLS');
    expect(result.transcript.some((line) => line.startsWith(`-- TLS ${result.tls!.protocol} ${result.tls!.cipher} (certificate not verified`))).toBe(true);
  });

  it('with TLS required, refuses a server that does not offer STARTTLS and never sends MAIL FROM', async () => {
    const receiver = await startReceiver();
    const result = hostFailed(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, tls: 'required' }));
    expect(result).toMatchObject({ temporary: true, code: null, connected: true, reason: 'TLS is required but the server does not offer STARTTLS' });
    expect(receiver.commands).toEqual(['EHLO relay.kotak.test', 'QUIT']);
    expect(receiver.messages).toEqual([]);
  });

  it('with TLS required, delivers over STARTTLS', async () => {
    const receiver = await startReceiver({ key: certificate.key, cert: certificate.cert });
    const result = attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, tls: 'required' }));
    expect(result.recipients.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect(receiver.messages[0]!.secure).toBe(true);
  });

  it('with certificate checks on, refuses a self-signed certificate before any mail command', async () => {
    const receiver = await startReceiver({ key: certificate.key, cert: certificate.cert });
    const result = hostFailed(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, rejectUnauthorized: true }));
    expect(result.temporary).toBe(true);
    expect(result.reason).toMatch(/^TLS handshake failed: .*self[- ]signed/i);
    expect(receiver.commands).toEqual(['EHLO relay.kotak.test', 'STARTTLS']);
  });

  it('speaks TLS from the first byte in implicit mode (smarthost on 465)', async () => {
    const receiver = await startReceiver({ secure: true, key: certificate.key, cert: certificate.cert });
    const result = attempted(await deliverToHost(target(receiver.port, 'smarthost.example.test'), ENVELOPE, MESSAGE, { ...OPTIONS, tls: 'implicit' }));
    expect(result.recipients.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect(result.tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(receiver.commands).not.toContain('STARTTLS');
    expect(receiver.messages[0]!.secure).toBe(true);
  });

  it('logs in to a smarthost with AUTH PLAIN; the password appears in no result, transcript or log', async () => {
    const receiver = await startReceiver({ key: certificate.key, cert: certificate.cert, authOptional: false, authMethods: ['PLAIN'] });
    const { log, text } = logCapture();
    const result = attempted(
      await deliverToHost(target(receiver.port, 'smarthost.example.test'), ENVELOPE, MESSAGE, { ...OPTIONS, tls: 'required', auth: { user: 'relay-user', pass: PASSWORD } }, log),
    );
    expect(result.recipients.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect(receiver.logins).toEqual([{ method: 'PLAIN', user: 'relay-user', pass: PASSWORD }]);
    expect(result.transcript).toContain('C: AUTH PLAIN ***');

    const secrets = [PASSWORD, Buffer.from(PASSWORD).toString('base64'), Buffer.from(`\0relay-user\0${PASSWORD}`).toString('base64')];
    const everything = JSON.stringify(result) + text();
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(text()).toContain('relay attempt finished');
    expect(text()).not.toContain('Zoë');
  });

  it('redacts every line of an AUTH LOGIN exchange, user name included', async () => {
    const receiver = await startReceiver({ key: certificate.key, cert: certificate.cert, authOptional: false, authMethods: ['LOGIN'] });
    const result = attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, auth: { user: 'relay-user', pass: PASSWORD } }));
    expect(receiver.logins).toEqual([{ method: 'LOGIN', user: 'relay-user', pass: PASSWORD }]);
    const authStart = result.transcript.indexOf('C: AUTH LOGIN');
    expect(authStart).toBeGreaterThan(0);
    expect(result.transcript.slice(authStart).filter((l) => l.startsWith('C: ')).slice(0, 3)).toEqual(['C: AUTH LOGIN', 'C: ***', 'C: ***']);
    expect(JSON.stringify(result)).not.toContain(Buffer.from('relay-user').toString('base64'));
    expect(JSON.stringify(result)).not.toContain(Buffer.from(PASSWORD).toString('base64'));
  });

  it('reports refused credentials as a permanent host failure with the reply', async () => {
    const receiver = await startReceiver({ key: certificate.key, cert: certificate.cert, authOptional: false, authMethods: ['PLAIN'] });
    const result = hostFailed(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, auth: { user: 'relay-user', pass: 'wrong' } }));
    expect(result).toMatchObject({ temporary: false, code: 535, reason: '535 5.7.8 Authentication credentials invalid (in reply to AUTH PLAIN)' });
    expect(receiver.commands.some((c) => c.startsWith('MAIL FROM'))).toBe(false);
  });

  it('does not send credentials over a connection without TLS unless allowed', async () => {
    const plain = { hideSTARTTLS: true, allowInsecureAuth: true, authOptional: false, authMethods: ['PLAIN'] };
    const receiver = await startReceiver(plain);
    const refused = hostFailed(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, auth: { user: 'relay-user', pass: PASSWORD } }));
    expect(refused).toMatchObject({ temporary: false, code: null, reason: 'refusing to send credentials over a connection without TLS' });
    expect(receiver.logins).toEqual([]);
    expect(receiver.commands).toEqual(['EHLO relay.kotak.test', 'QUIT']);

    const allowed = attempted(
      await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, auth: { user: 'relay-user', pass: PASSWORD, allowPlaintext: true } }),
    );
    expect(allowed.recipients.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect(receiver.logins).toEqual([{ method: 'PLAIN', user: 'relay-user', pass: PASSWORD }]);
  });

  it('does not start a transaction for a message larger than the SIZE the server declared', async () => {
    const receiver = await startReceiver({ size: 100 });
    const result = hostFailed(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, OPTIONS));
    expect(result).toMatchObject({ temporary: false, code: null, reason: `the message is ${MESSAGE.length} bytes and the server accepts at most 100 (EHLO SIZE)` });
    expect(receiver.commands).toEqual(['EHLO relay.kotak.test', 'QUIT']);
  });

  describe('DKIM', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'der' },
    });
    const dkim = { domainName: 'sender.test', keySelector: 'kotak1', privateKey };
    const record = `v=DKIM1; k=rsa; p=${publicKey.toString('base64')}`;
    /** The only DNS the verifier gets: the selector's TXT record, nothing else exists. */
    const resolver = async (name: string, type: string): Promise<string[][]> => {
      if (type === 'TXT' && name === 'kotak1._domainkey.sender.test') return [[record]];
      throw Object.assign(new Error(`${name} ${type} not found`), { code: 'ENOTFOUND' });
    };

    it('signs so that the received message verifies (relaxed/relaxed), bare LF input included', async () => {
      const receiver = await startReceiver();
      const bareLf = Buffer.from(MESSAGE.toString('utf8').replaceAll('\r\n', '\n'));
      for (const input of [MESSAGE, bareLf]) attempted(await deliverToHost(target(receiver.port), ENVELOPE, input, { ...OPTIONS, dkim }));

      expect(receiver.messages).toHaveLength(2);
      for (const { bytes } of receiver.messages) {
        expect(bytes.toString('latin1')).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=sender\.test;/);
        expect(bytes.subarray(bytes.indexOf('From: App')).equals(MESSAGE)).toBe(true);
        const verified = await dkimVerify(bytes, { resolver });
        expect(verified.results).toHaveLength(1);
        expect(verified.results[0]).toMatchObject({ signingDomain: 'sender.test', selector: 'kotak1', status: { result: 'pass' } });
      }
    });

    it('a tampered body does not verify (the check above is not vacuous)', async () => {
      const receiver = await startReceiver();
      attempted(await deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, dkim }));
      const tampered = Buffer.from(receiver.messages[0]!.bytes.toString('latin1').replace('bye', 'BYE'), 'latin1');
      const verified = await dkimVerify(tampered, { resolver });
      // mailauth reports a body hash mismatch as neutral (RFC 6376 6.1.3 leaves the result to the verifier).
      expect(verified.results[0]!.status).toMatchObject({ result: 'neutral', comment: 'body hash did not verify' });
    });

    it('refuses an unusable key before connecting, without the key in the error', async () => {
      const receiver = await startReceiver();
      const ed25519 = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      for (const key of ['not a key', ed25519.privateKey]) {
        const attempt = deliverToHost(target(receiver.port), ENVELOPE, MESSAGE, { ...OPTIONS, dkim: { ...dkim, privateKey: key } });
        await expect(attempt).rejects.toBeInstanceOf(KotakError);
        await expect(attempt).rejects.toMatchObject({ code: 'invalid_config' });
        await attempt.catch((err: Error) => expect(err.message).not.toContain(key));
      }
      expect(receiver.connections.count).toBe(0);
    });
  });
});
