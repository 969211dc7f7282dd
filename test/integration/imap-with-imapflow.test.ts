/**
 * IMAP through imapflow (issue 21), the client a Node test suite reading its mail would use: login,
 * LIST (INBOX plus one folder per mailbox), SELECT, FETCH of envelope, body structure and source,
 * flags, SEARCH, MOVE between folders, APPEND, and IDLE hearing mail sent by SMTP; over STARTTLS
 * and implicit TLS; and one credential per inbox (--mailbox-by-smtp-user with a password file).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { ImapFlow, type ExistsEvent } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getJson, transport } from '../helpers/kotak.js';
import { rawOf, tempDir, withImapKotak, type ImapKotak } from '../helpers/imap-kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

/** imapflow answers `false` (or nothing) where a command failed: a test wants the value or a clear failure. */
function must<T>(value: T | false | undefined, what: string): T {
  if (value === false || value === undefined) throw new Error(`imapflow: ${what} failed`);
  return value;
}

interface Summary {
  readonly id: string;
  readonly mailbox: string;
  readonly subject: string;
  readonly read: boolean;
  readonly tags: readonly string[];
}

describe('IMAP with imapflow', () => {
  let kotak: ImapKotak;
  /** INBOX's messages, oldest first: sequence number n is ids[n - 1]. */
  const ids: string[] = [];
  const clients: ImapFlow[] = [];

  async function send(subject: string, options: { to?: string; text?: string; attach?: boolean } = {}): Promise<string> {
    const smtp = transport(kotak);
    try {
      const info = await smtp.sendMail({
        from: 'Ann Sender <ann@example.com>',
        to: options.to ?? 'Bob Inbox <bob@example.com>',
        // Every recipient is routed: a Cc to another mailbox would store a second copy there.
        cc: options.to ? [] : 'carol@example.com',
        subject,
        text: options.text ?? `${subject}: the plain body`,
        html: `<p>${subject}: the <b>HTML</b> body</p>`,
        attachments: options.attach ? [{ filename: 'report.csv', content: 'a,b\n1,2\n' }] : [],
      });
      return queuedId(info.response);
    } finally {
      smtp.close();
    }
  }

  async function connect(): Promise<ImapFlow> {
    const client = new ImapFlow({ host: '127.0.0.1', port: kotak.imapPort, secure: false, auth: { user: 'tester', pass: 'secret' }, logger: false });
    clients.push(client);
    await client.connect();
    return client;
  }

  beforeAll(async () => {
    kotak = await withImapKotak({ mailboxRoute: '*@billing.test=billing' });
    ids.push(await send('first report', { attach: true, text: 'quarterly numbers attached' }));
    ids.push(await send('second note', { text: 'lunch at noon' }));
    ids.push(await send('third note', { text: 'the weather is fine' }));
    await send('an invoice', { to: 'ann@billing.test' });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) {
      if (client.usable) await client.logout();
      else client.close();
    }
  });
  afterAll(() => kotak.stop());

  it('logs in and lists INBOX and a folder per mailbox, with their counts', async () => {
    const client = await connect();
    const folders = await client.list();
    expect(folders.map((f) => f.path).sort()).toEqual(['INBOX', 'billing']);
    expect(folders.find((f) => f.path === 'INBOX')!.specialUse).toBe('\\Inbox');
    const status = must(await client.status('INBOX', { messages: true, unseen: true, uidNext: true, uidValidity: true }), 'STATUS');
    expect(status).toMatchObject({ messages: 3, unseen: 3 });
    expect(Number(status.uidValidity)).toBeGreaterThan(0);
    expect(must(await client.status('billing', { messages: true }), 'STATUS').messages).toBe(1);
  });

  it('selects INBOX and fetches envelope, body structure, source, size, date and flags', async () => {
    const client = await connect();
    const mailbox = await client.mailboxOpen('INBOX', { readOnly: true });
    expect(mailbox.exists).toBe(3);
    const first = await client.fetchOne('1', { uid: true, envelope: true, bodyStructure: true, source: true, size: true, internalDate: true, flags: true });
    expect(first).not.toBe(false);
    if (first === false) return;
    const raw = await rawOf(kotak, ids[0]!);
    expect(first.source!.equals(raw)).toBe(true);
    expect(first.size).toBe(raw.length);
    expect(first.flags).toEqual(new Set());
    expect(first.envelope).toMatchObject({
      subject: 'first report',
      from: [{ name: 'Ann Sender', address: 'ann@example.com' }],
      to: [{ name: 'Bob Inbox', address: 'bob@example.com' }],
      cc: [{ address: 'carol@example.com' }],
    });
    const { body: detail } = await getJson<{ receivedAt: string }>(kotak, `/api/messages/${ids[0]}`);
    // INTERNALDATE has whole seconds.
    expect(Math.floor(new Date(first.internalDate!).getTime() / 1000)).toBe(Math.floor(Date.parse(detail.receivedAt) / 1000));
    // nodemailer: mixed(alternative(plain, html), attachment).
    const structure = first.bodyStructure!;
    expect(structure.type).toBe('multipart/mixed');
    expect(structure.childNodes!.map((n) => n.type)).toEqual(['multipart/alternative', 'text/csv']);
    expect(structure.childNodes![0]!.childNodes!.map((n) => [n.part, n.type])).toEqual([['1.1', 'text/plain'], ['1.2', 'text/html']]);
    expect(structure.childNodes![1]).toMatchObject({ part: '2', disposition: 'attachment', dispositionParameters: { filename: 'report.csv' } });
    // A part by its number, as a client shows an attachment.
    const { content } = await client.download('1', '2');
    const chunks: Buffer[] = [];
    for await (const chunk of must(content, 'download')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('a,b\n1,2\n');
    // UIDs rise with the order of arrival; the read-only SELECT marked nothing read.
    const uids: number[] = [];
    for await (const message of client.fetch('1:*', { uid: true })) uids.push(message.uid);
    expect(uids).toHaveLength(3);
    expect([...uids].sort((a, b) => a - b)).toEqual(uids);
    expect((await getJson<Summary>(kotak, `/api/messages/${ids[0]}`)).body.read).toBe(false);
  });

  it('searches by subject, body, sender, read state and UID', async () => {
    const client = await connect();
    await client.mailboxOpen('INBOX');
    expect(await client.search({ subject: 'note' })).toEqual([2, 3]);
    expect(await client.search({ body: 'weather' })).toEqual([3]);
    expect(await client.search({ from: 'ann@example.com' })).toEqual([1, 2, 3]);
    expect(await client.search({ or: [{ subject: 'first' }, { body: 'lunch' }] })).toEqual([1, 2]);
    expect(await client.search({ not: { subject: 'note' } })).toEqual([1]);
    await client.messageFlagsAdd('2', ['\\Seen']);
    expect(await client.search({ seen: false })).toEqual([1, 3]);
    const uids = must(await client.search({ all: true }, { uid: true }), 'UID SEARCH');
    expect(await client.search({ uid: String(uids[1]) }, { uid: true })).toEqual([uids[1]]);
    await client.messageFlagsRemove('2', ['\\Seen']);
  });

  it('sets and clears \\Flagged, \\Seen and a keyword, which the API shows', async () => {
    const client = await connect();
    await client.mailboxOpen('INBOX');
    await client.messageFlagsAdd('3', ['\\Flagged', '\\Seen', 'urgent']);
    const flagged = await client.fetchOne('3', { flags: true });
    expect(flagged !== false && [...flagged.flags!].sort()).toEqual(['\\Flagged', '\\Seen', 'urgent']);
    expect((await getJson<Summary>(kotak, `/api/messages/${ids[2]}`)).body).toMatchObject({ read: true, tags: ['urgent'] });
    expect(await client.search({ flagged: true })).toEqual([3]);
    await client.messageFlagsRemove('3', ['\\Flagged', '\\Seen', 'urgent']);
    const cleared = await client.fetchOne('3', { flags: true });
    expect(cleared !== false && [...cleared.flags!]).toEqual([]);
    expect((await getJson<Summary>(kotak, `/api/messages/${ids[2]}`)).body).toMatchObject({ read: false, tags: [] });
  });

  it('appends a message to a folder: stored byte for byte, with its flags', async () => {
    const client = await connect();
    const raw = Buffer.from('From: drafts@example.com\r\nTo: bob@example.com\r\nSubject: appended by imapflow\r\n\r\nWritten by a client.\r\n');
    const appended = await client.append('billing', raw, ['\\Seen']);
    expect(appended).not.toBe(false);
    if (appended === false) return;
    expect(appended.uid).toBeGreaterThan(0);
    const { body } = await getJson<{ messages: Summary[] }>(kotak, `/api/messages?mailbox=billing&query=${encodeURIComponent('subject:"appended by imapflow"')}`);
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0]).toMatchObject({ mailbox: 'billing', read: true });
    expect((await rawOf(kotak, body.messages[0]!.id)).equals(raw)).toBe(true);
    await client.mailboxOpen('billing');
    const [uid] = must(await client.search({ subject: 'appended by imapflow' }, { uid: true }), 'UID SEARCH');
    expect(uid).toBe(appended.uid);
  });

  it('moves a message between folders: it leaves INBOX and lands in the other mailbox', async () => {
    const client = await connect();
    await client.mailboxOpen('INBOX');
    const raw = await rawOf(kotak, ids[1]!);
    const moved = await client.messageMove('2', 'billing');
    expect(moved).not.toBe(false);
    if (moved === false) return;
    expect(moved.destination).toBe('billing');
    expect(moved.uidMap!.size).toBe(1);
    expect(client.mailbox && client.mailbox.exists).toBe(2);
    expect((await getJson(kotak, `/api/messages/${ids[1]}`)).status).toBe(404);
    const { body } = await getJson<{ messages: Summary[] }>(kotak, `/api/messages?mailbox=billing&query=${encodeURIComponent('subject:"second note"')}`);
    expect(body.messages).toHaveLength(1);
    expect((await rawOf(kotak, body.messages[0]!.id)).equals(raw)).toBe(true);
    await client.mailboxOpen('billing');
    const newUid = [...moved.uidMap!.values()][0]!;
    const copy = await client.fetchOne(String(newUid), { envelope: true }, { uid: true });
    expect(copy !== false && copy.envelope!.subject).toBe('second note');
    ids.splice(1, 1);
  });

  it('hears mail sent by SMTP while idling, as an EXISTS', async () => {
    const client = await connect();
    const mailbox = await client.mailboxOpen('INBOX');
    const before = mailbox.exists;
    const exists = new Promise<ExistsEvent>((resolve) => client.on('exists', resolve));
    const idling = client.idle();
    const id = await send('arrived while idling');
    const event = await exists;
    expect(event).toMatchObject({ path: 'INBOX', count: before + 1, prevCount: before });
    // The next command ends the IDLE (DONE), which settles idle().
    const fetched = await client.fetchOne(String(event.count), { envelope: true, source: true });
    await idling;
    expect(fetched !== false && fetched.envelope!.subject).toBe('arrived while idling');
    expect(fetched !== false && fetched.source!.equals(await rawOf(kotak, id))).toBe(true);
  });
});

describe('IMAP with imapflow over TLS', () => {
  for (const [mode, options, secure] of [
    ['STARTTLS (--imap-tls auto)', { imapTls: 'auto' }, false],
    ['implicit TLS (--imap-tls-implicit)', { imapTls: 'auto', imapTlsImplicit: true }, true],
  ] as const) {
    it(`logs in over ${mode}, reads a message byte for byte and idles`, async () => {
      const kotak = await withImapKotak(options);
      const client = new ImapFlow({
        // doSTARTTLS: true makes imapflow refuse to go on in plaintext (it may not be set with secure).
        host: '127.0.0.1', port: kotak.imapPort, secure, ...(secure ? {} : { doSTARTTLS: true }), tls: { rejectUnauthorized: false },
        auth: { user: 'tester', pass: 'secret' }, logger: false,
      });
      try {
        const smtp = transport(kotak);
        const id = queuedId((await smtp.sendMail({ from: 'ann@example.com', to: 'bob@example.com', subject: 'over TLS', text: 'encrypted' })).response);
        smtp.close();
        await client.connect();
        expect(client.secureConnection).toBe(true);
        await client.mailboxOpen('INBOX');
        const message = await client.fetchOne('1', { source: true });
        expect(message !== false && message.source!.equals(await rawOf(kotak, id))).toBe(true);
        const exists = new Promise<ExistsEvent>((resolve) => client.on('exists', resolve));
        const idling = client.idle();
        const smtp2 = transport(kotak);
        await smtp2.sendMail({ from: 'ann@example.com', to: 'bob@example.com', subject: 'while idling over TLS', text: 'x' });
        smtp2.close();
        expect((await exists).count).toBe(2);
        await client.noop();
        await idling;
      } finally {
        if (client.usable) await client.logout();
        await kotak.stop();
      }
    });
  }
});

describe('IMAP with imapflow, one credential per inbox', () => {
  it('with --mailbox-by-smtp-user and a password file, each login reads its own mailbox only', async () => {
    const file = join(tempDir('imap-users'), 'users');
    writeFileSync(file, `alice:${bcrypt.hashSync('alice-secret', 4)}\nbob:bob-secret\n`);
    const kotak = await withImapKotak({ imapAuth: file, smtpAuth: file, mailboxBySmtpUser: true });
    const login = (user: string, pass: string): ImapFlow => new ImapFlow({ host: '127.0.0.1', port: kotak.imapPort, secure: false, auth: { user, pass }, logger: false });
    try {
      for (const [user, pass] of [['alice', 'alice-secret'], ['bob', 'bob-secret']] as const) {
        const smtp = transport(kotak, { auth: { user, pass } });
        await smtp.sendMail({ from: `${user}@example.com`, to: 'someone@example.com', subject: `sent as ${user}`, text: user });
        smtp.close();
      }
      const alice = login('alice', 'alice-secret');
      await alice.connect();
      try {
        expect((await alice.list()).map((f) => f.path)).toEqual(['INBOX']);
        await alice.mailboxOpen('INBOX', { readOnly: true });
        const subjects: string[] = [];
        for await (const message of alice.fetch('1:*', { envelope: true })) subjects.push(message.envelope!.subject!);
        expect(subjects).toEqual(['sent as alice']);
      } finally {
        await alice.logout();
      }
      const wrong = login('bob', 'guess');
      await expect(wrong.connect()).rejects.toThrow();
      wrong.close();
    } finally {
      await kotak.stop();
    }
  });
});
