/**
 * Scoped access (issue 16) on the Mailpit and MailHog routes, attacked with a token that sees only
 * w1: w2's ids answer as unknown ids do, lists, searches, tags and info count only w1, and every
 * write (read status, tags, deletes by id, by search and of everything) stays within w1.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, ALL, BOB, startScopedKotak, unknownId, W1, type Login, type ScopedKotak } from '../helpers/scoped-kotak.js';

let k: ScopedKotak;

beforeEach(async () => {
  k = await startScopedKotak();
});

afterEach(async () => {
  await k.stop();
});

const sorted = (ids: readonly string[]): string[] => [...ids].sort();
const withoutId = (text: string, id: string): string => text.split(id).join('<id>');

/** Each message's read state and tags as the every-mailbox token sees them (Mailpit's list does not mark read). */
async function everything(): Promise<Map<string, { read: boolean; tags: string[] }>> {
  const { body } = await k.call(ALL, 'GET', '/api/v1/messages?limit=1000');
  return new Map((body.messages as { ID: string; Read: boolean; Tags: string[] }[]).map((m) => [m.ID, { read: m.Read, tags: m.Tags }]));
}

/** The w2 and default messages, unchanged: present, unread, with the tags given. */
async function expectOthersUntouched(tags: Record<string, string[]> = {}): Promise<void> {
  const all = await everything();
  for (const id of [...k.seeded.w2, ...k.seeded.default]) {
    expect(all.get(id), id).toEqual({ read: false, tags: tags[id] ?? [] });
  }
}

async function mailpitIds(login: Login, path: string) {
  const { status, body } = await k.call(login, 'GET', path);
  expect(status, path).toBe(200);
  return { body, ids: sorted((body.messages as { ID: string }[]).map((m) => m.ID)) };
}

describe('Mailpit routes with a token that sees w1', () => {
  it('lists, searches and counts only w1 (totals, tags, info)', async () => {
    const [w2Tagged] = k.seeded.w2 as [string];
    expect((await k.call(ALL, 'PUT', '/api/v1/tags', { IDs: [w2Tagged, k.seeded.default[0]], Tags: ['w2only', 'shared'] })).status).toBe(200);
    expect((await k.call(ALL, 'PUT', '/api/v1/tags', { IDs: [k.seeded.w1[0]], Tags: ['w1tag', 'shared'] })).status).toBe(200);

    const list = await mailpitIds(W1, '/api/v1/messages');
    expect(list.ids).toEqual(sorted(k.seeded.w1));
    expect(list.body).toMatchObject({ total: 2, unread: 2, count: 2, messages_count: 2, messages_unread: 2, tags: ['shared', 'w1tag'] });

    for (const query of ['zebrasecret', 'mailbox:w2', '-mailbox:w1', 'tag:w2only', 'to:w2.inbox.test', 'subject:w2']) {
      const found = await mailpitIds(W1, `/api/v1/search?query=${encodeURIComponent(query)}`);
      expect(found.ids, query).toEqual([]);
      expect(found.body, query).toMatchObject({ total: 2, unread: 2, messages_count: 0, tags: ['shared', 'w1tag'] });
    }
    for (const query of ['tag:shared', 'from:app@example.com', '-mailbox:w2']) {
      const found = await mailpitIds(W1, `/api/v1/search?query=${encodeURIComponent(query)}`);
      expect(found.ids.every((id) => k.seeded.w1.includes(id)), query).toBe(true);
    }

    expect((await k.call(W1, 'GET', '/api/v1/tags')).body).toEqual(['shared', 'w1tag']);
    const info = (await k.call(W1, 'GET', '/api/v1/info')).body;
    const w1Size = (await k.call(ALL, 'GET', '/api/stats?mailbox=w1')).body.size;
    expect(info).toMatchObject({ Messages: 2, Unread: 2, DatabaseSize: w1Size, Tags: { shared: 1, w1tag: 1 } });
    // A login that sees nothing: empty lists and zero counts, but let in.
    expect((await k.call(BOB, 'GET', '/api/v1/messages')).body).toMatchObject({ total: 0, unread: 0, messages_count: 0, messages: [], tags: [] });
    expect((await k.call(BOB, 'GET', '/api/v1/info')).body).toMatchObject({ Messages: 0, Unread: 0, DatabaseSize: 0, Tags: {} });
  });

  it('answers every one-message route for a w2 id as for an unknown id, and marks nothing read', async () => {
    const target = k.seeded.w2[0]!;
    const absent = unknownId();
    const paths = [
      (id: string) => `/api/v1/message/${id}`,
      (id: string) => `/api/v1/message/${id}/headers`,
      (id: string) => `/api/v1/message/${id}/raw`,
      (id: string) => `/api/v1/message/${id}/raw?dl=1`,
      (id: string) => `/api/v1/message/${id}/part/2`,
      (id: string) => `/view/${id}.html`,
      (id: string) => `/view/${id}.txt`,
    ];
    for (const path of paths) {
      const attack = await k.call(W1, 'GET', path(target));
      const unknown = await k.call(W1, 'GET', path(absent));
      expect(attack.status, path('…')).toBe(404);
      expect(withoutId(attack.text, target), path('…')).toBe(withoutId(unknown.text, absent));
    }
    // "latest" is w1's newest, whatever query picks it; a query only w2 matches finds nothing.
    expect((await k.call(W1, 'GET', '/api/v1/message/latest')).body.ID).toBe(k.seeded.w1[1]);
    for (const query of ['zebrasecret', 'mailbox:w2']) {
      expect((await k.call(W1, 'GET', `/api/v1/message/latest?query=${query}`)).status, query).toBe(404);
      expect((await k.call(W1, 'GET', `/view/latest.html?query=${query}`)).status, query).toBe(404);
      expect((await k.call(W1, 'GET', `/api/v1/message/latest/raw?query=${query}`)).status, query).toBe(404);
    }
    await expectOthersUntouched();
  });

  it('changes read status only within w1: by IDs, by Search, and for all', async () => {
    const w2 = k.seeded.w2;
    expect((await k.call(W1, 'PUT', '/api/v1/messages', { IDs: w2, Read: true })).status).toBe(200);
    expect((await k.call(W1, 'PUT', '/api/v1/messages', { IDs: [...w2, k.seeded.w1[0]], Read: true })).status).toBe(200);
    for (const Search of ['zebrasecret', 'mailbox:w2', '-mailbox:w1']) {
      expect((await k.call(W1, 'PUT', '/api/v1/messages', { Search, Read: true })).status, Search).toBe(200);
    }
    await expectOthersUntouched();
    expect((await k.call(W1, 'PUT', '/api/v1/messages', { Read: true })).status).toBe(200);
    await expectOthersUntouched();
    const all = await everything();
    for (const id of k.seeded.w1) expect(all.get(id)?.read, id).toBe(true);
  });

  it('sets, renames and deletes tags only on w1 messages', async () => {
    const [w2Tagged] = k.seeded.w2 as [string];
    const [w1Tagged] = k.seeded.w1 as [string];
    expect((await k.call(ALL, 'PUT', '/api/v1/tags', { IDs: [w2Tagged], Tags: ['shared', 'w2only'] })).status).toBe(200);
    expect((await k.call(ALL, 'PUT', '/api/v1/tags', { IDs: [w1Tagged], Tags: ['shared'] })).status).toBe(200);
    const w2Tags = { [w2Tagged]: ['shared', 'w2only'] };

    expect((await k.call(W1, 'PUT', '/api/v1/tags', { IDs: [w2Tagged, k.seeded.default[0]], Tags: ['hacked'] })).status).toBe(200);
    expect((await k.call(W1, 'PUT', '/api/v1/tags', { IDs: [w2Tagged], Tags: [] })).status).toBe(200);
    expect((await k.call(W1, 'PUT', '/api/v1/tags/w2only', { Name: 'renamed' })).status).toBe(200);
    expect((await k.call(W1, 'DELETE', '/api/v1/tags/w2only')).status).toBe(200);
    await expectOthersUntouched(w2Tags);

    // A tag both hold: renamed and deleted on w1's message only.
    expect((await k.call(W1, 'PUT', '/api/v1/tags/shared', { Name: 'mine' })).status).toBe(200);
    await expectOthersUntouched(w2Tags);
    expect((await everything()).get(w1Tagged)?.tags).toEqual(['mine']);
    expect((await k.call(ALL, 'PUT', '/api/v1/tags', { IDs: [w1Tagged], Tags: ['shared'] })).status).toBe(200);
    expect((await k.call(W1, 'DELETE', '/api/v1/tags/shared')).status).toBe(200);
    await expectOthersUntouched(w2Tags);
    expect((await everything()).get(w1Tagged)?.tags).toEqual([]);
    expect((await k.call(W1, 'GET', '/api/v1/tags')).body).toEqual([]);
    expect((await k.call(ALL, 'GET', '/api/v1/tags')).body).toEqual(['shared', 'w2only']);
  });

  it('deletes only w1: by w2 IDs (nothing), by search, and with no body (all of w1)', async () => {
    expect((await k.call(W1, 'DELETE', '/api/v1/messages', { IDs: [...k.seeded.w2, ...k.seeded.default] })).status).toBe(200);
    for (const query of ['zebrasecret', 'mailbox:w2', '-mailbox:w1']) {
      expect((await k.call(W1, 'DELETE', `/api/v1/search?query=${query}`)).status, query).toBe(200);
    }
    await expectOthersUntouched();
    expect(await k.idsOf('w1')).toEqual(k.seeded.w1);
    expect((await k.call(W1, 'DELETE', '/api/v1/search?query=-mailbox:w2')).status).toBe(200);
    expect(await k.idsOf('w1')).toEqual([]);
    await k.send('again@w1.inbox.test', 'again');
    expect((await k.call(W1, 'DELETE', '/api/v1/messages')).status).toBe(200);
    expect(await k.idsOf('w1')).toEqual([]);
    await expectOthersUntouched();
    // A login that sees nothing deletes nothing.
    expect((await k.call(BOB, 'DELETE', '/api/v1/messages')).status).toBe(200);
    await expectOthersUntouched();
  });
});

describe('a Basic user scoped by --http-auth-mailboxes on the compatible routes', () => {
  it('sees what its token equivalent sees; a user left out sees nothing', async () => {
    for (const path of ['/api/v1/messages', '/api/v1/search?query=zebrasecret', '/api/v1/search?query=body', '/api/v1/tags', '/api/v2/messages', '/api/v2/search?kind=containing&query=body']) {
      const asToken = await k.call(W1, 'GET', path);
      const asUser = await k.call(ALICE, 'GET', path);
      expect(asUser.status, path).toBe(200);
      expect(asUser.body, path).toEqual(asToken.body);
      const leftOut = await k.call(BOB, 'GET', path);
      expect(leftOut.status, path).toBe(200);
      if (path.startsWith('/api/v2/')) expect(leftOut.body, path).toMatchObject({ total: 0, count: 0, items: [] });
    }
    for (const login of [ALICE, BOB]) {
      expect((await k.call(login, 'GET', `/api/v1/message/${k.seeded.w2[0]}`)).status).toBe(404);
      expect((await k.call(login, 'GET', `/api/v1/messages/${k.seeded.default[0]}`)).status).toBe(404);
    }
    expect((await k.call(BOB, 'GET', `/api/v1/message/${k.seeded.w1[0]}`)).status).toBe(404);
    expect((await k.call(BOB, 'GET', '/api/v1/message/latest')).status).toBe(404);
    await expectOthersUntouched();
  });
});

describe("Mailpit's send API with a scoped login", () => {
  const message = (to: string) => ({ From: { Email: 'app@example.com' }, To: [{ Email: to }], Subject: 'injected', Text: 'x' });

  it('stores only into the mailboxes the login may see: mail that would route elsewhere is refused, and nothing is stored', async () => {
    const sent = await k.call(W1, 'POST', '/api/v1/send', message('own@w1.inbox.test'));
    expect(sent.status).toBe(200);
    expect(await k.idsOf('w1')).toEqual([...k.seeded.w1, sent.body.ID]);
    for (const to of ['victim@w2.inbox.test', 'someone@elsewhere.test', 'new@w9.inbox.test']) {
      const refused = await k.call(W1, 'POST', '/api/v1/send', message(to));
      expect(refused.status, to).toBe(403);
      // Said without naming the mailbox, which this login need not know exists.
      expect(refused.body.Error, to).toBe('a recipient routes to a mailbox this login may not see; nothing was stored');
    }
    // Copies for w1 and w2 at once: none is stored.
    expect((await k.call(W1, 'POST', '/api/v1/send', { ...message('a@w1.inbox.test'), Cc: [{ Email: 'b@w2.inbox.test' }] })).status).toBe(403);
    expect((await k.call(BOB, 'POST', '/api/v1/send', message('own@w1.inbox.test'))).status).toBe(403);
    expect(await k.idsOf('w1')).toHaveLength(3);
    expect(await k.idsOf('w2')).toEqual(k.seeded.w2);
    expect(await k.idsOf('default')).toEqual(k.seeded.default);
    expect(await k.idsOf('w9')).toEqual([]);
    // The every-mailbox token may send anywhere.
    expect((await k.call(ALL, 'POST', '/api/v1/send', message('victim@w2.inbox.test'))).status).toBe(200);
  });

  it('with --mailbox-by-smtp-user, a Basic user name chosen with a token as the password does not open another mailbox', async () => {
    await k.stop();
    k = await startScopedKotak({ mailboxBySmtpUser: true });
    const refused = await k.call({ user: 'w2', password: (W1 as { token: string }).token }, 'POST', '/api/v1/send', message('x@w1.inbox.test'));
    expect(refused.status).toBe(403);
    expect(await k.idsOf('w2')).toEqual(k.seeded.w2);
    const own = await k.call({ user: 'w1', password: (W1 as { token: string }).token }, 'POST', '/api/v1/send', message('x@elsewhere.test'));
    expect(own.status).toBe(200);
    expect((await k.call(ALL, 'GET', `/api/messages/${own.body.ID}`)).body.mailbox).toBe('w1');
  });
});

describe('MailHog routes with a token that sees w1', () => {
  it('pages and searches only w1', async () => {
    const page = (await k.call(W1, 'GET', '/api/v2/messages')).body;
    expect(page).toMatchObject({ total: 2, count: 2, start: 0 });
    expect(sorted(page.items.map((m: { ID: string }) => m.ID))).toEqual(sorted(k.seeded.w1));
    for (const [kind, query] of [['containing', 'zebrasecret'], ['to', 'w2.inbox.test'], ['to', 'elsewhere.test'], ['from', 'zebrasecret']]) {
      const found = (await k.call(W1, 'GET', `/api/v2/search?kind=${kind}&query=${query}`)).body;
      expect(found, `${kind} ${query}`).toMatchObject({ total: 0, count: 0, items: [] });
    }
    for (const [kind, query] of [['from', 'app@example.com'], ['to', 'inbox.test'], ['containing', 'body']]) {
      const found = (await k.call(W1, 'GET', `/api/v2/search?kind=${kind}&query=${query}`)).body;
      expect(found.total, `${kind} ${query}`).toBe(2);
      expect(sorted(found.items.map((m: { ID: string }) => m.ID)), `${kind} ${query}`).toEqual(sorted(k.seeded.w1));
    }
    // Offsets past w1's messages do not run into w2's.
    expect((await k.call(W1, 'GET', '/api/v2/messages?start=2&limit=10')).body).toMatchObject({ total: 2, count: 0, items: [] });
  });

  it('answers a w2 id as an unknown id, and deletes only w1', async () => {
    const target = k.seeded.w2[0]!;
    const absent = unknownId();
    for (const [method, path] of [
      ['GET', (id: string) => `/api/v1/messages/${id}`],
      ['GET', (id: string) => `/api/v1/messages/${id}/download`],
      ['GET', (id: string) => `/api/v1/messages/${id}/mime/part/1/download`],
      ['DELETE', (id: string) => `/api/v1/messages/${id}`],
    ] as const) {
      const attack = await k.call(W1, method, path(target));
      const unknown = await k.call(W1, method, path(absent));
      expect(attack.status, `${method} ${path('…')}`).toBe(404);
      expect(withoutId(attack.text, target), `${method} ${path('…')}`).toBe(withoutId(unknown.text, absent));
    }
    await expectOthersUntouched();
    expect((await k.call(W1, 'DELETE', `/api/v1/messages/${k.seeded.w1[0]}`)).status).toBe(200);
    // MailHog's delete-all: no body.
    const res = await fetch(`${k.kotak.url}/api/v1/messages`, { method: 'DELETE', headers: { Authorization: `Bearer ${(W1 as { token: string }).token}` } });
    expect(res.status).toBe(200);
    expect(await k.idsOf('w1')).toEqual([]);
    expect(await k.idsOf('w2')).toEqual(k.seeded.w2);
    expect(await k.idsOf('default')).toEqual(k.seeded.default);
  });
});
