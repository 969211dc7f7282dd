/** SMTP intake over real sockets with real clients: nodemailer and a byte-level client. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { dataPayload, queuedId, SmtpTestClient } from '../helpers/smtp-client.js';

// A 1x1 transparent PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

describe('SMTP intake (no auth, no TLS)', () => {
  let kotak: RunningKotak;
  beforeAll(async () => {
    kotak = await withKotak({ maxMessageSize: '64kb', maxRecipients: 1000 });
  });
  afterAll(() => kotak.stop());

  it('advertises the extensions a modern client looks for, and no reverse lookup delays the greeting', async () => {
    const client = await SmtpTestClient.connect(kotak.smtpPort);
    const greeting = await client.read();
    expect(greeting.code).toBe(220);
    const ehlo = await client.command('EHLO client.test');
    client.close();
    expect(ehlo.code).toBe(250);
    const extensions = ehlo.lines.slice(1).map((l) => l.slice(4));
    expect(extensions).toEqual(expect.arrayContaining(['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', `SIZE ${64 * 1024}`]));
    expect(extensions.some((e) => e.startsWith('STARTTLS'))).toBe(false);
    expect(extensions.some((e) => e.startsWith('AUTH'))).toBe(false);
  });

  it('stores a plain-text message; the 250 carries the id, and the message is visible at once', async () => {
    const info = await transport(kotak).sendMail({ from: 'Alice <alice@example.com>', to: 'bob@example.com', subject: 'Plain', text: 'Hello Bob' });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{22}$/);
    const id = queuedId(info.response);
    // No polling: a 250 means committed, parsed and indexed.
    const { body } = await getJson(kotak, `/api/messages/${id}`);
    expect(body).toMatchObject({ id, subject: 'Plain', text: 'Hello Bob', from: { name: 'Alice', address: 'alice@example.com' }, to: [{ name: '', address: 'bob@example.com' }] });
    expect(body.envelope).toMatchObject({ mailFrom: 'alice@example.com', rcptTo: ['bob@example.com'], clientAddress: '127.0.0.1', tls: false, user: null });
    expect(body.envelope.heloName).not.toBe('');
    const search = await getJson(kotak, `/api/messages?query=${encodeURIComponent('subject:Plain hello')}`);
    expect(search.body.messages.map((m: { id: string }) => m.id)).toContain(id);
  });

  it('stores HTML with an attachment and an inline cid image, and serves their bytes', async () => {
    const info = await transport(kotak).sendMail({
      from: 'shop@example.com',
      to: 'carol@example.com',
      cc: 'dave@example.com',
      bcc: 'audit@example.com',
      subject: 'Your invoice',
      text: 'Invoice attached',
      html: '<p>Logo: <img src="cid:logo@kotak"></p>',
      attachments: [
        { filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4 fake'), contentType: 'application/pdf' },
        { filename: 'logo.png', content: PNG, cid: 'logo@kotak' },
      ],
    });
    const id = queuedId(info.response);
    const { body } = await getJson(kotak, `/api/messages/${id}`);
    expect(body.html).toContain('cid:logo@kotak');
    expect(body.hasAttachments).toBe(true);
    expect(body.cc).toEqual([{ name: '', address: 'dave@example.com' }]);
    expect(body.bcc).toEqual([{ name: '', address: 'audit@example.com' }]);
    const pdf = body.attachments.find((a: { filename: string }) => a.filename === 'invoice.pdf');
    const logo = body.attachments.find((a: { contentId: string | null }) => a.contentId === 'logo@kotak');
    expect(pdf).toMatchObject({ contentType: 'application/pdf', inline: false, size: 13 });
    expect(logo).toMatchObject({ contentType: 'image/png', inline: true, size: PNG.length });

    const res = await fetch(`${kotak.url}/api/messages/${id}/parts/${pdf.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="invoice.pdf"; filename*=UTF-8''invoice.pdf`);
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe('%PDF-1.4 fake');
    const img = Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/parts/${logo.id}`)).arrayBuffer());
    expect(img.equals(PNG)).toBe(true);
    expect((await fetch(`${kotak.url}/api/messages/${id}/parts/99`)).status).toBe(404);
  });

  it('reports exact sizes for large attachments and serves their bytes intact', async () => {
    const big = Buffer.alloc(700_001);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const kotakBig = await withKotak({ maxMessageSize: '5MB' });
    try {
      const info = await transport(kotakBig).sendMail({
        from: 'a@example.com', to: 'b@example.com', subject: 'big', text: 'see attached', html: '<p>see attached</p>',
        attachments: [{ filename: 'data.bin', content: big }, { filename: 'small.txt', content: 'tiny' }],
      });
      const id = queuedId(info.response);
      const { body } = await getJson(kotakBig, `/api/messages/${id}`);
      expect(body.text).toBe('see attached');
      const data = body.attachments.find((a: { filename: string }) => a.filename === 'data.bin');
      expect(data.size).toBe(big.length);
      const bytes = Buffer.from(await (await fetch(`${kotakBig.url}/api/messages/${id}/parts/${data.id}`)).arrayBuffer());
      expect(bytes.equals(big)).toBe(true);
    } finally {
      await kotakBig.stop();
    }
  });

  it('decodes a UTF-8 subject and accepts a non-ASCII (SMTPUTF8) address', async () => {
    const info = await transport(kotak).sendMail({
      from: 'josé@exämple.com',
      to: 'ユーザー@例え.jp',
      subject: 'Grüße aus Köln — 你好 🎉',
      text: 'Tschüß',
    });
    const id = queuedId(info.response);
    const { body } = await getJson(kotak, `/api/messages/${id}`);
    expect(body.subject).toBe('Grüße aus Köln — 你好 🎉');
    expect(body.envelope.rcptTo).toEqual(['ユーザー@例え.jp']);
    expect(body.envelope.mailFrom).toBe('josé@exämple.com');
    expect(body.to[0].address).toBe('ユーザー@例え.jp');
    const search = await getJson(kotak, `/api/messages?query=${encodeURIComponent('你好')}`);
    expect(search.body.messages.map((m: { id: string }) => m.id)).toContain(id);
  });

  it('takes several pipelined transactions written in one go on one connection', async () => {
    const client = await SmtpTestClient.connect(kotak.smtpPort);
    await client.hello();
    const messages = [1, 2, 3].map((n) => Buffer.from(`Subject: pipelined ${n}\r\nMessage-ID: <pipe-${n}@test>\r\n\r\nbody ${n}\r\n`));
    // RFC 2920: the client may send MAIL, RCPT and DATA without waiting; only the 354 must be awaited.
    const ids: string[] = [];
    for (const raw of messages) {
      client.write('MAIL FROM:<p@example.com>\r\nRCPT TO:<q@example.com>\r\nRCPT TO:<r@example.com>\r\nDATA\r\n');
      expect((await client.read()).code).toBe(250);
      expect((await client.read()).code).toBe(250);
      expect((await client.read()).code).toBe(250);
      expect((await client.read()).code).toBe(354);
      client.write(dataPayload(raw));
      const reply = await client.read();
      expect(reply.code).toBe(250);
      ids.push(queuedId(reply));
    }
    client.close();
    for (const [i, id] of ids.entries()) {
      const { body } = await getJson(kotak, `/api/messages/${id}`);
      expect(body.subject).toBe(`pipelined ${i + 1}`);
      expect(body.envelope.rcptTo).toEqual(['q@example.com', 'r@example.com']);
    }
    expect(new Set(ids).size).toBe(3);
  });

  it('refuses an oversize message with 552 5.3.4 and stores nothing of it', async () => {
    const before = (await getJson(kotak, '/api/stats')).body.total;
    const client = await SmtpTestClient.connect(kotak.smtpPort);
    await client.hello();
    await client.command('MAIL FROM:<big@example.com>');
    await client.command('RCPT TO:<x@example.com>');
    await client.command('DATA');
    client.write(dataPayload(Buffer.from(`Subject: too big\r\n\r\n${'x'.repeat(100 * 1024)}\r\n`)));
    const reply = await client.read();
    expect(reply.code).toBe(552);
    expect(reply.text).toMatch(/^552 5\.3\.4 /);
    // The connection stays usable after the refusal.
    expect((await client.command('NOOP')).code).toBe(250);
    client.close();
    expect((await getJson(kotak, '/api/stats')).body.total).toBe(before);
  });

  it('refuses a declared SIZE over the limit at MAIL FROM', async () => {
    const client = await SmtpTestClient.connect(kotak.smtpPort);
    await client.hello();
    const reply = await client.command(`MAIL FROM:<big@example.com> SIZE=${1024 * 1024}`);
    client.close();
    expect(reply.code).toBe(552);
  });

  it('answers the 1001st recipient with 452 4.5.3 and delivers to the first 1000', async () => {
    const client = await SmtpTestClient.connect(kotak.smtpPort);
    await client.hello();
    await client.command('MAIL FROM:<many@example.com>');
    let batch = '';
    for (let i = 1; i <= 1001; i++) batch += `RCPT TO:<r${i}@example.com>\r\n`;
    client.write(batch);
    const replies = [];
    for (let i = 1; i <= 1001; i++) replies.push(await client.read());
    expect(replies.slice(0, 1000).every((r) => r.code === 250)).toBe(true);
    expect(replies[1000]!.text).toMatch(/^452 4\.5\.3 /);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(dataPayload(Buffer.from('Subject: many\r\n\r\nhi\r\n')));
    const id = queuedId(await client.read());
    client.close();
    const { body } = await getJson(kotak, `/api/messages/${id}`);
    expect(body.envelope.rcptTo).toHaveLength(1000);
  });

  it('accepts the null sender <> used by bounces', async () => {
    const client = await SmtpTestClient.connect(kotak.smtpPort);
    await client.hello();
    expect((await client.command('MAIL FROM:<>')).code).toBe(250);
    await client.command('RCPT TO:<postmaster@example.com>');
    await client.command('DATA');
    client.write(dataPayload(Buffer.from('Subject: bounce\r\n\r\nundeliverable\r\n')));
    const id = queuedId(await client.read());
    client.close();
    expect((await getJson(kotak, `/api/messages/${id}`)).body.envelope.mailFrom).toBe('');
  });
});

describe('SMTP STARTTLS and AUTH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-auth-'));
  const htpasswd = join(dir, 'users');
  // A bcrypt entry in Apache's $2y$ spelling, as `htpasswd -B` writes it, and a plaintext entry.
  writeFileSync(htpasswd, `alice:${bcrypt.hashSync('s3cret', 4).replace(/^\$2[ab]\$/, '$2y$')}\nbob:plain-pass\n`);

  it('delivers over STARTTLS with a self-signed certificate, and records TLS on the envelope', async () => {
    const kotak = await withKotak({ smtpTls: 'auto' });
    try {
      const client = await SmtpTestClient.connect(kotak.smtpPort);
      const ehlo = await client.hello();
      client.close();
      expect(ehlo.lines.some((l) => l.endsWith('STARTTLS'))).toBe(true);
      const info = await transport(kotak, { ignoreTLS: false, requireTLS: true, tls: { rejectUnauthorized: false } }).sendMail({
        from: 'a@example.com', to: 'b@example.com', subject: 'over tls', text: 'secret',
      });
      const { body } = await getJson(kotak, `/api/messages/${queuedId(info.response)}`);
      expect(body.envelope.tls).toBe(true);
    } finally {
      await kotak.stop();
    }
  });

  it('with --smtp-require-tls refuses MAIL and AUTH before STARTTLS', async () => {
    const kotak = await withKotak({ smtpTls: 'auto', smtpRequireTls: true, smtpAuth: 'any' });
    try {
      const client = await SmtpTestClient.connect(kotak.smtpPort);
      await client.hello();
      const auth = await client.command(`AUTH PLAIN ${Buffer.from('\0u\0p').toString('base64')}`);
      expect(auth.code).toBeGreaterThanOrEqual(500);
      const mail = await client.command('MAIL FROM:<a@example.com>');
      expect(mail.code).toBeGreaterThanOrEqual(500);
      client.close();
      const info = await transport(kotak, { ignoreTLS: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'u', pass: 'p' } }).sendMail({
        from: 'a@example.com', to: 'b@example.com', subject: 'tls then auth', text: 'ok',
      });
      expect(info.response).toMatch(/^250 /);
    } finally {
      await kotak.stop();
    }
  });

  it('auth "any" accepts any credentials and records the username', async () => {
    const kotak = await withKotak({ smtpAuth: 'any' });
    try {
      const ehlo = await (async () => {
        const c = await SmtpTestClient.connect(kotak.smtpPort);
        const r = await c.hello();
        c.close();
        return r;
      })();
      expect(ehlo.lines.some((l) => /AUTH PLAIN LOGIN$/.test(l))).toBe(true);
      for (const method of ['PLAIN', 'LOGIN']) {
        const info = await transport(kotak, { auth: { user: `user-${method}`, pass: 'whatever' }, authMethod: method }).sendMail({
          from: 'a@example.com', to: 'b@example.com', subject: method, text: 'x',
        });
        const { body } = await getJson(kotak, `/api/messages/${queuedId(info.response)}`);
        expect(body.envelope.user).toBe(`user-${method}`);
      }
      // Authentication is required once it is on.
      await expect(transport(kotak).sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x' })).rejects.toThrow(/530/);
    } finally {
      await kotak.stop();
    }
  });

  it('auth FILE checks htpasswd credentials (bcrypt and plain) and answers a wrong password with 535 5.7.8', async () => {
    const kotak = await withKotak({ smtpAuth: htpasswd });
    try {
      const good = await transport(kotak, { auth: { user: 'alice', pass: 's3cret' } }).sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x' });
      expect((await getJson(kotak, `/api/messages/${queuedId(good.response)}`)).body.envelope.user).toBe('alice');
      const plain = await transport(kotak, { auth: { user: 'bob', pass: 'plain-pass' } }).sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x' });
      expect(plain.response).toMatch(/^250 /);

      const client = await SmtpTestClient.connect(kotak.smtpPort);
      await client.hello();
      const wrong = await client.command(`AUTH PLAIN ${Buffer.from('\0alice\0wrong').toString('base64')}`);
      client.close();
      expect(wrong.text).toMatch(/^535 5\.7\.8 /);
      await expect(
        transport(kotak, { auth: { user: 'nobody', pass: 's3cret' } }).sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x' }),
      ).rejects.toThrow(/535/);
    } finally {
      await kotak.stop();
    }
  });
});
