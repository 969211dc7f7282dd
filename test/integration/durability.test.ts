/**
 * "250 means committed": kotak runs as a child process, takes mail from several connections at
 * once, and is killed with SIGKILL right after the last 250. Restarted on the same database, it
 * must have every acknowledged message, intact: messages of 256 KB and more among them, whose raw
 * bytes live in files beside the database (store/raw-files.ts). In both `--durability` modes: the
 * default `crash` syncs nothing before the 250, and must lose nothing when only the process dies.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { startKotakProcess } from '../helpers/child.js';
import { queuedId } from '../helpers/smtp-client.js';

describe.each(['crash', 'full'])('durability %s', (mode) => {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-durability-'));
  const db = join(dir, 'kotak.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged message across kill -9', async () => {
    const args = ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', db, '--log-level', 'info', '--durability', mode];
    const first = await startKotakProcess(args);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: first.smtpPort, pool: true, maxConnections: 8, maxMessages: Infinity, ignoreTLS: true });
    const acknowledged: { id: string; subject: string; large: boolean }[] = [];
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const subject = `durable ${i}`;
        const large = i % 50 === 5;
        const attachment = large ? Buffer.alloc(300_000, i) : i % 10 ? null : Buffer.alloc(20_000, i);
        const info = await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject, text: `body ${i}`, attachments: attachment ? [{ filename: 'f.bin', content: attachment }] : [] });
        acknowledged.push({ id: queuedId(info.response), subject, large });
      }),
    );
    // Killed the moment the last 250 is in: nothing gets the chance to flush or close.
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    transport.close();

    const second = await startKotakProcess(args);
    try {
      const stats = (await (await fetch(`${second.url}/api/stats`)).json()) as { total: number };
      expect(stats.total).toBe(acknowledged.length);
      for (const { id, subject, large } of acknowledged) {
        const res = await fetch(`${second.url}/api/messages/${id}`);
        expect(res.status, id).toBe(200);
        const detail = (await res.json()) as { subject: string; size: number };
        expect(detail.subject).toBe(subject);
        if (large) {
          const raw = Buffer.from(await (await fetch(`${second.url}/api/messages/${id}/raw`)).arrayBuffer());
          expect(raw.length, id).toBe(detail.size);
          expect(raw.length).toBeGreaterThan(256 * 1024);
          expect(raw.includes(`Subject: ${subject}`)).toBe(true);
        }
      }
      const search = (await (await fetch(`${second.url}/api/messages?query=durable&limit=1`)).json()) as { total: number };
      expect(search.total).toBe(acknowledged.length);
    } finally {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }
  });
});
