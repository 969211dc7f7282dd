/**
 * --smtp-tls-implicit: the SMTP listener speaks TLS from the first byte (port 465 style, RFC 8314),
 * tested with real clients: nodemailer (`secure: true`), swaks (`--tlsc`), curl (`smtps://`) and a
 * raw TLS socket.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { KotakError } from '../../src/errors.js';
import { resolveConfig } from '../../src/config.js';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { RawSmtp } from '../helpers/raw-smtp.js';
import { queuedId } from '../helpers/smtp-client.js';

const run = promisify(execFile);

let kotak: RunningKotak | null = null;
const clients: RawSmtp[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await kotak?.stop();
  kotak = null;
});

async function startImplicit(extra: Record<string, string | number | boolean> = {}): Promise<RunningKotak> {
  kotak = await withKotak({ smtpTls: 'auto', smtpTlsImplicit: true, hostname: 'mail.kotak.test', ...extra });
  return kotak;
}

async function tlsClient(localAddress = '127.0.0.1'): Promise<RawSmtp> {
  const client = await RawSmtp.connect(kotak!.smtpPort, { localAddress });
  clients.push(client);
  await client.startTls();
  return client;
}

describe('--smtp-tls-implicit', () => {
  it('takes mail from nodemailer with secure: true; the envelope records TLS', async () => {
    await startImplicit();
    const info = await transport(kotak!, { secure: true, ignoreTLS: false, tls: { rejectUnauthorized: false } }).sendMail({
      from: 'app@example.com',
      to: 'user@example.com',
      subject: 'over implicit TLS',
      text: 'Encrypted from the first byte.',
    });
    const { body } = await getJson(kotak!, `/api/messages/${queuedId(info.response)}`);
    expect(body).toMatchObject({ subject: 'over implicit TLS', text: 'Encrypted from the first byte.' });
    expect(body.envelope.tls).toBe(true);
  });

  it('takes mail from swaks over TLS on connect (--tlsc)', async () => {
    await startImplicit();
    const { stdout } = await run('swaks', [
      '--server', '127.0.0.1', '--port', String(kotak!.smtpPort), '--tlsc',
      '--from', 'swaks@example.com', '--to', 'user@example.com',
      '--header', 'Subject: swaks tlsc', '--body', 'Sent by swaks over implicit TLS.',
    ]);
    // swaks prints its TLS handshake and the server's final reply on stdout.
    expect(stdout).toMatch(/TLS started/);
    expect(stdout).toMatch(/<~ {2}250 2\.0\.0 Ok: queued as /);
    const { body } = await getJson(kotak!, '/api/messages?limit=10');
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0]).toMatchObject({ subject: 'swaks tlsc' });
  });

  it('takes mail from curl over smtps://', async () => {
    await startImplicit();
    const message = 'From: curl@example.com\r\nTo: user@example.com\r\nSubject: curl smtps\r\n\r\nSent by curl.\r\n';
    const child = run('curl', ['--silent', '--show-error', '--insecure', '--url', `smtps://127.0.0.1:${kotak!.smtpPort}`, '--mail-from', 'curl@example.com', '--mail-rcpt', 'user@example.com', '--upload-file', '-']);
    child.child.stdin!.end(message);
    await child;
    const { body } = await getJson(kotak!, '/api/messages?limit=10');
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0]).toMatchObject({ subject: 'curl smtps' });
  });

  it('greets only after the handshake and does not advertise STARTTLS (the session is already encrypted)', async () => {
    await startImplicit({ smtpAuth: 'any', smtpRequireTls: true });
    const client = await tlsClient();
    const ehlo = await client.hello();
    expect(ehlo.code).toBe(250);
    expect(ehlo.lines.some((l) => /STARTTLS/i.test(l))).toBe(false);
    expect(ehlo.lines.some((l) => /AUTH PLAIN LOGIN/.test(l))).toBe(true);
    // --smtp-require-tls is satisfied by implicit TLS: AUTH and MAIL go through.
    expect((await client.command(`AUTH PLAIN ${Buffer.from('\0user\0secret').toString('base64')}`)).code).toBe(235);
    expect((await client.command('MAIL FROM:<a@example.com>')).code).toBe(250);
    expect((await client.command('STARTTLS')).code).toBeGreaterThanOrEqual(500);
  });

  it('says nothing to a plaintext client: no greeting, and the connection closes when it talks', async () => {
    await startImplicit();
    const plain = await RawSmtp.connect(kotak!.smtpPort, { localAddress: '127.0.0.2' });
    clients.push(plain);
    plain.write('EHLO plain.test\r\n');
    await plain.closed;
    expect(plain.unread).toEqual({ replies: 0, bytes: 0 });
  });

  it('counts a TLS connection against the connection limits like any other', async () => {
    await startImplicit({ smtpMaxConnectionsPerIp: 1 });
    const first = await tlsClient('127.0.0.2');
    expect((await first.hello()).code).toBe(250);
    const second = await tlsClient('127.0.0.2');
    expect((await second.read()).text).toMatch(/^421 4\.7\.0 Too many connections from 127\.0\.0\.2/);
    await second.closed;
  });

  it('drops connections that never complete the handshake after --smtp-stress-line-timeout, not the 5 min idle timeout; then TLS clients get in again', async () => {
    await startImplicit({ smtpMaxConnections: 3, smtpStressLineTimeout: '1s' });
    // Three TCP connections that never start a handshake: as many pending handshakes as
    // --smtp-max-connections allows (one more would be dropped at once).
    const stalled = await Promise.all([2, 3, 4].map((n) => RawSmtp.connect(kotak!.smtpPort, { localAddress: `127.0.0.${n}` })));
    clients.push(...stalled);
    await Promise.all(stalled.map((client) => client.closed));
    for (const client of stalled) expect(client.unread).toEqual({ replies: 0, bytes: 0 });
    const info = await transport(kotak!, { secure: true, ignoreTLS: false, tls: { rejectUnauthorized: false } }).sendMail({ from: 'app@example.com', to: 'user@example.com', subject: 'after the stalled handshakes', text: 'In.' });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
  });

  it('needs --smtp-tls', () => {
    expect(() => resolveConfig({ smtpTlsImplicit: 'true' })).toThrow(KotakError);
    expect(() => resolveConfig({ smtpTlsImplicit: 'true' })).toThrow('--smtp-tls-implicit: needs --smtp-tls (auto or CERT,KEY)');
    expect(resolveConfig({ smtpTlsImplicit: 'true', smtpTls: 'auto' }).smtpTlsImplicit).toBe(true);
    expect(resolveConfig({}, { KOTAK_SMTP_TLS_IMPLICIT: 'true', KOTAK_SMTP_TLS: 'auto' }).smtpTlsImplicit).toBe(true);
  });
});
