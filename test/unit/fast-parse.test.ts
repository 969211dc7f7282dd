/**
 * The fast parser must agree with mailparser on every message it accepts, and decline the rest.
 * Inputs: the shared corpus of real mail, and messages composed by nodemailer in the shapes
 * applications send (text, text + HTML, attachments, inline images, encoded names and subjects).
 */
import { readdirSync, readFileSync } from 'node:fs';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { describe, expect, it } from 'vitest';
import { INLINE_LIMITS, parseSimpleMessage } from '../../src/mail/fast-parse.js';
import { parseWithMailparser } from '../../src/mail/parse.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url);
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAAJJRU5ErkJggg==', 'base64');

function compose(mail: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(mail).compile().build();
}

const composed: [string, () => Promise<Buffer>][] = [
  ['text only', () => compose({ from: 'a@example.com', to: 'b@example.com', subject: 'Hi', text: 'Hello\nthere' })],
  ['text + html', () => compose({ from: '"Ann Lee" <ann@example.com>', to: 'b@example.com, "C, D" <cd@example.com>', cc: 'e@example.com', subject: 'Welcome', text: 'Confirm: https://x.test/c?t=1', html: '<p>Confirm <a href="https://x.test/c?t=1">here</a></p>' })],
  ['utf-8 everywhere', () => compose({ from: '"Jörg Müller" <jm@example.com>', to: '"山田 太郎" <taro@example.jp>', subject: 'Grüße — 你好 🎉 and a long subject that must be folded across several header lines by the composer', text: 'Tschüß 👋', html: '<p>Tschüß 👋</p>' })],
  ['quoted-printable text', () => compose({ from: 'a@example.com', to: 'b@example.com', subject: 'QP', text: `${'long line with a = sign and ünïcödé '.repeat(10)}\n.leading dot`, textEncoding: 'quoted-printable' })],
  ['base64 text', () => compose({ from: 'a@example.com', to: 'b@example.com', subject: 'B64', text: 'base64 body ✓', html: '<b>base64 html ✓</b>', textEncoding: 'base64' })],
  ['attachments', () => compose({ from: 'a@example.com', to: 'b@example.com', subject: 'Files', text: 'see files', html: '<p>see <img src="cid:logo@x"></p>', attachments: [
    { filename: 'report.pdf', content: Buffer.alloc(5000, 7) },
    { filename: 'data.csv', content: 'a,b\n1,2\n' },
    { filename: 'logo.png', content: PNG, cid: 'logo@x' },
    { filename: 'archive.bin', content: Buffer.alloc(100, 1), contentType: 'application/octet-stream' },
    { content: 'no name', contentType: 'application/x-custom' },
  ] })],
  ['reply-to, bcc header and groups', () => compose({ from: 'a@example.com', to: 'Team: x@example.com, y@example.com;', bcc: 'hidden@example.com', replyTo: 'support@example.com', subject: 'Groups', text: 'x' })],
];

describe('fast parser', () => {
  it.each(composed)('agrees with mailparser on %s', async (_name, build) => {
    const raw = await build();
    const fast = parseSimpleMessage(raw);
    expect(fast, 'the fast parser should accept this common shape').not.toBeNull();
    expect(fast).toEqual(await parseWithMailparser(raw));
  });

  const files = readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort();
  it('agrees with mailparser on every corpus message it accepts', async () => {
    let accepted = 0;
    for (const file of files) {
      const raw = readFileSync(new URL(file, CORPUS));
      const fast = parseSimpleMessage(raw);
      if (fast === null) continue;
      accepted += 1;
      expect(fast, file).toEqual(await parseWithMailparser(raw));
    }
    // Real-world mail is varied; the fast path is for the common shapes, not all of them.
    expect(accepted).toBeGreaterThan(5);
  });

  it('declines shapes it does not handle', () => {
    const decline = [
      'Subject: no blank line',
      'Content-Type: text/plain; charset=iso-8859-1\r\n\r\ncaf\xe9\r\n',
      'Content-Type: text/plain; format=flowed\r\n\r\nflowed \r\ntext\r\n',
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nnever closed\r\n',
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n--b--\r\n',
      'Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n',
      'Subject: dup\r\nSubject: dup\r\n\r\nx\r\n',
      'Subject: 8bit h\xe9ader\r\n\r\nx\r\n',
    ];
    for (const text of decline) expect(parseSimpleMessage(Buffer.from(text, 'latin1')), JSON.stringify(text)).toBeNull();
  });

  it('under the SMTP-thread limits, declines inputs that would make it work hard', () => {
    const hostile = [
      `To: ${'a,'.repeat(30_000)}\r\n\r\nbody\r\n`,
      `Subject: x${'\r\n y'.repeat(20_000)}\r\n\r\nbody\r\n`,
      `${'X-A: b\r\n'.repeat(8000)}\r\nbody\r\n`,
      `Content-Type: multipart/mixed; boundary=b\r\n\r\n${'--b\r\nContent-Type: application/x\r\n\r\nx\r\n'.repeat(1500)}--b--\r\n`,
    ];
    for (const text of hostile) expect(parseSimpleMessage(Buffer.from(text), INLINE_LIMITS)).toBeNull();
    // Ordinary mail is unaffected by the limits.
    const ordinary = Buffer.from('From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n');
    expect(parseSimpleMessage(ordinary, INLINE_LIMITS)?.text).toBe('hello');
  });
});
