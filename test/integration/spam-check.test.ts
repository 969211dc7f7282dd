/**
 * The spam check against a real SpamAssassin spamd (started once for this file, on a free
 * loopback port and a Unix socket), through Kotak's route, Mailpit's sa-check with the real
 * `mailpit-api` client, and kotak/client; then spamd stopped. Failures of spamd (down, silent,
 * answering errors or nonsense) are played by small servers on port 0.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailpitClient } from 'mailpit-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpamCheckSchema } from '../../src/api/schemas.js';
import { KotakApiError, KotakClient } from '../../src/client/index.js';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { freePort } from '../helpers/free-port.js';
import { startSpamd, type RunningSpamd } from '../helpers/spamd.js';

/** SpamAssassin's test string: any message holding it scores 1000 (rule GTUBE). */
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** Sends over SMTP and returns the id from the 250 reply (which comes after the message is stored). */
async function send(kotak: RunningKotak, text: string, subject = 'Lunch tomorrow'): Promise<string> {
  const info = await transport(kotak).sendMail({ from: 'Alice <alice@example.test>', to: 'bob@example.test', subject, text });
  const match = /queued as (\S+)/.exec(info.response);
  if (!match) throw new Error(`no id in ${info.response}`);
  return match[1]!;
}

const plainText = 'Hi Bob,\n\nshall we have lunch at noon tomorrow? The usual place.\n\nAlice\n';

describe('with a real spamd', () => {
  let spamd: RunningSpamd;
  let kotak: RunningKotak;
  let gtubeId: string;
  let plainId: string;

  beforeAll(async () => {
    spamd = await startSpamd();
    kotak = await withKotak({ spamassassin: spamd.address });
    gtubeId = await send(kotak, `This is the GTUBE:\n${GTUBE}\n`, 'Spam test');
    plainId = await send(kotak, plainText);
  });

  afterAll(async () => {
    await kotak?.stop();
    await spamd?.stop();
  });

  it('scores a GTUBE message as spam, with the GTUBE rule, its points and description', async () => {
    const { status, body } = await getJson(kotak, `/api/messages/${gtubeId}/checks/spam`);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(SpamCheckSchema.safeParse(body).error).toBeUndefined();
    expect(body.isSpam).toBe(true);
    expect(body.score).toBeGreaterThanOrEqual(1000);
    expect(body.threshold).toBe(5);
    expect(body.rules).toContainEqual({ name: 'GTUBE', score: 1000, description: 'BODY: Generic Test for Unsolicited Bulk Email' });
    for (const rule of body.rules) expect(rule.name).toMatch(/^[A-Z0-9_]+$/);
    expect(body.truncated).toBe(false);
    expect(body.checkedBytes).toBe(body.messageBytes);
  });

  it('scores a plain message as not spam', async () => {
    const { status, body } = await getJson(kotak, `/api/messages/${plainId}/checks/spam`);
    expect(status).toBe(200);
    expect(body.isSpam).toBe(false);
    expect(body.score).toBeLessThan(body.threshold);
    expect(body.rules.map((r: { name: string }) => r.name)).not.toContain('GTUBE');
  });

  it('answers an unknown id with 404', async () => {
    const { status, body } = await getJson(kotak, '/api/messages/nosuchmessage/checks/spam');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });

  it("serves Mailpit's sa-check in Mailpit's shape, through the mailpit-api client", async () => {
    const mailpit = new MailpitClient(kotak.url);
    const spam = await mailpit.spamAssassinCheck(gtubeId);
    expect(Object.keys(spam).sort()).toEqual(['Error', 'IsSpam', 'Rules', 'Score']);
    expect(spam.IsSpam).toBe(true);
    expect(spam.Error).toBe('');
    expect(spam.Score).toBeGreaterThanOrEqual(1000);
    expect(spam.Rules).toContainEqual({ Name: 'GTUBE', Score: 1000, Description: 'BODY: Generic Test for Unsolicited Bulk Email' });
    // "latest" is the plain message, sent last.
    const latest = await mailpit.spamAssassinCheck();
    expect(latest).toMatchObject({ IsSpam: false, Error: '' });
    expect(Array.isArray(latest.Rules)).toBe(true);
    expect((await mailpit.getConfiguration()).SpamAssassin).toBe(true);
    await expect(mailpit.spamAssassinCheck('nosuchmessage')).rejects.toThrow(/404/);
  });

  it('runs from kotak/client: message.checks.spam()', async () => {
    const client = new KotakClient(kotak.url);
    const message = await client.get(gtubeId);
    const spam = await message.checks.spam();
    expect(spam.isSpam).toBe(true);
    expect(spam.rules.some((r) => r.name === 'GTUBE')).toBe(true);
  });

  it('reaches spamd over its Unix socket (--spamassassin unix:/path)', async () => {
    const overSocket = await withKotak({ spamassassin: `unix:${spamd.socketPath}` });
    try {
      const id = await send(overSocket, GTUBE);
      const { status, body } = await getJson(overSocket, `/api/messages/${id}/checks/spam`);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.isSpam).toBe(true);
    } finally {
      await overSocket.stop();
    }
  });

  it('sends at most --spamassassin-max-size of a message, cut at a line end, and says so', async () => {
    const capped = await withKotak({ spamassassin: spamd.address, spamassassinMaxSize: '4KB' });
    try {
      const filler = Array.from({ length: 400 }, (_, i) => `line ${i} of a long newsletter that goes on and on`).join('\n');
      const id = await send(capped, `${GTUBE}\n${filler}\n`);
      const { status, body } = await getJson(capped, `/api/messages/${id}/checks/spam`);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.truncated).toBe(true);
      expect(body.messageBytes).toBeGreaterThan(4096);
      expect(body.checkedBytes).toBeLessThanOrEqual(4096);
      const raw = Buffer.from(await (await fetch(`${capped.url}/api/messages/${id}/raw`)).arrayBuffer());
      expect(raw[body.checkedBytes - 1]).toBe(0x0a);
      // What was sent still reached spamd whole: its GTUBE line is in the first 4 KB.
      expect(body.isSpam).toBe(true);
    } finally {
      await capped.stop();
    }
  });

  // Last: stops the spamd this file shares.
  it('answers 503 spamd_unavailable (Kotak) and an Error (Mailpit) once spamd is stopped', async () => {
    await spamd.stop();
    const { status, body } = await getJson(kotak, `/api/messages/${gtubeId}/checks/spam`);
    expect(status).toBe(503);
    expect(body.error.code).toBe('spamd_unavailable');
    expect(body.error.message).toContain(spamd.address);
    expect(body.error.message).toMatch(/refused the connection/);
    const mailpit = await new MailpitClient(kotak.url).spamAssassinCheck(gtubeId);
    expect(mailpit).toEqual({ IsSpam: false, Error: body.error.message, Score: 0, Rules: null });
  });
});

/** A server on port 0 that does `onConnection` with each socket; closing it drops them all. */
async function fakeSpamd(onConnection: (socket: net.Socket) => void): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  // Half-open allowed, as spamd: our end of the request must not end its side of the connection.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** After the request, once spamd's whole request has been read: the answer given by `reply`. */
function answerWith(reply: string): (socket: net.Socket) => void {
  return (socket) => {
    socket.resume();
    socket.on('end', () => socket.end(reply));
  };
}

describe('without a working spamd', () => {
  it('answers 409 spamassassin_disabled without --spamassassin; Mailpit answers "no SpamAssassin service defined"', async () => {
    const kotak = await withKotak();
    try {
      const id = await send(kotak, plainText);
      const { status, body } = await getJson(kotak, `/api/messages/${id}/checks/spam`);
      expect(status).toBe(409);
      expect(body.error.code).toBe('spamassassin_disabled');
      expect(body.error.message).toMatch(/--spamassassin/);
      const mailpit = new MailpitClient(kotak.url);
      await expect(mailpit.spamAssassinCheck(id)).rejects.toThrow(/400 .*no SpamAssassin service defined/);
      expect((await mailpit.getConfiguration()).SpamAssassin).toBe(false);
      const message = await new KotakClient(kotak.url).get(id);
      await expect(message.checks.spam()).rejects.toMatchObject({ status: 409, code: 'spamassassin_disabled' });
      await expect(message.checks.spam()).rejects.toBeInstanceOf(KotakApiError);
    } finally {
      await kotak.stop();
    }
  });

  it('answers 504 spamd_timeout when spamd takes the message and never answers', async () => {
    const silent = await fakeSpamd((socket) => socket.resume());
    const kotak = await withKotak({ spamassassin: silent.address, spamassassinTimeout: '300ms' });
    try {
      const id = await send(kotak, plainText);
      const { status, body } = await getJson(kotak, `/api/messages/${id}/checks/spam`);
      expect(status).toBe(504);
      expect(body.error.code).toBe('spamd_timeout');
      expect(body.error.message).toMatch(/did not answer within 0.3 s/);
      const mailpit = await new MailpitClient(kotak.url).spamAssassinCheck(id);
      expect(mailpit).toMatchObject({ IsSpam: false, Score: 0, Rules: null });
      expect(mailpit.Error).toMatch(/did not answer/);
    } finally {
      await kotak.stop();
      await silent.close();
    }
  });

  it("answers 404 for a message outside the login's mailboxes, before spamd is asked", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kotak-spam-scope-'));
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, 'only-w1-token w1\nall-token *\n');
    // Nothing listens at the address: only a check that got as far as spamd would say so.
    const kotak = await withKotak({ spamassassin: `127.0.0.1:${await freePort()}`, httpTokenFile: tokens });
    try {
      const id = await send(kotak, plainText);
      const as = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
      const outside = await getJson(kotak, `/api/messages/${id}/checks/spam`, as('only-w1-token'));
      expect(outside.status).toBe(404);
      expect(outside.body.error.code).toBe('not_found');
      const mailpit = await fetch(`${kotak.url}/api/v1/message/${id}/sa-check`, as('only-w1-token'));
      expect(mailpit.status).toBe(404);
      // The same message, seen by a login that may: spamd is asked (and is not there).
      expect((await getJson(kotak, `/api/messages/${id}/checks/spam`, as('all-token'))).body.error.code).toBe('spamd_unavailable');
    } finally {
      await kotak.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['an error code', 'SPAMD/1.0 76 Bad header line: (Content-length mismatch)\r\n', /refused the request: 76 Bad header line/],
    ['something other than SPAMD', 'HTTP/1.1 400 Bad Request\r\n\r\n', /answered something other than SPAMD/],
    ['no Spam header', 'SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n', /without a readable Spam header/],
    ['nothing at all', '', /closed the connection without an answer/],
  ])('answers 502 spamd_failed when spamd answers %s', async (_, reply, reason) => {
    const broken = await fakeSpamd(answerWith(reply));
    const kotak = await withKotak({ spamassassin: broken.address });
    try {
      const id = await send(kotak, plainText);
      const { status, body } = await getJson(kotak, `/api/messages/${id}/checks/spam`);
      expect(status).toBe(502);
      expect(body.error.code).toBe('spamd_failed');
      expect(body.error.message).toMatch(reason);
    } finally {
      await kotak.stop();
      await broken.close();
    }
  });
});
