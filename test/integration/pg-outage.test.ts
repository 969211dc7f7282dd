/**
 * PostgreSQL going away under load (issue 20): while it is down, SMTP answers 451 4.3.0 (never
 * 250) and /readyz fails; when it is back, Kotak recovers by itself; every message that got a 250
 * is in the database. A real `kotak` process and a real server that the harness stops and starts.
 */
import { once } from 'node:events';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKotakProcess, type KotakProcess } from '../helpers/child.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { queuedId } from '../helpers/smtp-client.js';

let server: RunningPostgres;
let kotak: KotakProcess | null = null;

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  if (kotak && kotak.child.exitCode === null) {
    kotak.child.kill('SIGTERM');
    await once(kotak.child, 'exit');
  }
  await server?.stop();
});

describe('PostgreSQL stopped and started under load', () => {
  it('answers 451 while it is down, fails /readyz, recovers by itself, and loses no acknowledged message', async () => {
    const url = await server.createDatabase('outage');
    kotak = await startKotakProcess(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', url, '--log-level', 'info']);
    const node = kotak;
    const acknowledged: string[] = [];
    const refusals: number[] = [];
    let sending = true;
    let n = 0;
    // Four senders, each one message after another, on fresh connections (a dropped one is retried).
    const sender = async () => {
      const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: node.smtpPort, ignoreTLS: true });
      while (sending) {
        const i = n++;
        try {
          const info = await mailer.sendMail({ from: 'app@outage.test', to: `user${i}@outage.test`, subject: `outage ${i}`, text: `message ${i}` });
          acknowledged.push(queuedId(info.response));
        } catch (err) {
          refusals.push((err as { responseCode?: number }).responseCode ?? 0);
        }
      }
    };
    const senders = [sender(), sender(), sender(), sender()];

    const readyz = async () => (await fetch(`${node.url}/readyz`)).status;
    await expect.poll(() => acknowledged.length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(20);

    await server.pause();
    // Down: refused with 451, never acknowledged; not ready.
    await expect.poll(() => refusals.filter((code) => code === 451).length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(3);
    expect(await readyz()).toBe(503);
    const acknowledgedWhileDown = acknowledged.length;

    await server.resume();
    await expect.poll(readyz, { timeout: 30_000, interval: 50 }).toBe(200);
    await expect.poll(() => acknowledged.length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(acknowledgedWhileDown + 20);
    sending = false;
    await Promise.all(senders);

    // Kotak lived through it (a broken connection it held once ended the process).
    expect(node.child.exitCode).toBeNull();
    // Every refusal was a temporary one, and every acknowledged message is in the database.
    expect(refusals.every((code) => code === 451)).toBe(true);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ id: string }>('SELECT id FROM messages WHERE id = ANY($1)', [acknowledged]);
    await client.end();
    expect(rows.length).toBe(acknowledged.length);
    // And Kotak's own API shows them.
    const stats = (await (await fetch(`${node.url}/api/stats`)).json()) as { total: number };
    expect(stats.total).toBe(acknowledged.length);
  }, 120_000);
});
