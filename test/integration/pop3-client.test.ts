/** POP3 through a real client library (node-pop3), as a test suite reading its mail would use it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import Pop3Command from 'node-pop3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, LiveClient, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { simpleMessage } from '../helpers/seed.js';
import { sendInOrder } from '../helpers/smtp-client.js';

describe('POP3 with node-pop3', () => {
  let kotak: RunningKotak;
  let ids: string[];
  let raws: Buffer[];
  beforeAll(async () => {
    kotak = await withKotak({ pop3: '127.0.0.1:0', pop3Auth: 'any' });
    raws = [simpleMessage('one', 'First body.'), simpleMessage('two', 'Second body.\r\nLine two.'), simpleMessage('three', 'Third body.')];
    ids = await sendInOrder(kotak.smtpPort, raws);
  });
  afterAll(() => kotak.stop());

  const client = () => new Pop3Command({ host: '127.0.0.1', port: kotak.pop3Port!, user: 'tester', password: 'secret', timeout: 10_000 });

  it('reads STAT, LIST, UIDL, RETR and TOP', async () => {
    const pop3 = client();
    try {
      const total = raws.reduce((n, raw) => n + raw.length, 0);
      expect(await pop3.STAT()).toBe(`3 ${total}`);
      expect(await pop3.LIST()).toEqual(raws.map((raw, i) => [String(i + 1), String(raw.length)]));
      expect(await pop3.LIST(2)).toEqual(['2', String(raws[1]!.length)]);
      expect(await pop3.UIDL()).toEqual(ids.map((id, i) => [String(i + 1), id]));
      expect(await pop3.UIDL(3)).toEqual(['3', ids[2]]);
      // node-pop3 hands back the body without its final CRLF (it strips "\r\n.\r\n" as one).
      expect(await pop3.RETR(2)).toBe(raws[1]!.toString().slice(0, -2));
      const top = await pop3.TOP(2, 1);
      expect(top).toContain('Subject: two');
      expect(top).toMatch(/\r\n\r\nSecond body\.$/);
      await pop3.NOOP();
    } finally {
      await pop3.QUIT();
    }
  });

  it('DELE, RSET and QUIT: only what is marked at QUIT is deleted, and announced', async () => {
    const live = await LiveClient.connect(kotak);
    try {
      const reset = client();
      await reset.DELE(1);
      await expect(reset.RETR(1)).rejects.toThrow(/message 1 is deleted/);
      expect(await reset.RSET()).toMatch(/maildrop has 3 messages/);
      await reset.QUIT();
      expect((await getJson(kotak, '/api/messages')).body.total).toBe(3);

      const pop3 = client();
      await pop3.DELE(1);
      await pop3.DELE(3);
      expect(await pop3.STAT()).toBe(`1 ${raws[1]!.length}`);
      expect(await pop3.QUIT()).toMatch(/signing off/);
      expect((await live.next('message:deleted')).data).toEqual({ mailbox: 'default', ids: [ids[0], ids[2]] });
      expect(live.frames.filter((f) => f.type === 'message:deleted')).toHaveLength(1);

      const after = client();
      expect(await after.UIDL()).toEqual([['1', ids[1]]]);
      await after.QUIT();
    } finally {
      live.close();
    }
  });

  it('reports a wrong password with the [AUTH] response code', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kotak-pop3-')), 'users');
    writeFileSync(file, `tester:${bcrypt.hashSync('secret', 4)}\n`);
    const guarded = await withKotak({ pop3: '127.0.0.1:0', pop3Auth: file });
    try {
      const wrong = new Pop3Command({ host: '127.0.0.1', port: guarded.pop3Port!, user: 'tester', password: 'guess', timeout: 10_000 });
      await expect(wrong.STAT()).rejects.toThrow('[AUTH] authentication failed');
      const right = new Pop3Command({ host: '127.0.0.1', port: guarded.pop3Port!, user: 'tester', password: 'secret', timeout: 10_000 });
      expect(await right.STAT()).toBe('0 0');
      await right.QUIT();
    } finally {
      await guarded.stop();
    }
  });
});
