/**
 * IMAP on two Kotak nodes sharing one PostgreSQL database: a session idling on one node hears
 * mail, flag changes and deletions made through the other (the news comes from the cluster bus),
 * and both nodes give the same UIDVALIDITY and UIDs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImapTestClient } from '../helpers/imap.js';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { simpleMessage } from '../helpers/seed.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

let server: RunningPostgres;
const running: RunningKotak[] = [];
const clients: ImapTestClient[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map((kotak) => kotak.stop()));
  await server?.stop();
});

async function node(db: string): Promise<RunningKotak> {
  const kotak = await withKotak({ db, imap: '127.0.0.1:0', imapAuth: 'any' });
  running.push(kotak);
  return kotak;
}

async function selected(kotak: RunningKotak): Promise<{ client: ImapTestClient; untagged: readonly string[] }> {
  const client = await ImapTestClient.connect(kotak.imapPort!);
  clients.push(client);
  await client.readResponse();
  await client.command('l', 'LOGIN tester secret');
  const { untagged } = await client.command('s', 'SELECT INBOX');
  return { client, untagged };
}

it('tells a session on one node of mail, flags and deletions made through another', async () => {
  const db = await server.createDatabase('imap_nodes');
  const first = await node(db);
  const second = await node(db);
  const id = queuedId(await sendRaw(second.smtpPort, simpleMessage('one')));
  const a = await selected(first);
  const b = await selected(second);
  const validity = (untagged: readonly string[]): string | undefined => untagged.find((line) => line.includes('UIDVALIDITY'));
  expect(validity(a.untagged)).toBe(validity(b.untagged));
  expect((await a.client.command('u', 'FETCH 1 UID')).untagged).toEqual((await b.client.command('u', 'FETCH 1 UID')).untagged);

  a.client.write('i IDLE\r\n');
  expect(await a.client.readResponse()).toBe('+ idling');
  queuedId(await sendRaw(second.smtpPort, simpleMessage('two')));
  expect(await a.client.readResponse()).toBe('* 2 EXISTS');
  await b.client.command('f', 'STORE 1 +FLAGS (\\Flagged)');
  expect(await a.client.readResponse()).toMatch(/^\* 1 FETCH \(UID \d+ FLAGS \(\\Flagged\)\)$/);
  expect((await getJson(second, `/api/messages/${id}`, { method: 'DELETE' })).status).toBeLessThan(300);
  expect(await a.client.readResponse()).toBe('* 1 EXPUNGE');
  a.client.write('DONE\r\n');
  expect((await a.client.result('i')).tagged).toBe('i OK IDLE terminated');
});
