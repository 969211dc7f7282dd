/**
 * Password guessing against SMTP AUTH (issue 15): bcrypt checks run off the thread that serves
 * clients, with a bounded waiting line, and an address with too many failed logins is refused
 * without a check, while other addresses are served. Guessers connect from their own loopback
 * addresses (127.0.1.x); nothing waits on a clock, only on replies and closed connections.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startKotakProcess, type KotakProcess } from '../helpers/child.js';
import { withKotak, type RunningKotak } from '../helpers/kotak.js';
import { RawSmtp } from '../helpers/raw-smtp.js';
import type { Reply } from '../helpers/smtp-client.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-auth-guessers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
  // The cost the hostile trial used (htpasswd -B defaults to 5; 10 is common in the wild).
  const htpasswd = join(dir, 'bcrypt-10');
  writeFileSync(htpasswd, `alice:${bcrypt.hashSync('right password', 10)}\n`);
  let kotak: KotakProcess | null = null;
  afterEach(() => {
    closeClients();
    kotak?.child.kill('SIGTERM');
    kotak = null;
  });

  it('greets a new client and answers /livez while the guesses are being checked, and refuses the overflow with 454 4.7.0', async () => {
    // A child process: the server's event loop is not the test's, as in production.
    kotak = await startKotakProcess(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:', '--smtp-auth', htpasswd], { KOTAK_LOG_LEVEL: 'info' });
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
