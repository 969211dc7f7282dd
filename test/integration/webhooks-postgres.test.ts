/**
 * Webhooks with a PostgreSQL --db (one node; two nodes sharing the outbox are tested apart): the
 * same deliveries, in order, with the other events, and what was pending delivered after a restart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

let server: RunningPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server.stop());

const running: RunningKotak[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((k) => k.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function start(db: string, webhook: string, extra: Record<string, string> = {}): Promise<RunningKotak> {
  const k = await withKotak({ db, webhook, ...extra });
  running.push(k);
  return k;
}

async function send(k: RunningKotak, subject: string): Promise<string> {
  const info = await transport(k).sendMail({ from: 'app@example.test', to: 'alice@example.test', subject, text: subject });
  return /queued as (\S+)/.exec(info.response)![1]!;
}

describe('webhooks on PostgreSQL', () => {
  it('deliver new messages in order and a delete, each once', async () => {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    const k = await start(await server.createDatabase('webhooks_order'), r.url, { webhookEvents: 'message:stored,message:deleted' });
    const ids = [await send(k, 'First'), await send(k, 'Second'), await send(k, 'Third')];
    await getJson(k, `/api/messages/${ids[0]}`, { method: 'DELETE' });
    await r.waitFor((got) => got.length >= 4);
    expect(r.received.map((g) => [g.body.type, g.body.data.id ?? g.body.data.ids[0]])).toEqual([
      ['message:stored', ids[0]], ['message:stored', ids[1]], ['message:stored', ids[2]], ['message:deleted', ids[0]],
    ]);
    expect(new Set(r.received.map((g) => g.body.id)).size).toBe(4);
  });

  it('deliver after a restart what was still pending', async () => {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    r.answerWith(503);
    const db = await server.createDatabase('webhooks_restart');
    const first = await start(db, r.url);
    const ids = [await send(first, 'Pending 1'), await send(first, 'Pending 2')];
    await r.waitFor((got) => got.length >= 1);
    await first.stop();
    r.answerWith(200);
    await start(db, r.url);
    await r.waitFor(() => r.uniqueBodies().length >= 2);
    expect(r.uniqueBodies().map((b) => b.data.id)).toEqual(ids);
  });
});
