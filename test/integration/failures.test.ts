/** What happens when parts of the pipeline fail: the client is told, and nothing is lost or half-kept. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createSmtpServer } from '../../src/smtp/server.js';
import { getJson, transport, withKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

describe('failure handling', () => {
  it('answers 451 4.3.0 when the message cannot be stored', async () => {
    const smtp = createSmtpServer(
      { host: '127.0.0.1', port: 0, hostname: 'test', maxMessageSize: 1024 * 1024, maxRecipients: 10, requireTls: false },
      { deliver: () => Promise.reject(new Error('disk full')), auth: { mode: 'off' }, credentials: null, tls: null, log: pino({ level: 'silent' }) },
    );
    const port = await smtp.listen();
    try {
      const reply = await sendRaw(port, Buffer.from('Subject: x\r\n\r\ny\r\n'));
      expect(reply.text).toMatch(/^451 4\.3\.0 /);
    } finally {
      await smtp.close();
    }
  });

  it('pauses reading past the intake memory budget and still delivers every message', async () => {
    const delivered: number[] = [];
    let storing = 0;
    let mostStoringAtOnce = 0;
    const smtp = createSmtpServer(
      { host: '127.0.0.1', port: 0, hostname: 'test', maxMessageSize: 1024 * 1024, maxRecipients: 10, requireTls: false, intakeBudgetBytes: 100_000 },
      {
        // Slow storage: messages pile up in memory until the budget makes intake wait.
        deliver: async (raw) => {
          mostStoringAtOnce = Math.max(mostStoringAtOnce, ++storing);
          await new Promise((resolve) => setTimeout(resolve, 20));
          storing -= 1;
          delivered.push(Buffer.isBuffer(raw) ? raw.length : raw.size);
          return [`id${delivered.length}`];
        },
        auth: { mode: 'off' }, credentials: null, tls: null, log: pino({ level: 'silent' }),
      },
    );
    const port = await smtp.listen();
    try {
      const body = Buffer.from(`Subject: big\r\n\r\n${'y'.repeat(78)}\r\n`.repeat(1000));
      const replies = await Promise.all(Array.from({ length: 8 }, () => sendRaw(port, body)));
      expect(replies.map((r) => r.code)).toEqual(Array(8).fill(250));
      expect(delivered).toEqual(Array(8).fill(body.length));
      // 82 KB messages against a 100 KB budget: a second message cannot be complete in memory
      // while another waits for storage, so the eight never pile up.
      expect(mostStoringAtOnce).toBeLessThanOrEqual(2);
    } finally {
      await smtp.close();
    }
  });

  it('keeps a message whose parsing overruns the time limit, raw and flagged', async () => {
    const kotak = await withKotak({ parseTimeout: '1ms' });
    try {
      const raw = Buffer.from(`Subject: slow\r\nContent-Type: text/html\r\n\r\n${'<div>'.repeat(20000)}text\r\n`);
      const reply = await sendRaw(kotak.smtpPort, raw);
      expect(reply.code).toBe(250);
      const id = queuedId(reply);
      const { body } = await getJson(kotak, `/api/messages/${id}`);
      expect(body.parseError).toMatch(/longer than 1 ms/);
      expect(body.from).toEqual({ name: '', address: 'sender@example.com' });
      const stored = Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer());
      expect(stored.equals(raw)).toBe(true);
      // The pool replaced the stopped worker: later messages still go through.
      const info = await transport(kotak).sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'after', text: 'x' });
      expect(info.response).toMatch(/^250 /);
    } finally {
      await kotak.stop();
    }
  });
});
