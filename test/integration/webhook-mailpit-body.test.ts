/**
 * `--webhook-format mailpit`'s body (src/webhooks/mailpit-body.ts): for a message stored by a real
 * Kotak over SMTP, the body built from its `message:stored` payload is what a Mailpit receiver
 * expects, field for field the list item the `mailpit-api` client reads from Kotak's Mailpit routes
 * (its `MailpitMessageListItem`, the same shape as Mailpit's WebSocket `new` frame and webhook).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailpitClient, type MailpitMessageListItem } from 'mailpit-api';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKotakError } from '../../src/errors.js';
import type { MessageSummary } from '../../src/mail/types.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { WebhookDelivery } from '../../src/store/webhook-types.js';
import { createMailpitBody } from '../../src/webhooks/mailpit-body.js';
import { LiveClient, transport, withKotak } from '../helpers/kotak.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-mailpit-body-'));
const dbPath = join(dir, 'kotak.db');
/** What Kotak's live frames carried (the outbox's payload) and what the Mailpit client read, by subject. */
const payloads = new Map<string, MessageSummary>();
const mailpitItems = new Map<string, MailpitMessageListItem>();
let store: SqliteStore;

function deliveryOf(summary: MessageSummary, event = 'message:stored'): WebhookDelivery {
  return {
    id: '0b7c4d1e-0000-4000-8000-000000000001', seq: 1, endpoint: 'http://127.0.0.1:9/hook', event, mailbox: summary.mailbox,
    payload: JSON.stringify(summary), createdAt: summary.receivedAt, status: 'sending', attempts: 0,
    nextAttemptAt: null, lastStatusCode: null, lastError: null, finishedAt: null,
  };
}

beforeAll(async () => {
  const kotak = await withKotak({ db: dbPath, smtpAuth: 'any' });
  try {
    const live = await LiveClient.connect(kotak);
    // --smtp-auth any: every client logs in (any password); Mailpit's Username is the login.
    const smtp = transport(kotak, { auth: { user: 'alice-app', pass: 'secret' } });
    await smtp.sendMail({
      from: 'Alice <alice@example.test>', to: 'Bob <bob@example.test>', cc: 'carol@example.test', bcc: 'dave@example.test',
      replyTo: 'Replies <replies@example.test>', subject: 'rich', text: 'hello there', headers: { 'X-Tags': 'billing, urgent' },
      attachments: [{ filename: 'a.txt', content: 'attached' }, { filename: 'b.csv', content: '1,2' }],
    });
    await transport(kotak, { auth: { user: 'app-user', pass: 'secret' } }).sendMail({ from: 'app@example.test', to: 'bob@example.test', subject: 'authenticated', text: 'by a user' });
    await smtp.sendMail({ from: 'app@example.test', to: 'bob@example.test', subject: 'deleted', text: 'gone soon', headers: { 'X-Tags': 'kept' } });
    for (const subject of ['rich', 'authenticated', 'deleted']) {
      const frame = await live.next('message:stored', (f) => f.data.subject === subject);
      payloads.set(subject, frame.data);
    }
    live.close();
    const mailpit = new MailpitClient(kotak.url);
    for (const item of (await mailpit.listMessages()).messages) mailpitItems.set(item.Subject, item);
    await mailpit.deleteMessages({ IDs: [payloads.get('deleted')!.id] });
  } finally {
    await kotak.stop();
  }
  store = await openSqliteStore(dbPath, { log: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the Mailpit webhook body', () => {
  it('is the message summary a Mailpit receiver reads: the list item of the mailpit-api client, field for field', async () => {
    const body = createMailpitBody(store);
    for (const subject of ['rich', 'authenticated']) {
      const sent = JSON.parse(await body(deliveryOf(payloads.get(subject)!))) as MailpitMessageListItem;
      expect(sent).toEqual(mailpitItems.get(subject));
    }
    const rich = JSON.parse(await body(deliveryOf(payloads.get('rich')!))) as MailpitMessageListItem;
    expect(rich).toMatchObject({
      From: { Name: 'Alice', Address: 'alice@example.test' },
      To: [{ Name: 'Bob', Address: 'bob@example.test' }],
      Cc: [{ Name: '', Address: 'carol@example.test' }],
      Bcc: [{ Name: '', Address: 'dave@example.test' }],
      ReplyTo: [{ Name: 'Replies', Address: 'replies@example.test' }],
      Subject: 'rich', Read: false, Attachments: 2, Tags: ['billing', 'urgent'],
    });
    expect(rich.Username).toBe('alice-app');
    expect(JSON.parse(await body(deliveryOf(payloads.get('authenticated')!)))).toMatchObject({ Username: 'app-user', Attachments: 0, ReplyTo: [] });
  });

  it('has the field names and JSON types Mailpit declares, and nothing Kotak-only', async () => {
    const sent = JSON.parse(await createMailpitBody(store)(deliveryOf(payloads.get('rich')!))) as Record<string, unknown>;
    const address = { Name: 'string', Address: 'string' };
    const types: Record<string, unknown> = {
      ID: 'string', MessageID: 'string', Read: 'boolean', From: address, To: [address], Cc: [address], Bcc: [address], ReplyTo: [address],
      Subject: 'string', Created: 'string', Username: 'string', Tags: ['string'], Size: 'number', Attachments: 'number', Snippet: 'string',
    };
    const typeOf = (value: unknown): unknown =>
      Array.isArray(value) ? [...new Set(value.map((v) => JSON.stringify(typeOf(v))))].map((t) => JSON.parse(t) as unknown)
        : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeOf(v)])) : typeof value;
    expect(typeOf(sent)).toEqual(types);
    expect(Number.isNaN(Date.parse(sent.Created as string))).toBe(false);
  });

  it('is still sent for a message deleted since: the summary it was stored with, its tags, no extras', async () => {
    const payload = payloads.get('deleted')!;
    expect((await store.summaryExtras([payload.id])).size).toBe(0);
    const sent = JSON.parse(await createMailpitBody(store)(deliveryOf(payload))) as MailpitMessageListItem;
    expect(sent).toEqual({
      ID: payload.id, MessageID: payload.messageId, Read: false, From: { Name: '', Address: 'app@example.test' },
      To: [{ Name: '', Address: 'bob@example.test' }], Cc: [], Bcc: [], ReplyTo: [], Subject: 'deleted', Created: payload.receivedAt,
      Tags: ['kept'], Size: payload.size, Attachments: 0, Snippet: payload.snippet,
    });
  });

  it('exists only for message:stored (Mailpit sends nothing else): another event is a configuration error', async () => {
    const err = await createMailpitBody(store)(deliveryOf(payloads.get('rich')!, 'message:deleted')).catch((e: unknown) => e);
    expect(isKotakError(err) && err.code).toBe('invalid_config');
  });
});

describe('--webhook-format mailpit, end to end', () => {
  it('POSTs each new message as the summary Mailpit would, which a receiver written for Mailpit reads', async () => {
    const receiver = await WebhookReceiver.start();
    const kotak = await withKotak({ webhook: receiver.url, webhookFormat: 'mailpit', smtpAuth: 'any' });
    try {
      await transport(kotak, { auth: { user: 'shop', pass: 'x' } }).sendMail({
        from: 'Shop <shop@example.test>', to: 'buyer@example.test', replyTo: 'help@example.test', subject: 'Your order',
        text: 'thanks', headers: { 'X-Tags': 'orders' }, attachments: [{ filename: 'invoice.pdf', content: 'pdf' }],
      });
      const [request] = await receiver.waitFor((got) => got.length >= 1);
      const [item] = (await new MailpitClient(kotak.url).listMessages()).messages;
      expect(request!.headers['content-type']).toBe('application/json');
      expect(request!.body as MailpitMessageListItem).toEqual(item);
      expect(request!.body).toMatchObject({ Subject: 'Your order', Username: 'shop', Tags: ['orders'], Attachments: 1, ReplyTo: [{ Name: '', Address: 'help@example.test' }] });
    } finally {
      await kotak.stop();
      await receiver.close();
    }
  });
});
