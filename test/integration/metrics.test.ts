/**
 * GET /metrics after real traffic: nodemailer messages into two mailboxes, an oversize message
 * (552), a missing and a wrong SMTP login, a bare-LF message, a POP3 session, a WebSocket client,
 * a held waiter and a relay delivery to a loopback receiver; the values read back, and the whole
 * text passed through Debian's `promtool check metrics`. Then who may read it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LiveClient, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { promtoolCheck, scrape, scrapeUntil } from '../helpers/metrics.js';
import { ImapTestClient } from '../helpers/imap.js';
import { Pop3TestClient } from '../helpers/pop3.js';
import { dataPayload, SmtpTestClient } from '../helpers/smtp-client.js';
import { startReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';

let dir: string;
let htpasswd: string;
let tokens: string;
let receiver: SmtpReceiver;
const running: RunningKotak[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kotak-metrics-'));
  htpasswd = join(dir, 'users.htpasswd');
  tokens = join(dir, 'tokens.txt');
  await writeFile(htpasswd, 'alice:secret\n');
  await writeFile(tokens, 'all-token\nscoped-token b\n');
  receiver = await startReceiver('127.0.0.1', 0);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((kotak) => kotak.stop()));
});
afterAll(async () => {
  await receiver?.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof withKotak>[0]): Promise<RunningKotak> {
  const kotak = await withKotak(options);
  running.push(kotak);
  return kotak;
}

const ALICE = { user: 'alice', pass: 'secret' };

describe('GET /metrics', () => {
  it('counts real traffic, and promtool finds nothing wrong with the text', async () => {
    const kotak = await start({
      db: join(dir, 'traffic.db'),
      smtpAuth: htpasswd,
      maxMessageSize: '20KB',
      mailboxRoute: '*@b.test=b',
      pop3: '127.0.0.1:0',
      pop3Auth: 'any',
      relayAllow: '*@relay.test',
      relayAuto: true,
      relaySmarthost: `127.0.0.1:${receiver.port}`,
      relaySmarthostTls: 'off',
    });
    const mail = transport(kotak, { auth: ALICE });
    await mail.sendMail({ from: 'app@x.test', to: 'one@a.test', subject: 'one', text: 'first', headers: { 'X-Tags': 'urgent' } });
    await mail.sendMail({ from: 'app@x.test', to: 'two@b.test', subject: 'two', text: 'second' });
    // Oversize: refused with 552, at MAIL (SIZE=) or at the end of DATA, whichever the client reaches.
    await expect(mail.sendMail({ from: 'app@x.test', to: 'big@a.test', subject: 'big', text: 'x'.repeat(40_000) })).rejects.toMatchObject({ responseCode: 552 });
    // No login where one is required (530), and a wrong password (535).
    await expect(transport(kotak).sendMail({ from: 'app@x.test', to: 'anon@a.test', text: 'no login' })).rejects.toMatchObject({ responseCode: 530 });
    await expect(transport(kotak, { auth: { user: 'alice', pass: 'wrong' } }).sendMail({ from: 'app@x.test', to: 'x@a.test', text: 'x' })).rejects.toMatchObject({ responseCode: 535 });

    // Bare LF line endings, sent byte by byte; the SMTP connection stays open for the gauge.
    const smtp = await SmtpTestClient.connect(kotak.smtpPort);
    await smtp.hello();
    expect((await smtp.command(`AUTH PLAIN ${Buffer.from('\0alice\0secret').toString('base64')}`)).code).toBe(235);
    expect((await smtp.command('MAIL FROM:<raw@x.test>')).code).toBe(250);
    expect((await smtp.command('RCPT TO:<raw@a.test>')).code).toBe(250);
    expect((await smtp.command('DATA')).code).toBe(354);
    smtp.write(Buffer.concat([Buffer.from('Subject: bare\nFrom: raw@x.test\r\n\r\nline one\nline two\r\n', 'latin1'), Buffer.from('.\r\n')]));
    expect((await smtp.read()).code).toBe(250);

    // Relayed to the loopback receiver (--relay-auto).
    const seen = receiver.messages.length;
    await mail.sendMail({ from: 'app@x.test', to: 'out@relay.test', subject: 'relayed', text: 'out' });
    await receiver.nextMessage(seen);

    // A POP3 session left open, a WebSocket client, and a waiter held.
    const pop3 = await Pop3TestClient.connect(kotak.pop3Port!);
    await pop3.readLine();
    expect(await pop3.command('USER anyone')).toMatch(/^\+OK/);
    expect(await pop3.command('PASS anything')).toMatch(/^\+OK/);
    const live = await LiveClient.connect(kotak);
    const holding = new AbortController();
    const waiting = fetch(`${kotak.url}/api/messages/wait?query=${encodeURIComponent('subject:never')}&timeout=60`, { signal: holding.signal }).catch(() => null);

    const { samples, body } = await scrapeUntil(kotak, (s) => s.get('kotak_waiters') === 1 && s.get('kotak_relay_attempts_total{outcome="delivered"}') === 1);
    holding.abort();
    await waiting;

    // Four messages stored: two in default (one tagged), one in b, one relayed (default).
    expect(samples.get('kotak_messages_stored_total{mailbox="default"}')).toBe(3);
    expect(samples.get('kotak_messages_stored_total{mailbox="b"}')).toBe(1);
    expect(samples.get('kotak_messages_stored_bytes_total{mailbox="b"}')).toBeGreaterThan(100);
    expect(samples.get('kotak_messages_tagged_total{tag="urgent"}')).toBe(1);
    expect(samples.get('kotak_smtp_data_to_reply_seconds_count')).toBe(4);
    expect(samples.get('kotak_smtp_data_to_reply_seconds_bucket{le="+Inf"}')).toBe(4);
    expect(samples.get('kotak_smtp_data_to_reply_seconds_sum')).toBeGreaterThan(0);
    // Every DATA that ended: the four stored, and the oversize one if the client got that far.
    expect(samples.get('kotak_smtp_messages_received_total')).toBeGreaterThanOrEqual(4);
    expect(samples.get('kotak_smtp_refusals_total{reason="message_too_big",code="552"}')).toBe(1);
    // Each reply counts: the client may try a command more after the first 530.
    expect(samples.get('kotak_smtp_refusals_total{reason="auth_required",code="530"}')).toBeGreaterThanOrEqual(1);
    expect(samples.get('kotak_smtp_refusals_total{reason="auth_failed",code="535"}')).toBe(1);
    expect(samples.get('kotak_auth_failures_total{protocol="smtp"}')).toBe(1);
    expect(samples.get('kotak_auth_failures_total{protocol="pop3"}')).toBe(0);
    expect(samples.get('kotak_messages_flagged_total{flag="bare-lf"}')).toBe(1);
    expect(samples.get('kotak_parse_failures_total')).toBe(0);
    expect(samples.get('kotak_connections_open{protocol="smtp"}')).toBe(1);
    expect(samples.get('kotak_connections_open{protocol="pop3"}')).toBe(1);
    expect(samples.get('kotak_connections_open{protocol="http-live"}')).toBe(1);
    expect(samples.get('kotak_websocket_clients{endpoint="live"}')).toBe(1);
    expect(samples.get('kotak_relay_jobs{status="delivered"}')).toBe(1);
    expect(samples.get('kotak_relay_jobs{status="queued"}')).toBe(0);
    expect(samples.get('kotak_database_size_bytes')).toBeGreaterThan(0);
    // prom-client's process metrics, under its own names.
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect([...samples.keys()].some((name) => name.startsWith('nodejs_eventloop_lag_seconds'))).toBe(true);

    const promtool = await promtoolCheck(body);
    expect(promtool).toEqual({ code: 0, output: '' });

    // The sessions end: the gauges follow.
    smtp.close();
    expect(await pop3.command('QUIT')).toMatch(/^\+OK/);
    live.close();
    await scrapeUntil(kotak, (s) => s.get('kotak_connections_open{protocol="smtp"}') === 0 && s.get('kotak_connections_open{protocol="pop3"}') === 0 && s.get('kotak_connections_open{protocol="http-live"}') === 0);
  });

  it('counts IMAP connections and failed IMAP logins, and chaos firings by stage and action', async () => {
    const kotak = await start({ imap: '127.0.0.1:0', imapAuth: htpasswd, chaosRule: 'rcpt to=*@bounce.test reply=550:5.1.1:"no such user"' });
    const imap = await ImapTestClient.connect(kotak.imapPort!);
    await imap.readResponse();
    expect((await imap.command('a1', 'LOGIN alice wrong')).tagged).toMatch(/^a1 NO/);
    expect((await imap.command('a2', 'LOGIN alice secret')).tagged).toMatch(/^a2 OK/);
    await expect(transport(kotak).sendMail({ from: 'app@x.test', to: 'nobody@bounce.test', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
    const { samples, body } = await scrapeUntil(kotak, (s) => s.get('kotak_connections_open{protocol="imap"}') === 1);
    expect(samples.get('kotak_auth_failures_total{protocol="imap"}')).toBe(1);
    expect(samples.get('kotak_chaos_firings_total{stage="rcpt",action="reply"}')).toBe(1);
    expect(await promtoolCheck(body)).toEqual({ code: 0, output: '' });
    imap.close();
    await scrapeUntil(kotak, (s) => s.get('kotak_connections_open{protocol="imap"}') === 0);
  });

  it('counts a wrong POP3 password as a POP3 auth failure', async () => {
    const kotak = await start({ pop3: '127.0.0.1:0', pop3Auth: htpasswd });
    const pop3 = await Pop3TestClient.connect(kotak.pop3Port!);
    await pop3.readLine();
    await pop3.command('USER alice');
    expect(await pop3.command('PASS wrong')).toMatch(/^-ERR/);
    expect((await scrape(kotak)).samples.get('kotak_auth_failures_total{protocol="pop3"}')).toBe(1);
    pop3.close();
  });

  it('counts a message kept unparsed as a parse failure', async () => {
    // Past --max-mime-parts the parser refuses the structure; the raw message is still stored.
    const kotak = await start({ maxMimeParts: 2 });
    const parts = [1, 2, 3, 4].map((n) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${n}\r\n`).join('');
    const raw = Buffer.from(`Subject: many parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`);
    const smtp = await SmtpTestClient.connect(kotak.smtpPort);
    await smtp.hello();
    await smtp.command('MAIL FROM:<a@x.test>');
    await smtp.command('RCPT TO:<b@x.test>');
    await smtp.command('DATA');
    smtp.write(dataPayload(raw));
    expect((await smtp.read()).code).toBe(250);
    smtp.close();
    const { samples } = await scrape(kotak);
    expect(samples.get('kotak_parse_failures_total')).toBe(1);
    expect(samples.get('kotak_messages_stored_total{mailbox="default"}')).toBe(1);
  });
});

describe('who may read GET /metrics', () => {
  it('is open with HTTP authentication off, and listed in the OpenAPI document as text', async () => {
    const kotak = await start({});
    const open = await scrape(kotak);
    expect(open.status).toBe(200);
    expect(open.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    // Relay off: kotak_relay_jobs has no samples, which promtool accepts too.
    expect(await promtoolCheck(open.body)).toEqual({ code: 0, output: '' });
    const spec = (await (await fetch(`${kotak.url}/api/openapi.json`)).json()) as { paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> }> } }> };
    expect(Object.keys(spec.paths['/metrics']?.get?.responses['200']?.content ?? {})).toEqual(['text/plain; version=0.0.4; charset=utf-8']);
  });

  it('with auth on: 401 without credentials, 200 for a login that sees every mailbox, 403 for a scoped one', async () => {
    const kotak = await start({ httpAuth: htpasswd, httpTokenFile: tokens });
    const missing = await scrape(kotak);
    expect(missing.status).toBe(401);
    expect(missing.body).toContain('auth_failed');
    expect((await scrape(kotak, { Authorization: 'Bearer all-token' })).status).toBe(200);
    expect((await scrape(kotak, { Authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` })).status).toBe(200);
    const scoped = await scrape(kotak, { Authorization: 'Bearer scoped-token' });
    expect(scoped.status).toBe(403);
    expect(scoped.body).toContain('mailbox_not_allowed');
    // A wrong token is a failed HTTP login, counted: on /metrics, on the API and on a WebSocket's handshake.
    expect((await scrape(kotak, { Authorization: 'Bearer nope' })).status).toBe(401);
    expect((await fetch(`${kotak.url}/api/messages`, { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    const refused = new WebSocket(`${kotak.url.replace(/^http/, 'ws')}/api/live`, { headers: { Authorization: 'Bearer nope' } });
    refused.on('error', () => undefined);
    const [, response] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(401);
    refused.terminate();
    // Missing credentials (the first request above) are no failed login.
    expect((await scrape(kotak, { Authorization: 'Bearer all-token' })).samples.get('kotak_auth_failures_total{protocol="http"}')).toBe(3);
  });

  it('--metrics-token opens /metrics alone: the API stays closed to it, a wrong token is 401', async () => {
    const kotak = await start({ httpAuth: htpasswd, metricsToken: 'scrape-me' });
    expect((await scrape(kotak, { Authorization: 'Bearer scrape-me' })).status).toBe(200);
    expect((await scrape(kotak, { Authorization: 'Bearer scrape-you' })).status).toBe(401);
    expect((await scrape(kotak)).status).toBe(401);
    expect((await fetch(`${kotak.url}/api/messages`, { headers: { Authorization: 'Bearer scrape-me' } })).status).toBe(401);
  });

  it('--metrics-token with HTTP authentication off: /metrics asks for it, the rest stays open', async () => {
    const kotak = await start({ metricsToken: 'scrape-me' });
    const missing = await scrape(kotak);
    expect(missing.status).toBe(401);
    expect((await scrape(kotak, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await scrape(kotak, { Authorization: 'Bearer scrape-me' })).status).toBe(200);
    expect((await fetch(`${kotak.url}/api/messages`)).status).toBe(200);
  });
});

describe('tags in GET /metrics', () => {
  it('counts messages tagged at intake by X-Tags and by a full-text rule, per tag', async () => {
    // "invoice" is a free-text word: the rule is asked of the store after the commit.
    const kotak = await start({ tagRule: 'invoice=Billing' });
    await transport(kotak).sendMail({ from: 'shop@x.test', to: 'me@a.test', subject: 'your order', text: 'the invoice is attached', headers: { 'X-Tags': 'shop' } });
    await transport(kotak).sendMail({ from: 'shop@x.test', to: 'me@a.test', subject: 'news', text: 'nothing to pay' });
    const { samples } = await scrape(kotak);
    expect(samples.get('kotak_messages_tagged_total{tag="Billing"}')).toBe(1);
    expect(samples.get('kotak_messages_tagged_total{tag="shop"}')).toBe(1);
    expect(samples.get('kotak_messages_stored_total{mailbox="default"}')).toBe(2);
  });
});
