/** The example from the README: sign up, wait for the confirmation mail, follow its link. */
import { test, expect } from './signup-app.js';

test('sign-up form → confirmation mail → confirmed page', async ({ page, mailbox, signupApp }) => {
  const alice = mailbox.addressFor('alice');
  await page.goto(signupApp.url);
  await page.getByLabel('Email').fill(alice);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading')).toHaveText('Check your inbox');

  const message = await mailbox.waitFor({ subject: 'Confirm your account' });
  expect(message.from).toEqual({ name: 'Acme', address: 'no-reply@acme.test' });
  expect(message.links[0]).toMatchObject({ text: 'Confirm your email address' });
  await page.goto(message.links[0]!.url);
  await expect(page.getByRole('heading')).toHaveText('Email confirmed');
  await expect(page.getByText(`${alice} is confirmed.`)).toBeVisible();
  expect(message.to).toEqual([{ name: '', address: alice }]);
});

test('the confirmation link works once', async ({ page, mailbox, signupApp }) => {
  await page.goto(signupApp.url);
  await page.getByLabel('Email').fill(mailbox.address);
  await page.getByRole('button', { name: 'Sign up' }).click();

  const message = await mailbox.waitFor({ subject: /^Confirm your account$/, text: /confirm\?token=[0-9a-f]{24}/ });
  const link = message.links[0]!.url;
  await page.goto(link);
  await expect(page.getByRole('heading')).toHaveText('Email confirmed');
  const again = await page.goto(link);
  expect(again?.status()).toBe(400);
  await expect(page.getByRole('heading')).toHaveText('This link is invalid or was already used');
  expect(await mailbox.messages()).toHaveLength(1);
});
