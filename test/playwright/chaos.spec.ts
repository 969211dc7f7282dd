/**
 * The `chaos` fixture: a test's rules apply to its mailbox (or, with global, to all), and are
 * gone after it, while rules it did not add stay. The tests run in order in one worker.
 */
import nodemailer from 'nodemailer';
import { test, expect } from '../../src/playwright/index.js';

test.describe.configure({ mode: 'serial' });

async function send(kotak: { smtpHost: string; smtpPort: number }, from: string, to: string): Promise<'ok' | number> {
  const transport = nodemailer.createTransport({ host: kotak.smtpHost, port: kotak.smtpPort, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ from, to, subject: 'chaos', text: 'hello' });
    return 'ok';
  } catch (err) {
    return (err as { responseCode?: number }).responseCode ?? -1;
  } finally {
    transport.close();
  }
}

test('chaos: rules a test adds act on its mail', async ({ kotak, mailbox, chaos }) => {
  const scoped = await chaos.add('rcpt reply=550:5.1.1:"no such user"');
  expect(scoped.rule.match?.mailbox).toBe(mailbox.name);
  await chaos.add('mail from=*@global.test reply=451', { global: true });
  const removedByHand = await chaos.add({ stage: 'end', action: { type: 'reply', code: 554 } });
  expect(await removedByHand.remove()).toBe(true);
  expect((await chaos.list()).map((r) => r.id)).toEqual([scoped.id, expect.any(String)]);
  expect(await send(kotak, 'app@acme.test', mailbox.address)).toBe(550);
  expect(await send(kotak, 'app@global.test', 'someone@elsewhere.test')).toBe(451);
  expect((await chaos.list())[0]!.counters).toEqual({ matched: 1, fired: 1 });
  const refusals = await kotak.client.mailbox(mailbox.name).chaos.refusals();
  expect(refusals.refusals[0]).toMatchObject({ mailbox: mailbox.name, reply: '550 5.1.1 no such user' });
});

test('chaos: the next test finds none of them', async ({ kotak, mailbox, chaos }) => {
  expect(await chaos.list()).toEqual([]);
  // Only the rule the server started with is left.
  expect((await kotak.client.chaos.list()).map((r) => r.match?.to)).toEqual(['*@preexisting.test']);
  expect(await send(kotak, 'app@global.test', mailbox.address)).toBe('ok');
});
