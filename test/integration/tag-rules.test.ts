/**
 * Tags at intake end to end (issue 22, "Tag rules"): every source over real SMTP (nodemailer),
 * the tags present when the sender has its 250 (in the API, in the live frame, for a waiter on
 * `tag:`), a full-text rule answered by the store, and POST /api/tags/apply over mail caught
 * before a rule existed (the same SQLite file, a second Kotak), scoped and with bad input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getJson, LiveClient, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

let dir: string;
const running: RunningKotak[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-tags-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((k) => k.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof withKotak>[0]): Promise<RunningKotak> {
  const kotak = await withKotak(options);
  running.push(kotak);
  return kotak;
}

const tagsOf = async (kotak: RunningKotak, id: string): Promise<string[]> => (await getJson(kotak, `/api/messages/${id}`)).body.tags;

describe('tags at intake', () => {
  it('tags from X-Tags, plus-addressing, the SMTP user and rules are there when the 250 arrives, in the frame and for a waiter', async () => {
    const kotak = await start({
      smtpAuth: 'any', tagsFromPlus: true, tagSmtpUser: true,
      tagRule: ['from:billing@shop.test=Billing', 'subject:"a, b"=Comma', 'quarterly=Report'],
    });
    const live = await LiveClient.connect(kotak);
    const waiting = getJson(kotak, `/api/messages/wait?query=${encodeURIComponent('tag:Billing')}&timeout=30s`);
    const t = transport(kotak, { auth: { user: 'ci-bot', pass: 'x' } });
    const sent = await t.sendMail({
      from: 'billing@shop.test', to: 'qa+signup@example.test', subject: 'Invoice a, b', text: 'Your quarterly statement',
      headers: { 'X-Tags': 'welcome, Eu' },
    });
    const id = queuedId(sent.response);
    expect(await tagsOf(kotak, id)).toEqual(['Billing', 'ci-bot', 'Comma', 'Eu', 'Report', 'signup', 'welcome']);
    const stored = await live.next('message:stored', (f) => f.data.id === id);
    // Decided before the insert: in the stored frame. The full-text rule follows as a tag change.
    expect(stored.data.tags).toEqual(['Billing', 'ci-bot', 'Comma', 'Eu', 'signup', 'welcome']);
    expect((await waiting).body.messages.map((m: { id: string }) => m.id)).toEqual([id]);
    const other = queuedId((await t.sendMail({ from: 'someone@shop.test', to: 'plain@example.test', subject: 'Hello', text: 'nothing to see' })).response);
    expect(await tagsOf(kotak, other)).toEqual(['ci-bot']);
    t.close();
    live.close();
  });

  it('reads X-Tags by default, and not with --ignore-x-tags', async () => {
    const send = async (kotak: RunningKotak) => queuedId((await transport(kotak).sendMail({ from: 'a@shop.test', to: 'b@example.test', subject: 's', text: 't', headers: { 'X-Tags': 'one,two' } })).response);
    const plain = await start({});
    expect(await tagsOf(plain, await send(plain))).toEqual(['one', 'two']);
    const ignoring = await start({ ignoreXTags: true });
    expect(await tagsOf(ignoring, await send(ignoring))).toEqual([]);
  });

  it('refuses a rule that does not read, naming the flag', async () => {
    await expect(withKotak({ tagRule: 'frm:x@y.test=Tag' })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringContaining('--tag-rule') });
  });
});

describe('POST /api/tags/apply', () => {
  it('tags mail caught before the rules existed, only adding tags, within the asked mailboxes and query', async () => {
    const db = path.join(dir, 'kotak.db');
    const before = await start({ db, mailboxRoute: '*@w1.test=w1,*@w2.test=w2', ignoreXTags: true });
    const t = transport(before);
    const send = async (to: string, subject: string, text: string, headers: Record<string, string> = {}) => queuedId((await t.sendMail({ from: 'billing@shop.test', to, subject, text, headers })).response);
    const a = await send('qa+eu@w1.test', 'Invoice 1', 'quarterly figures', { 'X-Tags': 'from-header' });
    const b = await send('qa@w2.test', 'Invoice 2', 'monthly figures');
    const c = await send('qa@w1.test', 'Welcome', 'hello');
    await getJson(before, `/api/messages/${a}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: ['kept'] }) });
    t.close();
    await before.stop();
    running.splice(running.indexOf(before), 1);

    const after = await start({ db, mailboxRoute: '*@w1.test=w1,*@w2.test=w2', tagsFromPlus: true, tagRule: ['subject:invoice=Invoice', 'quarterly=Quarterly'] });
    const bad = await getJson(after, '/api/tags/apply?query=frm:x', { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_query', message: expect.any(String) });
    expect((await getJson(after, '/api/tags/apply?mailbox=NOT%20A%20NAME', { method: 'POST' })).status).toBe(400);

    const w1 = await getJson(after, '/api/tags/apply?mailbox=w1&query=subject:invoice', { method: 'POST' });
    expect(w1).toMatchObject({ status: 200, body: { scanned: 1, tagged: 1 } });
    expect(await tagsOf(after, a)).toEqual(['eu', 'from-header', 'Invoice', 'kept', 'Quarterly']);
    expect(await tagsOf(after, b)).toEqual([]);
    const all = await getJson(after, '/api/tags/apply', { method: 'POST' });
    expect(all).toMatchObject({ status: 200, body: { scanned: 3, tagged: 1 } });
    expect(await tagsOf(after, b)).toEqual(['Invoice']);
    expect(await tagsOf(after, c)).toEqual([]);
    // Applying again changes nothing.
    expect((await getJson(after, '/api/tags/apply', { method: 'POST' })).body).toEqual({ scanned: 3, tagged: 0 });
  });
});
