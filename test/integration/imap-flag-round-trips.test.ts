/**
 * One state, seen from IMAP, the API and POP3 (issue 21): `\Seen` is Kotak's read state and a
 * keyword is a tag, both ways and live (an idling imapflow session hears the API's change as an
 * untagged FETCH; the API's WebSocket hears the IMAP change); an IMAP EXPUNGE deletes through the
 * mailbox service, so the API and a POP3 session started afterwards no longer see the message.
 */
import { ImapFlow, type FlagsEvent } from 'imapflow';
import Pop3Command from 'node-pop3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getJson, LiveClient } from '../helpers/kotak.js';
import { withImapKotak, type ImapKotak } from '../helpers/imap-kotak.js';
import { simpleMessage } from '../helpers/seed.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

interface Summary {
  readonly id: string;
  readonly read: boolean;
  readonly tags: readonly string[];
}

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('flags and expunges across IMAP, the API and POP3', () => {
  let kotak: ImapKotak;
  /** INBOX's messages, oldest first: sequence number n is ids[n - 1]. */
  const ids: string[] = [];
  const closers: (() => unknown)[] = [];

  async function imap(): Promise<ImapFlow> {
    const client = new ImapFlow({ host: '127.0.0.1', port: kotak.imapPort, secure: false, auth: { user: 'tester', pass: 'secret' }, logger: false });
    await client.connect();
    closers.push(() => (client.usable ? client.logout() : client.close()));
    await client.mailboxOpen('INBOX');
    return client;
  }

  /** The flags of message `seq` as a new FETCH reads them, sorted. */
  async function flagsOf(client: ImapFlow, seq: number): Promise<string[]> {
    const message = await client.fetchOne(String(seq), { flags: true });
    if (message === false) throw new Error(`no message ${seq}`);
    return [...message.flags!].sort();
  }

  /** Resolves with the first untagged FETCH (FLAGS) the idling client hears for message `seq`. */
  function nextFlags(client: ImapFlow, seq: number): Promise<FlagsEvent> {
    return new Promise((resolve) => {
      const listener = (event: FlagsEvent): void => {
        if (event.seq !== seq) return;
        client.off('flags', listener);
        resolve(event);
      };
      client.on('flags', listener);
    });
  }

  beforeAll(async () => {
    kotak = await withImapKotak({ pop3: '127.0.0.1:0', pop3Auth: 'any' });
    for (const subject of ['one', 'two', 'three', 'four']) ids.push(queuedId(await sendRaw(kotak.smtpPort, simpleMessage(subject))));
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  afterAll(() => kotak.stop());

  it('\\Seen set over IMAP reads as read in the API, with a live frame', async () => {
    const live = await LiveClient.connect(kotak);
    closers.push(() => live.close());
    const client = await imap();
    await client.messageFlagsAdd('1', ['\\Seen']);
    expect((await live.next('message:updated', (f) => f.data.id === ids[0])).data).toMatchObject({ id: ids[0], read: true });
    expect((await getJson<Summary>(kotak, `/api/messages/${ids[0]}`)).body.read).toBe(true);
    await client.messageFlagsRemove('1', ['\\Seen']);
    expect((await live.next('message:updated', (f) => f.data.id === ids[0] && !f.data.read)).data.read).toBe(false);
    expect((await getJson<Summary>(kotak, `/api/messages/${ids[0]}`)).body.read).toBe(false);
  });

  it('read set in the API is \\Seen over IMAP, heard live by an idling session', async () => {
    const client = await imap();
    expect(await flagsOf(client, 2)).toEqual([]);
    const heard = nextFlags(client, 2);
    const idling = client.idle();
    expect((await getJson(kotak, `/api/messages/${ids[1]}`, json('PATCH', { read: true }))).status).toBe(200);
    expect([...(await heard).flags]).toContain('\\Seen');
    expect(await flagsOf(client, 2)).toEqual(['\\Seen']);
    await idling;
    // A session opened afterwards reads the same.
    expect(await flagsOf(await imap(), 2)).toEqual(['\\Seen']);
  });

  it('a keyword set over IMAP is a tag in the API, and a tag set in the API is a keyword', async () => {
    const client = await imap();
    // `$label1` is how Thunderbird writes its first tag ("Important"): kept as written.
    await client.messageFlagsAdd('3', ['urgent', 'billing-review', '$label1']);
    expect((await getJson<Summary>(kotak, `/api/messages/${ids[2]}`)).body.tags).toEqual(['$label1', 'billing-review', 'urgent']);
    await client.messageFlagsRemove('3', ['urgent', '$label1']);
    expect((await getJson<Summary>(kotak, `/api/messages/${ids[2]}`)).body.tags).toEqual(['billing-review']);

    const heard = nextFlags(client, 4);
    const idling = client.idle();
    expect((await getJson(kotak, `/api/messages/${ids[3]}/tags`, json('PUT', { tags: ['from-api'] }))).status).toBe(200);
    expect([...(await heard).flags]).toContain('from-api');
    expect(await flagsOf(client, 4)).toEqual(['from-api']);
    await idling;
    expect(await client.search({ keyword: 'from-api' })).toEqual([4]);
  });

  it('an IMAP expunge is gone from the API and from a POP3 session started afterwards', async () => {
    const live = await LiveClient.connect(kotak);
    closers.push(() => live.close());
    const client = await imap();
    await client.messageDelete('2');
    expect((await live.next('message:deleted')).data).toEqual({ mailbox: 'default', ids: [ids[1]] });
    expect((await getJson(kotak, `/api/messages/${ids[1]}`)).status).toBe(404);

    const pop3 = new Pop3Command({ host: '127.0.0.1', port: kotak.pop3Port!, user: 'tester', password: 'secret', timeout: 10_000 });
    try {
      expect((await pop3.UIDL()).map(([, id]) => id)).toEqual([ids[0], ids[2], ids[3]]);
    } finally {
      await pop3.QUIT();
    }
  });
});
