/**
 * Kotak's own tags API (issue 18: the web inbox edits tags through it): tag counts per scope,
 * replacing one message's tags, adding and removing tags on many, names checked as Mailpit checks
 * them, the live frames that report each change, and a scoped token that neither reads nor
 * changes another mailbox's tags. Real HTTP, SMTP and WebSocket on 127.0.0.1.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL, startScopedKotak, unknownId, W1, type ScopedKotak } from '../helpers/scoped-kotak.js';

let k: ScopedKotak;

beforeEach(async () => {
  k = await startScopedKotak();
});

afterEach(async () => {
  await k.stop();
});

const tagsOf = async (id: string): Promise<string[]> => (await k.call(ALL, 'GET', `/api/messages/${id}`)).body.tags;

describe('PUT /api/messages/{id}/tags', () => {
  it("replaces the message's tags, answers the summary with them ordered by name, and lists them in summaries", async () => {
    const [id] = k.seeded.w1;
    const put = await k.call(ALL, 'PUT', `/api/messages/${id}/tags`, { tags: ['signup', 'Alpha', '  spaced   out '] });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id, tags: ['Alpha', 'signup', 'spaced out'] });
    expect(await tagsOf(id!)).toEqual(['Alpha', 'signup', 'spaced out']);
    const list = await k.call(ALL, 'GET', '/api/messages?mailbox=w1');
    expect(list.body.messages.find((m: { id: string }) => m.id === id).tags).toEqual(['Alpha', 'signup', 'spaced out']);
    // A name differing only in case is the same tag, spelt as first stored.
    expect((await k.call(ALL, 'PUT', `/api/messages/${id}/tags`, { tags: ['alpha'] })).body.tags).toEqual(['Alpha']);
    expect((await k.call(ALL, 'PUT', `/api/messages/${id}/tags`, { tags: [] })).body.tags).toEqual([]);
  });

  it('refuses a bad name with a 400 and a JSON reason, and changes nothing', async () => {
    const [id] = k.seeded.w1;
    await k.call(ALL, 'PUT', `/api/messages/${id}/tags`, { tags: ['kept'] });
    for (const tags of [['<script>'], [''], ['   '], ['x'.repeat(101)], 'kept', [1]]) {
      const put = await k.call(ALL, 'PUT', `/api/messages/${id}/tags`, { tags });
      expect(put.status, JSON.stringify(tags)).toBe(400);
      expect(put.body.error).toMatchObject({ code: 'invalid_request', message: expect.any(String) });
    }
    expect((await k.call(ALL, 'PUT', `/api/messages/${id}/tags`, { tags: ['a'], extra: 1 })).status).toBe(400);
    expect(await tagsOf(id!)).toEqual(['kept']);
  });

  it('answers 404 for an unknown id', async () => {
    const put = await k.call(ALL, 'PUT', `/api/messages/${unknownId()}/tags`, { tags: ['x'] });
    expect(put.status).toBe(404);
  });
});

describe('POST /api/messages/tags', () => {
  it('adds and removes on each message, keeping its other tags, and counts what changed', async () => {
    const [a, b] = k.seeded.w1;
    await k.call(ALL, 'PUT', `/api/messages/${a}/tags`, { tags: ['keep', 'old'] });
    const post = await k.call(ALL, 'POST', '/api/messages/tags', { ids: [a, b, unknownId()], add: ['new'], remove: ['OLD'] });
    expect(post).toMatchObject({ status: 200, body: { updated: 2 } });
    expect(await tagsOf(a!)).toEqual(['keep', 'new']);
    expect(await tagsOf(b!)).toEqual(['new']);
    // Nothing to change: nothing counted.
    expect((await k.call(ALL, 'POST', '/api/messages/tags', { ids: [a, b], add: ['new'] })).body.updated).toBe(0);
    // A tag both added and removed ends up removed.
    expect((await k.call(ALL, 'POST', '/api/messages/tags', { ids: [b], add: ['new'], remove: ['new'] })).body.updated).toBe(1);
    expect(await tagsOf(b!)).toEqual([]);
    expect((await k.call(ALL, 'POST', '/api/messages/tags', { ids: [], add: ['x'] })).status).toBe(400);
    expect((await k.call(ALL, 'POST', '/api/messages/tags', { ids: [a], add: ['bad/name'] })).status).toBe(400);
  });
});

describe('GET /api/tags', () => {
  it('counts the messages holding each tag, by name, within ?mailbox=', async () => {
    const [a, b] = k.seeded.w1;
    const [c] = k.seeded.w2;
    await k.call(ALL, 'POST', '/api/messages/tags', { ids: [a, b, c], add: ['shared'] });
    await k.call(ALL, 'POST', '/api/messages/tags', { ids: [c], add: ['Beta'] });
    expect((await k.call(ALL, 'GET', '/api/tags')).body).toEqual({ tags: [{ name: 'Beta', count: 1 }, { name: 'shared', count: 3 }] });
    expect((await k.call(ALL, 'GET', '/api/tags?mailbox=w1')).body).toEqual({ tags: [{ name: 'shared', count: 2 }] });
    expect((await k.call(ALL, 'GET', '/api/tags?mailbox=not%20a%20name')).status).toBe(400);
  });
});

describe('a token scoped to w1', () => {
  it("neither sees nor changes w2's tags, and an id of w2 is the 404 of an unknown id", async () => {
    const [own] = k.seeded.w1;
    const [other] = k.seeded.w2;
    await k.call(ALL, 'PUT', `/api/messages/${other}/tags`, { tags: ['w2only'] });

    expect((await k.call(W1, 'GET', '/api/tags')).body.tags).toEqual([]);
    expect((await k.call(W1, 'GET', '/api/tags?mailbox=w2')).body.tags).toEqual([]);
    const absent = unknownId();
    const attack = await k.call(W1, 'PUT', `/api/messages/${other}/tags`, { tags: [] });
    const unknown = await k.call(W1, 'PUT', `/api/messages/${absent}/tags`, { tags: [] });
    expect(attack.status).toBe(404);
    expect(attack.text.split(other!).join('<id>')).toBe(unknown.text.split(absent).join('<id>'));
    expect((await k.call(W1, 'POST', '/api/messages/tags', { ids: [own, other], remove: ['w2only'], add: ['mine'] })).body.updated).toBe(1);
    expect(await tagsOf(other!)).toEqual(['w2only']);
    expect(await tagsOf(own!)).toEqual(['mine']);
  });
});

describe('live frames', () => {
  it('reports each message tagged, and a tag renamed or removed across messages, only to those who may see its mailbox', async () => {
    const [own] = k.seeded.w1;
    const [other] = k.seeded.w2;
    const scoped = await k.socket(W1, '/api/live');
    const every = await k.socket(ALL, '/api/live');
    try {
      await k.call(ALL, 'PUT', `/api/messages/${other}/tags`, { tags: ['x'] });
      await k.call(ALL, 'PUT', `/api/messages/${own}/tags`, { tags: ['y', 'X'] });
      expect(await every.next((f) => f.type === 'message:tagged' && f.data.id === other)).toEqual({ type: 'message:tagged', data: { id: other, mailbox: 'w2', tags: ['x'] } });
      // Tags as stored: 'X' is the existing tag 'x'.
      expect(await scoped.next((f) => f.type === 'message:tagged')).toEqual({ type: 'message:tagged', data: { id: own, mailbox: 'w1', tags: ['x', 'y'] } });

      // A rename through Mailpit's route by a scoped token: frames for its mailboxes only.
      expect((await k.call(W1, 'PUT', '/api/v1/tags/y', { Name: 'z' })).status).toBe(200);
      expect(await scoped.next((f) => f.type === 'tags:changed')).toEqual({ type: 'tags:changed', data: { mailbox: 'w1' } });
      expect((await k.call(ALL, 'DELETE', '/api/v1/tags/x')).status).toBe(200);
      expect(await every.next((f) => f.type === 'tags:changed' && f.data.mailbox === null)).toEqual({ type: 'tags:changed', data: { mailbox: null } });
      expect(await scoped.next((f) => f.type === 'tags:changed' && f.data.mailbox === null)).toBeTruthy();
      expect(scoped.frames.some((f) => f.data?.mailbox === 'w2')).toBe(false);
    } finally {
      scoped.close();
      every.close();
    }
  });
});
