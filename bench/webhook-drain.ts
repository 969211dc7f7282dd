/**
 * How fast the webhook outbox drains to an endpoint that answers at once (issue 22): deliveries go
 * one at a time per endpoint, in order, each claimed and recorded in the database, so this is the
 * rate one endpoint can hear of mail at.
 *
 *   npx tsx bench/webhook-drain.ts                      # 2000 messages of ~1 KB, 10 SMTP connections
 *   npx tsx bench/webhook-drain.ts --messages 5000
 *
 * Kotak runs in this process (startKotak, a SQLite file in os.tmpdir()); nodemailer sends the
 * messages; an HTTP server in this process answers every POST 200. Prints the intake time, how many
 * webhooks arrived while mail was still coming in, and the rate of the rest once it stopped. It
 * measures and prints; it asserts nothing about time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { startKotak } from '../src/index.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '2000' }, conns: { type: 'string', default: '10' } } });
const messages = Number(values.messages);
const conns = Number(values.conns);

let received = 0;
const endpoint = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.end('ok');
  });
});
await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-webhook-drain-'));
const kotak = await startKotak({ db: path.join(dir, 'kotak.db'), webhook: [`http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hook`] });
const transport = nodemailer.createTransport({ host: '127.0.0.1', port: kotak.smtpPort, pool: true, maxConnections: conns });
try {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: messages }, (_, i) => transport.sendMail({ from: 'app@example.test', to: `user${i}@example.test`, subject: `Message ${i}`, text: 'hello '.repeat(150) })),
  );
  const intakeEnded = performance.now();
  const duringIntake = received;
  while (received < messages) await new Promise((resolve) => setTimeout(resolve, 10));
  const drained = performance.now();
  const seconds = (ms: number) => (ms / 1000).toFixed(2);
  console.log(`${messages} messages over ${conns} connections: intake ${seconds(intakeEnded - started)} s (${Math.round(messages / ((intakeEnded - started) / 1000))} msg/s)`);
  console.log(`webhooks delivered while mail came in: ${duringIntake} (${Math.round(duringIntake / ((intakeEnded - started) / 1000))}/s)`);
  console.log(`the other ${messages - duringIntake} after it: ${seconds(drained - intakeEnded)} s (${Math.round((messages - duringIntake) / ((drained - intakeEnded) / 1000))}/s)`);
} finally {
  transport.close();
  await kotak.stop();
  endpoint.close();
  rmSync(dir, { recursive: true, force: true });
}
