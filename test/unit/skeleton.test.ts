/**
 * Stripping attachment bodies before mailparser must change nothing in the result: same
 * attachments (ids, names, types, exact decoded sizes), same text and HTML, on every corpus
 * message and on composed messages with large attachments.
 */
import { readdirSync, readFileSync } from 'node:fs';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { describe, expect, it } from 'vitest';
import { parseSkeleton, parseWithMailparser } from '../../src/mail/parse.js';
import { stripAttachmentBodies } from '../../src/mail/skeleton.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url);

async function composed(): Promise<Buffer> {
  return new MailComposer({
    from: 'a@example.com',
    to: 'b@example.com',
    subject: 'Large attachments',
    text: 'see attached',
    html: '<p>see <img src="cid:pic@x"></p>',
    attachments: [
      { filename: 'big.bin', content: Buffer.alloc(300_000, 3) },
      { filename: 'odd-size.bin', content: Buffer.alloc(10_001, 9) },
      { filename: 'pic.png', content: Buffer.alloc(5000, 1), contentType: 'image/png', cid: 'pic@x' },
      { filename: 'notes.txt', content: 'x'.repeat(50_000) },
    ],
  }).compile().build();
}

describe('attachment stripping before mailparser', () => {
  it('shrinks a message with large attachments and records their exact decoded sizes', async () => {
    const raw = await composed();
    const skeleton = stripAttachmentBodies(raw);
    expect(skeleton.bytes.length).toBeLessThan(raw.length / 4);
    expect([...skeleton.sizes.values()].sort((a, b) => a - b)).toEqual([5000, 10_001, 300_000]);
  });

  it('gives the same parse as reading every byte, on composed mail and on every corpus message', async () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort();
    const inputs: [string, Buffer][] = [['composed', await composed()], ...files.map((f): [string, Buffer] => [f, readFileSync(new URL(f, CORPUS))])];
    for (const [name, raw] of inputs) {
      const full = await parseWithMailparser(raw, { stripAttachments: false }).catch((err: Error) => err.message);
      const stripped = await parseWithMailparser(raw).catch((err: Error) => err.message);
      expect(stripped, name).toEqual(full);
    }
  });

  it('parsing the skeleton (fast parser, else mailparser) gives what mailparser gives on every byte', async () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort();
    const inputs: [string, Buffer][] = [['composed', await composed()], ...files.map((f): [string, Buffer] => [f, readFileSync(new URL(f, CORPUS))])];
    for (const [name, raw] of inputs) {
      const full = await parseWithMailparser(raw, { stripAttachments: false }).catch((err: Error) => err.message);
      const viaSkeleton = await parseSkeleton(stripAttachmentBodies(raw)).catch((err: Error) => err.message);
      expect(viaSkeleton, name).toEqual(full);
    }
  });

  it('changes nothing but, for corrupted large base64 bodies, the counted size, on damaged mail', async () => {
    // Large bodies are counted, not decoded: a byte corrupted into a stray symbol counts as one
    // more character. Everything else must match mailparser reading every byte.
    const withoutSizes = (parsed: unknown): unknown => JSON.parse(JSON.stringify(parsed, (key, value: unknown) => (key === 'size' ? 0 : value)));
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort();
    const small = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        new MailComposer({
          from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't', html: '<p>h</p>',
          attachments: [{ filename: 'a.bin', content: Buffer.alloc(3000 + i * 997, i) }, { filename: 'i.png', content: Buffer.alloc(5000, 1), cid: 'c@x' }],
        }).compile().build(),
      ),
    );
    const inputs: Buffer[] = [await composed(), ...small, ...files.map((f) => readFileSync(new URL(f, CORPUS)))];
    let state = 1;
    const random = (): number => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    for (const [index, original] of inputs.entries()) {
      for (let i = 0; i < 15; i++) {
        const damaged = Buffer.from(random() < 0.3 ? original.subarray(0, Math.floor(random() * original.length)) : original);
        for (let flips = Math.floor(random() * 4); flips > 0; flips--) {
          const at = Math.floor(random() * damaged.length);
          damaged[at] = damaged[at]! ^ (1 << Math.floor(random() * 8));
        }
        const full = await parseWithMailparser(damaged, { stripAttachments: false }).catch((err: Error) => err.message);
        const viaSkeleton = await parseSkeleton(stripAttachmentBodies(damaged)).catch((err: Error) => err.message);
        expect(withoutSizes(viaSkeleton), `input ${index} #${i}`).toEqual(withoutSizes(full));
      }
    }
  });

  it('does not take a line that only starts like a delimiter for one', async () => {
    // "--b" followed by junk is content to a MIME parser: the attachment below is text of the
    // first part, and must reach mailparser as it is.
    const body = Buffer.alloc(4000, 5).toString('base64').replace(/.{76}/g, '$&\r\n');
    const raw = Buffer.from(
      `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\x1d\r\n` +
        `Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}\r\n--b--\r\n`,
      'latin1',
    );
    const full = await parseWithMailparser(raw, { stripAttachments: false });
    expect(full.text).toContain(body.slice(0, 40));
    expect(await parseSkeleton(stripAttachmentBodies(raw))).toEqual(full);
  });
});
