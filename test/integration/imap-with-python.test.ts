/**
 * IMAP through Python's imaplib (issue 21), as a Python test suite would read its mail: login,
 * SELECT, SEARCH, FETCH RFC822 (the exact bytes GET /api/messages/:id/raw serves), STORE flags and
 * EXPUNGE, with the changes visible in Kotak's API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson } from '../helpers/kotak.js';
import { rawOf, withImapKotak, type ImapKotak } from '../helpers/imap-kotak.js';
import { imaplib, literals, text } from '../helpers/imaplib.js';
import { sendInOrder } from '../helpers/smtp-client.js';

const MESSAGES = [
  Buffer.from('From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: one\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\n\r\nThe first body.\r\n'),
  // 8-bit header and body bytes, which imaplib hands back untouched.
  Buffer.concat([Buffer.from('From: carol@example.com\r\nTo: bob@example.com\r\nSubject: two caf'), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\n\r\nbytes: '), Buffer.from([0xe9, 0xff, 0x80]), Buffer.from('\r\n.a line starting with a dot\r\n')]),
  Buffer.from('From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: three\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nA longer body about the weather.\r\n'),
];

describe('IMAP with Python imaplib', () => {
  let kotak: ImapKotak;
  const ids: string[] = [];
  beforeAll(async () => {
    kotak = await withImapKotak();
    ids.push(...(await sendInOrder(kotak.smtpPort, MESSAGES)));
  });
  afterAll(() => kotak.stop());

  it('logs in, selects, searches and fetches each message byte for byte as the API serves it', async () => {
    const [login, select, all, subject, from, body, unseen, fetched, uids] = await imaplib(kotak.imapPort, [
      ['login', 'tester', 'secret'],
      ['select', 'INBOX'],
      ['search', null, 'ALL'],
      ['search', null, 'SUBJECT', 'three'],
      ['search', null, 'FROM', '"ann@example.com"'],
      ['search', null, 'BODY', 'weather'],
      ['search', null, 'UNSEEN'],
      ['fetch', '1:3', '(RFC822)'],
      ['uid', 'SEARCH', 'ALL'],
      ['logout'],
    ]);
    expect(text(login![0]!)).toBe('OK');
    expect(select).toEqual(['OK', [Buffer.from('3')]]);
    expect(text((all![1] as Buffer[])[0]!)).toBe('1 2 3');
    expect(text((subject![1] as Buffer[])[0]!)).toBe('3');
    expect(text((from![1] as Buffer[])[0]!)).toBe('1 3');
    expect(text((body![1] as Buffer[])[0]!)).toBe('3');
    expect(text((unseen![1] as Buffer[])[0]!)).toBe('1 2 3');
    expect(text(fetched![0]!)).toBe('OK');
    const messages = literals(fetched![1]!);
    expect(messages.map((m) => m.header.match(/^(\d+) /)?.[1])).toEqual(['1', '2', '3']);
    for (const [i, m] of messages.entries()) expect(m.literal.equals(await rawOf(kotak, ids[i]!))).toBe(true);
    expect(messages[1]!.literal.equals(MESSAGES[1]!)).toBe(true);
    const uidList = text((uids![1] as Buffer[])[0]!).split(' ').map(Number);
    expect(uidList).toHaveLength(3);
    expect([...uidList].sort((a, b) => a - b)).toEqual(uidList);
    // FETCH RFC822 (not BODY.PEEK) sets \Seen (RFC 3501 6.4.5): the API shows them read.
    for (const id of ids) expect((await getJson<{ read: boolean }>(kotak, `/api/messages/${id}`)).body.read).toBe(true);
  });

  it('stores flags and expunges: the message is gone from the API, the others stay', async () => {
    const [, , unflag, store, flags, deleted, expunged, after] = await imaplib(kotak.imapPort, [
      ['login', 'tester', 'secret'],
      ['select', 'INBOX'],
      ['store', '1:3', '-FLAGS', '(\\Seen)'],
      ['store', '2', '+FLAGS', '(\\Deleted \\Flagged)'],
      ['fetch', '2', '(FLAGS)'],
      ['search', null, 'DELETED'],
      ['expunge'],
      ['search', null, 'ALL'],
      ['logout'],
    ]);
    expect(text(unflag![0]!)).toBe('OK');
    expect(text(store![0]!)).toBe('OK');
    const flagLine = text((flags![1] as Buffer[])[0]!);
    expect(flagLine).toMatch(/^2 \(FLAGS \(.*\)\)$/);
    expect(flagLine).toContain('\\Deleted');
    expect(flagLine).toContain('\\Flagged');
    expect(flagLine).not.toContain('\\Seen');
    expect(text((deleted![1] as Buffer[])[0]!)).toBe('2');
    expect(expunged).toEqual(['OK', [Buffer.from('2')]]);
    expect(text((after![1] as Buffer[])[0]!)).toBe('1 2');
    expect((await getJson(kotak, `/api/messages/${ids[1]}`)).status).toBe(404);
    const { body } = await getJson<{ messages: { id: string; read: boolean }[] }>(kotak, '/api/messages');
    expect(body.messages.map((m) => m.id).sort()).toEqual([ids[0], ids[2]].sort());
    expect(body.messages.every((m) => !m.read)).toBe(true);
  });
});
