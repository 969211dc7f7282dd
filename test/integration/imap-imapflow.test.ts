/**
 * imapflow (a real IMAP client library) against Kotak: select, fetch, flags, search, move, append
 * and IDLE, the basics every client does. The other real clients (imaplib, curl, mbsync, fetchmail)
 * have their own tests (imap-clients).
 */
import { ImapFlow } from 'imapflow';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { simpleMessage } from '../helpers/seed.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const running: RunningKotak[] = [];
const clients: ImapFlow[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map((kotak) => kotak.stop()));
});

async function start(): Promise<RunningKotak> {
  const kotak = await withKotak({ imap: '127.0.0.1:0', imapAuth: 'any', mailboxRoute: '*@archive.test=archive' });
  running.push(kotak);
  return kotak;
}

async function login(kotak: RunningKotak): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port: kotak.imapPort!, secure: false, auth: { user: 'tester', pass: 'secret' }, logger: false });
  clients.push(client);
  await client.connect();
  return client;
}

const send = async (kotak: RunningKotak, raw: Buffer, to = 'inbox@example.com'): Promise<string> => queuedId(await sendRaw(kotak.smtpPort, raw, { from: 'sender@example.com', to: [to] }));

describe('imapflow', () => {
  it('lists folders, selects, fetches envelopes, structure and exact source, and reads flags', async () => {
    const kotak = await start();
    const id = await send(kotak, simpleMessage('first'));
    await send(kotak, simpleMessage('kept'), 'x@archive.test');
    const client = await login(kotak);
    expect((await client.list()).map((folder) => folder.path)).toEqual(['INBOX', 'archive']);
    const mailbox = await client.mailboxOpen('INBOX');
    expect(mailbox.exists).toBe(1);
    const message = await client.fetchOne('1', { uid: true, flags: true, envelope: true, bodyStructure: true, source: true, internalDate: true, size: true });
    expect(message).not.toBe(false);
    if (message === false) return;
    expect(message.envelope?.subject).toBe('first');
    expect(message.envelope?.from?.[0]?.address).toBe('seed@example.com');
    expect(message.bodyStructure?.type).toBe('text/plain');
    const raw = Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer());
    expect(message.source?.equals(raw)).toBe(true);
    expect(message.size).toBe(raw.length);
    expect([...(message.flags ?? [])]).toEqual([]);
  });

  it('changes flags (read state and tags in the API), searches, moves and appends', async () => {
    const kotak = await start();
    const id = await send(kotak, simpleMessage('report one'));
    await send(kotak, simpleMessage('other'));
    const client = await login(kotak);
    await client.mailboxOpen('INBOX');
    expect(await client.messageFlagsAdd('1', ['\\Seen', 'important'])).toBe(true);
    const api = (await getJson(kotak, `/api/messages/${id}`)).body;
    expect(api.read).toBe(true);
    expect(api.tags).toEqual(['important']);
    expect(await client.search({ seen: true })).toEqual([1]);
    expect(await client.search({ subject: 'report' })).toEqual([1]);
    expect(await client.search({ keyword: 'important' }, { uid: false })).toEqual([1]);

    const moved = await client.messageMove('2', 'archive');
    expect(moved && moved.uidMap?.size).toBe(1);
    expect(client.mailbox && client.mailbox.exists).toBe(1);
    expect(await client.status('archive', { messages: true })).toMatchObject({ messages: 1 });

    const appended = await client.append('archive', simpleMessage('appended'), ['\\Flagged'], new Date('2026-03-01T12:00:00Z'));
    expect(appended && appended.uid).toBeGreaterThan(0);
    const archive = await client.mailboxOpen('archive');
    expect(archive.exists).toBe(2);
    const flagged = await client.search({ flagged: true }, { uid: true });
    expect(flagged).toEqual([appended && appended.uid]);
    const mailboxes = (await getJson(kotak, '/api/messages?mailbox=archive')).body.messages.map((m: { subject: string }) => m.subject).sort();
    expect(mailboxes).toEqual(['appended', 'other']);
  });

  it('hears new mail and deletions while idling', async () => {
    const kotak = await start();
    await send(kotak, simpleMessage('before'));
    const client = await login(kotak);
    await client.mailboxOpen('INBOX');
    const exists = new Promise<number>((resolve) => client.on('exists', (data: { count: number }) => resolve(data.count)));
    void client.idle();
    const id = await send(kotak, simpleMessage('during idle'));
    expect(await exists).toBe(2);
    const expunged = new Promise<number>((resolve) => client.on('expunge', (data: { seq: number }) => resolve(data.seq)));
    await getJson(kotak, `/api/messages/${id}`, { method: 'DELETE' });
    expect(await expunged).toBe(2);
    await client.logout();
  });
});
