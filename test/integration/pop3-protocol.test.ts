/**
 * POP3 over real sockets, byte by byte: the snapshot taken at login, deletion only in the UPDATE
 * state (and announced like an API delete), authentication (USER/PASS, AUTH PLAIN both ways,
 * htpasswd with bcrypt), limits (line length, bad commands, idle time, failed logins), STLS and
 * implicit TLS, pipelining, and SMTP intake carrying on beside a misbehaving POP3 client.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { KOTAK_BIN, runKotak } from '../helpers/child.js';
import { getJson, LiveClient, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { Pop3TestClient } from '../helpers/pop3.js';
import { simpleMessage } from '../helpers/seed.js';
import { sendInOrder } from '../helpers/smtp-client.js';
import type { KotakOptions } from '../../src/index.js';

const running: RunningKotak[] = [];
const clients: Pop3TestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map((kotak) => kotak.stop()));
});

async function start(options: KotakOptions = {}): Promise<RunningKotak> {
  const kotak = await withKotak({ pop3: '127.0.0.1:0', pop3Auth: 'any', ...options });
  running.push(kotak);
  return kotak;
}

async function connect(kotak: RunningKotak, options: { tls?: boolean } = {}): Promise<Pop3TestClient> {
  const client = await Pop3TestClient.connect(kotak.pop3Port!, options);
  clients.push(client);
  return client;
}

/** Stores messages over SMTP, one after the other (so in this order); returns their ids. */
const send = (kotak: RunningKotak, ...raws: Buffer[]): Promise<string[]> => sendInOrder(kotak.smtpPort, raws);

async function loggedIn(kotak: RunningKotak): Promise<Pop3TestClient> {
  const client = await connect(kotak);
  expect(await client.login('tester', 'secret')).toMatch(/^\+OK/);
  return client;
}

async function messageIds(kotak: RunningKotak): Promise<string[]> {
  return (await getJson(kotak, '/api/messages?limit=100')).body.messages.map((m: { id: string }) => m.id);
}

describe('POP3 transaction state', () => {
  it('numbers the newest messages oldest first, with Kotak ids as UIDL and RFC 1939 sizes', async () => {
    const kotak = await start();
    const bareLf = Buffer.from('From: a@example.com\nSubject: bare LF\n\nline one\nline two\r\n', 'latin1');
    const ids = await send(kotak, simpleMessage('first'), bareLf, simpleMessage('third'));
    const client = await loggedIn(kotak);

    const uidl = await client.multiline('UIDL');
    expect(uidl.lines).toEqual(ids.map((id, i) => `${i + 1} ${id}`));
    expect(await client.command('UIDL 2')).toBe(`+OK 2 ${ids[1]}`);

    const raws = await Promise.all(ids.map(async (id) => Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer())));
    const crlf = raws.map((raw) => Buffer.from(raw.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'), 'latin1'));
    const list = await client.multiline('LIST');
    expect(list.lines).toEqual(crlf.map((m, i) => `${i + 1} ${m.length}`));
    expect(crlf[1]!.length).toBe(raws[1]!.length + 4); // four bare LFs became CRLF
    const total = crlf.reduce((n, m) => n + m.length, 0);
    expect(await client.command('STAT')).toBe(`+OK 3 ${total}`);

    for (const [i, expected] of crlf.entries()) {
      const retr = await client.multiline(`RETR ${i + 1}`);
      expect(retr.status).toBe(`+OK ${expected.length} octets`);
      expect(retr.body.equals(expected)).toBe(true);
    }
    expect(raws[0]!.equals(crlf[0]!)).toBe(true); // CRLF mail comes back exactly as stored

    const top = await client.multiline('TOP 2 1');
    expect(top.body.toString('latin1')).toBe('From: a@example.com\r\nSubject: bare LF\r\n\r\nline one\r\n');
    const headersOnly = await client.multiline('TOP 1 0');
    expect(headersOnly.body.toString()).toMatch(/^From: .*Subject: first\r\n.*\r\n\r\n$/s);
    expect(headersOnly.body.toString()).not.toContain('Hello');

    expect(await client.command('RETR 4')).toMatch(/^-ERR no such message/);
    expect(await client.command('LIST 0')).toMatch(/^-ERR no such message/);
    expect(await client.command('NOOP')).toMatch(/^\+OK/);
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
  });

  it('dot-stuffs lines that start with "." and keeps 8-bit bytes as they are', async () => {
    const kotak = await start();
    const raw = Buffer.concat([
      Buffer.from('From: a@example.com\r\nSubject: dots\r\n\r\n.one dot\r\n..two dots\r\n.\r\ncaf'),
      Buffer.from([0xe9, 0x20, 0xff, 0x00, 0x80]),
      Buffer.from('\r\n'),
    ]);
    await send(kotak, raw);
    const client = await loggedIn(kotak);
    client.write('RETR 1\r\n');
    const status = await client.readLine();
    expect(status).toBe(`+OK ${raw.length} octets`);
    // On the wire: each leading dot doubled.
    const wire: string[] = [];
    for (let line = await client.readLine(); line !== '.'; line = await client.readLine()) wire.push(line);
    expect(wire.slice(3, 6)).toEqual(['..one dot', '...two dots', '..']);
    const retr = await client.multiline('RETR 1');
    expect(retr.body.equals(raw)).toBe(true);
  });

  it('keeps the snapshot taken at login: new mail appears at the next login', async () => {
    const kotak = await start();
    await send(kotak, simpleMessage('before'));
    const client = await loggedIn(kotak);
    const stat = await client.command('STAT');
    await send(kotak, simpleMessage('during'));
    expect(await client.command('STAT')).toBe(stat);
    expect((await client.multiline('LIST')).lines).toHaveLength(1);
    expect(await client.command('RETR 2')).toMatch(/^-ERR no such message/);
    await client.command('QUIT');

    const next = await loggedIn(kotak);
    expect(await next.command('STAT')).toMatch(/^\+OK 2 /);
  });

  it('shows only the newest --pop3-maildrop-size messages', async () => {
    const kotak = await start({ pop3MaildropSize: 2 });
    const ids = await send(kotak, simpleMessage('m1'), simpleMessage('m2'), simpleMessage('m3'));
    const client = await loggedIn(kotak);
    expect((await client.multiline('UIDL')).lines).toEqual([`1 ${ids[1]}`, `2 ${ids[2]}`]);
  });

  it('deletes nothing on DELE then RSET, nor when the connection drops before QUIT', async () => {
    const kotak = await start();
    const ids = await send(kotak, simpleMessage('a'), simpleMessage('b'));
    const live = await LiveClient.connect(kotak);
    try {
      const client = await loggedIn(kotak);
      expect(await client.command('DELE 1')).toBe('+OK message 1 deleted');
      expect(await client.command('DELE 1')).toMatch(/^-ERR message 1 is deleted/);
      expect(await client.command('RETR 1')).toMatch(/^-ERR message 1 is deleted/);
      expect(await client.command('STAT')).toMatch(/^\+OK 1 /);
      expect((await client.multiline('LIST')).lines).toEqual([expect.stringMatching(/^2 /)]);
      expect(await client.command('RSET')).toMatch(/^\+OK maildrop has 2 messages/);
      expect(await client.command('QUIT')).toMatch(/^\+OK/);
      await client.closed;

      const dropped = await loggedIn(kotak);
      expect(await dropped.command('DELE 1')).toMatch(/^\+OK/);
      expect(await dropped.command('DELE 2')).toMatch(/^\+OK/);
      dropped.close();
      await dropped.closed;

      // The next session still sees both; so does the API. A delete through the API is the marker
      // that every frame sent before it has arrived: none of them was a delete.
      const after = await loggedIn(kotak);
      expect(await after.command('STAT')).toMatch(/^\+OK 2 /);
      expect(await messageIds(kotak)).toEqual([...ids].reverse());
      await after.command('QUIT');
      const marker = (await send(kotak, simpleMessage('marker')))[0]!;
      await getJson(kotak, `/api/messages/${marker}`, { method: 'DELETE' });
      await live.next('message:deleted', (f) => f.data.ids.includes(marker));
      expect(live.frames.filter((f) => f.type === 'message:deleted')).toHaveLength(1);
    } finally {
      live.close();
    }
  });

  it('QUIT deletes the marked messages and announces them as the API does', async () => {
    const kotak = await start();
    const ids = await send(kotak, simpleMessage('a'), simpleMessage('b'), simpleMessage('c'));
    const live = await LiveClient.connect(kotak);
    try {
      const client = await loggedIn(kotak);
      await client.command('DELE 1');
      await client.command('DELE 3');
      expect(await client.command('QUIT')).toBe('+OK Kotak POP3 signing off (1 message left)');
      await client.closed;
      const frame = await live.next('message:deleted');
      expect(frame.data).toEqual({ mailbox: 'default', ids: [ids[0], ids[2]] });
      expect(await messageIds(kotak)).toEqual([ids[1]]);
      expect((await getJson(kotak, `/api/messages/${ids[0]}`)).status).toBe(404);
    } finally {
      live.close();
    }
  });

  it('answers -ERR for a message deleted elsewhere meanwhile, and QUIT still succeeds', async () => {
    const kotak = await start();
    const ids = await send(kotak, simpleMessage('a'), simpleMessage('b'));
    const client = await loggedIn(kotak);
    expect((await getJson(kotak, `/api/messages/${ids[0]}`, { method: 'DELETE' })).status).toBe(200);
    expect(await client.command('RETR 1')).toMatch(/^-ERR message 1 was deleted meanwhile/);
    expect(await client.command('TOP 1 0')).toMatch(/^-ERR/);
    expect((await client.multiline('LIST')).lines).toHaveLength(2); // the snapshot does not change
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    expect(await client.command('DELE 2')).toMatch(/^\+OK/);
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
    expect(await messageIds(kotak)).toEqual([]);
  });

  it('answers pipelined commands in order, in one write', async () => {
    const kotak = await start();
    const ids = await send(kotak, simpleMessage('pipelined'));
    const client = await connect(kotak);
    await client.readLine();
    client.write('CAPA\r\nUSER tester\r\nPASS secret\r\nSTAT\r\nUIDL\r\nRETR 1\r\nDELE 1\r\nNOOP\r\nQUIT\r\n');
    expect((await client.readMultiline()).lines).toContain('PIPELINING');
    expect(await client.readLine()).toMatch(/^\+OK/);
    expect(await client.readLine()).toMatch(/^\+OK maildrop has 1 message/);
    expect(await client.readLine()).toMatch(/^\+OK 1 \d+$/);
    expect((await client.readMultiline()).lines).toEqual([`1 ${ids[0]}`]);
    expect((await client.readMultiline()).body.toString()).toContain('Subject: pipelined');
    expect(await client.readLine()).toBe('+OK message 1 deleted');
    expect(await client.readLine()).toMatch(/^\+OK/);
    expect(await client.readLine()).toMatch(/^\+OK Kotak POP3 signing off/);
    await client.closed;
    expect(await messageIds(kotak)).toEqual([]);
  });

  it('refuses transaction commands before login and login commands after it', async () => {
    const kotak = await start();
    const client = await connect(kotak);
    await client.readLine();
    expect(await client.command('STAT')).toBe('-ERR STAT is not valid in this state');
    expect(await client.command('PASS secret')).toBe('-ERR send USER first');
    expect(await client.command('APOP tester 0123456789abcdef0123456789abcdef')).toBe('-ERR unknown command');
    expect(await client.command('USER tester')).toMatch(/^\+OK/);
    expect(await client.command('PASS secret')).toMatch(/^\+OK/);
    expect(await client.command('USER tester')).toBe('-ERR USER is not valid in this state');
    expect(await client.command('STAT extra')).toMatch(/^-ERR/);
    expect(await client.command('TOP 1')).toMatch(/^-ERR TOP needs/);
    expect(await client.command('quit')).toMatch(/^\+OK/);
  });
});

describe('POP3 authentication', () => {
  async function withPasswordFile(): Promise<RunningKotak> {
    const dir = mkdtempSync(join(tmpdir(), 'kotak-pop3-'));
    const file = join(dir, 'users');
    writeFileSync(file, `tester:${bcrypt.hashSync('secret', 4)}\nplain:open sesame\n`);
    return start({ pop3Auth: file });
  }

  it('checks USER/PASS against an htpasswd file (bcrypt and plain) and answers failures with [AUTH]', async () => {
    const kotak = await withPasswordFile();
    const wrong = await connect(kotak);
    expect(await wrong.login('tester', 'guess')).toBe('-ERR [AUTH] authentication failed');
    expect(await wrong.command('USER nobody')).toMatch(/^\+OK/);
    expect(await wrong.command('PASS secret')).toBe('-ERR [AUTH] authentication failed');
    // The third failure ends the connection.
    expect(await wrong.command('USER tester')).toMatch(/^\+OK/);
    expect(await wrong.command('PASS still wrong')).toBe('-ERR [AUTH] too many failed logins, closing');
    await wrong.closed;

    const right = await connect(kotak);
    expect(await right.login('tester', 'secret')).toMatch(/^\+OK maildrop has 0 messages/);
    const spaces = await connect(kotak);
    expect(await spaces.login('plain', 'open sesame')).toMatch(/^\+OK/); // PASS takes the rest of the line
  });

  it('accepts AUTH PLAIN with an initial response and after a "+ " continuation', async () => {
    const kotak = await withPasswordFile();
    const plain = (authzid: string, user: string, password: string) => Buffer.from(`${authzid}\0${user}\0${password}`).toString('base64');

    const initial = await connect(kotak);
    await initial.readLine();
    expect(await initial.command(`AUTH PLAIN ${plain('', 'tester', 'secret')}`)).toMatch(/^\+OK maildrop has/);
    expect(await initial.command('STAT')).toMatch(/^\+OK 0 0/);

    const continued = await connect(kotak);
    await continued.readLine();
    expect(await continued.command('AUTH PLAIN')).toBe('+ ');
    expect(await continued.command(plain('tester', 'tester', 'secret'))).toMatch(/^\+OK maildrop has/);

    const refused = await connect(kotak);
    await refused.readLine();
    expect(await refused.command('AUTH PLAIN')).toBe('+ ');
    expect(await refused.command('*')).toBe('-ERR authentication cancelled');
    expect(await refused.command(`AUTH PLAIN ${plain('', 'tester', 'nope')}`)).toBe('-ERR [AUTH] authentication failed');
    expect(await refused.command(`AUTH PLAIN ${plain('admin', 'tester', 'secret')}`)).toBe('-ERR [AUTH] authentication failed');
    expect(await refused.command('AUTH CRAM-MD5')).toMatch(/^-ERR unsupported SASL mechanism/);
    expect(await refused.command('AUTH PLAIN not*base64')).toMatch(/^-ERR invalid base64/);
    expect((await refused.multiline('AUTH')).lines).toEqual(['PLAIN']);
  });
});

describe('POP3 limits', () => {
  it('answers an over-long line with -ERR and carries on; an endless line closes the connection', async () => {
    const kotak = await start();
    const client = await connect(kotak);
    await client.readLine();
    expect(await client.command(`USER ${'x'.repeat(300)}`)).toBe('-ERR line too long (at most 255 octets)');
    expect(await client.command(`NOOP ${'y'.repeat(10_000)}`)).toBe('-ERR line too long (at most 255 octets)');
    expect(await client.command('USER tester')).toMatch(/^\+OK/);

    const flood = await connect(kotak);
    await flood.readLine();
    flood.write(Buffer.alloc(200_000, 'z'));
    expect(await flood.readLine()).toBe('-ERR line too long, closing connection');
    await flood.closed;
  });

  it('closes the connection at the tenth bad command', async () => {
    const kotak = await start();
    const client = await connect(kotak);
    await client.readLine();
    for (let i = 1; i < 10; i++) expect(await client.command(`XYZZY ${i}`)).toBe('-ERR unknown command');
    expect(await client.command('XYZZY 10')).toBe('-ERR unknown command; too many bad commands, closing');
    await client.closed;
  });

  it('refuses a connection past --pop3-max-connections with [SYS/TEMP]; a closed one frees its place, SMTP goes on', async () => {
    const kotak = await start({ pop3MaxConnections: 2 });
    const first = await connect(kotak);
    const second = await connect(kotak);
    expect(await first.readLine()).toMatch(/^\+OK/);
    expect(await second.readLine()).toMatch(/^\+OK/);
    const third = await connect(kotak);
    expect(await third.readLine()).toBe('-ERR [SYS/TEMP] too many connections, try again later');
    await third.closed;
    // The two sessions already open carry on, and SMTP intake is not affected.
    const [id] = await send(kotak, simpleMessage('while POP3 is full'));
    expect(await first.command('USER tester')).toMatch(/^\+OK/);
    expect(await first.command('PASS secret')).toMatch(/^\+OK/);
    expect(await first.command('UIDL 1')).toBe(`+OK 1 ${id}`);
    // Kotak ends the connection as it answers QUIT, and from then on it no longer counts.
    expect(await first.command('QUIT')).toMatch(/^\+OK/);
    const fourth = await connect(kotak);
    expect(await fourth.readLine()).toMatch(/^\+OK/);
  });

  it('closes an idle connection, deleting nothing it had marked', async () => {
    const kotak = await start({ pop3IdleTimeout: '300ms' });
    await send(kotak, simpleMessage('kept'));
    const client = await loggedIn(kotak);
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    expect(await client.readLine()).toBe('-ERR idle timeout, closing connection');
    await client.closed;
    expect(await messageIds(kotak)).toHaveLength(1);
  });

  it('keeps SMTP intake working while POP3 clients stall, flood or vanish mid-message', async () => {
    const kotak = await start();
    const big = Buffer.from(`From: a@example.com\r\nSubject: big\r\n\r\n${'.x'.repeat(40).concat('\r\n').repeat(15_000)}`);
    await send(kotak, big);
    // One stops mid-line, one never reads a large RETR, one resets while the message is sent.
    const stalled = await connect(kotak);
    stalled.write('USER half-a-li');
    const notReading = await loggedIn(kotak);
    notReading.socket.pause();
    notReading.write('RETR 1\r\nRETR 1\r\nRETR 1\r\n');
    const vanishing = await loggedIn(kotak);
    vanishing.write('RETR 1\r\n');
    vanishing.socket.once('data', () => vanishing.socket.resetAndDestroy());
    const garbage = await connect(kotak);
    garbage.write(Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80, 0x0a, 0x16, 0x03, 0x01, 0x0d, 0x0a]));

    const ids = await send(kotak, simpleMessage('still flowing 1'), simpleMessage('still flowing 2'));
    const { body } = await getJson(kotak, `/api/messages/${ids[1]}`);
    expect(body.subject).toBe('still flowing 2');
    const fresh = await loggedIn(kotak);
    expect(await fresh.command('STAT')).toMatch(/^\+OK 3 /);
  });
});

describe('POP3 over TLS', () => {
  it('upgrades with STLS, drops plaintext sent after it, and stops offering STLS', async () => {
    const kotak = await start({ pop3Tls: 'auto' });
    await send(kotak, simpleMessage('secret mail'));
    const client = await connect(kotak);
    await client.readLine();
    expect((await client.multiline('CAPA')).lines).toContain('STLS');
    // A command injected behind STLS must not run after the handshake (RFC 2595 section 4).
    client.write('STLS\r\nUSER injected\r\n');
    expect(await client.readLine()).toBe('+OK begin TLS negotiation');
    await client.upgrade();
    expect((client.socket as import('node:tls').TLSSocket).encrypted).toBe(true);
    const capa = await client.multiline('CAPA');
    expect(capa.lines).not.toContain('STLS');
    expect(capa.lines).toContain('USER');
    expect(await client.command('PASS secret')).toBe('-ERR send USER first');
    expect(await client.command('STLS')).toMatch(/^-ERR STLS is not available/);
    expect(await client.command('USER tester')).toMatch(/^\+OK/);
    expect(await client.command('PASS secret')).toMatch(/^\+OK maildrop has 1 message/);
    expect((await client.multiline('RETR 1')).body.toString()).toContain('Subject: secret mail');
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
  });

  it('does not offer STLS without --pop3-tls', async () => {
    const kotak = await start();
    const client = await connect(kotak);
    await client.readLine();
    const capa = await client.multiline('CAPA');
    expect(capa.lines).toEqual(['TOP', 'UIDL', 'USER', 'SASL PLAIN', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'IMPLEMENTATION Kotak']);
    expect(await client.command('STLS')).toMatch(/^-ERR/);
  });

  it('speaks TLS from the first byte with --pop3-tls-implicit', async () => {
    const kotak = await start({ pop3Tls: 'auto', pop3TlsImplicit: true });
    await send(kotak, simpleMessage('implicit'));
    const client = await connect(kotak, { tls: true });
    expect(await client.readLine()).toBe('+OK Kotak POP3 ready');
    expect((await client.multiline('CAPA')).lines).not.toContain('STLS');
    expect(await client.command('STLS')).toMatch(/^-ERR/);
    expect(await client.command('USER tester')).toMatch(/^\+OK/);
    expect(await client.command('PASS secret')).toMatch(/^\+OK maildrop has 1 message/);
    expect((await client.multiline('RETR 1')).body.toString()).toContain('Subject: implicit');
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
  });
});

describe('POP3 settings', () => {
  it('refuses --pop3 without --pop3-auth with exit status 2', async () => {
    const { code, stderr } = await runKotak(['--pop3', '127.0.0.1:0', '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--pop3-auth: POP3 needs credentials/);
    const implicit = await runKotak(['--pop3', '127.0.0.1:0', '--pop3-auth', 'any', '--pop3-tls-implicit']);
    expect(implicit.code).toBe(2);
    expect(implicit.stderr).toMatch(/--pop3-tls-implicit: needs --pop3-tls/);
  });

  it('starts POP3 from KOTAK_POP3* variables and logs the port it picked', async () => {
    const child = spawn(process.execPath, [KOTAK_BIN, '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:'], {
      env: { ...process.env, KOTAK_POP3: '127.0.0.1:0', KOTAK_POP3_AUTH: 'any', KOTAK_POP3_TLS: 'auto', KOTAK_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          const line = out.split('\n').find((l) => l.includes('"kotak listening"'));
          if (line) resolve((JSON.parse(line) as { pop3Port: number }).pop3Port);
        });
        child.once('exit', (code) => reject(new Error(`kotak exited with ${code}: ${out}`)));
      });
      expect(port).toBeGreaterThan(0);
      const client = await Pop3TestClient.connect(port);
      clients.push(client);
      expect(await client.readLine()).toBe('+OK Kotak POP3 ready');
      expect((await client.multiline('CAPA')).lines).toContain('STLS');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('leaves POP3 off by default', async () => {
    const kotak = await withKotak();
    running.push(kotak);
    expect(kotak.pop3Port).toBeNull();
  });
});
