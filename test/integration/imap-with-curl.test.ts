/**
 * IMAP through `curl imap://` (issue 21), the one-liner a shell script or a README reader uses:
 * LIST, EXAMINE (a custom request), FETCH by UID (curl sends UID FETCH for `;UID=`, since 7.64)
 * giving the exact stored bytes, FETCH of a section, and SEARCH from the URL's query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson } from '../helpers/kotak.js';
import { rawOf, runClient, withImapKotak, type ImapKotak } from '../helpers/imap-kotak.js';
import { imaplib, text } from '../helpers/imaplib.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const message = (subject: string, body: string): Buffer =>
  Buffer.from(`From: ann@example.com\r\nTo: bob@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@curl.test>\r\n\r\n${body}\r\n`);

describe('IMAP with curl', () => {
  let kotak: ImapKotak;
  const ids: string[] = [];
  /** INBOX's UIDs, oldest first, as a client reads them. */
  let uids: number[];

  const curl = (path: string, ...extra: string[]) => runClient('curl', ['-sS', '-v', '-u', 'tester:secret', `imap://127.0.0.1:${kotak.imapPort}${path}`, ...extra]);

  beforeAll(async () => {
    kotak = await withImapKotak({ mailboxRoute: '*@billing.test=billing' });
    for (const [subject, body] of [['alpha', 'first body'], ['beta', 'second body'], ['gamma', 'third body']] as const) {
      ids.push(queuedId(await sendRaw(kotak.smtpPort, message(subject, body))));
    }
    const [, , search] = await imaplib(kotak.imapPort, [['login', 'tester', 'secret'], ['select', 'INBOX', true], ['uid', 'SEARCH', 'ALL'], ['logout']]);
    uids = text((search![1] as Buffer[])[0]!).split(' ').map(Number);
  });
  afterAll(() => kotak.stop());

  it('lists the folders', async () => {
    const { code, stdout, stderr } = await curl('/');
    expect(code, stderr).toBe(0);
    const lines = stdout.toString().trim().split('\r\n');
    expect(lines.some((l) => /^\* LIST \(.*\) "[^"]*" "?INBOX"?$/.test(l))).toBe(true);
    expect(lines.some((l) => /^\* LIST \(.*\) "[^"]*" "?billing"?$/.test(l))).toBe(true);
  });

  it('examines INBOX (a custom request): counts and UIDVALIDITY', async () => {
    const { code, stdout, stderr } = await curl('/', '-X', 'EXAMINE INBOX');
    expect(code, stderr).toBe(0);
    const out = stdout.toString();
    expect(out).toContain('* 3 EXISTS');
    expect(out).toMatch(/\* OK \[UIDVALIDITY \d+\]/);
    expect(out).toMatch(/\* OK \[UIDNEXT \d+\]/);
    expect(out).toMatch(/\* FLAGS \(/);
  });

  it('fetches a message by UID: the exact bytes the API serves', async () => {
    const { code, stdout, stderr } = await curl(`/INBOX/;UID=${uids[1]}`);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`UID FETCH ${uids[1]} BODY[]`);
    expect(stdout.equals(await rawOf(kotak, ids[1]!))).toBe(true);
    const section = await curl(`/INBOX/;UID=${uids[2]}/;SECTION=TEXT`);
    expect(section.stdout.toString()).toBe('third body\r\n');
    // curl SELECTs and sends BODY[] (not BODY.PEEK[]), which sets \Seen (RFC 3501 6.4.5).
    expect((await getJson<{ read: boolean }>(kotak, `/api/messages/${ids[1]}`)).body.read).toBe(true);
  });

  it('searches from the URL query', async () => {
    const { code, stdout, stderr } = await curl('/INBOX?SUBJECT%20gamma');
    expect(code, stderr).toBe(0);
    expect(stdout.toString().trim()).toBe('* SEARCH 3');
    const body = await curl('/INBOX?BODY%20%22body%22');
    expect(body.stdout.toString().trim()).toBe('* SEARCH 1 2 3');
    const none = await curl('/INBOX?SUBJECT%20nothing-like-this');
    expect(none.stdout.toString().trim()).toBe('* SEARCH');
  });
});
