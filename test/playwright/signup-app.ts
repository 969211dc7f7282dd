/**
 * A tiny sign-up site for the Playwright specs, and `test` extended with it: a form posts an
 * address, the site answers "check your inbox" and then mails a confirmation link to
 * /confirm?token=…, which works once. It sends to the worker's Kotak (the `kotak` fixture of
 * kotak/playwright), as an app under test would be configured to.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
// Users write 'kotak/playwright'; the specs use the source so that type checks need no build
// (test/client/playwright-fixture.test.ts checks that the package name resolves to the build).
import { test as base, type KotakWorkerFixture } from '../../src/playwright/index.js';

export { expect } from '../../src/playwright/index.js';

export interface SignupApp {
  readonly url: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startSignupApp(kotak: KotakWorkerFixture): Promise<SignupApp & { close(): Promise<void> }> {
  const mailer = nodemailer.createTransport({ host: kotak.smtpHost, port: kotak.smtpPort, secure: false, ignoreTLS: true });
  const pending = new Map<string, string>();
  let url = '';

  async function signUp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const email = (await readForm(req)).get('email') ?? '';
    const token = randomBytes(12).toString('hex');
    pending.set(token, email);
    res.writeHead(200, { 'content-type': 'text/html' }).end(page('Check your inbox', `<h1>Check your inbox</h1><p>We sent a link to ${escapeHtml(email)}.</p>`));
    // Sent after the answer, as apps that mail from a job queue do: the test has to wait for it.
    const link = `${url}/confirm?token=${token}`;
    await mailer.sendMail({
      from: 'Acme <no-reply@acme.test>',
      to: email,
      subject: 'Confirm your account',
      text: `Welcome to Acme!\n\nConfirm your email address: ${link}\n`,
      html: `<p>Welcome to Acme!</p><p><a href="${link}">Confirm your email address</a></p>`,
    });
  }

  function confirm(token: string, res: http.ServerResponse): void {
    const email = pending.get(token);
    if (email === undefined) {
      res.writeHead(400, { 'content-type': 'text/html' }).end(page('Invalid link', '<h1>This link is invalid or was already used</h1>'));
      return;
    }
    pending.delete(token);
    res.writeHead(200, { 'content-type': 'text/html' }).end(page('Confirmed', `<h1>Email confirmed</h1><p>${escapeHtml(email)} is confirmed.</p>`));
  }

  const server = http.createServer((req, res) => {
    const { pathname, searchParams } = new URL(req.url ?? '/', url);
    if (req.method === 'POST' && pathname === '/signup') {
      signUp(req, res).catch((err: unknown) => console.error('signup app: sending the confirmation failed', err));
    } else if (pathname === '/confirm') {
      confirm(searchParams.get('token') ?? '', res);
    } else {
      const form = '<form method="post" action="/signup"><label>Email <input name="email" type="email" required></label> <button>Sign up</button></form>';
      res.writeHead(200, { 'content-type': 'text/html' }).end(page('Sign up', `<h1>Create your account</h1>${form}`));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () => new Promise((resolve) => {
      mailer.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export const test = base.extend<object, { signupApp: SignupApp }>({
  signupApp: [
    async ({ kotak }, use) => {
      const app = await startSignupApp(kotak);
      await use({ url: app.url });
      await app.close();
    },
    { scope: 'worker' },
  ],
});
