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

describe('FastDataSmtpStream', () => {
  it('matches smtp-server byte for byte on 3000 random messages and chunkings', async () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const random = generator(seed);
      const wire = Buffer.from(`DATA\r\n${randomBody(random)}\r\n.\r\nNOOP\r\nQUIT\r\n`, 'latin1');
      const chunks = cut(wire, random);
      const [expected, actual] = await Promise.all([run(SMTPStream, chunks), run(FastDataSmtpStream, chunks)]);
      expect(actual.data.toString('latin1'), `seed ${seed}`).toBe(expected.data.toString('latin1'));
      expect(actual.commands, `seed ${seed}`).toEqual(expected.commands);
    }
  });

  it('unstuffs dots and ends only at CRLF.CRLF, also in large chunks', async () => {
    const body = `${'A'.repeat(100_000)}\r\n..leading dot\r\n.\n.not an end\r\n${'B'.repeat(70_000)}\r\n`;
    const out = await run(FastDataSmtpStream, [Buffer.from(`DATA\r\n${body}.\r\nQUIT\r\n`)]);
    expect(out.data.toString()).toBe(body.replace('\r\n..leading', '\r\n.leading'));
    expect(out.commands).toEqual(['DATA', 'QUIT']);
  });
});
