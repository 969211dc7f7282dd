/**
 * Peak memory of Kotak receiving one large message whose body is a single line (no line break
 * from the blank line after the headers to the end of DATA), the shape issue 15 measured at
 * ~1 GB RSS for 49 MB.
 *
 *   npm run build && npx tsx bench/single-line.ts                  # 49 MB, text/plain
 *   npx tsx bench/single-line.ts --mb 20 --type text/html
 *   npx tsx bench/single-line.ts --type attachment --mb 49         # a base64 attachment of 49 MB (encoded)
 *   BENCH_NODE_ARGS="--trace-gc" npx tsx bench/single-line.ts      # flags for the server's node
 *   BENCH_KOTAK_BIN=/tmp/old/bin/kotak.js npx tsx bench/single-line.ts   # another build, to compare
 *
 * It starts the built server (`node bin/kotak.js`, so build first) on ephemeral ports with a fresh
 * database in os.tmpdir(), sends the message over a raw socket (so the client's own memory is not
 * in the figure), waits for the 250 and for the message to be readable through the API, then
 * reads the child's peak RSS (VmHWM in /proc/<pid>/status) and stops it. It prints; it asserts
 * nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KOTAK_BIN = process.env.BENCH_KOTAK_BIN ?? path.join(ROOT, 'bin', 'kotak.js');
const MB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '49' },
    /** text/plain, text/html, or `attachment`: a short text and an application/octet-stream part, base64 in 76-character lines. */
    type: { type: 'string', default: 'text/plain' },
    timeline: { type: 'boolean', default: false },
    /** For comparison: break the body into lines of this many bytes (CRLF included); 0 = one line. */
    'line-length': { type: 'string', default: '0' },
  },
});
const bodyBytes = Math.round(Number(values.mb) * MB);
const contentType = values.type!;

/** Printable ASCII that never forms a dot at a line start (there are no line starts) nor a URL. */
function singleLineBody(size: number): Buffer {
  const body = Buffer.allocUnsafe(size);
  const pattern = Buffer.from(contentType === 'text/html' ? '<b>lorem</b> ipsum dolor sit amet ' : 'lorem ipsum dolor sit amet 0123456789 ');
  for (let at = 0; at < size; at += pattern.length) pattern.copy(body, at, 0, Math.min(pattern.length, size - at));
  const lineLength = Number(values['line-length']);
  if (lineLength > 2) for (let end = lineLength; end <= size; end += lineLength) body.write('\r\n', end - 2, 'latin1');
  return body;
}

const ATTACHMENT_BOUNDARY = 'bench-boundary-7d1c';

/** A multipart/mixed body whose attachment part, base64 in 76-character lines, is `size` bytes encoded. */
function attachmentBody(size: number): Buffer {
  const head = Buffer.from(`--${ATTACHMENT_BOUNDARY}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the attachment.\r\n--${ATTACHMENT_BOUNDARY}\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`);
  const tail = Buffer.from(`--${ATTACHMENT_BOUNDARY}--\r\n`);
  const line = Buffer.from(`${Buffer.alloc(57, 0xa5).toString('base64')}\r\n`);
  const lines = Math.max(1, Math.floor((size - head.length - tail.length) / line.length));
  const body = Buffer.allocUnsafe(head.length + lines * line.length + tail.length);
  head.copy(body, 0);
  for (let i = 0; i < lines; i++) line.copy(body, head.length + i * line.length);
  tail.copy(body, head.length + lines * line.length);
  return body;
}

function peakRssMb(pid: number): number {
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function currentRssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Sends one message on a fresh connection; resolves with the final reply line. */
function sendOne(port: number, header: Buffer, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffered = '';
    let step = 0;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (/^\d{3}-/.test(line)) continue; // EHLO continuation lines
        step += 1;
        if (step === 1) socket.write('EHLO bench.test\r\nMAIL FROM:<bench@bench.test>\r\nRCPT TO:<big@bench.test>\r\nDATA\r\n');
        else if (line.startsWith('354')) {
          socket.write(header);
          socket.write(body);
          socket.write('\r\n.\r\n');
        } else if (step >= 5) {
          socket.end('QUIT\r\n');
          resolve(line);
        } else if (!/^2/.test(line)) reject(new Error(`unexpected reply: ${line}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-single-line-'));
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [KOTAK_BIN, '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', path.join(dir, 'bench.db'), '--log-level', values.timeline ? 'debug' : 'info'];
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KOTAK_')));
  let lastLog = '';
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  try {
    const ports = await new Promise<{ smtpPort: number; httpPort: number }>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`Kotak exited (code ${code}) before listening`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.startsWith('{')) return void process.stderr.write(`${line}\n`); // --trace-gc and the like
        const entry = JSON.parse(line) as { msg?: string; smtpPort?: number; httpPort?: number };
        if (entry.msg) lastLog = entry.msg;
        if (entry.msg === 'kotak listening') resolve({ smtpPort: entry.smtpPort!, httpPort: entry.httpPort! });
      });
    });
    const idleMb = currentRssMb(child.pid!);
    const attachment = contentType === 'attachment';
    const bodyType = attachment ? `multipart/mixed; boundary="${ATTACHMENT_BOUNDARY}"` : `${contentType}; charset=utf-8`;
    const header = Buffer.from(`From: bench@bench.test\r\nTo: big@bench.test\r\nSubject: one line\r\nMIME-Version: 1.0\r\nContent-Type: ${bodyType}\r\n\r\n`);
    const body = attachment ? attachmentBody(bodyBytes) : singleLineBody(bodyBytes);
    const started = performance.now();
    // --timeline: the server's resident set every 25 ms, with its latest log message, to see which phase holds the memory.
    const samples: string[] = [];
    const sampler = values.timeline
      ? setInterval(() => samples.push(`${((performance.now() - started) / 1000).toFixed(1)}s ${Math.round(currentRssMb(child.pid!))} MB ${lastLog}`), 100)
      : undefined;
    const reply = await sendOne(ports.smtpPort, header, body);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (samples.length > 0) process.stderr.write(`${samples.join('\n')}\n`);
    const id = /queued as (\S+)/.exec(reply)?.[1];
    if (!id) throw new Error(`not accepted: ${reply}`);
    const peakAtAcceptMb = peakRssMb(child.pid!);
    const view = await fetch(`http://127.0.0.1:${ports.httpPort}/api/messages/${id}`);
    const message = (await view.json()) as { size?: number; parseError?: string | null };
    console.log(
      JSON.stringify({
        bodyMb: Number(values.mb),
        contentType,
        reply,
        seconds: Number(seconds.toFixed(2)),
        storedSize: message.size,
        parseError: message.parseError ?? null,
        idleRssMb: Math.round(idleMb),
        // Receiving, parsing and committing, up to the 250.
        peakRssAtAcceptMb: Math.round(peakAtAcceptMb),
        // …and then reading the message back once (GET /api/messages/:id: text, links, codes).
        peakRssAfterReadMb: Math.round(peakRssMb(child.pid!)),
      }),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
