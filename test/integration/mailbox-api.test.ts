/**
 * `?mailbox=` on Kotak's API over real HTTP: every list, search, wait, stats, delete-by-query and
 * mark-read route touches exactly the named mailboxes, an invalid name is a 400, and the wait
 * honours the mailbox both in its query and when matching messages as they arrive.
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWaitRegistry, type WaitRegistry } from '../../src/api/waiters.js';
import { createEventBus } from '../../src/events.js';
import { ALL_MAILBOXES, onlyMailboxes } from '../../src/mail/mailbox-scope.js';
import { EMPTY_QUERY, parseSearchQuery } from '../../src/mail/search-query.js';
import { createMailboxService, type MailboxService } from '../../src/mailbox/service.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { mailboxMessage, seedMailboxes, type SeededDatabase } from '../helpers/mailboxes.js';
import { sendRaw } from '../helpers/smtp-client.js';

interface Summary {
  id: string;
  mailbox: string;
  subject: string;
  read: boolean;
}

const SEED = [
  ['default', 'hello d1'],
  ['default', 'other d2'],
  ['w3', 'hello w3a'],
  ['w3', 'hello w3b'],
  ['w3', 'bye w3c'],
  ['w4', 'hello w4'],
] as const;

const INVALID_NAMES = ['', '-lead', 'a/b', 'a b', 'ümlaut', 'x'.repeat(65), 'a,'];

describe('?mailbox= on the API', () => {
  let seeded: SeededDatabase;
  let kotak: RunningKotak;

  beforeEach(async () => {
    seeded = await seedMailboxes(SEED);
    kotak = await withKotak({ db: seeded.db, maxWait: '5s' });
  });
  afterEach(async () => {
    await kotak.stop();
    seeded.remove();
  });

  async function subjects(path: string): Promise<string[]> {
    const { status, body } = await getJson(kotak, path);
    expect(status, JSON.stringify(body)).toBe(200);
    return (body.messages as Summary[]).map((m) => m.subject).sort();
  }
  const stats = async (mailbox = '') => (await getJson(kotak, `/api/stats${mailbox ? `?mailbox=${mailbox}` : ''}`)).body as { total: number; unread: number };

  it('lists exactly the named mailboxes: one, repeated, comma-separated, case-folded; without it, all', async () => {
    expect(await subjects('/api/messages?mailbox=w3')).toEqual(['bye w3c', 'hello w3a', 'hello w3b']);
    expect(await subjects('/api/messages?mailbox=w3&mailbox=w4')).toEqual(['bye w3c', 'hello w3a', 'hello w3b', 'hello w4']);
    expect(await subjects('/api/messages?mailbox=w4,default')).toEqual(['hello d1', 'hello w4', 'other d2']);
    expect(await subjects('/api/messages?mailbox=W4')).toEqual(['hello w4']);
    expect(await subjects('/api/messages?mailbox=nobody')).toEqual([]);
    expect(await subjects('/api/messages')).toHaveLength(SEED.length);
    const { body } = await getJson(kotak, '/api/messages?mailbox=w3&limit=1');
    expect(body.total).toBe(3);
    expect(body.messages[0].mailbox).toBe('w3');
  });

  it('searches within the mailboxes, and mailbox: searches by mailbox', async () => {
    expect(await subjects('/api/messages?mailbox=w3&query=hello')).toEqual(['hello w3a', 'hello w3b']);
    expect(await subjects('/api/messages?query=mailbox:w4')).toEqual(['hello w4']);
    expect(await subjects('/api/messages?query=hello%20-mailbox:w3')).toEqual(['hello d1', 'hello w4']);
    expect(await subjects('/api/messages?mailbox=w3&query=mailbox:w4')).toEqual([]);
    const bad = await getJson(kotak, '/api/messages?query=mailbox:a/b');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_query');
  });

  it('counts stats of the mailboxes', async () => {
    expect(await stats('w3')).toMatchObject({ total: 3, unread: 3 });
    expect(await stats('w3&mailbox=default')).toMatchObject({ total: 5, unread: 5 });
    expect(await stats()).toMatchObject({ total: 6, unread: 6 });
  });

  it('marks read only the mailboxes, with or without a query', async () => {
    const patch = (mailbox: string, body: object) =>
      getJson(kotak, `/api/messages?mailbox=${mailbox}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await patch('w3', { read: true, query: 'hello' })).body).toEqual({ updated: 2 });
    expect((await patch('w4', { read: true })).body).toEqual({ updated: 1 });
    expect(await stats('w3')).toMatchObject({ unread: 1 });
    expect(await stats('w4')).toMatchObject({ unread: 0 });
    expect(await stats('default')).toMatchObject({ unread: 2 });
  });

  it('DELETE ?mailbox=w3 empties exactly that mailbox; with a query, only its matches', async () => {
    const del = (params: string) => getJson(kotak, `/api/messages?${params}`, { method: 'DELETE' });
    expect((await del('mailbox=w3&query=bye')).body).toEqual({ deleted: 1 });
    expect(await subjects('/api/messages?mailbox=w3')).toEqual(['hello w3a', 'hello w3b']);
    expect((await del('mailbox=w3')).body).toEqual({ deleted: 2 });
    expect(await stats('w3')).toMatchObject({ total: 0 });
    expect(await subjects('/api/messages')).toEqual(['hello d1', 'hello w4', 'other d2']);
  });

  it('refuses an invalid mailbox name with 400 invalid_mailbox on every route, changing nothing', async () => {
    const json = { 'content-type': 'application/json' };
    for (const name of INVALID_NAMES) {
      const param = `mailbox=${encodeURIComponent(name)}`;
      const answers = [
        await getJson(kotak, `/api/messages?${param}`),
        await getJson(kotak, `/api/messages/wait?${param}&timeout=1`),
        await getJson(kotak, `/api/stats?${param}`),
        await getJson(kotak, `/api/messages?${param}`, { method: 'DELETE' }),
        await getJson(kotak, `/api/messages?mailbox=w3&${param}`, { method: 'DELETE' }),
        await getJson(kotak, `/api/messages?${param}`, { method: 'PATCH', headers: json, body: JSON.stringify({ read: true }) }),
      ];
      for (const answer of answers) {
        expect(answer.status, `${name}: ${JSON.stringify(answer.body)}`).toBe(400);
        expect(answer.body.error.code).toBe('invalid_mailbox');
      }
    }
    expect(await stats()).toMatchObject({ total: 6, unread: 6 });
  });

  it('waits within the mailboxes: stored messages of others do not count, nor do arriving ones', async () => {
    const wait = (params: string) => getJson(kotak, `/api/messages/wait?${params}`);
    // Already stored: w4's one hello, not the others'.
    const w4 = await wait('mailbox=w4&query=subject:hello&timeout=5');
    expect(w4.status).toBe(200);
    expect((w4.body.messages as Summary[]).map((m) => m.subject)).toEqual(['hello w4']);

    // Arriving (SMTP mail goes to default): the default waiter takes it, the w3 waiter does not.
    const w3Waiter = new AbortController();
    const w3Pending = fetch(`${kotak.url}/api/messages/wait?mailbox=w3&query=subject:fresh&timeout=60`, { signal: w3Waiter.signal }).catch((err: unknown) => err);
    const defaultPending = wait('mailbox=default&query=subject:fresh&timeout=5');
    await expect.poll(async () => (await getJson(kotak, '/api/stats')).body.waiters, { timeout: 5_000, interval: 10 }).toBe(2);
    await sendRaw(kotak.smtpPort, Buffer.from('From: app@example.com\r\nTo: t@example.com\r\nSubject: fresh\r\n\r\nhi\r\n'));
    const answer = await defaultPending;
    expect(answer.status).toBe(200);
    expect((answer.body.messages as Summary[]).map((m) => [m.mailbox, m.subject])).toEqual([['default', 'fresh']]);
    // Both waiters were matched against the message in the same batch: the w3 one still waits.
    expect((await getJson(kotak, '/api/stats')).body.waiters).toBe(1);
    w3Waiter.abort();
    await w3Pending;

    // A timeout lists as "recent" only messages of the mailboxes waited on.
    const timedOut = await wait('mailbox=w4&query=subject:nothing&timeout=100ms');
    expect(timedOut.status).toBe(408);
    expect((timedOut.body.recent as Summary[]).map((m) => m.mailbox)).toEqual(['w4']);
  });
});

describe('waiters with a mailbox scope (real store, bus and mailbox service)', () => {
  let store: SqliteStore;
  let service: MailboxService;
  let waiters: WaitRegistry;

  beforeAll(async () => {
    const log = pino({ level: 'silent' });
    store = await openSqliteStore(':memory:', { log });
    const bus = createEventBus((err) => {
      throw err;
    });
    service = createMailboxService({ store, bus });
    waiters = createWaitRegistry({ bus, store, log });
  });
  afterAll(async () => {
    waiters.close();
    await store.close();
  });

  const request = (mailboxes: string[], query: string) => ({
    scope: onlyMailboxes(mailboxes), query: query ? parseSearchQuery(query) : EMPTY_QUERY, queryText: query, since: null, count: 1, timeoutMs: 60_000,
  });

  it('resolves on a message of its own mailbox, after ignoring arrivals of others (decided in memory and by the database)', async () => {
    for (const query of ['subject:ping', 'ping', '']) {
      const waitA = waiters.wait(request(['a'], query));
      const waitB = waiters.wait(request(['b'], query));
      const settled: string[] = [];
      void waitA.then(() => settled.push('a'));
      const inB = await service.store(ALL_MAILBOXES, mailboxMessage('b', `ping b ${query}`));
      const gotB = await waitB;
      expect(gotB).toEqual({ kind: 'matched', messages: [inB] });
      expect(settled).toEqual([]);
      expect(waiters.size).toBe(1);
      const inA = await service.store(ALL_MAILBOXES, mailboxMessage('a', `ping a ${query}`));
      expect(await waitA).toEqual({ kind: 'matched', messages: [inA] });
      await service.clear(ALL_MAILBOXES);
    }
  });
});
