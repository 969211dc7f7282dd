/**
 * The relay queue is persistent: Kotak (a child process) defers jobs while the receiving server
 * says 451, is killed with SIGKILL, and after a restart on the same database delivers each
 * deferred recipient exactly once. Also: DKIM-signed relay verifies, and a smarthost with AUTH
 * works without its password showing up anywhere.
 */
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKotakProcess } from '../helpers/child.js';
import { startDnsServer, type DnsTestServer } from '../helpers/dns-server.js';
import { getJson, LiveClient, transport, withKotak } from '../helpers/kotak.js';
import { startReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { queuedId } from '../helpers/smtp-client.js';

let dns: DnsTestServer;
let receiver: SmtpReceiver;
const dir = mkdtempSync(join(tmpdir(), 'kotak-relay-restart-'));

beforeAll(async () => {
  receiver = await startReceiver('127.0.0.6', 0);
  dns = await startDnsServer({ 'restart.test': { A: ['127.0.0.6'] } });
});

afterAll(async () => {
  await Promise.all([receiver?.close(), dns?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('relay queue across a crash', () => {
  it('delivers deferred jobs after kill -9 and a restart, exactly once', async () => {
    const db = join(dir, 'kotak.db');
    const args = [
      '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', db, '--log-level', 'info',
      '--relay-allow', '*@restart.test', '--relay-dns', dns.address, '--relay-mx-port', String(receiver.port), '--relay-retry', '300ms',
    ];
    receiver.behaviour = { rcpt: () => 451 };
    const first = await startKotakProcess(args);
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: first.smtpPort, ignoreTLS: true });
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push(queuedId((await mailer.sendMail({ from: 'app@kotak.test', to: `user${n}@restart.test`, subject: `restart ${n}`, text: 'x' })).response));
    for (const id of ids) expect((await fetch(`${first.url}/api/messages/${id}/release`, { method: 'POST' })).status).toBe(202);
    // Every job has been tried and deferred at least once before the crash.
    for (;;) {
      const { jobs } = (await (await fetch(`${first.url}/api/relay/queue`)).json()) as { jobs: { status: string; attempts: number }[] };
      if (jobs.length === 3 && jobs.every((j) => j.status === 'deferred' && j.attempts >= 1)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const deliveredBefore = receiver.messages.length;
    expect(deliveredBefore).toBe(0);

    receiver.behaviour = {};
    const second = await startKotakProcess(args);
    try {
      for (const n of [0, 1, 2]) await receiver.nextMessage(n);
      for (;;) {
        const { jobs } = (await (await fetch(`${second.url}/api/relay/queue`)).json()) as { jobs: { status: string }[] };
        if (jobs.every((j) => j.status === 'delivered')) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(receiver.messages.map((m) => m.to[0]).sort()).toEqual(['user1@restart.test', 'user2@restart.test', 'user3@restart.test']);
    } finally {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }
  }, 60_000);
});

describe('relay signing and smarthost', () => {
  it('signs relayed mail with DKIM that a verifier accepts', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(dir, 'dkim.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const kotak = await withKotak({
      relayAllow: '*@restart.test', relayDns: dns.address, relayMxPort: receiver.port,
      relayDkimDomain: 'kotak.test', relayDkimSelector: 'sel', relayDkimKey: keyFile,
    });
    try {
      const live = await LiveClient.connect(kotak);
      const before = receiver.messages.length;
      const info = await transport(kotak).sendMail({ from: 'app@kotak.test', to: 'signed@restart.test', subject: 'signed', text: 'hello\nworld' });
      await getJson(kotak, `/api/messages/${queuedId(info.response)}/release`, { method: 'POST' });
      const received = await receiver.nextMessage(before);
      const publicDer = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      const result = await dkimVerify(received.raw, {
        resolver: async (name: string, type: string) => {
          if (name === 'sel._domainkey.kotak.test' && type === 'TXT') return [[`v=DKIM1; k=rsa; p=${publicDer}`]];
          throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
        },
      });
      expect(result.results[0]?.status.result).toBe('pass');
      live.ws.close();
    } finally {
      await kotak.stop();
    }
  });

  it('delivers through a smarthost with AUTH, and the password appears in no response', async () => {
    const logins: { user: string; pass: string }[] = [];
    const received: string[] = [];
    const smarthost = new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      onAuth(auth, _session, callback) {
        logins.push({ user: auth.username ?? '', pass: auth.password ?? '' });
        callback(null, { user: auth.username });
      },
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          received.push(...session.envelope.rcptTo.map((r) => r.address));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smarthost.listen(0, '127.0.0.1', () => resolve()));
    const port = (smarthost.server.address() as { port: number }).port;
    const kotak = await withKotak({
      relayAllow: '*@anywhere.test', relaySmarthost: `127.0.0.1:${port}`, relaySmarthostTls: 'off',
      relaySmarthostUser: 'relay-user', relaySmarthostPassword: 's3cret-Pa55',
    });
    try {
      const live = await LiveClient.connect(kotak);
      const info = await transport(kotak).sendMail({ from: 'app@kotak.test', to: 'x@anywhere.test', subject: 'via smarthost', text: 'x' });
      const id = queuedId(info.response);
      await getJson(kotak, `/api/messages/${id}/release`, { method: 'POST' });
      await live.next('relay:updated', (f) => f.data.status === 'delivered');
      expect(logins).toEqual([{ user: 'relay-user', pass: 's3cret-Pa55' }]);
      expect(received).toEqual(['x@anywhere.test']);
      const everything = JSON.stringify([
        (await getJson(kotak, `/api/messages/${id}/deliveries`)).body,
        (await getJson(kotak, '/api/relay')).body,
        (await getJson(kotak, '/api/relay/queue')).body,
        live.frames,
      ]);
      expect(everything).not.toContain('s3cret-Pa55');
      // The AUTH step is in the transcript, its credentials (plain or base64) are not.
      expect(everything).toMatch(/AUTH (PLAIN|LOGIN)/);
      expect(everything).not.toContain(Buffer.from('\0relay-user\0s3cret-Pa55').toString('base64'));
      expect(everything).not.toContain(Buffer.from('s3cret-Pa55').toString('base64'));
      live.ws.close();
    } finally {
      await kotak.stop();
      await new Promise<void>((resolve) => smarthost.close(() => resolve()));
    }
  });
});
