/**
 * The byte-level pieces of `kotak sendmail` that chunking could break: the lone-dot scanner (every
 * split point of the input) and the reply counting of -bs. Pure; here rather than in test/unit/
 * only to keep sendmail's tests together (move at will).
 */
import { describe, expect, it } from 'vitest';
import { LoneDotScanner } from '../../src/sendmail/message-input.js';
import { parseSendmailArgs } from '../../src/sendmail/options.js';
import { SmtpTurns } from '../../src/sendmail/smtp-turns.js';

function scanInPieces(input: string, cuts: number[]): string {
  const scanner = new LoneDotScanner();
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    scanner.push(Buffer.from(input.slice(from, cut), 'latin1'));
    from = cut;
  }
  return scanner.finish().toString('latin1');
}

describe('LoneDotScanner', () => {
  it.each([
    ['a\n.\nb\n', 'a\n'],
    ['a\r\n.\r\nb\r\n', 'a\r\n'],
    ['.\nall cut', ''],
    ['a\n..\nb\n', 'a\n..\nb\n'],
    ['a\n.x\nb\n', 'a\n.x\nb\n'],
    ['a\n.\r\r\nb\n', 'a\n.\r\r\nb\n'],
    ['a\nb.\n', 'a\nb.\n'],
    ['a\n.', 'a\n'],
    ['a\n.\r', 'a\n.\r'],
    ['no dot at all\n', 'no dot at all\n'],
  ])('%j → %j, whatever the chunking', (input, expected) => {
    expect(scanInPieces(input, [])).toBe(expected);
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) expect(scanInPieces(input, [i, j]), `cuts ${i},${j}`).toBe(expected);
    }
  });
});

describe('SmtpTurns', () => {
  it('owes one reply per command, one for the message after DATA, none for data lines; split anywhere', () => {
    const client = 'EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nline\r\n..\r\n.\r\nQUIT\r\n';
    const server = '220 hi\r\n250-x\r\n250 SIZE 1\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n';
    for (let cut = 0; cut <= client.length; cut++) {
      const turns = new SmtpTurns();
      turns.client(Buffer.from(client.slice(0, cut)));
      turns.client(Buffer.from(client.slice(cut)));
      expect(turns.owed).toBe(1 + 6);
      expect(turns.inData).toBe(false);
      for (let at = 0; at < server.length; at += 5) turns.server(Buffer.from(server.slice(at, at + 5)));
      expect(turns.owed).toBe(0);
    }
  });

  it('knows when input stopped inside DATA, and stops counting after STARTTLS', () => {
    const cut = new SmtpTurns();
    cut.client(Buffer.from('HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\npartial'));
    expect(cut.inData).toBe(true);
    const tls = new SmtpTurns();
    tls.client(Buffer.from('EHLO x\r\nSTARTTLS\r\n'));
    expect(tls.readable).toBe(false);
  });
});

describe('parseSendmailArgs', () => {
  it('reads getopt groups, attached and separate values, and recipients before, between and after options', () => {
    expect(parseSendmailArgs(['a@x', '-tif', 'me@x', '-oem', '-FName', 'b@x', '-bs', '--', '-c@x'])).toEqual({
      mode: 'smtp-session', recipientsFromHeaders: true, dotEndsInput: false, sender: 'me@x', fullName: 'Name', server: null, verbose: false,
      recipients: ['a@x', 'b@x', '-c@x'],
    });
  });
});
