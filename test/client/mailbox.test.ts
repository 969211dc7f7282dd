/**
 * kotak/client scoped to a mailbox, against a real Kotak over HTTP: `new KotakClient(url, { mailbox })`
 * and `client.mailbox(name)` list, search, wait, count and clear only that mailbox.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KotakApiError, KotakClient, KotakTimeoutError } from '../../src/client/index.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { seedMailboxes, type SeededDatabase } from '../helpers/mailboxes.js';

let seeded: SeededDatabase;
let kotak: RunningKotak;

beforeEach(async () => {
  seeded = await seedMailboxes([
    ['default', 'hello default'],
    ['w3', 'hello w3'],
    ['w3', 'bye w3'],
    ['w4', 'hello w4'],
  ]);
  kotak = await withKotak({ db: seeded.db });
});
afterEach(async () => {
  await kotak.stop();
  seeded.remove();
});

const subjects = (page: { messages: readonly { subject: string }[] }) => page.messages.map((m) => m.subject).sort();

describe('a client scoped to a mailbox', () => {
  it('lists, searches and counts only its mailbox, from the option or from .mailbox(name)', async () => {
    const everything = new KotakClient(kotak.url);
    for (const w3 of [new KotakClient(kotak.url, { mailbox: 'w3' }), everything.mailbox('w3')]) {
      expect(w3.mailboxName).toBe('w3');
      expect(subjects(await w3.list())).toEqual(['bye w3', 'hello w3']);
      expect(subjects(await w3.search('hello'))).toEqual(['hello w3']);
      expect(await w3.stats()).toMatchObject({ total: 2, unread: 2 });
    }
    expect(everything.mailboxName).toBeUndefined();
    expect((await everything.list()).total).toBe(4);
    expect(await everything.stats()).toMatchObject({ total: 4 });
  });

  it('clear() empties exactly its mailbox; with a query, only its matches', async () => {
    const everything = new KotakClient(kotak.url);
    expect(await everything.mailbox('w3').clear('bye')).toBe(1);
    expect(await everything.mailbox('w3').clear()).toBe(1);
    expect(await everything.mailbox('w3').stats()).toMatchObject({ total: 0 });
    expect(subjects(await everything.list())).toEqual(['hello default', 'hello w4']);
  });

  it('waits only on its mailbox: others\' messages, stored or arriving, neither answer nor count', async () => {
    const everything = new KotakClient(kotak.url);
    expect((await everything.mailbox('w4').waitFor({ subject: 'hello' })).subject).toBe('hello w4');
    expect((await everything.mailbox('w3').waitForMany({ subject: /^(hello|bye)/, count: 2 })).map((m) => m.subject).sort()).toEqual(['bye w3', 'hello w3']);

    // SMTP mail lands in default: the default client gets it, the w3 client never does.
    const smtp = transport(kotak);
    const arriving = everything.mailbox('default').waitFor({ subject: 'fresh', timeout: 10_000 });
    await smtp.sendMail({ from: 'app@example.com', to: 'x@example.com', subject: 'fresh', text: 'hi' });
    smtp.close();
    expect((await arriving).mailbox).toBe('default');
    const w3 = everything.mailbox('w3').waitFor({ subject: 'fresh', timeout: 200 });
    await expect(w3).rejects.toBeInstanceOf(KotakTimeoutError);
    await expect(w3).rejects.toMatchObject({ recent: [expect.objectContaining({ mailbox: 'w3' }), expect.objectContaining({ mailbox: 'w3' })] });
  });

  it('an invalid mailbox name is the server\'s 400 invalid_mailbox', async () => {
    const bad = new KotakClient(kotak.url, { mailbox: 'no/such' });
    await expect(bad.list()).rejects.toBeInstanceOf(KotakApiError);
    await expect(bad.stats()).rejects.toMatchObject({ status: 400, code: 'invalid_mailbox' });
  });
});
