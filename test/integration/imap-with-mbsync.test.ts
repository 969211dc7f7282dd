/**
 * A real synchronising client (Debian's mbsync, isync 1.4) mirrors Kotak over IMAP into a Maildir
 * (issue 21): INBOX and another mailbox's folder, every message's bytes as Kotak stored them, and
 * a second sync after a flag change (from the API and from IMAP) and a delete (from the API)
 * brings the flags into the file names and removes the deleted message's file; after a restart on
 * the same database mbsync carries on (UIDVALIDITY and UIDs unchanged). On a SQLite file and on
 * PostgreSQL.
 *
 * mbsync makes exactly two changes of its own to what it FETCHes, and the comparison undoes
 * exactly those: Maildir files get LF line ends (the wire's CRLF becomes LF), and it adds its
 * bookkeeping header `X-TUID: <12 characters>` as the last header line (it finds a copied
 * message by it if a sync is interrupted). Every other byte must be Kotak's.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson } from '../helpers/kotak.js';
import { rawOf, runClient, tempDir, withImapKotak, type ImapKotak } from '../helpers/imap-kotak.js';
import { imaplib } from '../helpers/imaplib.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url);
/** Real mail of several shapes: attachments, 8-bit bodies and headers, a 177 KB message. */
const CORPUS_FILES = ['mailparser--nodemailer.eml', 'mailpit--mime-attachment.eml', 'mimekit--japanese.eml', 'rubymail--utf8_headers.eml', 'inbucket--gmail.eml'];

/** Kotak's raw message as mbsync writes it: CRLF line ends as LF. */
const maildirForm = (raw: Buffer): Buffer => Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');

/** A Maildir file without mbsync's X-TUID line, which it adds at the end of the header. */
function withoutTuid(file: Buffer): Buffer {
  const text = file.toString('latin1');
  const tuid = /\nX-TUID: [A-Za-z0-9+/]{12}\n\n/.exec(text);
  if (!tuid) throw new Error(`no X-TUID header at the end of the header: ${JSON.stringify(text.slice(0, 300))}`);
  return Buffer.from(text.slice(0, tuid.index + 1) + text.slice(tuid.index + tuid[0].length - 1), 'latin1');
}
const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface MaildirFile {
  readonly name: string;
  /** The Maildir flags after `:2,` (`S` seen, `F` flagged, `T` trashed). */
  readonly flags: string;
  /** The file's bytes without mbsync's X-TUID line. */
  readonly bytes: Buffer;
}

function maildirFiles(folder: string): MaildirFile[] {
  return ['new', 'cur'].flatMap((sub) =>
    readdirSync(join(folder, sub)).map((name) => ({ name, flags: /:2,([A-Z]*)$/.exec(name)?.[1] ?? '', bytes: withoutTuid(readFileSync(join(folder, sub, name))) })),
  );
}

/** mbsync's configuration: Kotak's IMAP port as the far side, a Maildir under `home` as the near side. */
function mbsyncrc(home: string, port: number): string {
  return [
    'IMAPAccount kotak',
    'Host 127.0.0.1',
    `Port ${port}`,
    'User tester',
    'Pass secret',
    'SSLType None',
    'AuthMechs LOGIN',
    '',
    'IMAPStore kotak-far',
    'Account kotak',
    '',
    'MaildirStore kotak-near',
    `Path ${home}/mail/`,
    `Inbox ${home}/mail/INBOX`,
    'SubFolders Verbatim',
    '',
    'Channel kotak',
    'Far :kotak-far:',
    'Near :kotak-near:',
    'Patterns *',
    'Create Near',
    'Sync Pull',
    'Expunge Near',
    'SyncState *',
    '',
  ].join('\n');
}

/** Where the sandbox is kept: a SQLite file, or a database of a throwaway PostgreSQL server. */
const STORES = [
  { name: 'a SQLite file', open: async () => ({ db: join(tempDir('mbsync-db'), 'kotak.db'), stop: async () => undefined }) },
  {
    name: 'PostgreSQL',
    open: async () => {
      const server: RunningPostgres = await startPostgres();
      return { db: await server.createDatabase('mbsync'), stop: () => server.stop() };
    },
  },
] as const;

describe.each(STORES)('IMAP with mbsync, Kotak on $name', ({ open }) => {
  let store: { db: string; stop: () => Promise<void> };
  let kotak: ImapKotak;
  let home: string;
  const inbox: string[] = [];
  const billing: string[] = [];

  async function start(): Promise<void> {
    kotak = await withImapKotak({ db: store.db, mailboxRoute: '*@billing.test=billing' });
    writeFileSync(join(home, 'mbsyncrc'), mbsyncrc(home, kotak.imapPort), { mode: 0o600 });
  }

  async function mbsync(): Promise<string> {
    const { code, stdout, stderr } = await runClient('mbsync', ['-c', join(home, 'mbsyncrc'), '-V', 'kotak'], { env: { HOME: home } });
    const log = stdout.toString() + stderr;
    if (code !== 0) throw new Error(`mbsync exited with ${code}:\n${log}`);
    return log;
  }

  beforeAll(async () => {
    store = await open();
    home = tempDir('mbsync');
    mkdirSync(join(home, 'mail'));
    await start();
    for (const file of CORPUS_FILES) inbox.push(queuedId(await sendRaw(kotak.smtpPort, readFileSync(new URL(file, CORPUS)))));
    for (const file of CORPUS_FILES.slice(0, 2)) billing.push(queuedId(await sendRaw(kotak.smtpPort, readFileSync(new URL(file, CORPUS)), { from: 'a@example.com', to: ['ann@billing.test'] })));
  });
  afterAll(async () => {
    await kotak?.stop();
    await store?.stop();
  });

  it('syncs INBOX and the billing folder: every file holds the stored bytes', async () => {
    await mbsync();
    for (const [folder, ids] of [['INBOX', inbox], ['billing', billing]] as const) {
      const files = maildirFiles(join(home, 'mail', folder));
      const expected = await Promise.all(ids.map(async (id) => digest(maildirForm(await rawOf(kotak, id)))));
      expect(files.map((f) => digest(f.bytes)).sort(), folder).toEqual([...expected].sort());
      expect(files.every((f) => f.flags === ''), folder).toBe(true);
    }
  });

  it('a second sync brings a flag change and a delete made in Kotak meanwhile', async () => {
    // Read in the API; flagged over IMAP; deleted in the API.
    expect((await getJson(kotak, `/api/messages/${inbox[0]}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ read: true }) })).status).toBe(200);
    await imaplib(kotak.imapPort, [['login', 'tester', 'secret'], ['select', 'INBOX'], ['store', '2', '+FLAGS', '(\\Flagged)'], ['logout']]);
    const gone = maildirForm(await rawOf(kotak, inbox[2]!));
    expect((await getJson(kotak, `/api/messages/${inbox[2]}`, { method: 'DELETE' })).status).toBe(200);

    await mbsync();
    const files = maildirFiles(join(home, 'mail', 'INBOX'));
    expect(files).toHaveLength(inbox.length - 1);
    const flagsOf = async (id: string): Promise<string | undefined> => {
      const bytes = maildirForm(await rawOf(kotak, id));
      return files.find((f) => f.bytes.equals(bytes))?.flags;
    };
    expect(await flagsOf(inbox[0]!)).toBe('S');
    expect(await flagsOf(inbox[1]!)).toBe('F');
    expect(await flagsOf(inbox[3]!)).toBe('');
    expect(files.some((f) => f.bytes.equals(gone))).toBe(false);
    // The other folder is untouched.
    expect(maildirFiles(join(home, 'mail', 'billing'))).toHaveLength(billing.length);
  });

  it('after a restart on the same database, a sync brings only the new message (same UIDVALIDITY and UIDs)', async () => {
    const before = maildirFiles(join(home, 'mail', 'INBOX'));
    await kotak.stop();
    await start();
    const id = queuedId(await sendRaw(kotak.smtpPort, Buffer.from('From: a@example.com\r\nSubject: after the restart\r\n\r\nnew\r\n')));
    const log = await mbsync();
    // A changed UIDVALIDITY would make mbsync refuse the box (or fetch everything again).
    expect(log).not.toMatch(/UIDVALIDITY/i);
    const after = maildirFiles(join(home, 'mail', 'INBOX'));
    expect(after).toHaveLength(before.length + 1);
    expect(after.filter((f) => !before.some((b) => b.name === f.name)).map((f) => f.bytes)).toEqual([maildirForm(await rawOf(kotak, id))]);
  });
});
