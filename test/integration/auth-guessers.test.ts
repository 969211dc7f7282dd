/**
 * Password guessing (issue 15): bcrypt checks run off the thread that serves clients, with a
 * bounded waiting line that SMTP AUTH, POP3 and HTTP Basic share, and an address with too many
 * failed SMTP logins is refused without a check while other addresses are served. Guessers
 * connect from their own loopback addresses (127.0.1.x, 127.0.2.x); nothing waits on a clock,
 * only on replies and closed connections.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startKotakProcess, type KotakProcess } from '../helpers/child.js';
import { withKotak, type RunningKotak } from '../helpers/kotak.js';
import { Pop3TestClient } from '../helpers/pop3.js';
import { RawSmtp } from '../helpers/raw-smtp.js';
import type { Reply } from '../helpers/smtp-client.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-auth-guessers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The cost the hostile trial used (htpasswd -B defaults to 5; 10 is common in the wild).
const bcrypt10 = join(dir, 'bcrypt-10');
writeFileSync(bcrypt10, `alice:${bcrypt.hashSync('right password', 10)}\n`);

const authPlain = (user: string, password: string): string => `AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`;

const clients: RawSmtp[] = [];
async function connect(port: number, localAddress: string): Promise<RawSmtp> {
  const client = await RawSmtp.connect(port, { localAddress });
  clients.push(client);
  return client;
}
/** Before the server stops: it waits for open connections to close. */
function closeClients(): void {
  for (const client of clients.splice(0)) client.destroy();
}

describe('SMTP AUTH with a bcrypt password file under 40 parallel guessers', () => {
  const GUESSERS = 40;
  let kotak: KotakProcess | null = null;
  afterEach(() => {
    closeClients();
    kotak?.child.kill('SIGTERM');
    kotak = null;
  });

  it('greets a new client and answers /livez while the guesses are being checked, and refuses the overflow with 454 4.7.0', async () => {
    // A child process: the server's event loop is not the test's, as in production.
    kotak = await startKotakProcess(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:', '--smtp-auth', bcrypt10], { KOTAK_LOG_LEVEL: 'info' });
    const port = kotak.smtpPort;
    const guessers = await Promise.all(
      Array.from({ length: GUESSERS }, async (_, i) => {
        const client = await connect(port, `127.0.1.${i + 1}`);
        await client.hello();
        return client;
      }),
    );

    // "Checked" counts the guesses answered 535 (their hash was computed).
    let checked = 0;
    let firstChecked!: () => void;
    const someChecked = new Promise<void>((resolve) => (firstChecked = resolve));
    for (const g of guessers) g.write(`${authPlain('alice', 'wrong password')}\r\n`);
    const replies: Promise<Reply>[] = guessers.map((g) =>
      g.read().then((reply) => {
        if (reply.code === 535) {
          checked += 1;
          firstChecked();
        }
        return reply;
      }),
    );

    // Hashing is under way; now a newcomer arrives.
    await someChecked;
    const newcomer = await connect(port, '127.0.0.1');
    const greeting = await newcomer.read();
    const checkedAtGreeting = checked;
    const livez = await fetch(`${kotak.url}/livez`);
    const checkedAtLivez = checked;
    const codes = (await Promise.all(replies)).map((r) => r.text.slice(0, 9));

    expect(greeting.code).toBe(220);
    expect(livez.status).toBe(200);
    const wrong = codes.filter((c) => c === '535 5.7.8').length;
    const deferred = codes.filter((c) => c === '454 4.7.0').length;
    expect(wrong + deferred).toBe(GUESSERS);
    // On the event loop, every check of the batch ran before the newcomer was even accepted
    // (all 40 had been answered by then); off it, the newcomer waits for none of them.
    expect(checkedAtGreeting).toBeLessThan(wrong / 2);
    expect(checkedAtLivez).toBeLessThan(wrong / 2);
    // The bound: the checks past the waiting line were refused at once, not queued.
    expect(deferred).toBeGreaterThan(0);
  });
});

describe('SMTP AUTH failures counted per client address', () => {
  const htpasswd = join(dir, 'users');
  writeFileSync(htpasswd, `alice:${bcrypt.hashSync('s3cret', 4)}\nbob:plain-pass\n`);
  let kotak: RunningKotak | null = null;
  afterEach(async () => {
    closeClients();
    await kotak?.stop();
    kotak = null;
  });

  it('refuses AUTH from an address past its limit with 421 4.7.0, unchecked, and serves other addresses', async () => {
    kotak = await withKotak({ smtpAuth: htpasswd, smtpAuthFailureRate: 3 });
    const guesser = await connect(kotak.smtpPort, '127.0.0.2');
    await guesser.hello();
    for (let i = 0; i < 3; i++) expect((await guesser.command(authPlain('alice', `guess ${i}`))).text).toMatch(/^535 5\.7\.8 /);
    const refused = await guesser.command(authPlain('alice', 'guess 3'));
    expect(refused.text).toMatch(/^421 4\.7\.0 Too many failed logins from 127\.0\.0\.2/);
    await guesser.closed;

    // Refused before any check: even the right password, on a new connection.
    const again = await connect(kotak.smtpPort, '127.0.0.2');
    await again.hello();
    expect((await again.command(authPlain('alice', 's3cret'))).code).toBe(421);

    // Another address is not affected: it logs in, and its wrong password is only wrong.
    const other = await connect(kotak.smtpPort, '127.0.0.1');
    await other.hello();
    expect((await other.command(authPlain('bob', 'nope'))).code).toBe(535);
    expect((await other.command(authPlain('alice', 's3cret'))).code).toBe(235);
  });

  it('counts a parallel burst from one address as it starts, so only the limit of its guesses are checked', async () => {
    kotak = await withKotak({ smtpAuth: htpasswd, smtpAuthFailureRate: 3 });
    const burst = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const client = await connect(kotak!.smtpPort, '127.0.0.3');
        await client.hello();
        return client;
      }),
    );
    for (const client of burst) client.write(`${authPlain('alice', 'wrong')}\r\n`);
    const codes = await Promise.all(burst.map(async (client) => (await client.read()).code));
    expect(codes.filter((c) => c === 535)).toHaveLength(3);
    expect(codes.filter((c) => c === 421)).toHaveLength(9);
  });
});

describe('the waiting line of password checks is shared by POP3 and HTTP Basic', () => {
  let kotak: RunningKotak | null = null;
  const pop3Clients: Pop3TestClient[] = [];
  afterEach(async () => {
    for (const client of pop3Clients.splice(0)) client.socket.destroy();
    await kotak?.stop();
    kotak = null;
  });

  it('POP3: guesses past the line are answered -ERR [SYS/TEMP] at once, the checked ones -ERR [AUTH]', async () => {
    kotak = await withKotak({ pop3: '127.0.0.1:0', pop3Auth: bcrypt10 });
    const guessers = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const client = await Pop3TestClient.connect(kotak!.pop3Port!);
        pop3Clients.push(client);
        await client.readLine();
        expect(await client.command('USER alice')).toMatch(/^\+OK/);
        return client;
      }),
    );
    for (const client of guessers) client.write('PASS wrong password\r\n');
    const replies = await Promise.all(guessers.map((client) => client.readLine()));
    const deferred = replies.filter((r) => r.startsWith('-ERR [SYS/TEMP] ')).length;
    const wrong = replies.filter((r) => r.startsWith('-ERR [AUTH] ')).length;
    expect(deferred + wrong).toBe(30);
    expect(deferred).toBeGreaterThan(0);
    expect(wrong).toBeGreaterThan(0);
    // Deferred is not a failed login: the right password is taken once the line is short again.
    const late = await Pop3TestClient.connect(kotak.pop3Port!);
    pop3Clients.push(late);
    expect(await late.login('alice', 'right password')).toMatch(/^\+OK/);
  });

  it('HTTP Basic: guesses past the line are answered 503 auth_unavailable, the checked ones 401', async () => {
    kotak = await withKotak({ httpAuth: bcrypt10 });
    const { port } = new URL(kotak.url);
    const wrong = `Basic ${Buffer.from('alice:wrong password').toString('base64')}`;
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        new Promise<{ status: number; code: string }>((resolve, reject) => {
          // One address each: HTTP's own per-address throttle does not come into it.
          const request = http.get({ host: '127.0.0.1', port, path: '/api/stats', localAddress: `127.0.2.${i + 1}`, headers: { authorization: wrong } }, (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => (body += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, code: (JSON.parse(body) as { error: { code: string } }).error.code }));
          });
          request.on('error', reject);
        }),
      ),
    );
    const deferred = statuses.filter((s) => s.status === 503 && s.code === 'auth_unavailable').length;
    const refused = statuses.filter((s) => s.status === 401 && s.code === 'auth_failed').length;
    expect(deferred + refused).toBe(30);
    expect(deferred).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
