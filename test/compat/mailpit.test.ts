/**
 * Mailpit API v1 compatibility, driven by the real `mailpit-api` npm client (what Mailpit users'
 * suites call) against an in-process Kotak, plus direct HTTP and WebSocket checks of the shapes.
 */
import { createHash } from 'node:crypto';
import { MailpitClient, type MailpitMessageSummaryResponse } from 'mailpit-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';

let kotak: RunningKotak;
let mailpit: MailpitClient;

beforeAll(async () => {
  kotak = await withKotak();
  mailpit = new MailpitClient(kotak.url);
});

afterAll(async () => {
  await kotak?.stop();
});

beforeEach(async () => {
  await mailpit.deleteMessages();
});

/** Sent over SMTP, so the 250 reply means stored: no waiting needed afterwards. */
async function smtp(options: Record<string, unknown>): Promise<void> {
  await transport(kotak).sendMail({ from: 'Alice <alice@example.test>', to: 'bob@example.test', text: 'hello', ...options });
}

/** The library polls; the message is already stored, so the first poll finds it. */
const quickly = { timeout: 5_000, interval: 20 };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function http(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${kotak.url}${path}`, init);
}

type Frame = { Type: string; Data: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- frames are arbitrary JSON

/** A client of /api/events that records Mailpit's frames and can wait for one. */
class MailpitSocket {
  readonly frames: Frame[] = [];
  private readonly waiters: { matches: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      this.frames.push(frame);
      for (const waiter of [...this.waiters]) {
        if (!waiter.matches(frame)) continue;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    });
  }

  static connect(headers: Record<string, string> = {}): Promise<MailpitSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${kotak.url.replace(/^http/, 'ws')}/api/events`, { headers });
      const socket = new MailpitSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
    });
  }

  next(type: string, predicate: (data: Frame['Data']) => boolean = () => true): Promise<Frame> {
    const matches = (f: Frame) => f.Type === type && predicate(f.Data);
    const seen = this.frames.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ matches, resolve }));
  }

  close(): void {
    this.ws.close();
  }
}

describe('listing and searching', () => {
  it('lists SMTP mail newest first in Mailpit’s MessagesSummary shape', async () => {
    await smtp({ subject: 'first' });
    await smtp({
      subject: 'second',
      to: 'Bob <bob@example.test>',
      cc: 'carol@example.test',
      bcc: 'dave@example.test',
      replyTo: 'Replies <replies@example.test>',
      text: 'the body of the second message',
      attachments: [{ filename: 'report.txt', content: 'report' }],
    });

    const list = await mailpit.listMessages();
    expect(list).toMatchObject({ total: 2, unread: 2, count: 2, messages_count: 2, messages_unread: 2, start: 0, tags: [] });
    expect(list.messages.map((m) => m.Subject)).toEqual(['second', 'first']);
    const [second] = list.messages;
    expect(second).toEqual({
      ID: expect.any(String),
      MessageID: expect.stringMatching(/@example\.test$/),
      Read: false,
      From: { Name: 'Alice', Address: 'alice@example.test' },
      To: [{ Name: 'Bob', Address: 'bob@example.test' }],
      Cc: [{ Name: '', Address: 'carol@example.test' }],
      // The envelope recipient no header names: how Bcc becomes visible.
      Bcc: [{ Name: '', Address: 'dave@example.test' }],
      ReplyTo: [{ Name: 'Replies', Address: 'replies@example.test' }],
      Subject: 'second',
      Created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      Tags: [],
      Size: expect.any(Number),
      Attachments: 1,
      Snippet: 'the body of the second message',
    });
    expect(list.messages[1]!.Attachments).toBe(0);
  });

  it('pages with start and limit, and counts what matches a search', async () => {
    for (const subject of ['one', 'two', 'three']) await smtp({ subject, to: subject === 'two' ? 'eve@example.test' : 'bob@example.test' });

    const page = await mailpit.listMessages(1, 1);
    expect(page).toMatchObject({ start: 1, count: 1, total: 3, messages_count: 3 });
    expect(page.messages.map((m) => m.Subject)).toEqual(['two']);

    const found = await mailpit.searchMessages({ query: 'to:bob@example.test', limit: 1 });
    expect(found).toMatchObject({ total: 3, messages_count: 2, messages_unread: 2, count: 1 });
    expect(found.messages[0]!.Subject).toBe('three');

    const rest = await mailpit.searchMessages({ query: 'to:bob@example.test', start: 1 });
    expect(rest.messages.map((m) => m.Subject)).toEqual(['one']);

    // Mailpit's `before` (epoch ms here) pages by time.
    const all = (await mailpit.listMessages()).messages;
    const cutoff = Date.parse(all[0]!.Created);
    const { body } = await getJson(kotak, `/api/v1/messages?before=${cutoff}`);
    const older = all.filter((m) => Date.parse(m.Created) < cutoff).map((m) => m.ID);
    expect(body.messages.map((m: { ID: string }) => m.ID)).toEqual(older);
    expect(older).not.toContain(all[0]!.ID);
  });

  it('answers a bad search with a 400 and its reason in plain text', async () => {
    await expect(mailpit.searchMessages({ query: 'foo:bar' })).rejects.toThrow(/400 Bad Request .*unknown operator "foo:"/);
    const res = await http('/api/v1/search?query=%20');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('Error: no search query');
    const nul = await http(`/api/v1/search?query=${encodeURIComponent('subject:a\0b')}`, { method: 'DELETE' });
    expect(nul.status).toBe(400);
    expect(await nul.text()).toMatch(/NUL character/);
  });

  it('waits for a message with the client’s waitForMessage and waitForMessages', async () => {
    await smtp({ subject: 'Welcome aboard', to: 'new.user@example.test' });
    const message = await mailpit.waitForMessage({ query: 'subject:Welcome to:new.user' }, quickly);
    expect(message.Subject).toBe('Welcome aboard');
    const list = await mailpit.waitForMessages({ query: 'subject:Welcome', count: 1, exact: true }, quickly);
    expect(list.messages_count).toBe(1);
  });
});

describe('one message', () => {
  let message: MailpitMessageSummaryResponse;

  beforeEach(async () => {
    await smtp({
      subject: 'Your invoice ✓',
      replyTo: 'billing@example.test',
      headers: {
        'X-Long': 'a header value that is long enough to be folded by the sender because it keeps going and going past the limit',
        'List-Unsubscribe': '<https://example.test/unsubscribe>, <mailto:unsubscribe@example.test>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      text: 'Please find the invoice attached.',
      html: '<p>Invoice <img src="cid:logo@example.test"><script>alert(1)</script><a href="https://example.test" onclick="steal()">pay</a></p>',
      attachments: [
        { filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4 invoice'), contentType: 'application/pdf' },
        { filename: 'logo.png', content: Buffer.from('not really a png'), cid: 'logo@example.test' },
      ],
    });
    message = await mailpit.waitForMessage({ query: 'subject:invoice' }, quickly);
  });

  it('gives Mailpit’s Message shape, with attachments, inline parts and checksums', () => {
    expect(message).toMatchObject({
      From: { Name: 'Alice', Address: 'alice@example.test' },
      To: [{ Name: '', Address: 'bob@example.test' }],
      ReplyTo: [{ Name: '', Address: 'billing@example.test' }],
      ReturnPath: 'alice@example.test',
      Subject: 'Your invoice ✓',
      Tags: [],
      Text: 'Please find the invoice attached.',
      HTML: expect.stringContaining('<script>'),
      ListUnsubscribe: {
        Header: '<https://example.test/unsubscribe>, <mailto:unsubscribe@example.test>',
        Links: ['https://example.test/unsubscribe', 'mailto:unsubscribe@example.test'],
        Errors: '',
        HeaderPost: 'List-Unsubscribe=One-Click',
      },
    });
    expect(message.Date).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(message.Username).toBeUndefined();
    expect(message.Attachments).toEqual([
      {
        PartID: expect.any(String),
        FileName: 'invoice.pdf',
        ContentType: 'application/pdf',
        ContentID: '',
        Size: 16,
        Checksums: {
          MD5: createHash('md5').update('%PDF-1.4 invoice').digest('hex'),
          SHA1: createHash('sha1').update('%PDF-1.4 invoice').digest('hex'),
          SHA256: sha256('%PDF-1.4 invoice'),
        },
      },
    ]);
    expect(message.Inline).toEqual([expect.objectContaining({ FileName: 'logo.png', ContentID: 'logo@example.test', ContentType: 'image/png', Size: 16 })]);
  });

  it('marks the message read once opened, as Mailpit does', async () => {
    const list = await mailpit.listMessages();
    expect(list.messages[0]).toMatchObject({ ID: message.ID, Read: true });
    expect(list.unread).toBe(0);
  });

  it('returns headers by canonical name, sorted, unfolded and undecoded', async () => {
    const headers = await mailpit.getMessageHeaders(message.ID);
    const names = Object.keys(headers);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['Content-Type', 'Date', 'From', 'List-Unsubscribe', 'Message-Id', 'Mime-Version', 'Subject', 'X-Long']));
    expect(headers['X-Long']).toEqual(['a header value that is long enough to be folded by the sender because it keeps going and going past the limit']);
    expect(headers['Subject']![0]).toMatch(/^=\?UTF-8\?/);
  });

  it('returns the exact source, also for "latest"', async () => {
    const source = await mailpit.getMessageSource();
    const raw = await (await http(`/api/messages/${message.ID}/raw`)).text();
    expect(source).toBe(raw);
    const download = await http(`/api/v1/message/${message.ID}/raw?dl=1`);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${message.ID}.eml"`);
  });

  it('serves attachments and inline parts by PartID', async () => {
    const pdf = await mailpit.getMessageAttachment(message.ID, message.Attachments[0]!.PartID);
    expect(pdf.type).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).toString()).toBe('%PDF-1.4 invoice');
    const logo = await mailpit.getMessageAttachment('latest', message.Inline[0]!.PartID);
    expect(await logo.text()).toBe('not really a png');
    await expect(mailpit.getMessageAttachment(message.ID, '9.9')).rejects.toThrow(/404/);
  });

  it('renders /view/{ID}.html sanitised, with Kotak’s CSP, and /view/{ID}.txt', async () => {
    const html = await mailpit.renderMessageHTML(message.ID);
    expect(html).not.toMatch(/<script|onclick|alert/);
    expect(html).toContain(`src="../api/v1/message/${message.ID}/part/${message.Inline[0]!.PartID}"`);
    const res = await http(`/view/${message.ID}.html`);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    // The inline image resolves against the view's URL to a working part URL.
    const image = await http(new URL(`../api/v1/message/${message.ID}/part/${message.Inline[0]!.PartID}`, res.url).pathname);
    expect(await image.text()).toBe('not really a png');

    expect(await mailpit.renderMessageText()).toBe('Please find the invoice attached.');
    expect((await http('/view/nope.txt')).status).toBe(404);
  });

  it('answers an unknown ID with 404 in plain text', async () => {
    await expect(mailpit.getMessageSummary('nope')).rejects.toThrow(/404 Not Found .*404 page not found/);
    const res = await http('/api/v1/message/nope/headers');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });
});

describe('Mailpit routes Kotak does not have', () => {
  it("answer 404 in Mailpit's plain-text shape, whatever the method", async () => {
    await smtp({ subject: 'for missing routes' });
    const message = (await mailpit.listMessages()).messages[0]!;
    for (const [method, path] of [
      ['GET', `/api/v1/message/${message.ID}/part/1/thumb`],
      ['POST', `/api/v1/message/${message.ID}/release`],
      ['GET', '/api/v1/swagger.json'],
      ['GET', '/api/v1/no-such-route'],
      ['PATCH', '/api/v1/webui'],
    ] as const) {
      const res = await http(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/plain/);
      expect(await res.text(), path).toBe('404 page not found');
    }
    // Kotak's own API keeps its JSON errors.
    const own = await http('/api/no-such-route');
    expect(own.status).toBe(404);
    expect(await own.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('"latest"', () => {
  it('is the newest message, or the newest matching ?query=', async () => {
    await smtp({ subject: 'older match' });
    await smtp({ subject: 'newest' });
    expect((await mailpit.getMessageSummary()).Subject).toBe('newest');
    const { status, body } = await getJson(kotak, `/api/v1/message/latest?query=${encodeURIComponent('subject:match')}`);
    expect(status).toBe(200);
    expect(body.Subject).toBe('older match');

    await mailpit.deleteMessages();
    const none = await http('/api/v1/message/latest');
    expect(none.status).toBe(404);
    expect(await none.text()).toBe('Message not found');
  });
});

describe('read status and deleting', () => {
  let ids: string[];

  beforeEach(async () => {
    for (const subject of ['a', 'b', 'c']) await smtp({ subject, from: subject === 'c' ? 'carol@example.test' : 'alice@example.test' });
    ids = (await mailpit.listMessages()).messages.map((m) => m.ID);
  });

  it('sets read status by IDs, by search, or for all', async () => {
    expect(await mailpit.setReadStatus({ IDs: [ids[0]!], Read: true })).toBe('ok');
    expect((await mailpit.listMessages()).unread).toBe(2);
    await mailpit.setReadStatus({ Search: 'from:carol', Read: true });
    expect((await mailpit.searchMessages({ query: 'is:read' })).messages_count).toBe(1);
    await mailpit.setReadStatus({ Read: true });
    expect((await mailpit.listMessages()).unread).toBe(0);
    await mailpit.setReadStatus();
    expect((await mailpit.listMessages()).unread).toBe(3);
    await expect(mailpit.setReadStatus({ IDs: [ids[0]!], Search: 'from:carol' })).rejects.toThrow(/400 .*either IDs or a search query, not both/);
  });

  it('deletes by IDs, by search, and everything', async () => {
    expect(await mailpit.deleteMessages({ IDs: [ids[0]!, 'unknown'] })).toBe('ok');
    expect((await mailpit.listMessages()).total).toBe(2);
    expect(await mailpit.deleteMessagesBySearch({ query: 'from:alice' })).toBe('ok');
    expect((await mailpit.listMessages()).messages.map((m) => m.Subject)).toEqual([]);
    await smtp({ subject: 'again' });
    await mailpit.deleteMessages();
    expect((await mailpit.waitForMessages({ count: 0 }, quickly)).messages_count).toBe(0);
  });

  it('refuses a body that is not JSON instead of deleting everything', async () => {
    const res = await http('/api/v1/messages', { method: 'DELETE', body: '{"IDs": [', headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(400);
    expect((await mailpit.listMessages()).total).toBe(3);
  });
});

describe('send API', () => {
  it('stores a message built from Mailpit’s send format, like SMTP intake', async () => {
    const pixel = Buffer.from('inline image bytes');
    const { ID } = await mailpit.sendMessage({
      From: { Email: 'sender@example.test', Name: 'Sender' },
      To: [{ Email: 'to@example.test', Name: 'To Person' }],
      Cc: [{ Email: 'cc@example.test' }],
      Bcc: ['hidden@example.test'],
      ReplyTo: [{ Email: 'reply@example.test' }],
      Subject: 'Sent through the API',
      Text: 'text part',
      HTML: '<p>html part <img src="cid:pixel"></p>',
      Attachments: [
        { Content: Buffer.from('a,b\n1,2\n').toString('base64'), Filename: 'data.csv', ContentType: 'text/csv' },
        { Content: `data:image/png;base64,${pixel.toString('base64')}`, Filename: 'pixel.png', ContentID: 'pixel' },
      ],
      Headers: { 'X-Campaign': 'spring' },
      Tags: ['Newsletter', 'spring sale!'],
    });
    expect(ID).toMatch(/^[0-9A-Z]{22}$/);

    const message = await mailpit.getMessageSummary(ID);
    expect(message).toMatchObject({
      From: { Name: 'Sender', Address: 'sender@example.test' },
      To: [{ Name: 'To Person', Address: 'to@example.test' }],
      Cc: [{ Name: '', Address: 'cc@example.test' }],
      Bcc: [{ Name: '', Address: 'hidden@example.test' }],
      ReplyTo: [{ Name: '', Address: 'reply@example.test' }],
      Subject: 'Sent through the API',
      Text: 'text part',
      Tags: ['Newsletter', 'spring sale'],
    });
    expect(message.Attachments).toEqual([expect.objectContaining({ FileName: 'data.csv', ContentType: 'text/csv', Size: 8 })]);
    expect(message.Inline).toEqual([expect.objectContaining({ FileName: 'pixel.png', ContentID: 'pixel', Checksums: expect.objectContaining({ SHA256: sha256(pixel) }) })]);
    const headers = await mailpit.getMessageHeaders(ID);
    expect(headers['X-Campaign']).toEqual(['spring']);
    expect(headers['X-Tags']).toEqual(['Newsletter, spring sale']);
    expect(headers['Bcc']).toBeUndefined();
  });

  it('answers mistakes with 400 and a JSON { Error }', async () => {
    const send = (body: unknown) => http('/api/v1/send', { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    const base = { From: { Email: 'a@example.test' }, To: [{ Email: 'b@example.test' }] };
    for (const [body, error] of [
      [{ ...base, Headers: { Subject: 'x' } }, 'cannot overwrite header: "Subject"'],
      [{ ...base, To: [{ Email: 'not an address' }] }, 'invalid To address: not an address'],
      [{ From: { Email: 'a@example.test' } }, 'no recipients: set To, Cc or Bcc'],
      [{ ...base, Attachments: [{ Content: '!!', Filename: 'x.bin' }] }, 'error decoding base64 attachment "x.bin": illegal base64 data'],
    ] as const) {
      const res = await send(body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ Error: error });
    }
    await expect(mailpit.sendMessage({ From: { Email: '' }, To: [] })).rejects.toThrow(/400 .*invalid From address/);
    expect((await mailpit.listMessages()).total).toBe(0);
  });

  it('respects the message size limit with a 413', async () => {
    const small = await withKotak({ maxMessageSize: '2KB' });
    try {
      const client = new MailpitClient(small.url);
      await expect(
        client.sendMessage({ From: { Email: 'a@example.test' }, To: [{ Email: 'b@example.test' }], Text: 'x'.repeat(1800) }),
      ).rejects.toThrow(/413 .*"Error":"message is \d+ bytes; the limit is \d+"/);
      await expect(
        client.sendMessage({ From: { Email: 'a@example.test' }, To: [{ Email: 'b@example.test' }], Text: 'x'.repeat(4000) }),
      ).rejects.toThrow(/413 .*request body too large/);
      expect((await client.listMessages()).total).toBe(0);
    } finally {
      await small.stop();
    }
  });
});

describe('tags', () => {
  let ids: string[];

  beforeEach(async () => {
    for (const subject of ['x', 'y']) await smtp({ subject });
    ids = (await mailpit.listMessages()).messages.map((m) => m.ID);
  });

  it('sets, lists, searches, renames and deletes tags', async () => {
    expect(await mailpit.setTags({ IDs: ids, Tags: ['Orders', 'urgent', 'ORDERS', 'bad/chars'] })).toBe('ok');
    expect(await mailpit.getTags()).toEqual(['badchars', 'Orders', 'urgent']);
    await mailpit.setTags({ IDs: [ids[0]!], Tags: ['orders'] });
    // A name is unique without regard to case: the first spelling stays.
    expect((await mailpit.getMessageSummary(ids[0])).Tags).toEqual(['Orders']);

    expect((await mailpit.searchMessages({ query: 'tag:urgent' })).messages.map((m) => m.ID)).toEqual([ids[1]]);
    expect((await mailpit.searchMessages({ query: 'tag:ORDERS' })).messages_count).toBe(2);
    expect((await mailpit.searchMessages({ query: '-tag:urgent is:tagged' })).messages_count).toBe(1);
    expect((await mailpit.listMessages()).tags).toEqual(['badchars', 'Orders', 'urgent']);
    expect((await mailpit.getInfo()).Tags).toEqual({ badchars: 1, Orders: 2, urgent: 1 });

    expect(await mailpit.renameTag('urgent', 'Later')).toBe('ok');
    expect(await mailpit.renameTag('Later', 'orders')).toBe('ok');
    expect(await mailpit.getTags()).toEqual(['badchars', 'Orders']);
    expect(await mailpit.deleteTag('badchars')).toBe('ok');
    expect(await mailpit.getTags()).toEqual(['Orders']);

    await mailpit.setTags({ IDs: [ids[1]!] });
    expect((await mailpit.listMessages()).messages.map((m) => m.Tags)).toEqual([['Orders'], []]);
    await mailpit.deleteMessages({ IDs: [ids[0]!] });
    expect(await mailpit.getTags()).toEqual([]);
    expect((await mailpit.searchMessages({ query: 'is:tagged' })).messages_count).toBe(0);
  });

  it('refuses a rename to a name with nothing usable in it', async () => {
    await mailpit.setTags({ IDs: ids, Tags: ['keep'] });
    await expect(mailpit.renameTag('keep', '///')).rejects.toThrow(/400 .*invalid tag name/);
  });
});

describe('application routes', () => {
  it('reports info from the store and runtime counters', async () => {
    await smtp({ subject: 'counted' });
    const info = await mailpit.getInfo();
    expect(info).toMatchObject({ Version: expect.any(String), Messages: 1, Unread: 1, Tags: {} });
    expect(info.DatabaseSize).toBeGreaterThan(0);
    expect(info.RuntimeStats).toMatchObject({ SMTPRejected: 0, SMTPIgnored: 0 });
    expect(info.RuntimeStats.SMTPAccepted).toBeGreaterThan(0);
    expect(info.RuntimeStats.Memory).toBeGreaterThan(0);
  });

  it('reports web UI settings, all off but Chaos (always available), and every trigger at 0 %', async () => {
    expect(await mailpit.getConfiguration()).toMatchObject({ ChaosEnabled: true, SpamAssassin: false, MessageRelay: { Enabled: false } });
    expect(await mailpit.getChaosTriggers()).toEqual({
      Sender: { ErrorCode: 451, Probability: 0 }, Recipient: { ErrorCode: 451, Probability: 0 }, Authentication: { ErrorCode: 535, Probability: 0 },
    });
  });
});

describe('WebSocket /api/events', () => {
  let socket: MailpitSocket | undefined;

  afterEach(() => socket?.close());

  it('greets with stats, then sends new, update, delete and truncate frames', async () => {
    socket = await MailpitSocket.connect();
    const hello = await socket.next('stats');
    expect(hello.Data).toEqual({ Total: 0, Unread: 0, Version: expect.any(String) });

    await smtp({ subject: 'live one', replyTo: 'r@example.test', attachments: [{ filename: 'f.txt', content: 'f' }] });
    const created = await socket.next('new');
    expect(created.Data).toMatchObject({ Subject: 'live one', Read: false, Attachments: 1, ReplyTo: [{ Name: '', Address: 'r@example.test' }], Tags: [] });
    const id = created.Data.ID as string;
    await socket.next('stats', (d) => d.Total === 1 && d.Unread === 1);

    await mailpit.getMessageSummary(id);
    expect((await socket.next('update', (d) => 'Read' in d)).Data).toEqual({ ID: id, Read: true });
    await mailpit.setTags({ IDs: [id], Tags: ['live'] });
    expect((await socket.next('update', (d) => 'Tags' in d)).Data).toEqual({ ID: id, Tags: ['live'] });
    await mailpit.deleteMessages({ IDs: [id] });
    expect((await socket.next('delete')).Data).toEqual({ ID: id });

    await smtp({ subject: 'live two' });
    await socket.next('new', (d) => d.Subject === 'live two');
    await mailpit.deleteMessages();
    expect((await socket.next('truncate')).Data).toBeNull();
    await socket.next('stats', (d) => d.Total === 0);

    // Frames keep the order of the events behind them.
    const types = socket.frames.map((f) => f.Type).filter((t) => t !== 'stats');
    expect(types).toEqual(['new', 'update', 'update', 'delete', 'new', 'truncate']);
  });

  it('sends the tags a send-API message gets', async () => {
    socket = await MailpitSocket.connect();
    const { ID } = await mailpit.sendMessage({ From: { Email: 'a@example.test' }, To: [{ Email: 'b@example.test' }], Subject: 'tagged', Tags: ['api'] });
    await socket.next('new', (d) => d.ID === ID);
    await socket.next('update', (d) => d.ID === ID && Array.isArray(d.Tags) && d.Tags.includes('api'));
  });

  it('refuses a browser page from another origin', async () => {
    await expect(MailpitSocket.connect({ Origin: 'http://evil.example' })).rejects.toThrow(/403/);
    socket = await MailpitSocket.connect({ Origin: kotak.url });
    await socket.next('stats');
  });
});
