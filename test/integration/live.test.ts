/** The /api/live WebSocket: every change is pushed after its commit, with the ids the API uses. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, LiveClient, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

describe('live WebSocket', () => {
  let kotak: RunningKotak;
  let live: LiveClient;
  beforeAll(async () => {
    kotak = await withKotak();
    live = await LiveClient.connect(kotak);
  });
  afterAll(async () => {
    live.close();
    await kotak.stop();
  });

  it('pushes message:stored for each message, with the id from the SMTP reply, readable at once', async () => {
    const t = transport(kotak, { pool: true, maxConnections: 3 });
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: `live ${i}`, text: 'x' })),
    );
    t.close();
    for (const [i, info] of replies.entries()) {
      const id = queuedId(info.response);
      const frame = await live.next('message:stored', (f) => f.data.id === id);
      expect(frame.data.subject).toBe(`live ${i}`);
      expect(frame.data).toMatchObject({ read: false, to: [{ address: 'b@example.com' }] });
    }
    // A frame is only sent after the commit: reading the last announced message back succeeds.
    const last = live.frames.filter((f) => f.type === 'message:stored').at(-1)!;
    expect((await getJson(kotak, `/api/messages/${(last.data as { id: string }).id}`)).status).toBe(200);
  });

  it('pushes message:updated, message:deleted and messages:cleared', async () => {
    const info = await transport(kotak).sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'to change', text: 'x' });
    const id = queuedId(info.response);
    await getJson(kotak, `/api/messages/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"read":true}' });
    expect((await live.next('message:updated', (f) => f.data.id === id)).data).toEqual({ id, mailbox: 'default', read: true });
    await getJson(kotak, `/api/messages/${id}`, { method: 'DELETE' });
    expect((await live.next('message:deleted', (f) => f.data.ids.includes(id))).data).toEqual({ mailbox: 'default', ids: [id] });
    await getJson(kotak, '/api/messages', { method: 'DELETE' });
    expect((await live.next('messages:cleared')).data).toEqual({});
  });

  it('answers the handshake on /api/live with 101', async () => {
    expect(await handshake(kotak, '/api/live')).toEqual({ status: 101 });
  });

  it('refuses WebSocket upgrades on other paths with 404, before any handshake', async () => {
    expect(await handshake(kotak, '/api/elsewhere')).toEqual({ status: 404 });
  });
});

/** A handshake is answered within this; a server that never answers fails the test this soon. */
const HANDSHAKE_TIMEOUT_MS = 5000;

/**
 * The status the server answered a WebSocket handshake with: 101 when it upgraded, the HTTP status
 * when it refused (ws's 'unexpected-response'). Anything else (a dropped connection, no answer
 * within HANDSHAKE_TIMEOUT_MS) rejects with what happened, so only the expected answer passes.
 */
async function handshake(kotak: RunningKotak, path: string): Promise<{ status: number }> {
  const WebSocket = (await import('ws')).default;
  const ws = new WebSocket(`${kotak.url.replace(/^http/, 'ws')}${path}`, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
  return new Promise((resolve, reject) => {
    ws.once('upgrade', (response) => {
      ws.once('open', () => ws.close());
      resolve({ status: response.statusCode ?? 0 });
    });
    ws.once('unexpected-response', (request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      request.destroy();
    });
    ws.once('error', (err) => reject(new Error(`the handshake for ${path} failed: ${err.message}`)));
  });
}
