/**
 * Webhooks end to end (issue 22): a real Kotak, mail sent by nodemailer, a real HTTP receiver on
 * 127.0.0.1:0 (test/helpers/webhook-receiver.ts). Every wait is on a condition: a request received,
 * a log line written, a message listed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { verifyKotakSignature } from '../../src/webhook-receiver/index.js';
import { resolveConfig, type RawSettings } from '../../src/config.js';
import { VERSION } from '../../src/version.js';
import { getJson, transport, type RunningKotak } from '../helpers/kotak.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-webhooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Log lines as objects, with a wait for one that matches. */
class LogLines {
  readonly lines: Record<string, unknown>[] = [];
  private readonly waiters: (() => void)[] = [];
  readonly log = pino({ level: 'debug' }, { write: (line: string) => this.push(JSON.parse(line) as Record<string, unknown>) });

  private push(line: Record<string, unknown>): void {
    this.lines.push(line);
    for (const wake of this.waiters.splice(0)) wake();
  }

  async waitFor(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

const running: RunningKotak[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((k) => k.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await WebhookReceiver.start();
  receivers.push(r);
  return r;
}

async function kotak(settings: RawSettings, logs = new LogLines()): Promise<RunningKotak> {
  const k = await startApp(resolveConfig({ smtp: '127.0.0.1:0', http: '127.0.0.1:0', db: ':memory:', parseWorkers: '1', ...settings }), { log: logs.log });
  running.push(k);
  return k;
}

/** Sends a message and returns the id of its stored copy, from the 250. */
async function send(k: RunningKotak, subject: string, to = 'alice@example.test'): Promise<string> {
  const info = await transport(k).sendMail({ from: 'app@example.test', to, subject, text: `body of ${subject}` });
  return /queued as (\S+)/.exec(info.response)![1]!;
}

describe('webhooks', () => {
  it('deliver a message once, with Kotak\'s body and headers, signed so that verifyKotakSignature accepts it and refuses a tampered body', async () => {
    const r = await receiver();
    const k = await kotak({ webhook: r.url, webhookSecret: 'whsec-test' });
    const id = await send(k, 'Welcome');
    const [first] = await r.waitFor((got) => got.length >= 1);
    expect(first!.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), type: 'message:stored', timestamp: expect.any(String), data: expect.objectContaining({ id, subject: 'Welcome', mailbox: 'default' }) });
    expect(Date.parse(first!.body.timestamp)).not.toBeNaN();
    expect(first!.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': `Kotak/${VERSION}`,
      'kotak-webhook-id': first!.body.id,
      'kotak-webhook-event': 'message:stored',
      'kotak-webhook-attempt': '1',
    });
    const signature = first!.headers['kotak-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyKotakSignature('whsec-test', signature, first!.rawBody, 300)).toBe(true);
    expect(verifyKotakSignature('whsec-test', signature, first!.rawBody.replace('Welcome', 'Welcomf'), 300)).toBe(false);
    expect(verifyKotakSignature('another-secret', signature, first!.rawBody, 300)).toBe(false);
    // Once: a later message is sent after it (in order), and by then the first was not sent again.
    const second = await send(k, 'Second');
    await r.waitFor((got) => got.some((g) => g.body.data.id === second));
    expect(r.received.filter((g) => g.body.data.id === id)).toHaveLength(1);
  });

  it('send Mailpit\'s body with --webhook-format mailpit, signed and identified as Kotak\'s are', async () => {
    const r = await receiver();
    const k = await kotak({ webhook: r.url, webhookFormat: 'mailpit', webhookSecret: 'whsec-mp' });
    const id = await send(k, 'For a Mailpit receiver');
    const [first] = await r.waitFor((got) => got.length >= 1);
    expect(first!.body).toMatchObject({ ID: id, Subject: 'For a Mailpit receiver', From: { Address: 'app@example.test' }, To: [{ Address: 'alice@example.test' }], Tags: [] });
    expect(first!.body.id).toBeUndefined();
    expect(first!.headers['kotak-webhook-event']).toBe('message:stored');
    expect(first!.headers['kotak-webhook-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(verifyKotakSignature('whsec-mp', first!.headers['kotak-signature'] as string, first!.rawBody, 300)).toBe(true);
  });

  it('announce messages stored by Mailpit\'s send API and IMAP APPEND too (every path through the mailbox service)', async () => {
    const r = await receiver();
    const k = await kotak({ webhook: r.url, imap: '127.0.0.1:0', imapAuth: 'any' });
    const sent = await fetch(`${k.url}/api/v1/send`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ From: { Email: 'app@example.test' }, To: [{ Email: 'bob@example.test' }], Subject: 'Through Mailpit', Text: 'x' }),
    });
    expect(sent.status).toBe(200);
    const imap = new ImapFlow({ host: '127.0.0.1', port: k.imapPort!, secure: false, auth: { user: 'tester', pass: 'any' }, logger: false });
    await imap.connect();
    await imap.append('INBOX', 'From: app@example.test\r\nTo: bob@example.test\r\nSubject: Through APPEND\r\n\r\nHello\r\n');
    await imap.logout();
    await r.waitFor((got) => got.length >= 2);
    expect(r.received.map((g) => [g.body.type, g.body.data.subject])).toEqual([
      ['message:stored', 'Through Mailpit'],
      ['message:stored', 'Through APPEND'],
    ]);
  });

  it('send no signature without a secret', async () => {
    const r = await receiver();
    const k = await kotak({ webhook: r.url });
    await send(k, 'Unsigned');
    const [first] = await r.waitFor((got) => got.length >= 1);
    expect(first!.headers['kotak-signature']).toBeUndefined();
  });

  it('deliver several messages in the order they were stored', async () => {
    const r = await receiver();
    const k = await kotak({ webhook: r.url });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await send(k, `In order ${i}`));
    await r.waitFor((got) => got.length >= ids.length);
    expect(r.received.map((g) => g.body.data.id)).toEqual(ids);
  });

  it('retry a delivery answered 500 with the same id, and keep later deliveries behind it', async () => {
    const r = await receiver();
    r.queue(500, 500);
    const k = await kotak({ webhook: r.url });
    const first = await send(k, 'Retried');
    const second = await send(k, 'Behind it');
    await r.waitFor((got) => got.length >= 4);
    expect(r.received.map((g) => [g.body.data.id, g.headers['kotak-webhook-attempt'], g.answer])).toEqual([
      [first, '1', 500],
      [first, '2', 500],
      [first, '3', 200],
      [second, '1', 200],
    ]);
    expect(new Set(r.received.slice(0, 3).map((g) => g.body.id)).size).toBe(1);
    // The same bytes on every attempt.
    expect(new Set(r.received.slice(0, 3).map((g) => g.rawBody)).size).toBe(1);
  });

  it('count an endpoint that does not answer within --webhook-timeout, or drops the connection, as a failed attempt', async () => {
    const r = await receiver();
    r.queue('hang', 'close');
    const logs = new LogLines();
    const k = await kotak({ webhook: r.url, webhookTimeout: '300ms' }, logs);
    const id = await send(k, 'Slow endpoint');
    await r.waitFor((got) => got.length >= 3);
    expect(r.received.map((g) => [g.body.data.id, g.headers['kotak-webhook-attempt']])).toEqual([[id, '1'], [id, '2'], [id, '3']]);
    const retries = logs.lines.filter((l) => l.msg === 'webhook attempt failed; will retry');
    expect(retries.map((l) => l.error)).toEqual([expect.stringMatching(/^timed out/), expect.stringMatching(/ECONNRESET|socket hang up/)]);
  });

  it('mark a delivery failed when its retry window is over, logged at warn without the password, and go on with the next', async () => {
    const r = await receiver();
    r.answerWith(500);
    const logs = new LogLines();
    const url = r.url.replace('http://', 'http://hook:pa55word-x@');
    const k = await kotak({ webhook: url, webhookRetryFor: '2s' }, logs);
    const id = await send(k, 'Given up');
    const failed = await logs.waitFor((l) => l.msg === 'webhook delivery failed: its retry window is over, it will not be sent again');
    expect(failed).toMatchObject({ level: 40, component: 'webhooks', endpoint: `http://hook@127.0.0.1:${r.port}/hook`, error: 'HTTP 500', deliveryId: r.received[0]!.body.id });
    expect(r.received.every((g) => g.body.data.id === id)).toBe(true);
    expect(r.received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('hook:pa55word-x').toString('base64')}`);
    r.answerWith(200);
    const next = await send(k, 'After the failure');
    await r.waitFor((got) => got.some((g) => g.body.data.id === next));
    expect(JSON.stringify(logs.lines)).not.toContain('pa55word-x');
  });

  it('send the other subscribed events: a read mark and a delete through the API', async () => {
    const r = await receiver();
    const k = await kotak({ webhook: r.url, webhookEvents: 'message:stored,message:updated,message:deleted' });
    const id = await send(k, 'Events');
    expect((await getJson(k, `/api/messages/${id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ read: true }) })).status).toBe(200);
    expect((await getJson(k, `/api/messages/${id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    await r.waitFor((got) => got.length >= 3);
    expect(r.received.map((g) => [g.body.type, g.headers['kotak-webhook-event']])).toEqual([
      ['message:stored', 'message:stored'],
      ['message:updated', 'message:updated'],
      ['message:deleted', 'message:deleted'],
    ]);
    expect(r.received[1]!.body.data).toEqual({ id, mailbox: 'default', read: true });
    expect(r.received[2]!.body.data).toEqual({ mailbox: 'default', ids: [id] });
  });

  it('subscribed only to deletes, send no message:stored', async () => {
    const r = await receiver();
    const k = await kotak({ webhook: r.url, webhookEvents: 'message:deleted' });
    const id = await send(k, 'Not announced');
    await getJson(k, `/api/messages/${id}`, { method: 'DELETE' });
    await r.waitFor((got) => got.length >= 1);
    expect(r.received.map((g) => g.body.type)).toEqual(['message:deleted']);
  });

  it('keep two endpoints independent: one that hangs does not delay the other', async () => {
    const hung = await receiver();
    hung.answerWith('hang');
    const healthy = await receiver();
    // A timeout far beyond the test: the hung request is held, not retried, however slow the machine.
    const k = await kotak({ webhook: [hung.url, healthy.url], webhookTimeout: '10m' });
    const ids = [await send(k, 'One'), await send(k, 'Two'), await send(k, 'Three')];
    await healthy.waitFor((got) => got.length >= 3);
    expect(healthy.received.map((g) => g.body.data.id)).toEqual(ids);
    // The hung endpoint still holds its first request and has been sent nothing else.
    expect(hung.received.map((g) => g.body.data.id)).toEqual([ids[0]]);
    hung.answerWith(200);
    hung.release(200);
    await hung.waitFor((got) => got.length >= 3);
    expect(hung.received.map((g) => g.body.data.id)).toEqual(ids);
  });

  it('never hold SMTP intake: with the endpoint holding its first request, 50 more messages get their 250 and are listed', async () => {
    const r = await receiver();
    r.answerWith('hang');
    const k = await kotak({ webhook: r.url, webhookTimeout: '10m' });
    await send(k, 'Held');
    await r.waitFor((got) => got.length >= 1);
    const mail = transport(k, { pool: true, maxConnections: 4 });
    const infos = await Promise.all(Array.from({ length: 50 }, (_, i) => mail.sendMail({ from: 'app@example.test', to: 'bob@example.test', subject: `Meanwhile ${i}`, text: 'x' })));
    mail.close();
    for (const info of infos) expect(info.response).toMatch(/^250 /);
    const { body } = await getJson<{ total: number }>(k, '/api/messages?limit=1');
    expect(body.total).toBe(51);
    expect(r.received).toHaveLength(1);
    r.answerWith(200);
    r.release(200);
    await r.waitFor((got) => new Set(got.map((g) => g.body.id)).size >= 51);
  });

  it('deliver after a restart on the same database file what was still pending', async () => {
    const r = await receiver();
    r.answerWith(503);
    const db = join(dir, 'restart.db');
    const first = await kotak({ webhook: r.url, db });
    const ids = [await send(first, 'Before restart 1'), await send(first, 'Before restart 2')];
    await r.waitFor((got) => got.length >= 1);
    await first.stop();
    r.answerWith(200);
    await kotak({ webhook: r.url, db });
    await r.waitFor((got) => got.filter((g) => g.answer === 200).length >= 2);
    expect(r.uniqueBodies().map((b) => b.data.id)).toEqual(ids);
  });
});
