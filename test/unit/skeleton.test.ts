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

const CORPUS = new URL('../../../shared/corpus/', import.meta.url);

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
});
