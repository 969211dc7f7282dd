/**
 * Zero-configuration isolation: 40 tests spread over 4 workers (mailboxes.config.ts), each sending
 * one mail to an address of its own at its worker's mailbox and expecting exactly that one there.
 * Run with --repeat-each by test/client/playwright-mailboxes.test.ts, against one shared Kotak
 * (KOTAK_URL), where every worker's mail is on the same server, and against a Kotak per worker.
 * Two more tests use per-test isolation. No page: no browser is started.
 */
import nodemailer from 'nodemailer';
import { test, expect, MAILBOX_DOMAIN } from '../../src/playwright/index.js';

test.describe.configure({ mode: 'parallel' });

const TESTS_PER_RUN = 40;

for (let i = 0; i < TESTS_PER_RUN; i++) {
  test(`worker mailbox: test ${i} gets exactly its own mail`, async ({ kotak, mailbox }, testInfo) => {
    expect(mailbox.name).toBe(`w${testInfo.workerIndex}`);
    const to = mailbox.addressFor(`user-${i}-r${testInfo.repeatEachIndex}`);
    expect(to).toBe(`user-${i}-r${testInfo.repeatEachIndex}@w${testInfo.workerIndex}.${MAILBOX_DOMAIN}`);
    const transport = nodemailer.createTransport({ host: kotak.smtpHost, port: kotak.smtpPort, secure: false, ignoreTLS: true });
    try {
      await transport.sendMail({ from: 'app@acme.test', to, subject: `test ${i}`, text: 'hello' });
    } finally {
      transport.close();
    }
    const received = await mailbox.waitFor({ subject: `test ${i}` });
    expect(received.to.map((a) => a.address)).toEqual([to]);
    // Exactly one: nothing from the worker's earlier tests (cleared) nor from other workers (other mailboxes).
    expect((await mailbox.messages()).map((m) => m.id)).toEqual([received.id]);
  });
}

test.describe('per-test isolation', () => {
  test.use({ kotakIsolation: 'test' });

  for (const who of ['alice', 'bob']) {
    test(`test mailbox: ${who} gets exactly their own mail`, async ({ kotak, mailbox }, testInfo) => {
      expect(mailbox.name).toBe(`t-${testInfo.testId}`);
      const transport = nodemailer.createTransport({ host: kotak.smtpHost, port: kotak.smtpPort, secure: false, ignoreTLS: true });
      try {
        await transport.sendMail({ from: 'app@acme.test', to: mailbox.addressFor(who), subject: who, text: 'hello' });
      } finally {
        transport.close();
      }
      const received = await mailbox.waitFor();
      expect(received.subject).toBe(who);
      expect((await mailbox.messages()).map((m) => m.id)).toEqual([received.id]);
    });
  }
});
