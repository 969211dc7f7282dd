/**
 * IMAP over real sockets, byte by byte: every command and its error paths, folder news from the
 * event bus (IDLE and the end of commands, within RFC 3501 7.4.1), the limits (line, literal,
 * bad commands, failed logins, connections, idle time), STARTTLS and implicit TLS, and SMTP
 * intake carrying on beside a client that stops reading.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runKotak, startKotakProcess } from '../helpers/child.js';
import { ImapTestClient } from '../helpers/imap.js';
import { tempDir } from '../helpers/imap-kotak.js';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { simpleMessage } from '../helpers/seed.js';
import { queuedId, sendInOrder, sendRaw } from '../helpers/smtp-client.js';
import type { KotakOptions } from '../../src/index.js';

const running: RunningKotak[] = [];
const clients: ImapTestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map((kotak) => kotak.stop()));
});

async function start(options: KotakOptions = {}): Promise<RunningKotak> {
  const kotak = await withKotak({ imap: '127.0.0.1:0', imapAuth: 'any', ...options });
  running.push(kotak);
  return kotak;
}

async function connect(kotak: RunningKotak, options: { tls?: boolean } = {}): Promise<ImapTestClient> {
  const client = await ImapTestClient.connect(kotak.imapPort!, options);
  clients.push(client);
  return client;
}

const send = (kotak: RunningKotak, ...raws: Buffer[]): Promise<string[]> => sendInOrder(kotak.smtpPort, raws);

async function sendTo(kotak: RunningKotak, to: string, raw: Buffer): Promise<string> {
  return queuedId(await sendRaw(kotak.smtpPort, raw, { from: 'sender@example.com', to: [to] }));
}

/** Connected, greeted and logged in; with `select`, INBOX selected. */
async function session(kotak: RunningKotak, options: { select?: boolean } = {}): Promise<ImapTestClient> {
  const client = await connect(kotak);
  expect(await client.readResponse()).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 /);
  expect((await client.command('l', 'LOGIN tester secret')).tagged).toMatch(/^l OK \[CAPABILITY /);
  if (options.select) expect((await client.command('s', 'SELECT INBOX')).tagged).toBe('s OK [READ-WRITE] SELECT completed');
  return client;
}

async function message(kotak: RunningKotak, id: string): Promise<{ status: number; body: { read: boolean; tags: string[] } }> {
  return getJson(kotak, `/api/messages/${id}`);
}

describe('IMAP: before and around login', () => {
  it('greets with its capabilities and answers CAPABILITY, NOOP, ID, NAMESPACE, ENABLE and LOGOUT', async () => {
    const kotak = await start({ maxMessageSize: '1MB' });
    const client = await connect(kotak);
    const greeting = await client.readResponse();
    expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 LITERAL\+ SASL-IR ENABLE ID IDLE NAMESPACE UIDPLUS MOVE UNSELECT SPECIAL-USE CHILDREN BINARY APPENDLIMIT=1048576 AUTH=PLAIN\] Kotak IMAP ready$/);
    // No STARTTLS without --imap-tls.
    expect(greeting).not.toContain('STARTTLS');
    expect(await client.command('a', 'CAPABILITY')).toEqual({ untagged: [greeting.slice(0, greeting.indexOf(']')).replace('* OK [CAPABILITY', '* CAPABILITY')], tagged: 'a OK CAPABILITY completed' });
    expect(await client.command('b', 'NOOP')).toEqual({ untagged: [], tagged: 'b OK NOOP completed' });
    expect((await client.command('c', 'ID ("name" "test")')).untagged[0]).toMatch(/^\* ID \("name" "Kotak" "version" "[^"]+"\)$/);
    expect((await client.command('d', 'NAMESPACE')).tagged).toBe('d BAD NAMESPACE needs a login first');
    await client.command('l', 'LOGIN tester secret');
    const after = await client.command('e', 'CAPABILITY');
    expect(after.untagged[0]).not.toMatch(/AUTH=PLAIN|SASL-IR/);
    expect(await client.command('f', 'NAMESPACE')).toEqual({ untagged: ['* NAMESPACE (("" "/")) NIL NIL'], tagged: 'f OK NAMESPACE completed' });
    expect(await client.command('g', 'ENABLE CONDSTORE')).toEqual({ untagged: ['* ENABLED'], tagged: 'g OK ENABLE completed' });
    expect(await client.command('h', 'LOGOUT')).toEqual({ untagged: ['* BYE Kotak IMAP signing off'], tagged: 'h OK LOGOUT completed' });
    await client.closed;
  });

  it('checks LOGIN and AUTHENTICATE PLAIN (initial response or continuation) against an htpasswd file; three failures close', async () => {
    const dir = tempDir('imap');
    const file = join(dir, 'users');
    writeFileSync(file, 'alice:wonderland\n');
    const kotak = await start({ imapAuth: file });
    const client = await connect(kotak);
    await client.readResponse();
    expect((await client.command('a', 'LOGIN alice wrong')).tagged).toBe('a NO [AUTHENTICATIONFAILED] authentication failed');
    const plain = (user: string, password: string): string => Buffer.from(`\0${user}\0${password}`).toString('base64');
    expect((await client.command('b', `AUTHENTICATE PLAIN ${plain('alice', 'nope')}`)).tagged).toBe('b NO [AUTHENTICATIONFAILED] authentication failed');
    expect((await client.command('c', `AUTHENTICATE PLAIN ${plain('alice', 'wonderland')}`)).tagged).toMatch(/^c OK \[CAPABILITY IMAP4rev1 .*\] logged in$/);
    expect((await client.command('d', 'LOGIN alice wonderland')).tagged).toBe('d BAD LOGIN is only allowed before login');

    const second = await connect(kotak);
    await second.readResponse();
    second.write('x AUTHENTICATE PLAIN\r\n');
    expect(await second.readResponse()).toBe('+ ');
    second.write(`${plain('alice', 'wonderland')}\r\n`);
    expect((await second.result('x')).tagged).toMatch(/^x OK \[CAPABILITY/);
    // A literal password (LITERAL+) works as a quoted one.
    const third = await connect(kotak);
    await third.readResponse();
    expect((await third.command('y', 'LOGIN "alice" {10+}\r\nwonderland')).tagged).toMatch(/^y OK/);

    const guesser = await connect(kotak);
    await guesser.readResponse();
    await guesser.command('1', 'LOGIN alice a');
    await guesser.command('2', 'LOGIN alice b');
    expect(await guesser.command('3', 'LOGIN alice c')).toEqual({ untagged: ['* BYE too many failed logins, closing connection'], tagged: '3 NO [AUTHENTICATIONFAILED] authentication failed' });
    await guesser.closed;
  });

  it('refuses a login with no mailbox with [AUTHORIZATIONFAILED], not as a failed password', async () => {
    const kotak = await start({ mailboxBySmtpUser: true });
    const client = await connect(kotak);
    await client.readResponse();
    for (const tag of ['a', 'b', 'c', 'd']) expect((await client.command(tag, 'LOGIN "not a mailbox!" x')).tagged).toMatch(new RegExp(`^${tag} NO \\[AUTHORIZATIONFAILED\\]`));
    expect((await client.command('e', 'LOGIN bob x')).tagged).toMatch(/^e OK/);
  });

  it('answers malformed, unknown and misplaced commands with BAD, and closes at the tenth', async () => {
    const kotak = await start();
    const client = await connect(kotak);
    await client.readResponse();
    expect((await client.command('a', 'FETCH 1 FLAGS')).tagged).toBe('a BAD FETCH needs a login first');
    expect((await client.command('b', 'FROB')).tagged).toBe('b BAD unknown command FROB');
    expect((await client.command('c', 'LOGIN "open')).tagged).toBe('c BAD a quoted string is not closed');
    client.write('+bad NOOP\r\n');
    expect(await client.readResponse()).toBe('* BAD a command starts with a tag');
    expect((await client.command('d', 'UID NOOP')).tagged).toBe('d BAD UID NOOP is not a command');
    await client.command('l', 'LOGIN tester x');
    expect((await client.command('e', 'FETCH 1 FLAGS')).tagged).toBe('e BAD FETCH needs a selected folder (SELECT or EXAMINE first)');
    await client.command('s', 'SELECT INBOX');
    expect((await client.command('f', 'FETCH 1 FLAGS')).tagged).toBe('f BAD no such message (sequence number past the last message)');
    // 1:* of an empty folder selects nothing: no BAD (and so not counted).
    expect(await client.command('f2', 'FETCH 1:* FLAGS')).toEqual({ untagged: [], tagged: 'f2 OK FETCH completed' });
    expect((await client.command('h', 'FETCH 1:* BODY[NOPE]')).tagged).toBe('h BAD unknown section NOPE');
    expect((await client.command('i', 'STORE 1 +FLAGS (\\Bogus)')).tagged).toBe('i BAD \\Bogus is not a flag');
    expect(await client.command('j', 'NOOP')).toEqual({ untagged: [], tagged: 'j OK NOOP completed' });
    expect(await client.command('k', 'XYZZY')).toEqual({ untagged: ['* BYE too many bad commands, closing connection'], tagged: 'k BAD unknown command XYZZY' });
    await client.closed;
  });
});

describe('IMAP: folders', () => {
  it('lists INBOX and every mailbox as folders, with STATUS, SELECT and EXAMINE data', async () => {
    const kotak = await start({ mailboxRoute: '*@billing.test=billing' });
    const [first] = await send(kotak, simpleMessage('one'), simpleMessage('two'));
    await sendTo(kotak, 'a@billing.test', simpleMessage('invoice'));
    await getJson(kotak, `/api/messages/${first}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ read: true }) });
    const client = await session(kotak);
    expect(await client.command('a', 'LIST "" "*"')).toEqual({ untagged: ['* LIST (\\HasNoChildren) "/" "INBOX"', '* LIST (\\HasNoChildren) "/" "billing"'], tagged: 'a OK LIST completed' });
    expect((await client.command('b', 'LIST "" "%"')).untagged).toHaveLength(2);
    expect((await client.command('c', 'LIST "" "bill*"')).untagged).toEqual(['* LIST (\\HasNoChildren) "/" "billing"']);
    expect((await client.command('d', 'LIST "" "inbox"')).untagged).toEqual(['* LIST (\\HasNoChildren) "/" "INBOX"']);
    expect((await client.command('e', 'LIST "" ""')).untagged).toEqual(['* LIST (\\Noselect) "/" ""']);
    // Thousands of wildcards are matched in linear time, not by a backtracking regex.
    expect((await client.command('w', `LIST "" "${'*a'.repeat(3000)}"`)).tagged).toBe('w OK LIST completed');
    expect((await client.command('f', 'LSUB "" "*"')).untagged).toEqual(['* LSUB (\\HasNoChildren) "/" "INBOX"', '* LSUB (\\HasNoChildren) "/" "billing"']);
    const status = await client.command('g', 'STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)');
    expect(status.untagged[0]).toMatch(/^\* STATUS "INBOX" \(MESSAGES 2 UNSEEN 1 UIDNEXT \d+ UIDVALIDITY \d+ RECENT 0\)$/);
    expect((await client.command('h', 'STATUS nowhere (MESSAGES)')).tagged).toMatch(/^h NO \[NONEXISTENT\]/);

    const selected = await client.command('i', 'SELECT INBOX');
    const uidValidity = /UIDVALIDITY (\d+)/.exec(status.untagged[0]!)![1];
    expect(selected.untagged).toEqual([
      '* FLAGS (\\Seen \\Flagged \\Deleted \\Answered \\Draft)',
      '* OK [PERMANENTFLAGS (\\Seen \\Flagged \\Deleted \\*)] flags kept: \\Seen is the read state, keywords are tags',
      '* 2 EXISTS',
      '* 0 RECENT',
      '* OK [UNSEEN 2] first unseen',
      `* OK [UIDVALIDITY ${uidValidity}] UIDs valid`,
      expect.stringMatching(/^\* OK \[UIDNEXT \d+\] predicted next UID$/),
    ]);
    expect(selected.tagged).toBe('i OK [READ-WRITE] SELECT completed');
    const examined = await client.command('j', 'EXAMINE billing');
    expect(examined.untagged).toContain('* 1 EXISTS');
    expect(examined.untagged).toContain('* OK [PERMANENTFLAGS ()] read-only');
    expect(examined.tagged).toBe('j OK [READ-ONLY] EXAMINE completed');
    expect((await client.command('k', 'SELECT nowhere')).tagged).toMatch(/^k NO \[NONEXISTENT\]/);
    // A failed SELECT leaves no folder selected.
    expect((await client.command('l', 'FETCH 1 FLAGS')).tagged).toMatch(/^l BAD FETCH needs a selected folder/);
  });

  it('shows the newest --imap-folder-size messages, and what arrives while selected', async () => {
    const kotak = await start({ imapFolderSize: 2 });
    await send(kotak, simpleMessage('old'), simpleMessage('newer'), simpleMessage('newest'));
    const client = await session(kotak);
    expect((await client.command('s', 'SELECT INBOX')).untagged).toContain('* 2 EXISTS');
    expect((await client.command('a', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]')).untagged[0]).toContain('Subject: newer');
    await send(kotak, simpleMessage('arrived'));
    expect((await client.command('b', 'NOOP')).untagged).toEqual(['* 3 EXISTS']);
    expect((await client.command('c', 'FETCH 3 BODY.PEEK[HEADER.FIELDS (SUBJECT)]')).untagged[0]).toContain('Subject: arrived');
  });

  it('refuses CREATE, DELETE and RENAME with the reason, and accepts SUBSCRIBE for a folder that exists', async () => {
    const kotak = await start();
    await send(kotak, simpleMessage('one'));
    const client = await session(kotak);
    expect((await client.command('a', 'CREATE INBOX')).tagged).toMatch(/^a NO \[ALREADYEXISTS\]/);
    expect((await client.command('b', 'CREATE Archive')).tagged).toMatch(/^b NO \[CANNOT\] Kotak makes a mailbox when mail is routed to it/);
    expect((await client.command('c', 'DELETE INBOX')).tagged).toMatch(/^c NO \[CANNOT\]/);
    expect((await client.command('d', 'DELETE Archive')).tagged).toMatch(/^d NO \[NONEXISTENT\]/);
    expect((await client.command('e', 'RENAME INBOX Other')).tagged).toMatch(/^e NO \[CANNOT\]/);
    expect((await client.command('f', 'SUBSCRIBE INBOX')).tagged).toBe('f OK SUBSCRIBE completed (every folder is subscribed)');
    expect((await client.command('g', 'UNSUBSCRIBE Archive')).tagged).toMatch(/^g NO \[NONEXISTENT\]/);
    expect((await getJson(kotak, '/api/messages')).body.messages).toHaveLength(1);
  });
});

describe('IMAP: messages', () => {
  const raw = Buffer.from('From: A <a@example.com>\r\nTo: b@example.com\r\nSubject: hello\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n--XX--\r\n');

  it('FETCHes flags, UID, dates, sizes, BODY[] as stored, sections and partials, the RFC822 forms and macros', async () => {
    const kotak = await start();
    const [id] = await send(kotak, raw);
    const client = await session(kotak, { select: true });
    const meta = await client.command('a', 'FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE)');
    expect(meta.untagged[0]).toMatch(/^\* 1 FETCH \(UID \d+ FLAGS \(\) INTERNALDATE "\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000" RFC822\.SIZE \d+\)$/);
    const stored = Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer());
    expect(meta.untagged[0]).toContain(`RFC822.SIZE ${stored.length}`);
    const body = await client.command('b', 'FETCH 1 BODY.PEEK[]');
    expect(body.untagged[0]).toBe(`* 1 FETCH (BODY[] {${stored.length}}\r\n${stored.toString('latin1')})`);
    expect((await client.command('c', 'FETCH 1 BODY.PEEK[1]')).untagged[0]).toBe('* 1 FETCH (BODY[1] {10}\r\nfirst part)');
    expect((await client.command('d', 'FETCH 1 BODY.PEEK[2.MIME]')).untagged[0]).toBe('* 1 FETCH (BODY[2.MIME] {27}\r\nContent-Type: text/html\r\n\r\n)');
    expect((await client.command('e', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject to)]<2.8>')).untagged[0]).toBe('* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT TO)]<2> {8}\r\n: b@exam)');
    expect((await client.command('f', 'FETCH 1 BODY.PEEK[9]')).untagged[0]).toBe('* 1 FETCH (BODY[9] NIL)');
    expect((await client.command('g', 'FETCH 1 RFC822.HEADER')).untagged[0]).toMatch(/^\* 1 FETCH \(RFC822\.HEADER \{\d+\}\r\nFrom: A <a@example\.com>\r\n[\s\S]*\r\n\r\n\)$/);
    expect((await client.command('h', 'FETCH 1 BINARY.PEEK[1]')).untagged[0]).toBe('* 1 FETCH (BINARY[1] {10}\r\nfirst part)');
    expect((await client.command('i', 'FETCH 1 BINARY.SIZE[2]')).untagged[0]).toBe('* 1 FETCH (BINARY.SIZE[2] 13)');
    expect((await client.command('j', 'FETCH 1 FAST')).untagged[0]).toMatch(/^\* 1 FETCH \(FLAGS \(\) INTERNALDATE "[^"]+" RFC822\.SIZE \d+\)$/);
    const full = (await client.command('k', 'FETCH 1 FULL')).untagged[0]!;
    expect(full).toContain('ENVELOPE (NIL "hello" (("A" NIL "a" "example.com"))');
    expect(full).toContain('BODY (("TEXT" "PLAIN"');
    const uid = /UID (\d+)/.exec(meta.untagged[0]!)![1];
    expect((await client.command('l', `UID FETCH ${uid} FLAGS`)).untagged[0]).toBe(`* 1 FETCH (UID ${uid} FLAGS ())`);
    expect((await client.command('m', 'UID FETCH 999999 FLAGS')).untagged).toEqual([]);
    // Nothing above was read with a non-PEEK item: still unread in the API.
    expect((await message(kotak, id!)).body.read).toBe(false);
  });

  it('sends BINARY content holding NUL as a literal8, and refuses an encoding it cannot undo with [UNKNOWN-CTE]', async () => {
    const kotak = await start();
    await send(kotak, Buffer.from('From: a@example.com\r\nSubject: bin\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n'));
    await send(kotak, Buffer.from('From: a@example.com\r\nSubject: odd\r\nContent-Transfer-Encoding: x-unknown\r\n\r\nbody\r\n'));
    const client = await session(kotak, { select: true });
    expect((await client.command('a', 'FETCH 1 BINARY.PEEK[1]')).untagged[0]).toBe('* 1 FETCH (BINARY[1] ~{4}\r\n\x00\x01\x02\x03)');
    expect((await client.command('b', 'FETCH 1 BINARY.SIZE[1]')).untagged[0]).toBe('* 1 FETCH (BINARY.SIZE[1] 4)');
    expect((await client.command('c', 'FETCH 2 BINARY.PEEK[1]')).tagged).toMatch(/^c NO \[UNKNOWN-CTE\]/);
  });

  it('sets \\Seen (the API read state) on a non-PEEK body fetch, but not in EXAMINE', async () => {
    const kotak = await start();
    const [first, second] = await send(kotak, simpleMessage('one'), simpleMessage('two'));
    const client = await session(kotak);
    await client.command('x', 'EXAMINE INBOX');
    await client.command('a', 'FETCH 1 BODY[TEXT]');
    expect((await message(kotak, first!)).body.read).toBe(false);
    await client.command('s', 'SELECT INBOX');
    const fetched = await client.command('b', 'FETCH 1 (BODY[TEXT])');
    expect(fetched.untagged[0]).toMatch(/^\* 1 FETCH \(BODY\[TEXT\] \{\d+\}\r\nHello from the seed\.\r\n FLAGS \(\\Seen\)\)$/);
    expect((await message(kotak, first!)).body.read).toBe(true);
    await client.command('c', 'FETCH 2 RFC822');
    expect((await message(kotak, second!)).body.read).toBe(true);
  });

  it('STOREs flags: \\Seen is the read state both ways, keywords are tags, .SILENT answers nothing', async () => {
    const kotak = await start();
    const [id] = await send(kotak, simpleMessage('one'));
    const client = await session(kotak, { select: true });
    expect(await client.command('a', 'STORE 1 +FLAGS (\\Seen \\Flagged urgent)')).toEqual({ untagged: ['* 1 FETCH (FLAGS (\\Seen \\Flagged urgent))'], tagged: 'a OK STORE completed' });
    const api = await message(kotak, id!);
    expect(api.body.read).toBe(true);
    expect(api.body.tags).toEqual(['urgent']);
    expect(await client.command('b', 'STORE 1 -FLAGS.SILENT (\\Seen)')).toEqual({ untagged: [], tagged: 'b OK STORE completed' });
    expect((await message(kotak, id!)).body.read).toBe(false);
    const uid = /UID (\d+)/.exec((await client.command('c', 'FETCH 1 UID')).untagged[0]!)![1];
    expect((await client.command('d', `UID STORE ${uid} FLAGS (other)`)).untagged).toEqual([`* 1 FETCH (UID ${uid} FLAGS (other))`]);
    expect((await message(kotak, id!)).body.tags).toEqual(['other']);
    await client.command('e', 'EXAMINE INBOX');
    expect((await client.command('f', 'STORE 1 +FLAGS (\\Seen)')).tagged).toMatch(/^f NO \[READ-ONLY\]/);
  });

  it('EXPUNGEs what is marked \\Deleted through the mailbox service; UID EXPUNGE only the UIDs given; CLOSE silently', async () => {
    const kotak = await start();
    const ids = await send(kotak, simpleMessage('one'), simpleMessage('two'), simpleMessage('three'), simpleMessage('four'));
    const client = await session(kotak, { select: true });
    await client.command('a', 'STORE 1:3 +FLAGS.SILENT (\\Deleted)');
    const uids = (await client.command('b', 'FETCH 1:4 UID')).untagged.map((line) => Number(/UID (\d+)/.exec(line)![1]));
    expect(await client.command('c', `UID EXPUNGE ${uids[1]}`)).toEqual({ untagged: ['* 2 EXPUNGE'], tagged: 'c OK EXPUNGE completed' });
    expect((await message(kotak, ids[1]!)).status).toBe(404);
    expect(await client.command('d', 'EXPUNGE')).toEqual({ untagged: ['* 2 EXPUNGE', '* 1 EXPUNGE'], tagged: 'd OK EXPUNGE completed' });
    expect((await getJson(kotak, '/api/messages')).body.messages.map((m: { id: string }) => m.id)).toEqual([ids[3]]);
    await client.command('e', 'STORE 1 +FLAGS (\\Deleted)');
    expect(await client.command('f', 'CLOSE')).toEqual({ untagged: [], tagged: 'f OK CLOSE completed' });
    expect((await getJson(kotak, '/api/messages')).body.messages).toEqual([]);
    // UNSELECT leaves \Deleted messages alone.
    await send(kotak, simpleMessage('five'));
    await client.command('g', 'SELECT INBOX');
    await client.command('h', 'STORE 1 +FLAGS (\\Deleted)');
    expect((await client.command('i', 'UNSELECT')).tagged).toBe('i OK UNSELECT completed');
    expect((await getJson(kotak, '/api/messages')).body.messages).toHaveLength(1);
  });

  it('SEARCHes by sequence number or UID, through the store', async () => {
    const kotak = await start();
    await send(kotak, simpleMessage('alpha report'), simpleMessage('beta'), simpleMessage('gamma report'));
    const client = await session(kotak, { select: true });
    expect((await client.command('a', 'SEARCH SUBJECT report')).untagged).toEqual(['* SEARCH 1 3']);
    await client.command('b', 'STORE 2 +FLAGS (\\Flagged)');
    expect((await client.command('c', 'SEARCH FLAGGED')).untagged).toEqual(['* SEARCH 2']);
    const uids = (await client.command('d', 'FETCH 1:3 UID')).untagged.map((line) => /UID (\d+)/.exec(line)![1]);
    expect((await client.command('e', 'UID SEARCH CHARSET UTF-8 NOT SUBJECT beta')).untagged).toEqual([`* SEARCH ${uids[0]} ${uids[2]}`]);
    expect((await client.command('f', 'SEARCH CHARSET KOI8-R ALL')).tagged).toMatch(/^f NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/);
    expect((await client.command('g', 'SEARCH FROBNICATE')).tagged).toMatch(/^g BAD /);
  });

  it('COPYs and MOVEs to another folder with COPYUID; a missing folder is [TRYCREATE]', async () => {
    const kotak = await start({ mailboxRoute: '*@billing.test=billing' });
    await send(kotak, simpleMessage('one'), simpleMessage('two'));
    await sendTo(kotak, 'x@billing.test', simpleMessage('invoice'));
    const client = await session(kotak, { select: true });
    const uids = (await client.command('a', 'FETCH 1:2 UID')).untagged.map((line) => /UID (\d+)/.exec(line)![1]);
    const copied = await client.command('b', 'COPY 1 billing');
    expect(copied.tagged).toMatch(new RegExp(`^b OK \\[COPYUID \\d+ ${uids[0]} \\d+\\] COPY completed$`));
    expect((await client.command('c', 'COPY 1 nowhere')).tagged).toMatch(/^c NO \[TRYCREATE\]/);
    const moved = await client.command('d', `UID MOVE ${uids[1]} billing`);
    expect(moved.untagged).toEqual([expect.stringMatching(new RegExp(`^\\* OK \\[COPYUID \\d+ ${uids[1]} \\d+\\] moved$`)), '* 2 EXPUNGE']);
    expect(moved.tagged).toBe('d OK MOVE completed');
    const billing = await client.command('e', 'STATUS billing (MESSAGES)');
    expect(billing.untagged).toEqual(['* STATUS "billing" (MESSAGES 3)']);
    const subjects = (await getJson(kotak, '/api/messages?mailbox=billing')).body.messages.map((m: { subject: string }) => m.subject).sort();
    expect(subjects).toEqual(['invoice', 'one', 'two']);
    expect((await getJson(kotak, '/api/messages?mailbox=default')).body.messages.map((m: { subject: string }) => m.subject)).toEqual(['one']);
  });

  it('APPENDs with APPENDUID, flags and a date; a literal over --max-message-size gets [TOOBIG] without "+"', async () => {
    const kotak = await start({ maxMessageSize: '2KB' });
    const client = await session(kotak);
    const appended = simpleMessage('appended');
    client.write(`a APPEND INBOX (\\Seen \\Flagged) "01-Feb-2026 10:00:00 +0100" {${appended.length}}\r\n`);
    expect(await client.readResponse()).toBe('+ ready for the literal');
    client.write(Buffer.concat([appended, Buffer.from('\r\n')]));
    const done = await client.result('a');
    expect(done.tagged).toMatch(/^a OK \[APPENDUID \d+ \d+\] APPEND completed$/);
    const [summary] = (await getJson(kotak, '/api/messages')).body.messages;
    expect(summary).toMatchObject({ subject: 'appended', read: true });
    expect(new Date(summary.receivedAt ?? summary.date).toISOString()).toBe('2026-02-01T09:00:00.000Z');
    await client.command('s', 'SELECT INBOX');
    expect((await client.command('b', 'FETCH 1 FLAGS')).untagged).toEqual(['* 1 FETCH (FLAGS (\\Seen \\Flagged))']);
    expect((await client.command('c', `APPEND INBOX {${appended.length}+}\r\n${appended.toString('latin1')}`)).tagged).toMatch(/^c OK \[APPENDUID/);

    client.write('d APPEND INBOX {4000}\r\n');
    expect(await client.readResponse()).toBe('d NO [TOOBIG] the message is 4000 octets; at most 2048 are accepted (--max-message-size)');
    expect((await client.command('e', 'APPEND nowhere {1+}\r\nx')).tagged).toMatch(/^e NO \[TRYCREATE\]/);
    expect((await client.command('f', 'NOOP')).tagged).toBe('f OK NOOP completed');
  });
});

describe('IMAP: news of the selected folder', () => {
  it('tells an IDLE client of SMTP mail, an API delete, an API read change and another session\'s STORE at once', async () => {
    const kotak = await start();
    const [first] = await send(kotak, simpleMessage('one'), simpleMessage('two'));
    const idler = await session(kotak, { select: true });
    const other = await session(kotak, { select: true });
    idler.write('i IDLE\r\n');
    expect(await idler.readResponse()).toBe('+ idling');
    await send(kotak, simpleMessage('three'));
    expect(await idler.readResponse()).toBe('* 3 EXISTS');
    await getJson(kotak, `/api/messages/${first}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ read: true }) });
    expect(await idler.readResponse()).toMatch(/^\* 1 FETCH \(UID \d+ FLAGS \(\\Seen\)\)$/);
    const own = await other.command('o1', 'STORE 2 +FLAGS (\\Flagged)');
    // Before the STORE's own answer: the news heard meanwhile, flags and new mail (no EXPUNGE during a STORE, RFC 3501 7.4.1).
    expect(own.untagged).toEqual([expect.stringMatching(/^\* 1 FETCH \(UID \d+ FLAGS \(\\Seen\)\)$/), '* 3 EXISTS', expect.stringMatching(/^\* 2 FETCH \(FLAGS \(\\Flagged\)\)$/)]);
    expect(await idler.readResponse()).toMatch(/^\* 2 FETCH \(UID \d+ FLAGS \(\\Flagged\)\)$/);
    expect((await getJson(kotak, `/api/messages/${first}`, { method: 'DELETE' })).status).toBeLessThan(300);
    expect(await idler.readResponse()).toBe('* 1 EXPUNGE');
    idler.write('DONE\r\n');
    expect(await idler.result('i')).toEqual({ untagged: [], tagged: 'i OK IDLE terminated' });
    // The other session hears the news at the end of its next command, and not its own STORE again.
    expect(await other.command('o2', 'NOOP')).toEqual({ untagged: ['* 1 EXPUNGE'], tagged: 'o2 OK NOOP completed' });
  });

  it('tells news heard before a FETCH or SEARCH first, so it reads current flags', async () => {
    const kotak = await start();
    await send(kotak, simpleMessage('one'), simpleMessage('two'));
    const reader = await session(kotak, { select: true });
    const other = await session(kotak, { select: true });
    await other.command('a', 'STORE 2 +FLAGS (\\Deleted)');
    expect(await reader.command('b', 'SEARCH DELETED')).toEqual({ untagged: [expect.stringMatching(/^\* 2 FETCH \(UID \d+ FLAGS \(\\Deleted\)\)$/), '* SEARCH 2'], tagged: 'b OK SEARCH completed' });
    await other.command('c', 'STORE 1 +FLAGS (\\Flagged)');
    expect((await reader.command('d', 'FETCH 1 FLAGS')).untagged).toEqual([expect.stringMatching(/^\* 1 FETCH \(UID \d+ FLAGS \(\\Flagged\)\)$/), '* 1 FETCH (FLAGS (\\Flagged))']);
  });

  it('keeps EXPUNGE out of FETCH, STORE and SEARCH responses and sends it after NOOP or a UID command', async () => {
    const kotak = await start();
    const [first] = await send(kotak, simpleMessage('one'), simpleMessage('two'));
    const client = await session(kotak, { select: true });
    await getJson(kotak, `/api/messages/${first}`, { method: 'DELETE' });
    // Message 1 is gone; its number still stands for it, a FETCH of it says nothing of it.
    expect(await client.command('a', 'FETCH 1:2 (FLAGS)')).toEqual({ untagged: ['* 1 FETCH (FLAGS ())', '* 2 FETCH (FLAGS ())'], tagged: 'a OK FETCH completed' });
    expect((await client.command('b', 'FETCH 1 BODY.PEEK[]')).tagged).toBe('b OK FETCH completed; 1 message was deleted meanwhile');
    expect((await client.command('c', 'SEARCH ALL')).untagged).not.toContain('* 1 EXPUNGE');
    expect(await client.command('d', 'NOOP')).toEqual({ untagged: ['* 1 EXPUNGE'], tagged: 'd OK NOOP completed' });
    expect((await client.command('e', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).untagged[0]).toContain('Subject: two');
  });

  it('ends IDLE with BYE at the idle timeout, and closes an idle connection', async () => {
    const kotak = await start({ imapIdleTimeout: '300ms' });
    const idler = await session(kotak, { select: true });
    idler.write('i IDLE\r\n');
    expect(await idler.readResponse()).toBe('+ idling');
    expect(await idler.readResponse()).toBe('* BYE idle for too long, closing connection');
    await idler.closed;
    const quiet = await connect(kotak);
    expect(await quiet.readResponse()).toMatch(/^\* OK/);
    expect(await quiet.readResponse()).toBe('* BYE idle for too long, closing connection');
    await quiet.closed;
  });
});

describe('IMAP: limits', () => {
  it('answers an over-long line with a tagged BAD and carries on; an endless line closes the connection', async () => {
    const kotak = await start();
    const client = await session(kotak);
    expect((await client.command('a', `LIST "" "${'x'.repeat(9000)}"`)).tagged).toBe('a BAD command line too long (at most 8192 octets outside literals)');
    expect((await client.command('b', 'NOOP')).tagged).toBe('b OK NOOP completed');
    client.write(`c NOOP ${'y'.repeat(200_000)}`);
    expect(await client.readResponse()).toBe('* BYE line or literal over the limit, closing connection');
    await client.closed;
  });

  it('refuses a literal over 64 KB outside APPEND without "+", and closes on a non-synchronising one', async () => {
    const kotak = await start();
    const client = await connect(kotak);
    await client.readResponse();
    client.write('a LOGIN {70000}\r\n');
    expect(await client.readResponse()).toBe('a BAD literal too long (70000 octets; at most 65536 here)');
    expect((await client.command('b', 'NOOP')).tagged).toBe('b OK NOOP completed');
    client.write('c LOGIN user {70000+}\r\n');
    expect(await client.readResponse()).toBe('* BYE line or literal over the limit, closing connection');
    await client.closed;
  });

  it('refuses a connection past --imap-max-connections with BYE; a logged-out one frees its place', async () => {
    const kotak = await start({ imapMaxConnections: 2 });
    const first = await connect(kotak);
    const second = await connect(kotak);
    expect(await first.readResponse()).toMatch(/^\* OK/);
    expect(await second.readResponse()).toMatch(/^\* OK/);
    const third = await connect(kotak);
    expect(await third.readResponse()).toBe('* BYE [UNAVAILABLE] too many connections, try again later');
    await third.closed;
    await first.command('x', 'LOGOUT');
    const fourth = await connect(kotak);
    expect(await fourth.readResponse()).toMatch(/^\* OK/);
  });

  it('keeps SMTP intake working while IMAP clients stall, flood or stop reading a large FETCH; the slow reader gets every byte', async () => {
    const kotak = await start();
    const big = Buffer.from(`From: a@example.com\r\nSubject: big\r\n\r\n${'0123456789abcdef'.repeat(4).concat('\r\n').repeat(40_000)}`);
    await send(kotak, big);
    const notReading = await session(kotak, { select: true });
    notReading.socket.pause();
    notReading.write('a FETCH 1 BODY.PEEK[]\r\nb FETCH 1 BODY.PEEK[]\r\nc FETCH 1 BODY.PEEK[]\r\n');
    const stalled = await connect(kotak);
    stalled.write('x LOGIN half-a-li');
    const garbage = await connect(kotak);
    garbage.write(Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80, 0x0a, 0x16, 0x03, 0x01, 0x0d, 0x0a]));
    const vanishing = await session(kotak, { select: true });
    vanishing.write('v FETCH 1 BODY.PEEK[]\r\n');
    vanishing.socket.once('data', () => vanishing.socket.resetAndDestroy());

    const ids = await send(kotak, simpleMessage('still flowing 1'), simpleMessage('still flowing 2'));
    expect((await message(kotak, ids[1]!)).status).toBe(200);
    notReading.socket.resume();
    for (const tag of ['a', 'b', 'c']) {
      const { untagged, tagged } = await notReading.result(tag);
      expect(tagged).toBe(`${tag} OK FETCH completed`);
      expect(untagged[0]!.length).toBe(`* 1 FETCH (BODY[] {${big.length}}\r\n`.length + big.length + 1);
    }
  });
});

describe('IMAP over TLS', () => {
  it('upgrades with STARTTLS, drops plaintext sent after it, and stops offering STARTTLS', async () => {
    const kotak = await start({ imapTls: 'auto' });
    const client = await connect(kotak);
    expect(await client.readResponse()).toMatch(/ STARTTLS AUTH=PLAIN\] Kotak IMAP ready$/);
    client.write('a STARTTLS\r\nb LOGIN sneaky pipelined\r\n');
    expect(await client.readResponse()).toBe('a OK begin TLS negotiation now');
    await client.upgrade();
    const capability = await client.command('c', 'CAPABILITY');
    expect(capability.untagged[0]).not.toContain('STARTTLS');
    // The pipelined LOGIN was dropped: still not logged in.
    expect((await client.command('d', 'LIST "" "*"')).tagged).toBe('d BAD LIST needs a login first');
    expect((await client.command('e', 'STARTTLS')).tagged).toBe('e BAD STARTTLS is not available (no --imap-tls, or TLS is on already)');
    expect((await client.command('f', 'LOGIN tester x')).tagged).toMatch(/^f OK/);
  });

  it('speaks TLS from the first byte with --imap-tls-implicit', async () => {
    const kotak = await start({ imapTls: 'auto', imapTlsImplicit: true });
    await send(kotak, simpleMessage('implicit'));
    const client = await connect(kotak, { tls: true });
    expect(await client.readResponse()).not.toContain('STARTTLS');
    await client.command('l', 'LOGIN tester x');
    await client.command('s', 'SELECT INBOX');
    expect((await client.command('a', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]')).untagged[0]).toContain('Subject: implicit');
  });
});

describe('IMAP settings', () => {
  it('refuses --imap without --imap-auth, and implicit TLS without --imap-tls, with exit status 2', async () => {
    const { code, stderr } = await runKotak(['--imap', '127.0.0.1:0', '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--imap-auth: IMAP needs credentials/);
    const implicit = await runKotak(['--imap', '127.0.0.1:0', '--imap-auth', 'any', '--imap-tls-implicit']);
    expect(implicit.code).toBe(2);
    expect(implicit.stderr).toMatch(/--imap-tls-implicit: needs --imap-tls/);
  });

  it('starts IMAP from KOTAK_IMAP* variables and logs the port it picked', async () => {
    const { child, imapPort: port } = await startKotakProcess(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:'], {
      KOTAK_IMAP: '127.0.0.1:0', KOTAK_IMAP_AUTH: 'any', KOTAK_IMAP_TLS: 'auto', KOTAK_LOG_LEVEL: 'info',
    });
    try {
      expect(port).toBeGreaterThan(0);
      const client = await ImapTestClient.connect(port!);
      clients.push(client);
      expect(await client.readResponse()).toMatch(/^\* OK \[CAPABILITY .* STARTTLS AUTH=PLAIN\] Kotak IMAP ready$/);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('leaves IMAP off by default', async () => {
    const kotak = await withKotak();
    running.push(kotak);
    expect(kotak.imapPort).toBeNull();
  });
});
