/**
 * POP3 and mailboxes (issue 16): with --mailbox-by-smtp-user a login reads the mailbox of its own
 * name, the one SMTP AUTH as the same user fills, and deletes only there; a user name that is no
 * mailbox name has no maildrop; without the flag every login reads `default`. Real SMTP
 * (nodemailer with AUTH), a real POP3 client (node-pop3), and the byte-exact test client where
 * the reply line itself matters.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import Pop3Command from 'node-pop3';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { Pop3TestClient } from '../helpers/pop3.js';
import { queuedId } from '../helpers/smtp-client.js';
import type { KotakOptions } from '../../src/index.js';

const PASSWORDS = { alice: 'alice-secret', bob: 'bob-secret' } as const;

const running: RunningKotak[] = [];
const clients: Pop3TestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map((kotak) => kotak.stop()));
});

async function start(options: KotakOptions): Promise<RunningKotak> {
  const kotak = await withKotak({ pop3: '127.0.0.1:0', ...options });
  running.push(kotak);
  return kotak;
}

/** One htpasswd file for SMTP AUTH and POP3 alike: one credential per inbox. */
function passwordFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kotak-pop3-mailboxes-')), 'users');
  writeFileSync(file, `alice:${bcrypt.hashSync(PASSWORDS.alice, 4)}\nbob:${PASSWORDS.bob}\n`);
  return file;
}

/** Sends one message (with SMTP AUTH when a user is given); returns the first id of the 250. */
async function send(kotak: RunningKotak, subject: string, options: { user?: string; password?: string; to?: string } = {}): Promise<string> {
  const auth = options.user === undefined ? {} : { auth: { user: options.user, pass: options.password ?? 'any' } };
  const t = transport(kotak, auth);
  try {
    return queuedId((await t.sendMail({ from: 'app@example.com', to: options.to ?? 'someone@example.com', subject, text: subject })).response);
  } finally {
    t.close();
  }
}

function pop3(kotak: RunningKotak, user: string, password: string): Pop3Command {
  return new Pop3Command({ host: '127.0.0.1', port: kotak.pop3Port!, user, password, timeout: 10_000 });
}

/** The ids a login sees (UIDL), oldest first, logging out without deleting anything. */
async function uidlOf(kotak: RunningKotak, user: string, password: string): Promise<string[]> {
  const client = pop3(kotak, user, password);
  try {
    return (await client.UIDL()).map(([, id]) => id!);
  } finally {
    await client.QUIT();
  }
}

async function mailboxOf(kotak: RunningKotak, id: string): Promise<string | null> {
  const { status, body } = await getJson(kotak, `/api/messages/${id}`);
  return status === 200 ? body.mailbox : null;
}

describe('POP3 with --mailbox-by-smtp-user', () => {
  it('a login reads the mailbox its SMTP AUTH fills, and DELE/QUIT deletes only there', async () => {
    const users = passwordFile();
    const kotak = await start({ smtpAuth: users, pop3Auth: users, mailboxBySmtpUser: true });
    const alice = [await send(kotak, 'a1', { user: 'alice', password: PASSWORDS.alice }), await send(kotak, 'a2', { user: 'alice', password: PASSWORDS.alice })];
    const bob = [await send(kotak, 'b1', { user: 'bob', password: PASSWORDS.bob })];
    expect(await Promise.all([...alice, ...bob].map((id) => mailboxOf(kotak, id)))).toEqual(['alice', 'alice', 'bob']);

    expect(await uidlOf(kotak, 'alice', PASSWORDS.alice)).toEqual(alice);
    expect(await uidlOf(kotak, 'bob', PASSWORDS.bob)).toEqual(bob);

    const bobSession = pop3(kotak, 'bob', PASSWORDS.bob);
    expect(await bobSession.RETR(1)).toContain('Subject: b1');
    // Alice's second message would be number 2 in a shared maildrop; bob's has no such message.
    await expect(bobSession.DELE(2)).rejects.toThrow(/no such message/);
    await bobSession.DELE(1);
    expect(await bobSession.QUIT()).toMatch(/signing off \(0 messages left\)/);

    expect(await mailboxOf(kotak, bob[0]!)).toBeNull();
    expect(await Promise.all(alice.map((id) => mailboxOf(kotak, id)))).toEqual(['alice', 'alice']);
    expect(await uidlOf(kotak, 'alice', PASSWORDS.alice)).toEqual(alice);
    expect(await uidlOf(kotak, 'bob', PASSWORDS.bob)).toEqual([]);
  });

  it('refuses a login whose user name is no mailbox name with [SYS/PERM], and lets the client try another', async () => {
    const kotak = await start({ smtpAuth: 'any', pop3Auth: 'any', mailboxBySmtpUser: true });
    const own = await send(kotak, 'own', { user: 'alice' });
    const unnamed = await send(kotak, 'unnamed', { user: 'Alice' }); // no mailbox name: routed as without AUTH
    expect(await mailboxOf(kotak, unnamed)).toBe('default');

    const client = await Pop3TestClient.connect(kotak.pop3Port!);
    clients.push(client);
    expect(await client.login('Alice', 'any')).toMatch(/^-ERR \[SYS\/PERM\] this user name is not a mailbox name/);
    // Not a failed password, so not counted: three failed logins would close the connection.
    for (let i = 0; i < 3; i++) {
      expect(await client.command('USER Alice')).toMatch(/^\+OK/);
      expect(await client.command('PASS any')).toMatch(/^-ERR \[SYS\/PERM\]/);
    }
    expect(await client.command('USER alice')).toMatch(/^\+OK/);
    expect(await client.command('PASS any')).toMatch(/^\+OK maildrop has 1 message /);
    expect((await client.multiline('UIDL')).lines).toEqual([`1 ${own}`]);
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
  });
});

describe('POP3 without --mailbox-by-smtp-user', () => {
  it('every login reads `default` only: mail routed to another mailbox is not in it, nor deleted through it', async () => {
    const kotak = await start({ pop3Auth: 'any', mailboxRoute: '*@billing.test=billing' });
    const billing = await send(kotak, 'invoice', { to: 'ann@billing.test' });
    const other = await send(kotak, 'hello', { to: 'someone@example.com' });
    expect(await mailboxOf(kotak, billing)).toBe('billing');

    // Even a login named like the other mailbox reads `default`: names choose mailboxes only with the flag.
    expect(await uidlOf(kotak, 'billing', 'any')).toEqual([other]);
    const session = pop3(kotak, 'alice', 'any');
    expect(await session.UIDL()).toEqual([['1', other]]);
    await expect(session.DELE(2)).rejects.toThrow(/no such message/);
    await session.DELE(1);
    await session.QUIT();
    expect(await mailboxOf(kotak, other)).toBeNull();
    expect(await mailboxOf(kotak, billing)).toBe('billing');
  });
});
