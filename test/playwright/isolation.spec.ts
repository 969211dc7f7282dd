/**
 * Two tests, run at the same time in two workers, each signing up with its own mailbox. They meet
 * (./rendezvous.ts) once both mails are stored and again once both have looked, so each looks
 * while the other's mail exists. Each mailbox sees only its own mail; with a Kotak per worker the
 * other's is not even on this worker's server, and with a shared one (KOTAK_URL) it is, but
 * outside this mailbox. The vitest runner (test/client/playwright-fixture.test.ts) checks that
 * the two ran in different workers.
 */
import { test, expect } from './signup-app.js';
import { meet } from './rendezvous.js';

test.describe.configure({ mode: 'parallel' });

for (const name of ['left', 'right']) {
  test(`isolation: ${name} mailbox sees only its own mail`, async ({ page, mailbox, kotak, signupApp }) => {
    await page.goto(signupApp.url);
    await page.getByLabel('Email').fill(mailbox.address);
    await page.getByRole('button', { name: 'Sign up' }).click();
    const mine = await mailbox.waitFor({ subject: 'Confirm your account' });

    const [other] = await meet('both mails stored', mailbox.address, 2);
    expect(other).toMatch(/^t-[0-9a-f]+@w\d+\.kotak\.test$/);
    expect((await mailbox.messages()).map((m) => m.id)).toEqual([mine.id]);
    const othersOnThisServer = await kotak.client.list({ query: `to:"${other}"` });
    expect(othersOnThisServer.total).toBe(kotak.embedded ? 0 : 1);
    if (kotak.embedded) {
      const everything = await kotak.client.list();
      expect(everything.messages.flatMap((m) => m.to.map((a) => a.address))).toEqual([mailbox.address]);
    }
    await meet('both looked', mailbox.address, 2);
  });
}
