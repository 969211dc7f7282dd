/**
 * `kotak migrate-db` timed: a SQLite sandbox filled over SMTP by a real Kotak (N messages of
 * ~1.5 KB and five of 2 MB, which go to raw files), then copied into the test harness's PostgreSQL
 * (fsync off) twice: the first run copies, the second finds everything there.
 * `npx tsx bench/migrate-db.ts [N=3000]`
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { runKotak, startKotakProcess } from '../test/helpers/child.js';
import { startPostgres } from '../test/helpers/postgres.js';

const count = Number(process.argv[2] ?? 3000);
const server = await startPostgres();
const dir = await mkdtemp(join(tmpdir(), 'kotak-bench-migrate-db-'));
try {
  const db = join(dir, 'kotak.db');
  const kotak = await startKotakProcess(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', db]);
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: kotak.smtpPort, ignoreTLS: true, pool: true, maxConnections: 4, maxMessages: Infinity });
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    sends.push(transport.sendMail({ from: 'app@example.test', to: `user${i % 7}@example.test`, subject: `message ${i}`, text: `hello ${i} `.repeat(80), html: `<p>hello ${i}</p>` }));
  }
  for (let i = 0; i < 5; i++) {
    sends.push(transport.sendMail({ from: 'app@example.test', to: 'big@example.test', subject: `large ${i}`, text: 'attached', attachments: [{ filename: 'large.bin', content: Buffer.alloc(2 * 1024 * 1024, `z${i}`) }] }));
  }
  await Promise.all(sends);
  transport.close();
  kotak.child.kill('SIGTERM');
  await once(kotak.child, 'exit');
  const url = await server.createDatabase('migrated');
  for (const run of ['first run', 'second run']) {
    const { code, stdout, stderr } = await runKotak(['migrate-db', '--from', db, '--to', url]);
    if (code !== 0) throw new Error(`migrate-db exited with ${code}: ${stderr}`);
    process.stdout.write(`${run}: ${stdout}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
  await server.stop();
}
