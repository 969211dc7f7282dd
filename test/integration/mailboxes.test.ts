/**
 * Mailboxes end to end (issue 16): routing at SMTP intake (fixed rule, {mailbox} capture, SMTP
 * user), one copy per mailbox named in the 250, the detail's route, GET/DELETE /api/mailboxes,
 * and retention per mailbox. Real SMTP with nodemailer, real HTTP.
 */
import { describe, expect, it } from 'vitest';
import { getJson, LiveClient, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

interface MailboxRow {
  name: string;
  total: number;
  unread: number;
  size: number;
}

async function mailboxes(kotak: RunningKotak): Promise<MailboxRow[]> {
  const { status, body } = await getJson<{ mailboxes: MailboxRow[] }>(kotak, '/api/mailboxes');
  expect(status).toBe(200);
  return body.mailboxes;
}

function queuedIds(response: string): string[] {
  const match = /queued as (.+)$/.exec(response.trim());
  if (!match) throw new Error(`no ids in ${response}`);
  return match[1]!.split(' ');
}

const ROUTES = '*@billing.test=billing,*@{mailbox}.inbox.test,*+{mailbox}@example.com';

describe('mailboxes', () => {
  it('routes by a fixed rule, by a {mailbox} capture, and the rest to default; the detail says which rule', async () => {
    const kotak = await withKotak({ mailboxRoute: ROUTES });
    try {
      const t = transport(kotak);
      const send = async (to: string) => queuedId((await t.sendMail({ from: 'app@example.com', to, subject: to, text: 'x' })).response);
      const billing = await send('invoices@billing.test');
      const captured = await send('anyone@Worker-3.inbox.test');
      const tagged = await send('qa+signup@example.com');
      const unmatched = await send('someone@elsewhere.test');
      const route = async (id: string) => (await getJson(kotak, `/api/messages/${id}`)).body.route;
      expect(await route(billing)).toEqual({ mailbox: 'billing', rule: '*@billing.test' });
      expect(await route(captured)).toEqual({ mailbox: 'worker-3', rule: '*@{mailbox}.inbox.test' });
      expect(await route(tagged)).toEqual({ mailbox: 'signup', rule: '*+{mailbox}@example.com' });
      expect(await route(unmatched)).toEqual({ mailbox: 'default', rule: 'default' });
      expect((await getJson(kotak, `/api/messages/${captured}`)).body.mailbox).toBe('worker-3');
      expect((await mailboxes(kotak)).map((m) => [m.name, m.total])).toEqual([
        ['billing', 1], ['default', 1], ['signup', 1], ['worker-3', 1],
      ]);
      t.close();
    } finally {
      await kotak.stop();
    }
  });

  it('refuses to start with a bad rule, naming the flag and the reason', async () => {
    await expect(withKotak({ mailboxRoute: '*@billing.test=Billing' })).rejects.toThrow(/--mailbox-route: "\*@billing.test=Billing" routes to "Billing", which is not a mailbox name/);
    await expect(withKotak({ mailboxRoute: '*@billing.test' })).rejects.toThrow(/--mailbox-route: .* needs =NAME or \{mailbox\}/);
  });

  it('routes mail sent with SMTP AUTH as user U to mailbox U; a user name that is no mailbox name goes to default', async () => {
    const kotak = await withKotak({ smtpAuth: 'any', mailboxBySmtpUser: true, mailboxRoute: '*@billing.test=billing' });
    try {
      const sendAs = async (user: string) => {
        const t = transport(kotak, { auth: { user, pass: 'secret' } });
        try {
          return queuedId((await t.sendMail({ from: 'app@example.com', to: 'x@billing.test', subject: user, text: 'x' })).response);
        } finally {
          t.close();
        }
      };
      const team = await sendAs('team-7');
      const invalid = await sendAs('Not A Name');
      expect((await getJson(kotak, `/api/messages/${team}`)).body.route).toEqual({ mailbox: 'team-7', rule: 'smtp-user' });
      // Without a usable user, the recipient rules apply.
      expect((await getJson(kotak, `/api/messages/${invalid}`)).body.route).toEqual({ mailbox: 'billing', rule: '*@billing.test' });
    } finally {
      await kotak.stop();
    }
  });

  it('stores a message for two mailboxes twice, names both ids in the 250 and announces each copy', async () => {
    const kotak = await withKotak({ mailboxRoute: ROUTES });
    const live = await LiveClient.connect(kotak);
    try {
      const t = transport(kotak);
      const info = await t.sendMail({
        from: 'app@example.com', to: ['a@billing.test', 'b@w1.inbox.test'], cc: 'c@billing.test', bcc: 'hidden@w1.inbox.test', subject: 'split', text: 'one body',
      });
      t.close();
      expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as \S+ \S+$/);
      const ids = queuedIds(info.response);
      expect(ids).toHaveLength(2);
      expect(queuedId(info.response)).toBe(ids[0]);
      expect(new Set(ids).size).toBe(2);
      for (const id of ids) await live.next('message:stored', (f) => f.data.id === id);

      const [first, second] = await Promise.all(ids.map(async (id) => (await getJson(kotak, `/api/messages/${id}`)).body));
      expect([first.mailbox, second.mailbox]).toEqual(['billing', 'w1']);
      // Each copy is the whole message: the envelope, the Bcc view and the raw bytes.
      expect(second.envelope).toEqual(first.envelope);
      expect(first.envelope.rcptTo).toEqual(['a@billing.test', 'b@w1.inbox.test', 'c@billing.test', 'hidden@w1.inbox.test']);
      expect(first.bcc).toEqual(second.bcc);
      expect(first.bcc.map((a: { address: string }) => a.address)).toEqual(['hidden@w1.inbox.test']);
      const raw = await Promise.all(ids.map(async (id) => Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer())));
      expect(raw[0]!.equals(raw[1]!)).toBe(true);

      // Own read state per copy.
      await fetch(`${kotak.url}/api/messages/${ids[0]}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ read: true }) });
      expect((await getJson(kotak, `/api/messages/${ids[0]}`)).body.read).toBe(true);
      expect((await getJson(kotak, `/api/messages/${ids[1]}`)).body.read).toBe(false);
    } finally {
      live.close();
      await kotak.stop();
    }
  });

  it('keeps the 250 within 512 octets for a message routed to many mailboxes, naming the ids that fit and how many more', async () => {
    const kotak = await withKotak({ mailboxRoute: '*@{mailbox}.inbox.test' });
    try {
      const t = transport(kotak);
      const to = Array.from({ length: 40 }, (_, i) => `x@w${i}.inbox.test`);
      const info = await t.sendMail({ from: 'app@example.com', to, subject: 'many', text: 'x' });
      t.close();
      expect(info.response.length + 2).toBeLessThanOrEqual(512);
      const match = /^250 2\.0\.0 Ok: queued as ((?:\S+ )*\S+) \(\+(\d+) more\)$/.exec(info.response);
      expect(match, info.response).not.toBeNull();
      const listed = match![1]!.split(' ');
      expect(listed.length + Number(match![2])).toBe(40);
      expect((await getJson(kotak, `/api/messages/${queuedId(info.response)}`)).body.mailbox).toBe('w0');
      const stored = (await mailboxes(kotak)).filter((m) => m.name !== 'default');
      expect(stored).toHaveLength(40);
      expect(stored.every((m) => m.total === 1)).toBe(true);
    } finally {
      await kotak.stop();
    }
  });

  it('GET /api/mailboxes counts after insert, read and delete; configured mailboxes are listed empty', async () => {
    const kotak = await withKotak({ mailboxRoute: '*@billing.test=billing,*@ops.test=ops' });
    try {
      expect(await mailboxes(kotak)).toEqual([
        { name: 'billing', total: 0, unread: 0, size: 0 },
        { name: 'default', total: 0, unread: 0, size: 0 },
        { name: 'ops', total: 0, unread: 0, size: 0 },
      ]);
      const t = transport(kotak);
      const ids: string[] = [];
      for (const to of ['a@billing.test', 'b@billing.test', 'c@elsewhere.test']) ids.push(queuedId((await t.sendMail({ from: 'app@example.com', to, subject: 's', text: 'x' })).response));
      t.close();
      const sizes = await Promise.all(ids.map(async (id) => (await getJson(kotak, `/api/messages/${id}`)).body.size as number));
      expect(await mailboxes(kotak)).toEqual([
        { name: 'billing', total: 2, unread: 2, size: sizes[0]! + sizes[1]! },
        { name: 'default', total: 1, unread: 1, size: sizes[2]! },
        { name: 'ops', total: 0, unread: 0, size: 0 },
      ]);
      await fetch(`${kotak.url}/api/messages/${ids[0]}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ read: true }) });
      expect((await mailboxes(kotak))[0]).toEqual({ name: 'billing', total: 2, unread: 1, size: sizes[0]! + sizes[1]! });
      await fetch(`${kotak.url}/api/messages/${ids[1]}`, { method: 'DELETE' });
      expect((await mailboxes(kotak))[0]).toEqual({ name: 'billing', total: 1, unread: 0, size: sizes[0]! });
    } finally {
      await kotak.stop();
    }
  });

  it('DELETE /api/mailboxes/:name empties that mailbox only, announces it; 404 unknown, 400 invalid', async () => {
    const kotak = await withKotak({ mailboxRoute: '*@{mailbox}.inbox.test' });
    const live = await LiveClient.connect(kotak);
    try {
      const t = transport(kotak);
      const w1: string[] = [];
      for (let i = 0; i < 2; i++) w1.push(queuedId((await t.sendMail({ from: 'app@example.com', to: 'x@w1.inbox.test', subject: 's', text: 'x' })).response));
      const w2 = queuedId((await t.sendMail({ from: 'app@example.com', to: 'x@w2.inbox.test', subject: 's', text: 'x' })).response);
      const inDefault = queuedId((await t.sendMail({ from: 'app@example.com', to: 'x@other.test', subject: 's', text: 'x' })).response);
      t.close();

      const deleted = await getJson(kotak, '/api/mailboxes/w1', { method: 'DELETE' });
      expect(deleted).toMatchObject({ status: 200, body: { deleted: 2 } });
      const frame = await live.next('message:deleted', (f) => f.data.ids.includes(w1[0]!));
      expect([...frame.data.ids].sort()).toEqual([...w1].sort());
      expect((await getJson(kotak, `/api/messages/${w2}`)).status).toBe(200);
      // A mailbox only the messages made: gone with them.
      expect((await mailboxes(kotak)).map((m) => m.name)).toEqual(['default', 'w2']);
      expect((await getJson(kotak, '/api/mailboxes/w1', { method: 'DELETE' })).status).toBe(404);
      expect((await getJson(kotak, '/api/mailboxes/Bad%20Name', { method: 'DELETE' })).status).toBe(400);

      // default can be emptied and is still listed.
      expect((await getJson(kotak, '/api/mailboxes/default', { method: 'DELETE' })).body).toEqual({ deleted: 1 });
      expect((await getJson(kotak, `/api/messages/${inDefault}`)).status).toBe(404);
      expect(await mailboxes(kotak)).toEqual([
        { name: 'default', total: 0, unread: 0, size: 0 },
        expect.objectContaining({ name: 'w2', total: 1 }),
      ]);
      expect((await getJson(kotak, '/api/mailboxes/default', { method: 'DELETE' })).body).toEqual({ deleted: 0 });
    } finally {
      live.close();
      await kotak.stop();
    }
  });

  it('--max-messages keeps the newest N of each mailbox', async () => {
    const kotak = await withKotak({ maxMessages: 2, mailboxRoute: '*@{mailbox}.inbox.test' });
    const live = await LiveClient.connect(kotak);
    try {
      const t = transport(kotak, { pool: true });
      const busy: string[] = [];
      const quiet = queuedId((await t.sendMail({ from: 'app@example.com', to: 'x@quiet.inbox.test', subject: 'q', text: 'x' })).response);
      for (let i = 0; i < 5; i++) busy.push(queuedId((await t.sendMail({ from: 'app@example.com', to: 'x@busy.inbox.test', subject: `b${i}`, text: 'x' })).response));
      t.close();
      const pruned = new Set<string>();
      while (![0, 1, 2].every((i) => pruned.has(busy[i]!))) {
        const frame = await live.next('message:deleted', (f) => f.data.ids.some((id) => !pruned.has(id)));
        for (const id of frame.data.ids) pruned.add(id);
      }
      // The quiet mailbox's one message is older than every busy one, and stays.
      expect(pruned.has(quiet)).toBe(false);
      expect((await getJson(kotak, `/api/messages/${quiet}`)).status).toBe(200);
      const { body } = await getJson(kotak, '/api/messages');
      expect(body.messages.map((m: { id: string }) => m.id)).toEqual([busy[4], busy[3], quiet]);
      expect((await mailboxes(kotak)).map((m) => [m.name, m.total])).toEqual([['busy', 2], ['default', 0], ['quiet', 1]]);
    } finally {
      live.close();
      await kotak.stop();
    }
  });
});
