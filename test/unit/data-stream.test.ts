/**
 * The faster DATA scanner must behave exactly like smtp-server's own: same message bytes, same
 * end of DATA, same bytes left over for the next command, whatever the TCP chunking. Random
 * messages full of dots and line-ending variants are cut at random points and fed to both.
 */
import { describe, expect, it } from 'vitest';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { FastDataSmtpStream } from '../../src/smtp/data-stream.js';

interface Outcome {
  data: Buffer;
  commands: string[];
}

function run(Stream: typeof SMTPStream, chunks: Buffer[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const stream = new Stream();
    const commands: string[] = [];
    let data = Buffer.alloc(0);
    let inData = false;
    stream.oncommand = (command: Buffer, callback: () => void) => {
      const text = command.toString('latin1');
      commands.push(text);
      if (text === 'DATA' && !inData) {
        inData = true;
        const body = stream.startDataMode(Infinity);
        const parts: Buffer[] = [];
        body.on('data', (c: Buffer) => parts.push(c));
        body.on('end', () => {
          data = Buffer.concat(parts);
          stream.continue();
        });
      }
      if (text === 'QUIT') resolve({ data, commands });
      callback();
    };
    stream.on('error', reject);
    (async () => {
      for (const chunk of chunks) await new Promise<void>((done) => stream.write(chunk, () => done()));
    })().catch(reject);
  });
}

/** A deterministic pseudo-random generator, so a failure can be replayed from its seed. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['.', '..', '\r\n', '\n', '\r', '.\r\n', '\r\n.\r\n'.slice(0, 3), 'a', 'text ', '\r\n..\r\n', '\n.\n', 'x.y'];

function randomBody(random: () => number): string {
  let body = '';
  const n = Math.floor(random() * 60);
  for (let i = 0; i < n; i++) body += PIECES[Math.floor(random() * PIECES.length)];
  // Dot-stuff what the client would send: every line starting with "." gets another.
  return body.replace(/(^|\r\n)\./g, '$1..');
}

function cut(bytes: Buffer, random: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = 1 + Math.floor(random() * (random() < 0.3 ? 4 : 64));
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/**
 * The one place the scanner deliberately differs: smtp-server keeps the stuffing dot when DATA
 * opens with a bare LF and a dot-stuffed line ("\n.."); Kotak removes it as after any other LF.
 */
function withLeadingLfFix(data: Buffer): Buffer {
  if (data.length >= 3 && data[0] === 0x0a && data[1] === 0x2e && data[2] === 0x2e) return Buffer.concat([data.subarray(0, 1), data.subarray(2)]);
  return data;
}

describe('FastDataSmtpStream', () => {
  it('matches smtp-server (apart from the leading-LF fix) byte for byte on 3000 random messages and chunkings', async () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const random = generator(seed);
      const wire = Buffer.from(`DATA\r\n${randomBody(random)}\r\n.\r\nNOOP\r\nQUIT\r\n`, 'latin1');
      const chunks = cut(wire, random);
      const [original, actual] = await Promise.all([run(SMTPStream, chunks), run(FastDataSmtpStream, chunks)]);
      expect(actual.data.toString('latin1'), `seed ${seed}`).toBe(withLeadingLfFix(original.data).toString('latin1'));
      expect(actual.commands, `seed ${seed}`).toEqual(original.commands);
    }
  });

  it('unstuffs dots and ends only at CRLF.CRLF, also in large chunks', async () => {
    const body = `${'A'.repeat(100_000)}\r\n..leading dot\r\n.\n.not an end\r\n${'B'.repeat(70_000)}\r\n`;
    const out = await run(FastDataSmtpStream, [Buffer.from(`DATA\r\n${body}.\r\nQUIT\r\n`)]);
    expect(out.data.toString()).toBe(body.replace('\r\n..leading', '\r\n.leading'));
    expect(out.commands).toEqual(['DATA', 'QUIT']);
  });

  it('unstuffs a dot-stuffed line right after a bare LF that opens DATA, whatever the chunking', async () => {
    const wire = 'DATA\r\n\n..\r\n..x\r\n.\r\nQUIT\r\n';
    for (const at of [7, 8, 9, 10, wire.length]) {
      const out = await run(FastDataSmtpStream, [Buffer.from(wire.slice(0, at)), Buffer.from(wire.slice(at))].filter((b) => b.length));
      expect(out.data.toString(), `cut at ${at}`).toBe('\n.\r\n.x\r\n');
      expect(out.commands).toEqual(['DATA', 'QUIT']);
    }
  });
});
