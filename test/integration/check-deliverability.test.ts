/**
 * The deliverability check end to end: messages signed in the test (with the relay's own DKIM
 * signer) go to Kotak over SMTP, and GET /api/messages/{id}/checks/deliverability verifies them
 * with keys and DMARC records served by a real DNS server on loopback (through --dns).
 */
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KotakClient } from '../../src/client/index.js';
import { signDkim } from '../../src/relay/smtp-message.js';
import { startDnsServer, unreachableDnsAddress, type DnsTestServer } from '../helpers/dns-server.js';
import { startKotakProcess } from '../helpers/child.js';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';
import type { DeliverabilityReport } from '../../src/checks/deliverability/index.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_B64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

let dns: DnsTestServer;
let kotak: RunningKotak;
let keyDir: string;

beforeAll(async () => {
  dns = await startDnsServer({
    's1._domainkey.example.test': { TXT: [`v=DKIM1; k=rsa; p=${PUBLIC_B64}`] },
    '_dmarc.example.test': { TXT: ['v=DMARC1; p=quarantine; sp=reject; adkim=s; pct=50; rua=mailto:dmarc@example.test'] },
    's1._domainkey.mail.example.test': { TXT: [`v=DKIM1; k=rsa; p=${PUBLIC_B64}`] },
    's1._domainkey.nodmarc.test': { TXT: [`v=DKIM1; k=rsa; p=${PUBLIC_B64}`] },
  });
  kotak = await withKotak({ dns: dns.address });
  keyDir = await mkdtemp(join(tmpdir(), 'kotak-dkim-'));
});

afterAll(async () => {
  await kotak?.stop();
  await dns?.close();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

interface MessageOptions {
  from?: string;
  headers?: string[];
  body?: string;
}

function message({ from = 'News <news@example.test>', headers = [], body = 'Hello,\r\nthis is the body.\r\n' }: MessageOptions = {}): Buffer {
  return Buffer.from(
    [
      `From: ${from}`,
      'To: reader@inbox.test',
      'Subject: deliverability',
      'Date: Sun, 6 Dec 2026 10:00:00 +0000',
      `Message-ID: <${Math.random().toString(36).slice(2)}@example.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      ...headers,
      '',
      body,
    ].join('\r\n'),
  );
}

const sign = (raw: Buffer, domainName = 'example.test', keySelector = 's1') => signDkim(raw, { domainName, keySelector, privateKey: PRIVATE_PEM });

async function check(raw: Buffer, on: RunningKotak = kotak, mailFrom = 'bounces@example.test'): Promise<DeliverabilityReport> {
  const info = await transport(on).sendMail({ envelope: { from: mailFrom, to: ['reader@inbox.test'] }, raw });
  const id = queuedId(info.response);
  const { status, body } = await getJson<DeliverabilityReport>(on, `/api/messages/${id}/checks/deliverability`);
  expect(status).toBe(200);
  return body;
}

const ruleOf = (report: DeliverabilityReport, id: string) => report.rules.find((r) => r.id === id)!;

const ONE_CLICK = ['List-Unsubscribe: <https://example.test/unsubscribe?u=1>, <mailto:unsubscribe@example.test?subject=unsubscribe>', 'List-Unsubscribe-Post: List-Unsubscribe=One-Click'];

describe('DKIM', () => {
  it('passes a good signature, aligned with From strictly, and reads the DMARC policy', async () => {
    const report = await check(await sign(message()));
    expect(report.dkim.signatures).toEqual([
      expect.objectContaining({ domain: 'example.test', selector: 's1', algorithm: 'rsa-sha256', result: 'pass', reason: null, alignment: { strict: true, relaxed: true } }),
    ]);
    expect(report.dkim.aligned).toEqual({ strict: true, relaxed: true });
    expect(report.from).toEqual({ address: 'news@example.test', domain: 'example.test' });
    expect(report.envelope).toEqual({ mailFrom: 'bounces@example.test', domain: 'example.test', alignment: { strict: true, relaxed: true } });
    expect(report.dmarc).toEqual(expect.objectContaining({
      result: 'found', domain: 'example.test', atOrganizationalDomain: false, dkimAligned: true,
      policy: { p: 'quarantine', sp: 'reject', adkim: 's', aspf: 'r', pct: 50 },
    }));
    expect(ruleOf(report, 'dkim-signed').result).toBe('pass');
    expect(ruleOf(report, 'dkim-aligned').result).toBe('pass');
    expect(ruleOf(report, 'dmarc-record').result).toBe('pass');
    expect(ruleOf(report, 'message-id').result).toBe('pass');
    expect(ruleOf(report, 'date').result).toBe('pass');
    expect(ruleOf(report, 'spf').result).toBe('not_applicable');
    for (const rule of report.rules) expect(rule.source).toMatch(/^https:\/\//);
  });

  it('aligns a subdomain signature with the organizational domain (relaxed) but not strictly, which the strict DMARC record needs', async () => {
    const report = await check(await sign(message(), 'mail.example.test'));
    expect(report.dkim.signatures[0]).toEqual(expect.objectContaining({ domain: 'mail.example.test', result: 'pass', alignment: { strict: false, relaxed: true } }));
    expect(report.dmarc).toEqual(expect.objectContaining({ result: 'found', dkimAligned: false }));
  });

  it('fails a signature whose body was changed after signing (body hash)', async () => {
    const signed = await sign(message());
    const tampered = Buffer.from(signed.toString('latin1').replace('this is the body', 'this is the BODY'), 'latin1');
    const report = await check(tampered);
    expect(report.dkim.signatures).toEqual([expect.objectContaining({ result: 'fail', reason: expect.stringMatching(/body hash/) })]);
    expect(report.dkim.aligned).toEqual({ strict: false, relaxed: false });
    expect(ruleOf(report, 'dkim-signed').result).toBe('fail');
  });

  it('is a permerror when the selector has no key in DNS', async () => {
    const report = await check(await sign(message(), 'example.test', 'wrong'));
    expect(report.dkim.signatures).toEqual([expect.objectContaining({ selector: 'wrong', result: 'permerror', reason: expect.stringMatching(/no key/) })]);
    expect(dns.queries).toContainEqual(expect.objectContaining({ name: 'wrong._domainkey.example.test', type: 'TXT' }));
  });

  it('reports an unsigned message as such', async () => {
    const report = await check(message());
    expect(report.dkim.signatures).toEqual([]);
    expect(ruleOf(report, 'dkim-signed')).toEqual(expect.objectContaining({ result: 'fail', reason: expect.stringMatching(/no DKIM-Signature/) }));
    expect(ruleOf(report, 'dkim-aligned').result).toBe('not_applicable');
  });
});

describe('DMARC', () => {
  it('says none when the From domain has no record; a bulk message then fails the rule', async () => {
    const report = await check(await sign(message({ from: 'news@nodmarc.test', headers: ONE_CLICK }), 'nodmarc.test'));
    expect(report.dkim.signatures[0]?.result).toBe('pass');
    expect(report.dmarc).toEqual({ result: 'none', domain: 'nodmarc.test', reason: expect.stringMatching(/no DMARC record/) });
    expect(report.bulk.bulk).toBe(true);
    expect(ruleOf(report, 'dmarc-record').result).toBe('fail');
  });

  it('answers temperror, not an error, when the DNS server is down', async () => {
    const offline = await withKotak({ dns: await unreachableDnsAddress() });
    try {
      const report = await check(await sign(message()), offline);
      expect(report.dkim.signatures).toEqual([expect.objectContaining({ result: 'temperror', reason: expect.stringMatching(/DNS/) })]);
      expect(report.dmarc).toEqual(expect.objectContaining({ result: 'temperror' }));
    } finally {
      await offline.stop();
    }
  });
});

describe('one-click unsubscribe (RFC 8058)', () => {
  it('passes with an https target, the Post header, and a signature covering both', async () => {
    const report = await check(await sign(message({ headers: ONE_CLICK })));
    expect(report.unsubscribe).toEqual(expect.objectContaining({
      targets: [{ uri: 'https://example.test/unsubscribe?u=1', scheme: 'https' }, { uri: 'mailto:unsubscribe@example.test?subject=unsubscribe', scheme: 'mailto' }],
      problems: [],
      listUnsubscribePost: 'List-Unsubscribe=One-Click',
      oneClick: expect.objectContaining({ result: 'pass' }),
    }));
    expect(report.dkim.signatures[0]?.coveredHeaders).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']));
    expect(ruleOf(report, 'one-click-unsubscribe').result).toBe('pass');
  });

  it('is absent without List-Unsubscribe-Post, which a bulk message fails', async () => {
    const report = await check(await sign(message({ headers: [ONE_CLICK[0]!] })));
    expect(report.unsubscribe.oneClick.result).toBe('absent');
    expect(report.bulk).toEqual({ bulk: true, reason: expect.stringMatching(/List-Unsubscribe/) });
    expect(ruleOf(report, 'one-click-unsubscribe').result).toBe('fail');
  });

  it('is not applicable to a message that does not look bulk', async () => {
    const report = await check(await sign(message()));
    expect(report.bulk.bulk).toBe(false);
    expect(report.unsubscribe).toEqual(expect.objectContaining({ listUnsubscribe: null, oneClick: expect.objectContaining({ result: 'absent' }) }));
    expect(ruleOf(report, 'one-click-unsubscribe').result).toBe('not_applicable');
  });

  it('names what is malformed: no angle brackets, plain http, a wrong Post value', async () => {
    const report = await check(await sign(message({ headers: ['List-Unsubscribe: https://example.test/u, <http://example.test/u2>', 'List-Unsubscribe-Post: List-Unsubscribe=one-click'] })));
    expect(report.unsubscribe.problems).toEqual([expect.stringMatching(/angle brackets/), expect.stringMatching(/plain http/)]);
    expect(report.unsubscribe.oneClick).toEqual({ result: 'fail', reason: expect.stringMatching(/exactly "List-Unsubscribe=One-Click"/) });
    expect(ruleOf(report, 'one-click-unsubscribe').result).toBe('fail');
  });

  it('fails when the signature does not cover List-Unsubscribe-Post (added after signing)', async () => {
    const signed = (await sign(message({ headers: [ONE_CLICK[0]!] }))).toString('latin1');
    const added = Buffer.from(signed.replace('\r\nFrom:', `\r\n${ONE_CLICK[1]}\r\nFrom:`), 'latin1');
    const report = await check(added);
    expect(report.dkim.signatures[0]?.result).toBe('pass');
    expect(report.unsubscribe.oneClick).toEqual({ result: 'fail', reason: expect.stringMatching(/covers both/) });
  });
});

describe('sender rules', () => {
  it('fails a free-mail From, a Bcc header left in, a bad Message-ID and an impossible Date', async () => {
    const raw = Buffer.from(
      ['From: someone@gmail.com', 'To: reader@inbox.test', 'Bcc: secret@inbox.test', 'Subject: x', 'Date: Mon, 31 Feb 2026 10:00:00 +0000', 'Message-ID: not-a-msg-id', '', 'body', ''].join('\r\n'),
    );
    const report = await check(raw, kotak, 'someone@gmail.com');
    expect(ruleOf(report, 'from-not-free-mail').result).toBe('fail');
    expect(ruleOf(report, 'no-bcc-header').result).toBe('fail');
    expect(ruleOf(report, 'message-id').result).toBe('fail');
    expect(ruleOf(report, 'date')).toEqual(expect.objectContaining({ result: 'fail', reason: expect.stringMatching(/not a day of the calendar/) }));
  });

  it('answers 422 check_too_large for more DKIM signatures than it verifies', async () => {
    const signed = await sign(message());
    const signature = signed.toString('latin1').split(/\r\n(?=\S)/)[0]!;
    const many = Buffer.concat([Buffer.from(`${signature}\r\n`.repeat(10), 'latin1'), signed]);
    const info = await transport(kotak).sendMail({ envelope: { from: 'bounces@example.test', to: ['reader@inbox.test'] }, raw: many });
    const { status, body } = await getJson(kotak, `/api/messages/${queuedId(info.response)}/checks/deliverability`);
    expect(status).toBe(422);
    expect(body.error).toEqual({ code: 'check_too_large', message: expect.stringMatching(/11 DKIM signatures/) });
  });

  it('answers 404 for an unknown id', async () => {
    const { status, body } = await getJson(kotak, '/api/messages/nope/checks/deliverability');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });

  it('answers 404 for a message outside the caller\'s mailboxes, as for an unknown id', async () => {
    const tokens = join(keyDir, 'tokens.txt');
    await writeFile(tokens, 'token-for-mailbox-a a\ntoken-for-mailbox-b b\n');
    const scoped = await withKotak({ dns: dns.address, mailboxRoute: '*@a.test=a,*@b.test=b', httpTokenFile: tokens });
    try {
      const info = await transport(scoped).sendMail({ envelope: { from: 'bounces@example.test', to: ['reader@b.test'] }, raw: await sign(message()) });
      const path = `/api/messages/${queuedId(info.response)}/checks/deliverability`;
      const as = (token: string) => getJson(scoped, path, { headers: { Authorization: `Bearer ${token}` } });
      expect((await as('token-for-mailbox-a')).status).toBe(404);
      expect((await as('token-for-mailbox-b')).body.dkim.signatures[0].result).toBe('pass');
    } finally {
      await scoped.stop();
    }
  });

  it('is in the OpenAPI document and in kotak/client as message.checks.deliverability()', async () => {
    const { body } = await getJson(kotak, '/api/openapi.json');
    expect(body.paths['/api/messages/{id}/checks/deliverability'].get.operationId).toBe('checkDeliverability');
    const info = await transport(kotak).sendMail({ envelope: { from: 'bounces@example.test', to: ['reader@inbox.test'] }, raw: await sign(message()) });
    const client = new KotakClient(kotak.url);
    const report = await (await client.get(queuedId(info.response))).checks.deliverability();
    expect(report.dkim.signatures[0]?.result).toBe('pass');
  });
});

describe('the kotak command', () => {
  it.each([
    ['--dns', (address: string) => ({ args: ['--dns', address], env: {} })],
    ['KOTAK_DNS', (address: string) => ({ args: [], env: { KOTAK_DNS: address } })],
  ])('asks the DNS servers of %s', async (_name, given) => {
    const { args, env } = given(dns.address);
    const child = await startKotakProcess(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:', '--log-level', 'info', ...args], env);
    try {
      const mailer = transport({ smtpPort: child.smtpPort } as RunningKotak);
      const info = await mailer.sendMail({ envelope: { from: 'bounces@example.test', to: ['reader@inbox.test'] }, raw: await sign(message()) });
      const report = (await (await fetch(`${child.url}/api/messages/${queuedId(info.response)}/checks/deliverability`)).json()) as DeliverabilityReport;
      expect(report.dkim.signatures[0]?.result).toBe('pass');
    } finally {
      child.child.kill();
      await once(child.child, 'exit');
    }
  });
});

describe("Kotak's relay DKIM signing", () => {
  it('passes the check on the Kotak it relays to', async () => {
    const keyFile = join(keyDir, 'dkim.pem');
    await writeFile(keyFile, PRIVATE_PEM);
    const sender = await withKotak({
      relayAllow: '*@inbox.test', relayAuto: true, relaySmarthost: `127.0.0.1:${kotak.smtpPort}`, relaySmarthostTls: 'off',
      relayDkimDomain: 'example.test', relayDkimSelector: 's1', relayDkimKey: keyFile, hostname: 'sender.test',
    });
    try {
      const subject = `relayed-${Math.random().toString(36).slice(2)}`;
      await transport(sender).sendMail({ from: 'news@example.test', to: 'reader@inbox.test', subject, text: 'signed by the relay', headers: { 'List-Unsubscribe': '<https://example.test/u>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } });
      const client = new KotakClient(kotak.url);
      const relayed = await client.waitFor({ subject, timeout: 20_000 });
      const report = await relayed.checks.deliverability();
      expect(report.dkim.signatures).toEqual([expect.objectContaining({ domain: 'example.test', selector: 's1', result: 'pass', alignment: { strict: true, relaxed: true } })]);
      expect(report.unsubscribe.oneClick.result).toBe('pass');
      expect(report.rules.filter((r) => r.result === 'fail')).toEqual([]);
    } finally {
      await sender.stop();
    }
  });
});
