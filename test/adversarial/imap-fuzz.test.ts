/**
 * The IMAP parser and framing under random and mutated input (seeded, so a failure replays):
 * they must never throw anything but their own error, and every input must be answered in
 * bounded work (a hang would stall the test past its timeout).
 */
import { describe, expect, it } from 'vitest';
import { CommandReader } from '../../src/imap/wire/command-reader.js';
import { ImapParseError, parseCommand } from '../../src/imap/wire/parser.js';
import { parseSequenceSet } from '../../src/imap/wire/sequence-set.js';
import { seededRandom } from '../helpers/random.js';

const VALID = [
  'a1 CAPABILITY',
  'a2 LOGIN "user" {6}\r\nsecret',
  'a3 LOGIN user {6+}\r\nsecret',
  'a4 SELECT INBOX',
  'a5 UID FETCH 1:*,7 (UID FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject)]<0.1024> BODYSTRUCTURE)',
  'a6 FETCH 1 (BODY[1.2.MIME] BINARY[1]<10.20> BINARY.SIZE[2] RFC822.SIZE)',
  'a7 STORE 1:3 +FLAGS.SILENT (\\Seen \\Deleted $Label)',
  'a8 SEARCH CHARSET UTF-8 OR FROM "a b" (SUBJECT {4}\r\ntest) NOT SEEN SINCE 1-Jan-2026 UID 1:*',
  'a9 APPEND INBOX (\\Flagged) "07-Dec-2026 09:40:00 +0000" ~{5}\r\nab\0cd',
  'b1 LIST "" "%"',
  'b2 STATUS "INBOX" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)',
  'b3 UID MOVE 4:9 "other"',
  'b4 ID ("name" "client" "version" NIL)',
  'b5 AUTHENTICATE PLAIN AHVzZXIAcGFzcw==',
];
const ALPHABET = ' ()[]<>{}"\\*%+~.:,-01239aAzZ\r\n\0\x7f\xff';

function mutate(text: string, random: () => number): string {
  const chars = [...text];
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (chars.length + 1));
    const kind = random();
    const char = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
    if (kind < 0.4) chars.splice(at, 1);
    else if (kind < 0.7) chars.splice(at, 0, char);
    else chars[at] = char;
  }
  return chars.join('');
}

function randomText(random: () => number): string {
  const length = Math.floor(random() * 120);
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(random() * ALPHABET.length)]!;
  return text;
}

function parseOrOwnError(bytes: Buffer): void {
  try {
    parseCommand(bytes);
  } catch (error) {
    if (!(error instanceof ImapParseError)) throw new Error(`parser threw ${String(error)} on ${JSON.stringify(bytes.toString('latin1'))}`);
  }
}

describe('IMAP wire fuzz', () => {
  it('parses every valid sample', () => {
    for (const text of VALID) expect(() => parseCommand(Buffer.from(text, 'latin1'))).not.toThrow();
  });

  it('never throws anything but ImapParseError on 20,000 mutated and random commands', () => {
    const random = seededRandom(0x1a2b3c);
    for (let i = 0; i < 20_000; i++) {
      const text = i % 4 === 3 ? randomText(random) : mutate(VALID[i % VALID.length]!, random);
      parseOrOwnError(Buffer.from(text, 'latin1'));
      parseSequenceSet(text);
    }
  });

  it('frames 5,000 random streams in random chunk sizes without throwing, and parses what it frames', () => {
    const random = seededRandom(0xfeed);
    for (let i = 0; i < 5_000; i++) {
      const reader = new CommandReader({ maxLineOctets: 256, maxSkipOctets: 1024, maxLinesPerCommand: 8, literalCap: () => 64 });
      const stream = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 6) }, () => (random() < 0.7 ? mutate(VALID[Math.floor(random() * VALID.length)]!, random) : randomText(random)) + '\r\n').join(''), 'latin1');
      let at = 0;
      while (at < stream.length) {
        const size = 1 + Math.floor(random() * 40);
        for (const event of reader.push(stream.subarray(at, at + size))) {
          if (event.kind === 'command') parseOrOwnError(event.bytes);
        }
        at += size;
      }
    }
  });
});
