/** Retention limits prune in the background and announce what they deleted. */
import { describe, expect, it } from 'vitest';
import { getJson, LiveClient, transport, withKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

describe('retention', () => {
  it('--max-messages keeps only the newest N', async () => {
    const kotak = await withKotak({ maxMessages: 5 });
    const live = await LiveClient.connect(kotak);
    try {
      const t = transport(kotak, { pool: true });
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push(queuedId((await t.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: `n${i}`, text: 'x' })).response));
      t.close();
      // Wait for the pruning announcements covering the three oldest, then check what is left.
      const pruned = new Set<string>();
      while (![0, 1, 2].every((i) => pruned.has(ids[i]!))) {
        const frame = await live.next('message:deleted', (f) => f.data.ids.some((id) => !pruned.has(id)));
        for (const id of frame.data.ids) pruned.add(id);
      }
      const { body } = await getJson(kotak, '/api/messages');
      expect(body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(3).reverse());
    } finally {
      live.close();
      await kotak.stop();
    }
  });

  it('--max-age deletes messages older than the limit', async () => {
    const kotak = await withKotak({ maxAge: '1s' });
    const live = await LiveClient.connect(kotak);
    try {
      const id = queuedId((await transport(kotak).sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'old', text: 'x' })).response);
      expect((await getJson(kotak, `/api/messages/${id}`)).status).toBe(200);
      await live.next('message:deleted', (f) => f.data.ids.includes(id));
      expect((await getJson(kotak, `/api/messages/${id}`)).status).toBe(404);
    } finally {
      live.close();
      await kotak.stop();
    }
  });
});
