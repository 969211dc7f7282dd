/**
 * Scoped access (issue 16) on both WebSockets: a login that sees only w1 (token or Basic user),
 * with or without `?mailbox=w2`, hears nothing about w2 while w2 gets mail, is marked read,
 * deleted, tagged and relayed; Mailpit's stats frames count only w1. Each check ends on a fence
 * (a frame the client must get, sent after everything about w2), so "nothing arrived" is proven
 * without waiting for time to pass.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, ALL, BOB, startScopedKotak, W1, W2, type FrameRecorder, type ScopedKotak } from '../helpers/scoped-kotak.js';

let k: ScopedKotak;
const sockets: FrameRecorder[] = [];

beforeEach(async () => {
  k = await startScopedKotak();
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await k.stop();
});

async function open(...args: Parameters<ScopedKotak['socket']>): Promise<FrameRecorder> {
  const socket = await k.socket(...args);
  sockets.push(socket);
  return socket;
}

/** Frames that name a w2 message or the w2 mailbox. */
function aboutW2(frames: readonly unknown[], w2Ids: readonly string[]): unknown[] {
  return frames.filter((frame) => {
    const text = JSON.stringify(frame);
    return /"mailbox":"w2"/i.test(text) || w2Ids.some((id) => text.includes(id));
  });
}

/** What the every-mailbox token does to w2, in a way each live frame type reports; returns w2's ids. */
async function churnW2(watcher: FrameRecorder): Promise<string[]> {
  const [victim, other, relayed] = k.seeded.w2 as [string, string, string];
  const arrived = await k.send('new@w2.inbox.test', 'w2 arrival zebrasecret');
  expect((await k.call(ALL, 'PATCH', `/api/messages/${victim}`, { read: true })).status).toBe(200);
  expect((await k.call(ALL, 'PATCH', '/api/messages?mailbox=w2', { read: false })).body.updated).toBeGreaterThan(0);
  expect((await k.call(ALL, 'PUT', '/api/v1/tags', { IDs: [victim], Tags: ['w2tag'] })).status).toBe(200);
  // A rename by w2's own token: /api/live's tags:changed for w2 only.
  expect((await k.call(W2, 'PUT', '/api/v1/tags/w2tag', { Name: 'w2tag2' })).status).toBe(200);
  expect((await k.call(ALL, 'PUT', '/api/v1/messages', { IDs: [other], Read: true })).status).toBe(200);
  expect((await k.call(ALL, 'DELETE', `/api/messages/${other}`)).status).toBe(200);
  expect((await k.call(ALL, 'POST', `/api/messages/${relayed}/release`, { to: ['out@relay.test'] })).status).toBe(202);
  await watcher.next((f) => f.type === 'relay:updated' && f.data.messageId === relayed && f.data.status === 'delivered');
  expect((await k.call(ALL, 'DELETE', '/api/messages?mailbox=w2&query=subject:arrival')).body.deleted).toBe(1);
  return [...k.seeded.w2, arrived];
}

describe('/api/live with a login that sees w1', () => {
  it('hears nothing about w2, with or without ?mailbox=w2, as token or as Basic user', async () => {
    const plain = await open(W1, '/api/live');
    const askingW2 = await open(W1, '/api/live?mailbox=w2');
    const askingBoth = await open(W1, '/api/live?mailbox=w1,w2');
    const user = await open(ALICE, '/api/live');
    const leftOut = await open(BOB, '/api/live');
    const watcher = await open(ALL, '/api/live');

    const w2Ids = await churnW2(watcher);
    expect((await k.call(ALL, 'DELETE', '/api/mailboxes/w2')).status).toBe(200);
    // The watcher heard each kind of w2 frame: the churn did reach the hub.
    const heard = new Set(aboutW2(watcher.frames, w2Ids).map((f) => (f as { type: string }).type));
    expect([...heard].sort()).toEqual(['message:deleted', 'message:stored', 'message:tagged', 'message:updated', 'messages:updated', 'relay:updated', 'tags:changed']);

    // Fence 1: a w1 message, sent after everything about w2.
    const fence = await k.send('fence@w1.inbox.test', 'fence');
    for (const client of [plain, askingBoth, user]) {
      await client.next((f) => f.type === 'message:stored' && f.data.id === fence);
    }
    // Fence 2, for the clients that see no w1 either: the one frame every client gets.
    expect((await k.call(ALL, 'DELETE', '/api/messages')).status).toBe(200);
    for (const client of [plain, askingW2, askingBoth, user, leftOut]) await client.next((f) => f.type === 'messages:cleared');

    for (const client of [plain, askingW2, askingBoth, user, leftOut]) expect(aboutW2(client.frames, w2Ids)).toEqual([]);
    expect(askingW2.frames).toEqual([{ type: 'messages:cleared', data: {} }]);
    expect(leftOut.frames).toEqual([{ type: 'messages:cleared', data: {} }]);
    expect(plain.frames.map((f) => f.type)).toEqual(['message:stored', 'messages:cleared']);
  });
});

describe("Mailpit's /api/events with a login that sees w1", () => {
  it('gets no frame about a w2 message, and stats frames that count only w1', async () => {
    const events = await open(W1, '/api/events');
    const user = await open(ALICE, '/api/events');
    const watcher = await open(ALL, '/api/live');
    const everything = await open(ALL, '/api/events');
    // The greeting: w1's totals (two unread), not the six messages of all mailboxes.
    for (const client of [events, user]) {
      expect(await client.next((f) => f.Type === 'stats')).toMatchObject({ Type: 'stats', Data: { Total: 2, Unread: 2 } });
    }
    expect(await everything.next((f) => f.Type === 'stats')).toMatchObject({ Data: { Total: 6 } });

    const w2Ids = await churnW2(watcher);
    // Tag changes on w2 alone.
    expect((await k.call(ALL, 'PUT', '/api/v1/tags', { IDs: [k.seeded.w2[0]], Tags: ['again'] })).status).toBe(200);
    await everything.next((f) => f.Type === 'update' && f.Data.ID === k.seeded.w2[0] && f.Data.Tags?.[0] === 'again');
    // A tag renamed and removed by w2's own token: a refetch ("prune") for those who see w2 only.
    expect((await k.call(W2, 'PUT', '/api/v1/tags/again', { Name: 'renamed' })).status).toBe(200);
    expect((await k.call(W2, 'DELETE', '/api/v1/tags/renamed')).status).toBe(200);
    // Three: churnW2's rename too.
    await everything.next(() => everything.frames.filter((f) => f.Type === 'prune').length === 3);
    // Totals after the last change to w2 (w1 2, w2 2, default 1): a stats round ran after the churn.
    await everything.next((f) => f.Type === 'stats' && f.Data.Total === 5);

    const fence = await k.send('fence@w1.inbox.test', 'fence');
    for (const client of [events, user]) {
      await client.next((f) => f.Type === 'new' && f.Data.ID === fence);
      // Frames keep their order: before the fence, w1's clients got only the greeting's totals.
      // A stats frame each time w2 changed would say when other mailboxes get mail.
      const beforeFence = client.frames.slice(0, client.frames.findIndex((f) => f.Type === 'new' && f.Data.ID === fence));
      expect(beforeFence.filter((f) => f.Type === 'stats')).toHaveLength(1);
      // The totals after the fence: w1's three.
      await client.next((f) => f.Type === 'stats' && f.Data.Total === 3);
    }
    for (const client of [events, user]) {
      expect(aboutW2(client.frames, w2Ids)).toEqual([]);
      // Every stats frame counted w1 alone: two, then three with the fence; never w2's or default's.
      for (const frame of client.frames.filter((f) => f.Type === 'stats')) {
        expect([2, 3]).toContain(frame.Data.Total);
        expect([2, 3]).toContain(frame.Data.Unread);
      }
      expect(client.frames.filter((f) => f.Type === 'new').map((f) => f.Data.ID)).toEqual([fence]);
      expect(client.frames.filter((f) => f.Type === 'update' || f.Type === 'delete' || f.Type === 'prune')).toEqual([]);
    }
  });
});
