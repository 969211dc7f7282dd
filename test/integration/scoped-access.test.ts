/**
 * Scoped access (issue 16) on Kotak's own API, attacked with a token that sees only w1: message
 * ids of w2, `?mailbox=`, search operators, cursors, the wait API, stats, bulk writes and
 * mailbox deletes never reach w2 (or default), and say no more than an unknown id would. Basic
 * users scoped by --http-auth-mailboxes see what their token equivalents see; a bad grant file
 * stops Kotak at start. Real HTTP and SMTP on 127.0.0.1; see also scoped-access-live.test.ts and
 * scoped-access-compat.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runKotak } from '../helpers/child.js';
import { ALICE, ALL, BOB, CAROL, startScopedKotak, unknownId, W1, W1_TOKEN, W2_TOKEN, ALL_TOKEN, type Login, type ScopedKotak } from '../helpers/scoped-kotak.js';

let k: ScopedKotak;

beforeEach(async () => {
  k = await startScopedKotak();
});

afterEach(async () => {
  await k.stop();
});

/** The error a caller gets, with the id it asked about replaced, to compare two answers. */
const withoutId = (text: string, id: string): string => text.split(id).join('<id>');

/** What the every-mailbox token sees of a message: to prove an attack left it as it was. */
async function state(id: string) {
  const { status, body } = await k.call(ALL, 'GET', `/api/messages/${id}`);
  const raw = await k.call(ALL, 'GET', `/api/messages/${id}/raw`);
  return { status, read: body?.read, mailbox: body?.mailbox, raw: raw.text };
}

async function listIds(login: Login, query = ''): Promise<{ status: number; total: number; ids: string[] }> {
  const { status, body } = await k.call(login, 'GET', `/api/messages${query}`);
  return { status, total: body.total, ids: (body.messages ?? []).map((m: { id: string }) => m.id) };
}

const sorted = (ids: readonly string[]): string[] => [...ids].sort();

describe('a token scoped to w1, on message ids of w2', () => {
  it('gets the 404 an unknown id gets on every one-message route, and the w2 message is untouched', async () => {
    const target = k.seeded.w2[0]!;
    // w2's message has relay jobs, so that its deliveries are something to hide.
    expect((await k.call(ALL, 'POST', `/api/messages/${target}/release`, { to: ['out@relay.test'] })).status).toBe(202);
    const before = await state(target);
    expect(before).toMatchObject({ status: 200, read: false, mailbox: 'w2' });
    const part = (await k.call(ALL, 'GET', `/api/messages/${target}`)).body.attachments[0].id as string;
    const absent = unknownId();

    const probes: [method: string, path: (id: string) => string, body?: unknown][] = [
      ['GET', (id) => `/api/messages/${id}`],
      ['GET', (id) => `/api/messages/${id}/raw`],
      ['GET', (id) => `/api/messages/${id}/html`],
      ['GET', (id) => `/api/messages/${id}/html?remote=1`],
      ['GET', (id) => `/api/messages/${id}/parts/${part}`],
      ['PATCH', (id) => `/api/messages/${id}`, { read: true }],
      ['PUT', (id) => `/api/messages/${id}/tags`, { tags: ['taken'] }],
      ['POST', (id) => `/api/messages/${id}/release`, { to: ['out@relay.test'] }],
      ['POST', (id) => `/api/messages/${id}/release`],
      ['DELETE', (id) => `/api/messages/${id}`],
    ];
    for (const [method, path, body] of probes) {
      const attack = await k.call(W1, method, path(target), body);
      const unknown = await k.call(W1, method, path(absent), body);
      expect(attack.status, `${method} ${path('…')}`).toBe(404);
      expect(withoutId(attack.text, target), `${method} ${path('…')}`).toBe(withoutId(unknown.text, absent));
    }
    // Deliveries of an id one may not see are those of an unknown id: none.
    const deliveries = await k.call(W1, 'GET', `/api/messages/${target}/deliveries`);
    expect(deliveries).toMatchObject({ status: 200, body: { deliveries: [] } });
    expect((await k.call(ALL, 'GET', `/api/messages/${target}/deliveries`)).body.deliveries).toHaveLength(1);
    // Nor does the queue show w2's jobs.
    expect((await k.call(W1, 'GET', '/api/relay/queue')).body.jobs).toEqual([]);
    expect((await k.call(ALL, 'GET', '/api/relay/queue')).body.jobs.map((j: { messageId: string }) => j.messageId)).toEqual([target]);

    expect(await state(target)).toEqual(before);
    expect(await k.idsOf('w2')).toEqual(k.seeded.w2);
  });
});

describe('a token scoped to w1, on lists, search, stats and mailboxes', () => {
  it('never lists or counts a message of another mailbox, whatever ?mailbox= or search it uses', async () => {
    const w1 = sorted(k.seeded.w1);
    const own = await listIds(W1);
    expect(own).toEqual({ status: 200, total: 2, ids: expect.any(Array) });
    expect(sorted(own.ids)).toEqual(w1);

    const nothing = { status: 200, total: 0, ids: [] };
    for (const query of [
      '?mailbox=w2', '?mailbox=W2', '?mailbox=default', '?mailbox=w2&mailbox=default',
      '?query=mailbox:w2', '?query=-mailbox:w1', '?query=zebrasecret', '?query=%22zebrasecret%22',
      '?query=subject:zebrasecret', '?query=mailbox:w2%20-mailbox:w1', '?query=OR%20mailbox:w2',
      '?query=to:w2.inbox.test', '?query=mailbox:w1%20mailbox:w2', '?mailbox=w1&query=mailbox:w2',
    ]) {
      expect(await listIds(W1, query), query).toEqual(nothing);
    }
    for (const query of ['?mailbox=w1,w2', '?mailbox=w1&mailbox=w2', '?mailbox=w2,w1,default', '?query=-mailbox:w2', '?query=-zebrasecret', '?query=to:inbox.test']) {
      const page = await listIds(W1, query);
      expect(page.total, query).toBe(2);
      expect(sorted(page.ids), query).toEqual(w1);
    }
  });

  it('pages within w1 with cursors taken from the every-mailbox listing (cursor= and after=)', async () => {
    const cursors: string[] = [];
    let cursor: string | null = null;
    do {
      const { body } = await k.call(ALL, 'GET', `/api/messages?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = body.nextCursor as string | null;
      if (cursor) cursors.push(cursor);
    } while (cursor);
    expect(cursors.length).toBe(5); // six messages, one a page
    const w1 = new Set(k.seeded.w1);
    for (const c of cursors) {
      for (const param of ['cursor', 'after']) {
        for (const limit of [1, 100]) {
          const { status, body } = await k.call(W1, 'GET', `/api/messages?${param}=${c}&limit=${limit}`);
          expect(status).toBe(200);
          expect(body.total).toBe(2);
          for (const m of body.messages as { id: string; mailbox: string }[]) {
            expect(w1.has(m.id), `${param}=${c}`).toBe(true);
            expect(m.mailbox).toBe('w1');
          }
          // A cursor handed back leads only to w1's messages too.
          for (const next of [body.nextCursor, body.prevCursor].filter(Boolean) as string[]) {
            const followed = await k.call(W1, 'GET', `/api/messages?cursor=${next}&limit=100`);
            expect((followed.body.messages as { mailbox: string }[]).every((m) => m.mailbox === 'w1')).toBe(true);
          }
        }
      }
    }
  });

  it('counts only w1 in stats and lists only w1 among the mailboxes', async () => {
    const own = (await k.call(ALL, 'GET', '/api/stats?mailbox=w1')).body;
    const stats = (await k.call(W1, 'GET', '/api/stats')).body;
    expect(stats).toMatchObject({ total: 2, unread: 2, size: own.size });
    for (const query of ['?mailbox=w2', '?mailbox=default', '?mailbox=w2,default']) {
      expect((await k.call(W1, 'GET', `/api/stats${query}`)).body, query).toMatchObject({ total: 0, unread: 0, size: 0 });
    }
    expect((await k.call(W1, 'GET', '/api/stats?mailbox=w1,w2')).body).toMatchObject({ total: 2, size: own.size });
    const boxes = (await k.call(W1, 'GET', '/api/mailboxes')).body.mailboxes;
    expect(boxes).toEqual([{ name: 'w1', total: 2, unread: 2, size: own.size }]);
  });

  it('waits only for w1: a w2 message arriving while it waits is never returned', async () => {
    const waiting = k.call(W1, 'GET', '/api/messages/wait?query=subject:arrival&timeout=30');
    const also = k.call(W1, 'GET', '/api/messages/wait?query=subject:arrival&mailbox=w1,w2&timeout=30');
    // A full-text term: decided by the database, not in memory.
    const fullText = k.call(W1, 'GET', '/api/messages/wait?query=arrival&timeout=30');
    for (const pending of [waiting, also, fullText]) pending.catch(() => undefined);
    // Every wait registered (the every-mailbox token counts every waiter) before anything is sent.
    while ((await k.call(ALL, 'GET', '/api/stats')).body.waiters < 3) await new Promise((r) => setImmediate(r));
    const w2 = await k.send('late@w2.inbox.test', 'arrival for w2');
    const w1 = await k.send('late@w1.inbox.test', 'arrival for w1');
    for (const result of [await waiting, await also, await fullText]) {
      expect(result.status).toBe(200);
      expect(result.body.messages.map((m: { id: string }) => m.id)).toEqual([w1]);
    }
    expect(w2).not.toBe(w1);
    // Already stored w2 mail is never "found" either; the timeout answer's recent messages are w1's.
    const timedOut = await k.call(W1, 'GET', '/api/messages/wait?query=zebrasecret&timeout=0.2');
    expect(timedOut.status).toBe(408);
    expect(timedOut.body.messages).toEqual([]);
    const w1Ids = new Set([...k.seeded.w1, w1]);
    expect(timedOut.body.recent.every((m: { id: string }) => w1Ids.has(m.id))).toBe(true);
    const asked = await k.call(W1, 'GET', '/api/messages/wait?mailbox=w2&timeout=0.2');
    expect(asked.status).toBe(408);
    expect(asked.body).toMatchObject({ matched: 0, messages: [], recent: [] });
  });

  it('does not count waiters of other mailboxes in its stats', async () => {
    const waiting = k.call(ALL, 'GET', '/api/messages/wait?mailbox=w2&query=subject:never&timeout=30');
    // Should an assertion below fail, the wait is cut short by stop(): not an error of its own.
    waiting.catch(() => undefined);
    while ((await k.call(ALL, 'GET', '/api/stats')).body.waiters < 1) await new Promise((r) => setImmediate(r));
    expect((await k.call(W1, 'GET', '/api/stats')).body.waiters).toBe(0);
    expect((await k.call(ALICE, 'GET', '/api/stats')).body.waiters).toBe(0);
    expect((await k.call({ token: W2_TOKEN }, 'GET', '/api/stats')).body.waiters).toBe(1);
    await k.send('x@w2.inbox.test', 'never');
    expect((await waiting).status).toBe(200);
  });
});

describe('a token scoped to w1, on bulk writes', () => {
  it('marks read only w1, whatever ?mailbox= or query it gives', async () => {
    for (const [query, body] of [
      ['?mailbox=w2', { read: true }],
      ['?mailbox=default', { read: true }],
      ['', { read: true, query: 'mailbox:w2' }],
      ['', { read: true, query: 'zebrasecret' }],
      ['', { read: true, query: '-mailbox:w1' }],
    ] as const) {
      const res = await k.call(W1, 'PATCH', `/api/messages${query}`, body);
      expect(res, `${query} ${JSON.stringify(body)}`).toMatchObject({ status: 200, body: { updated: 0 } });
    }
    expect(await k.call(W1, 'PATCH', '/api/messages?mailbox=w1,w2', { read: true })).toMatchObject({ status: 200, body: { updated: 2 } });
    expect(await k.call(W1, 'PATCH', '/api/messages', { read: false })).toMatchObject({ status: 200, body: { updated: 2 } });
    expect(await k.call(W1, 'PATCH', '/api/messages', { read: true })).toMatchObject({ status: 200, body: { updated: 2 } });
    for (const id of [...k.seeded.w2, ...k.seeded.default]) expect((await state(id)).read, id).toBe(false);
    expect((await k.call(ALL, 'GET', '/api/stats?mailbox=w2,default')).body).toMatchObject({ total: 4, unread: 4 });
  });

  it('deletes by query and deletes all only within w1; w2 and default are untouched', async () => {
    for (const query of ['?mailbox=w2', '?mailbox=default', '?mailbox=w2,default', '?query=zebrasecret', '?query=mailbox:w2', '?query=-mailbox:w1', '?mailbox=w1&query=zebrasecret']) {
      expect(await k.call(W1, 'DELETE', `/api/messages${query}`), query).toMatchObject({ status: 200, body: { deleted: 0 } });
    }
    expect(await k.call(W1, 'DELETE', '/api/messages?query=-mailbox:w2%20subject:first')).toMatchObject({ status: 200, body: { deleted: 1 } });
    expect(await k.call(W1, 'DELETE', '/api/messages')).toMatchObject({ status: 200, body: { deleted: 1 } });
    expect(await k.idsOf('w1')).toEqual([]);
    expect(await k.idsOf('w2')).toEqual(k.seeded.w2);
    expect(await k.idsOf('default')).toEqual(k.seeded.default);
  });

  it('cannot delete another mailbox: DELETE /api/mailboxes/w2 is the 404 of a mailbox that does not exist', async () => {
    for (const name of ['w2', 'W2', 'default']) {
      const attack = await k.call(W1, 'DELETE', `/api/mailboxes/${name}`);
      const unknown = await k.call(W1, 'DELETE', '/api/mailboxes/no-such-box');
      expect(attack.status, name).toBe(404);
      expect(attack.text.replace(name.toLowerCase(), '<name>'), name).toBe(unknown.text.replace('no-such-box', '<name>'));
    }
    expect(await k.idsOf('w2')).toEqual(k.seeded.w2);
    expect(await k.idsOf('default')).toEqual(k.seeded.default);
    expect((await k.call(W1, 'DELETE', '/api/mailboxes/w1')).body).toEqual({ deleted: 2 });
    expect((await k.call(ALL, 'GET', '/api/mailboxes')).body.mailboxes.map((m: { name: string; total: number }) => [m.name, m.total])).toEqual([
      ['default', 1], ['w2', 3],
    ]);
  });
});

describe('HTTP Basic users scoped by --http-auth-mailboxes', () => {
  it('a user given w1 sees what the w1 token sees', async () => {
    for (const path of ['/api/messages', '/api/messages?mailbox=w2', '/api/messages?query=zebrasecret', '/api/stats', '/api/mailboxes', '/api/relay/queue']) {
      const asToken = await k.call(W1, 'GET', path);
      const asUser = await k.call(ALICE, 'GET', path);
      expect(asUser.status, path).toBe(200);
      expect(asUser.body, path).toEqual(asToken.body);
    }
    const target = k.seeded.w2[1]!;
    expect((await k.call(ALICE, 'GET', `/api/messages/${target}`)).status).toBe(404);
    expect((await k.call(ALICE, 'DELETE', `/api/messages/${target}`)).status).toBe(404);
    expect(await k.call(ALICE, 'DELETE', '/api/messages')).toMatchObject({ status: 200, body: { deleted: 2 } });
    expect(await k.idsOf('w2')).toEqual(k.seeded.w2);
    expect(await k.idsOf('default')).toEqual(k.seeded.default);
  });

  it('a user given every mailbox sees them all; a user left out of the file is let in and sees nothing', async () => {
    expect((await listIds(CAROL)).total).toBe(6);
    for (const path of ['/api/messages', '/api/messages?mailbox=w1', '/api/messages?query=zebrasecret']) {
      expect(await k.call(BOB, 'GET', path), path).toMatchObject({ status: 200, body: { total: 0, messages: [] } });
    }
    expect((await k.call(BOB, 'GET', '/api/stats')).body).toMatchObject({ total: 0, unread: 0, size: 0 });
    expect((await k.call(BOB, 'GET', '/api/mailboxes')).body).toEqual({ mailboxes: [] });
    for (const id of [k.seeded.w1[0]!, k.seeded.default[0]!]) {
      expect((await k.call(BOB, 'GET', `/api/messages/${id}`)).status).toBe(404);
      expect((await k.call(BOB, 'PATCH', `/api/messages/${id}`, { read: true })).status).toBe(404);
    }
    expect(await k.call(BOB, 'DELETE', '/api/messages')).toMatchObject({ status: 200, body: { deleted: 0 } });
    expect(await k.call(BOB, 'PATCH', '/api/messages', { read: true })).toMatchObject({ status: 200, body: { updated: 0 } });
    expect((await k.call(BOB, 'DELETE', '/api/mailboxes/default')).status).toBe(404);
    expect((await listIds(ALL)).total).toBe(6);
    expect((await k.call(ALL, 'GET', '/api/stats')).body.unread).toBe(6);
    // A wrong password is still refused.
    expect((await k.call({ user: 'bob', password: 'wrong' }, 'GET', '/api/messages')).status).toBe(401);
  });

  it('a token as the Basic password gets the token\'s scope, whatever the user name', async () => {
    const asW2 = await listIds({ user: 'anyone', password: W2_TOKEN });
    expect(sorted(asW2.ids)).toEqual(sorted(k.seeded.w2));
    // A scoped user with a token: the token's mailboxes, not the user's.
    expect(sorted((await listIds({ user: 'alice', password: W2_TOKEN })).ids)).toEqual(sorted(k.seeded.w2));
    expect((await listIds({ user: 'bob', password: W1_TOKEN })).total).toBe(2);
    expect((await listIds({ user: 'alice', password: ALL_TOKEN })).total).toBe(6);
  });
});

describe('grant files that cannot be read right stop Kotak at start', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kotak-grants-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const base = ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:'];

  it('a token file naming a bad mailbox: one line naming the file and line', async () => {
    const tokens = join(dir, 'tokens');
    await writeFile(tokens, `# tokens\n${W1_TOKEN} w1\n${W2_TOKEN} w1,Bad/Name\n`);
    const { code, stdout, stderr } = await runKotak([...base, '--http-token-file', tokens]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^kotak: could not start: .*${tokens}:3: "bad/name" is not a mailbox name`, 'i'));
    // The token is never echoed.
    expect(stderr).not.toContain(W2_TOKEN);
  });

  it('--http-auth-mailboxes without --http-auth, and a user line without mailboxes', async () => {
    const users = join(dir, 'user-mailboxes');
    await writeFile(users, 'alice w1\n');
    const without = await runKotak([...base, '--http-auth-mailboxes', users]);
    expect(without.code).toBe(1);
    expect(without.stderr.trim().split('\n')).toEqual(['kotak: could not start: --http-auth-mailboxes names the mailboxes of --http-auth users: set --http-auth too']);

    const htpasswd = join(dir, 'users.htpasswd');
    await writeFile(htpasswd, 'alice:{PLAIN}secret\n');
    await writeFile(users, 'alice w1\n\ncarol\n');
    const bare = await runKotak([...base, '--http-auth', htpasswd, '--http-auth-mailboxes', users]);
    expect(bare.code).toBe(1);
    const lines = bare.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${users}:3: say which mailboxes user "carol" may see`);
  });
});
