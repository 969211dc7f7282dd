/**
 * What `--durability` changes, seen from outside with strace: with `full` every `250` follows
 * an fsync (the WAL's, and a large message's raw file and its directory), with `crash` (the
 * default) ingest makes none of its own: SQLite syncs only the WAL's header when a WAL restarts
 * after a checkpoint (once here: startup's checkpoint emptied it). That a `250` survives kill -9 in both modes is
 * durability.test.ts's. strace is a Debian package (.ci/run installs it).
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { runKotak, startKotakProcess } from '../helpers/child.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-durability-modes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Calls to fsync and fdatasync that strace has written to `file` so far. */
function syncCalls(file: string): number {
  return readFileSync(file, 'utf8').split('\n').filter((line) => /\b(fsync|fdatasync)\(/.test(line)).length;
}

async function syncsWhileIngesting(mode: string | null): Promise<{ syncs: number; messages: number }> {
  const trace = join(dir, `strace-${mode ?? 'default'}.txt`);
  const db = join(dir, `${mode ?? 'default'}.db`);
  // -f: the driver's threads do the syncing; -qq: no attach notes; one line per call.
  const kotak = await startKotakProcess(
    ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', db, ...(mode ? ['--durability', mode] : [])],
    {},
    ['strace', '-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', trace],
  );
  try {
    const before = syncCalls(trace);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: kotak.smtpPort, ignoreTLS: true });
    const messages = 10;
    for (let i = 0; i < messages; i++) {
      // One large enough to be kept as a raw file beside the database (256 KB and up).
      const attachments = i === 3 ? [{ filename: 'big.bin', content: Buffer.alloc(300_000, 7) }] : [];
      const info = await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: `mode ${i}`, text: 'hello', attachments });
      expect(info.response).toMatch(/^250 /);
    }
    transport.close();
    const stats = (await (await fetch(`${kotak.url}/api/stats`)).json()) as { total: number };
    expect(stats.total).toBe(messages);
    return { syncs: syncCalls(trace) - before, messages };
  } finally {
    // strace started Kotak, and a strace killed leaves its tracee running (detached): Kotak is
    // killed first, found among strace's children.
    const tracer = kotak.child.pid!;
    const children = readFileSync(`/proc/${tracer}/task/${tracer}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    for (const pid of children) process.kill(pid, 'SIGKILL');
    kotak.child.kill('SIGKILL');
    await once(kotak.child, 'exit');
  }
}

describe('--durability', () => {
  it('full: at least one fsync per acknowledged message, the raw file and its directory included', async () => {
    const { syncs, messages } = await syncsWhileIngesting('full');
    // One per commit (each message sent alone is a commit of its own), plus the raw file's two.
    expect(syncs).toBeGreaterThanOrEqual(messages + 2);
  });

  it('crash, the default: no fsync per message, only the restarted WAL header once', async () => {
    expect((await syncsWhileIngesting(null)).syncs).toBeLessThanOrEqual(1);
    expect((await syncsWhileIngesting('crash')).syncs).toBeLessThanOrEqual(1);
  });

  it('refuses a mode it does not know, naming the choices', async () => {
    const run = await runKotak(['--durability', 'fsync', '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:']);
    expect(run.code).toBe(2);
    expect(run.stderr + run.stdout).toMatch(/durability.*"fsync" is not one of crash, full/);
  });
});
