/**
 * kotak/client against a real Kotak over HTTP, with mail sent over SMTP by nodemailer: reading,
 * deleting, and waits that resolve from stored and from arriving messages, with string and
 * RegExp criteria, counts, since, timeouts that say what arrived, and links and codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { KotakApiError, KotakClient, KotakError, KotakTimeoutError, type Message } from '../../src/client/index.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

let kotak: RunningKotak;
let client: KotakClient;
let smtp: ReturnType<typeof transport>;

beforeAll(async () => {
  kotak = await withKotak();
  client = new KotakClient(kotak.url);
  smtp = transport(kotak, { pool: true });
});

afterAll(async () => {
  smtp?.close();
  await kotak?.stop();
});

/** Sends one message and returns the id from the `250 … queued as <id>` reply. */
async function send(options: Mail.Options): Promise<string> {
  const info: SMTPTransport.SentMessageInfo = await smtp.sendMail({ from: 'App <app@example.com>', text: 'hello', ...options });
  return queuedId(info.response);
}

/** The receivedAt of a stored message, plus one ms: a `since` that excludes it and everything before. */
async function justAfter(id: string): Promise<number> {
  return Date.parse((await client.get(id)).receivedAt) + 1;
}

describe('reading and deleting', () => {
  it('lists newest first, searches, and pages with a cursor', async () => {
    const first = await send({ to: 'list@client.test', subject: 'List one' });
    const second = await send({ to: 'list@client.test', subject: 'List two' });
    const page = await client.list({ query: 'to:list@client.test', limit: 1 });
    expect(page.total).toBe(2);
    expect(page.messages.map((m) => m.id)).toEqual([second]);
    const older = await client.list({ query: 'to:list@client.test', limit: 1, cursor: page.nextCursor! });
    expect(older.messages.map((m) => m.id)).toEqual([first]);
    expect(older.nextCursor).toBeNull();
    const found = await client.search('subject:"list one"');
    expect(found.messages.map((m) => m.id)).toEqual([first]);
    expect(found.messages[0]).toMatchObject({ subject: 'List one', from: { name: 'App', address: 'app@example.com' }, read: false });
  });

  it('gets a parsed message with headers, attachments, raw bytes and attachment bytes', async () => {
    const pdf = Buffer.from('%PDF-1.4 not really a pdf\n');
    const logo = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const id = await send({
      to: 'Reader <get@client.test>',
      subject: 'Your invoice',
      text: 'Invoice attached.',
      html: '<p>Invoice attached. <img src="cid:logo@client.test"></p>',
      headers: { 'X-Campaign': 'spring' },
      attachments: [
        { filename: 'invoice.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: 'logo.png', content: logo, contentType: 'image/png', cid: 'logo@client.test' },
      ],
    });
    const message = await client.get(id);
    expect(message).toMatchObject({ id, subject: 'Your invoice', to: [{ name: 'Reader', address: 'get@client.test' }], hasAttachments: true });
    expect(message.text?.trim()).toBe('Invoice attached.');
    expect(message.html).toContain('cid:logo@client.test');
    expect(message.header('x-campaign')).toBe('spring');
    expect(message.header('SUBJECT')).toBe('Your invoice');
    expect(message.header('X-Missing')).toBeUndefined();
    expect(message.envelope.rcptTo).toEqual(['get@client.test']);
    expect(message.attachments.map((a) => a.filename).sort()).toEqual(['invoice.pdf', 'logo.png']);

    const raw = await client.raw(id);
    expect(raw).toBeInstanceOf(Uint8Array);
    expect(raw.length).toBe(message.size);
    const rawText = await message.raw({ as: 'text' });
    expect(rawText).toBe(new TextDecoder().decode(raw));
    expect(rawText).toContain('X-Campaign: spring');

    expect(Buffer.from(await client.attachment(id, 'invoice.pdf'))).toEqual(pdf);
    const pngPart = message.attachments.find((a) => a.filename === 'logo.png')!.id;
    expect(Buffer.from(await client.attachment(id, pngPart))).toEqual(logo);
    expect(Buffer.from(await message.attachment('<logo@client.test>'))).toEqual(logo);
    await expect(message.attachment('missing.txt')).rejects.toThrow(/has no attachment "missing.txt"; it has: logo.png \(part [\d.]+\), invoice.pdf \(part \d\)\.$/);
  });

  it('deletes one message, then clears by query and clears everything', async () => {
    const gone = await send({ to: 'delete@client.test', subject: 'Delete me' });
    const kept = await send({ to: 'delete@client.test', subject: 'Keep me' });
    await client.delete(gone);
    const error = await client.get(gone).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KotakApiError);
    expect(error).toMatchObject({ status: 404, code: 'not_found', method: 'GET' });
    expect((error as Error).message).toMatch(/^GET \/api\/messages\/\S+ → 404 not_found: no message /);
    await expect(client.delete(gone)).rejects.toMatchObject({ status: 404 });

    expect(await client.clear('to:delete@client.test')).toBe(1);
    await expect(client.clear(' ')).rejects.toThrow(/the query is empty/);
    await expect(client.get(kept)).rejects.toBeInstanceOf(KotakApiError);

    const other = await withKotak();
    try {
      const otherClient = new KotakClient(other.url);
      await transport(other).sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'x', text: 'x' });
      expect(await otherClient.clear()).toBe(1);
      expect((await otherClient.list()).total).toBe(0);
    } finally {
      await other.stop();
    }
  });

  it('reports the server’s reason for a bad request, and an unreachable server as such', async () => {
    const error = await client.search('frm:alice').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KotakApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_query' });
    expect((error as KotakApiError).reason).toMatch(/unknown operator "frm:"/);

    const nowhere = new KotakClient('http://127.0.0.1:1');
    const unreachable = await nowhere.list().catch((err: unknown) => err);
    expect(unreachable).toBeInstanceOf(KotakError);
    expect((unreachable as Error).message).toMatch(/^Could not reach Kotak at http:\/\/127\.0\.0\.1:1\/ \(GET \/api\/messages\): .+ Is it running\?$/);
  });

  it('accepts a base URL with or without a trailing slash, including a base path', async () => {
    expect(new KotakClient(`${kotak.url}/`).url).toBe(`${kotak.url}/`);
    expect(new KotakClient(kotak.url).url).toBe(`${kotak.url}/`);
    const proxied = await withKotak({ httpBasePath: '/mail/' });
    try {
      const id = queuedId((await transport(proxied).sendMail({ from: 'a@example.com', to: 'base@client.test', subject: 'Under /mail/', text: 'x' })).response);
      // RunningKotak.url includes the base path.
      const withoutSlash = proxied.url.replace(/\/$/, '');
      expect(withoutSlash).toMatch(/\/mail$/);
      for (const base of [withoutSlash, `${withoutSlash}/`]) {
        const viaBase = new KotakClient(base);
        expect((await viaBase.waitFor({ to: 'base@client.test', timeout: 5000 })).id).toBe(id);
        expect((await viaBase.raw(id)).length).toBeGreaterThan(0);
      }
    } finally {
      await proxied.stop();
    }
  });
});

describe('waitFor', () => {
  it('resolves at once from a message already stored', async () => {
    const id = await send({ to: 'stored@client.test', subject: 'Already here' });
    const message = await client.waitFor({ to: 'stored@client.test', timeout: 5000 });
    expect(message.id).toBe(id);
    expect(message.subject).toBe('Already here');
    expect(message.text?.trim()).toBe('hello');
  });

  it('resolves when a matching message arrives after the wait started', async () => {
    const pending = client.waitFor({ to: 'future@client.test', subject: 'welcome', from: 'app@example', timeout: 10_000 });
    await Promise.resolve();
    await send({ to: 'future@client.test', subject: 'Not this one' });
    await send({ to: 'someone-else@client.test', subject: 'Welcome aboard' });
    const id = await send({ to: 'future@client.test', subject: 'Welcome aboard' });
    expect((await pending).id).toBe(id);
  });

  it('waits for count messages with waitForMany and returns the oldest count, oldest first', async () => {
    const first = await send({ to: 'count@client.test', subject: 'One' });
    const pending = client.waitForMany({ to: 'count@client.test', count: 3, timeout: 10_000 });
    await Promise.resolve();
    const second = await send({ to: 'count@client.test', subject: 'Two' });
    const third = await send({ to: 'count@client.test', subject: 'Three' });
    const messages = await pending;
    expect(messages.map((m) => m.id)).toEqual([first, second, third]);
    expect(messages.map((m) => m.subject)).toEqual(['One', 'Two', 'Three']);

    await send({ to: 'count@client.test', subject: 'Four' });
    const two = await client.waitForMany({ to: 'count@client.test', count: 2, timeout: 5000 });
    expect(two.map((m) => m.id)).toEqual([first, second]);
  });

  it('tests RegExp criteria in the client, skipping non-matching messages that arrive first', async () => {
    const pending = client.waitFor({ to: 'regex@client.test', subject: /^Order #\d+ shipped$/, timeout: 10_000 });
    await Promise.resolve();
    await send({ to: 'regex@client.test', subject: 'Order #12 packed' });
    await send({ to: 'regex@client.test', subject: 'Order #12 shipped (again?)' });
    await send({ to: 'other@client.test', subject: 'Order #99 shipped' });
    const id = await send({ to: 'regex@client.test', subject: 'Order #12 shipped' });
    expect((await pending).id).toBe(id);
  });

  it('waits on RegExp criteria alone, and on the body text, counting each message once', async () => {
    const tag = `r${Date.now().toString(36)}`;
    const pending = client.waitForMany({ to: new RegExp(`^${tag}-\\d+@client\\.test$`), text: /code: \d{6}\b/g, count: 2, timeout: 10_000 });
    await Promise.resolve();
    await send({ to: `${tag}-1@client.test`, subject: 'No code', text: 'nothing to see' });
    const a = await send({ to: `${tag}-2@client.test`, subject: 'Code', text: 'Your code: 123456.' });
    await send({ to: `${tag}-x@client.test`, subject: 'Wrong address', text: 'Your code: 654321.' });
    const b = await send({ to: `${tag}-3@client.test`, subject: 'Code in HTML', html: '<p>Your code: <b>999999</b></p><p>code: 111111</p>' });
    expect((await pending).map((m) => m.id)).toEqual([a, b]);
  });

  it('checks a string the search syntax cannot quote in the client', async () => {
    await send({ to: 'quote@client.test', subject: 'Say hi' });
    const id = await send({ to: 'quote@client.test', subject: 'Say "hi"' });
    expect((await client.waitFor({ to: 'quote@client.test', subject: 'say "HI"', timeout: 5000 })).id).toBe(id);
  });

  it('matches text as words anywhere in the message', async () => {
    const id = await send({ to: 'words@client.test', subject: 'Reset', html: '<p>Click <a href="https://app.test/reset">reset your password</a> now.</p>' });
    expect((await client.waitFor({ to: 'words@client.test', text: 'Reset Your Password', timeout: 5000 })).id).toBe(id);
  });

  it('counts only messages received at or after since', async () => {
    const before = await send({ to: 'since@client.test', subject: 'Before' });
    const since = await justAfter(before);
    const pending = client.waitFor({ to: 'since@client.test', since, timeout: 10_000 });
    await Promise.resolve();
    const after = await send({ to: 'since@client.test', subject: 'After' });
    expect((await pending).id).toBe(after);
    expect((await client.waitFor({ to: 'since@client.test', since: new Date(since).toISOString(), timeout: 5000 })).id).toBe(after);
    expect((await client.waitFor({ to: 'since@client.test', timeout: 5000 })).id).toBe(before);
    expect(client.mark().getTime()).toBeGreaterThanOrEqual(since);
  });

  it('times out with an error naming the criteria, the time waited, and what arrived instead', async () => {
    const first = await send({ to: 'timeout@client.test', subject: 'Password reset' });
    const since = await justAfter(first);
    await send({ to: 'timeout@client.test', subject: 'Weekly digest' });
    await send({ to: 'typo@client.test', subject: 'Welcome!' });
    const error = await client.waitFor({ to: 'timeout@client.test', subject: 'Welcome', since, timeout: 300 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KotakTimeoutError);
    const timeout = error as KotakTimeoutError;
    expect(timeout).toMatchObject({ criteria: 'to "timeout@client.test", subject "Welcome"', count: 1, since, timeout: 300, matched: [] });
    expect(timeout.elapsed).toBeGreaterThanOrEqual(300);
    expect(timeout.recent.map((m) => m.subject)).toEqual(['Welcome!', 'Weekly digest']);
    const lines = timeout.message.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^Timed out after 0\\.\\d s waiting for a message matching to "timeout@client\\.test", subject "Welcome" received since ${new Date(since).toISOString().replace(/\./g, '\\.')}: none matched\\.$`),
    );
    expect(lines[1]).toBe('Last messages seen that did not match (newest first):');
    expect(lines[2]).toMatch(/^ {2}- \S+ to typo@client\.test from app@example\.com: "Welcome!"$/);
    expect(lines[3]).toMatch(/^ {2}- \S+ to timeout@client\.test from app@example\.com: "Weekly digest"$/);
  });

  it('says how many of count matched, and lists candidates a RegExp rejected', async () => {
    const matched = await send({ to: 'partial@client.test', subject: 'Receipt 1' });
    await send({ to: 'partial@client.test', subject: 'Receipt one' });
    const error = (await client
      .waitForMany({ to: 'partial@client.test', subject: /^Receipt \d$/, count: 2, timeout: 300 })
      .catch((err: unknown) => err)) as KotakTimeoutError;
    expect(error).toBeInstanceOf(KotakTimeoutError);
    expect(error.matched.map((m) => m.id)).toEqual([matched]);
    expect(error.message).toMatch(/waiting for 2 messages matching to "partial@client\.test", subject \/\^Receipt \\d\$\/: 1 of 2 matched\.\nMatched:\n {2}- .*"Receipt 1"\n/);
    expect(error.recent[0]?.subject).toBe('Receipt one');
  });

  it('keeps waiting past the server’s own cap until the caller’s timeout', async () => {
    const capped = await withKotak({ maxWait: '200ms' });
    try {
      const error = await new KotakClient(capped.url).waitFor({ subject: 'never', timeout: 700 }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(KotakTimeoutError);
      expect((error as KotakTimeoutError).elapsed).toBeGreaterThanOrEqual(700);
      expect((error as Error).message).toMatch(/No other messages were received\.$/);
    } finally {
      await capped.stop();
    }
  });

  it('can be abandoned with an AbortSignal, and refuses a count it cannot return', async () => {
    const controller = new AbortController();
    const pending = client.waitFor({ to: 'abort@client.test', timeout: 10_000, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // @ts-expect-error -- waitFor returns one message; count belongs to waitForMany
    await expect(client.waitFor({ to: 'x@client.test', count: 2 })).rejects.toThrow(/waitForMany/);
    await expect(client.waitForMany({ count: 0 })).rejects.toThrow(RangeError);
    await expect(client.waitFor({ since: 'last tuesday' })).rejects.toThrow(/since: last tuesday is not a time/);
  });
});

describe('links and codes', () => {
  it('returns the links and the one-time code of a realistic sign-up email', async () => {
    const confirm = 'https://app.example.com/confirm?token=4f9c2a7e81d3&utm_source=email';
    await send({
      from: '"Acme Accounts" <no-reply@acme.example>',
      to: 'Dana <signup@client.test>',
      subject: 'Confirm your Acme account',
      text: [
        'Hi Dana,',
        '',
        'Thanks for signing up for Acme. Confirm your email address by opening this link:',
        confirm,
        '',
        'Or enter this verification code in the app: 482913',
        'The code expires in 15 minutes. Questions? Call +1 415 555 0100 or visit https://acme.example/help.',
        '',
        '© 2026 Acme Inc., 1 Market St, San Francisco',
      ].join('\n'),
      html: `<table><tr><td>
        <p>Hi Dana,</p>
        <p>Thanks for signing up for Acme.</p>
        <p><a href="${confirm.replace(/&/g, '&amp;')}" style="background:#06c;color:#fff">Confirm my email</a></p>
        <p>Or enter this verification code in the app: <strong>482913</strong></p>
        <p>The code expires in 15 minutes. Questions? Call +1 415 555 0100 or visit <a href="https://acme.example/help">our help center</a>.</p>
        <p style="color:#999">© 2026 Acme Inc., 1 Market St, San Francisco · <a href="https://acme.example/unsubscribe?u=77">Unsubscribe</a></p>
      </td></tr></table>`,
    });
    const message: Message = await client.waitFor({ to: 'signup@client.test', subject: 'Confirm your', timeout: 5000 });
    expect(message.links[0]).toEqual({ url: confirm, text: 'Confirm my email' });
    expect(message.links.map((l) => l.url)).toEqual(expect.arrayContaining(['https://acme.example/help', 'https://acme.example/unsubscribe?u=77']));
    expect(message.codes[0]).toBe('482913');
    expect(message.codes).not.toContain('2026');
    expect(message.codes).not.toContain('0100');
  });
});
