/**
 * The skeleton read from a file in one pass (src/parse/skeleton-file.ts, for spooled messages) must
 * be the skeleton src/mail/skeleton.ts makes from the same bytes in memory, or null (the caller
 * then reads the file whole); parsing it must give what mailparser gives on every byte.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSkeleton, parseWithMailparser } from '../../src/mail/parse.js';
import { stripAttachmentBodies, type Skeleton } from '../../src/mail/skeleton.js';
import { stripAttachmentBodiesFromFile } from '../../src/parse/skeleton-file.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'kotak-skeleton-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
async function fromFile(raw: Buffer, boundText = false): Promise<Skeleton | null> {
  const file = join(dir, `m${++fileCount}.eml`);
  writeFileSync(file, raw);
  return stripAttachmentBodiesFromFile(file, raw.length, { boundText });
}

function compose(attachments: { filename: string; content: Buffer | string; contentType?: string; cid?: string }[]): Promise<Buffer> {
  return new MailComposer({ from: 'a@example.com', to: 'b@example.com', subject: 'attached', text: 'see attached', html: '<p>see</p>', attachments }).compile().build();
}

/** Equal skeletons: the same bytes, and the same sizes in the same order of markers. */
function expectSameSkeleton(actual: Skeleton | null, expected: Skeleton, name: string): void {
  expect(actual, name).not.toBeNull();
  expect(actual!.bytes.toString('latin1'), name).toBe(expected.bytes.toString('latin1'));
  expect([...actual!.sizes], name).toEqual([...expected.sizes]);
}

describe('the skeleton of a message read from a file', () => {
  it('is the in-memory skeleton, on composed mail with large attachments (read across many chunks) and on every corpus message', async () => {
    const inputs: [string, Buffer][] = [
      ['large', await compose([{ filename: 'big.bin', content: Buffer.alloc(3_000_000, 3) }, { filename: 'pic.png', content: Buffer.alloc(5000, 1), contentType: 'image/png', cid: 'p@x' }, { filename: 'notes.txt', content: 'x'.repeat(50_000) }])],
      ['sizes', await compose([{ filename: 'odd.bin', content: Buffer.alloc(10_001, 9) }, { filename: 'tiny.bin', content: Buffer.alloc(100, 1) }, { filename: 'edge.bin', content: Buffer.alloc(49_152, 2) }])],
      ['text only', Buffer.from(`Subject: t\r\n\r\n${'line of text\r\n'.repeat(100_000)}`)],
      ['one long line', Buffer.from(`Subject: t\r\nContent-Type: text/html\r\n\r\n${'<b>x</b> '.repeat(200_000)}`)],
      ['top-level attachment', Buffer.from(`Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(400_000, 7).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`)],
      ['single-line base64', Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(600_000, 1).toString('base64')}\r\n--b--\r\n`)],
      ...readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort().map((f): [string, Buffer] => [f, readFileSync(new URL(f, CORPUS))]),
    ];
    for (const [name, raw] of inputs) {
      const skeleton = await fromFile(raw);
      expectSameSkeleton(skeleton, stripAttachmentBodies(raw), name);
      const full = await parseWithMailparser(raw, { stripAttachments: false });
      expect(await parseSkeleton(skeleton!), name).toEqual(full);
    }
    const large = await fromFile(inputs[0]![1]);
    expect(large!.bytes.length).toBeLessThan(100_000);
  });

  it('parses as mailparser parses every byte, or declines, on damaged and cut mail', async () => {
    const withoutSizes = (parsed: unknown): unknown => JSON.parse(JSON.stringify(parsed, (key, value: unknown) => (key === 'size' ? 0 : value)));
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort();
    const inputs: Buffer[] = [
      await compose([{ filename: 'big.bin', content: Buffer.alloc(300_000, 3) }, { filename: 'a.bin', content: Buffer.alloc(3000, 1) }]),
      ...files.map((f) => readFileSync(new URL(f, CORPUS))),
    ];
    let compared = 0;
    let state = 7;
    const random = (): number => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    for (const [index, original] of inputs.entries()) {
      for (let i = 0; i < 8; i++) {
        const damaged = Buffer.from(random() < 0.3 ? original.subarray(0, Math.floor(random() * original.length)) : original);
        for (let flips = Math.floor(random() * 4); flips > 0; flips--) {
          const at = Math.floor(random() * damaged.length);
          damaged[at] = damaged[at]! ^ (1 << Math.floor(random() * 8));
        }
        const skeleton = await fromFile(damaged);
        if (!skeleton) continue; // read whole instead: nothing to compare
        compared++;
        const full = await parseWithMailparser(damaged, { stripAttachments: false }).catch((err: Error) => err.message);
        const viaSkeleton = await parseSkeleton(skeleton).catch((err: Error) => err.message);
        expect(withoutSizes(viaSkeleton), `input ${index} #${i}`).toEqual(withoutSizes(full));
      }
    }
    // Declining is for the unusual: most damaged mail is still read in one pass.
    expect(compared).toBeGreaterThan((inputs.length * 8) / 2);
  });

  it('cuts a 1 MB unencoded text at its characters, not at the byte bound, where the charset lets them be counted', async () => {
    const bound = 256 * 1024;
    const message = (charset: string, body: string) =>
      Buffer.from(`From: a@example.com\r\nSubject: long\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}\r\n`, 'utf8');
    const lines = (unit: string, bytes: number) => Array.from({ length: Math.ceil(bytes / (unit.length * 30 + 2)) }, (_, i) => `${unit.repeat(30)}\r\n`.replace(/^./, String(i % 10))).join('');
    for (const [name, body] of [['ASCII', lines('abc', 1_000_000)], ['3-byte UTF-8', lines('日本語', 1_000_000)], ['2-byte UTF-8', lines('éàü', 1_000_000)]] as const) {
      const skeleton = await fromFile(message('utf-8', body), true);
      expect(skeleton?.textCut, name).toBe(true);
      // Far below the ~1.06 MB the byte bound keeps, and still the first 256 Ki characters whole.
      expect(skeleton!.bytes.length, name).toBeLessThan(Buffer.byteLength(body.slice(0, bound + 80 * 1024)) + 200);
      const kept = skeleton!.bytes.toString('utf8');
      expect(kept.slice(kept.indexOf('\r\n\r\n') + 4).replace(/\r\n/g, '\n').slice(0, bound), name).toBe(body.replace(/\r\n/g, '\n').slice(0, bound));
    }
    // Shift_JIS's characters cannot be counted byte by byte: the byte bound, which keeps 1 MB whole.
    expect((await fromFile(message('shift_jis', lines('abc', 1_000_000)), true))?.textCut).toBeUndefined();
  });

  it('declines a large body it cannot strip (not plain base64) rather than hold it', async () => {
    const urlSafe = Buffer.alloc(200_000, 0xfb).toString('base64url').replace(/.{76}/g, '$&\r\n');
    const raw = Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${urlSafe}\r\n--b--\r\n`);
    expect(await fromFile(raw)).toBeNull();
  });
});
