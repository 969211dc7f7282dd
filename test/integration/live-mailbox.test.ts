/**
 * /api/live?mailbox=NAME over a real WebSocket: a client hears only the frames of its mailboxes
 * (every frame of a mailbox carries it), `messages:cleared` reaches everyone, and a bad name is
 * refused at the handshake with 400 invalid_mailbox.
 */
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LiveFrame } from '../../src/live/protocol.js';
import { getJson, LiveClient, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { seedMailboxes, type SeededDatabase } from '../helpers/mailboxes.js';
import { sendRaw } from '../helpers/smtp-client.js';

let seeded: SeededDatabase;
let kotak: RunningKotak;

beforeEach(async () => {
  seeded = await seedMailboxes([
    ['default', 'd1'],
    ['w3', 'w3a'],
    ['w3', 'w3b'],
    ['w4', 'w4a'],
  ]);
  kotak = await withKotak({ db: seeded.db });
});
afterEach(async () => {
  await kotak.stop();
  seeded.remove();
});

/** A frame as `type:mailbox` (just `type` for frames of no mailbox), for comparing what each client heard. */
function label(frame: LiveFrame): string {
  return 'mailbox' in frame.data ? `${frame.type}:${frame.data.mailbox}` : frame.type;
}

describe('/api/live?mailbox=', () => {
  it('sends each client only the frames of its mailboxes, and messages:cleared to all', async () => {
    const clients = {
      all: await LiveClient.connect(kotak),
      w3: await LiveClient.connect(kotak, '?mailbox=w3'),
      w3w4: await LiveClient.connect(kotak, '?mailbox=w3&mailbox=W4'),
      comma: await LiveClient.connect(kotak, '?mailbox=w4,default'),
    };
    const w3a = seeded.summaries[1]!.id;
    const json = { 'content-type': 'application/json' };

    await sendRaw(kotak.smtpPort, Buffer.from('From: app@example.com\r\nTo: t@example.com\r\nSubject: fresh\r\n\r\nhi\r\n'));
    expect((await getJson(kotak, `/api/messages/${w3a}`, { method: 'PATCH', headers: json, body: JSON.stringify({ read: true }) })).status).toBe(200);
    expect((await getJson(kotak, '/api/messages', { method: 'PATCH', headers: json, body: JSON.stringify({ read: true }) })).body).toEqual({ updated: 4 });
    expect((await getJson(kotak, '/api/messages?mailbox=w4', { method: 'DELETE' })).body).toEqual({ deleted: 1 });
    expect((await getJson(kotak, '/api/messages?query=subject:w3b', { method: 'DELETE' })).body).toEqual({ deleted: 1 });
    expect((await getJson(kotak, '/api/messages', { method: 'DELETE' })).body).toEqual({ deleted: 3 });
    // Frames of one socket arrive in order: once a client has the clear, it has everything before it.
    await Promise.all(Object.values(clients).map((client) => client.next('messages:cleared')));

    const heard = (client: LiveClient) => client.frames.map(label).sort();
    expect(heard(clients.all)).toEqual([
      'message:deleted:w3', 'message:deleted:w4', 'message:stored:default', 'message:updated:w3',
      'messages:cleared', 'messages:updated:default', 'messages:updated:w3', 'messages:updated:w4',
    ]);
    expect(heard(clients.w3)).toEqual(['message:deleted:w3', 'message:updated:w3', 'messages:cleared', 'messages:updated:w3']);
    expect(heard(clients.w3w4)).toEqual([
      'message:deleted:w3', 'message:deleted:w4', 'message:updated:w3', 'messages:cleared', 'messages:updated:w3', 'messages:updated:w4',
    ]);
    expect(heard(clients.comma)).toEqual([
      'message:deleted:w4', 'message:stored:default', 'messages:cleared', 'messages:updated:default', 'messages:updated:w4',
    ]);
    expect(clients.w3.frames.find((f) => f.type === 'message:updated')?.data).toEqual({ id: w3a, mailbox: 'w3', read: true });
    for (const client of Object.values(clients)) client.ws.close();
  });

  it('refuses a handshake with an invalid mailbox name: 400 invalid_mailbox', async () => {
    for (const bad of ['a/b', '', '-x', 'w3,']) {
      const ws = new WebSocket(`${kotak.url.replace(/^http/, 'ws')}/api/live?mailbox=${encodeURIComponent(bad)}`);
      const refusal = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        ws.on('unexpected-response', (_request, response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        ws.on('open', () => reject(new Error(`opened with ?mailbox=${bad}`)));
        ws.on('error', () => undefined);
      });
      expect(refusal.status, bad).toBe(400);
      expect(JSON.parse(refusal.body).error.code).toBe('invalid_mailbox');
    }
  });
});
