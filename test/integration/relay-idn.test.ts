/**
 * Relay recipients written with Unicode: one form (src/relay/recipient.ts) is judged by the
 * allowlist, queued, looked up and sent. Loopback only: a DNS server on 127.0.0.1 and two receiving
 * smtp-server instances sharing a port, on 127.0.0.11 (offers SMTPUTF8) and 127.0.0.12 (does not).
 * The receivers record every command line as it came over the wire, which is what these tests
 * check (smtp-server itself would show an xn-- domain in Unicode).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsTestServer } from '../helpers/dns-server.js';
import { getJson, LiveClient, settledDeliveries, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { startReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { queuedId } from '../helpers/smtp-client.js';

let dns: DnsTestServer;
let utf8Mx: SmtpReceiver;
let plainMx: SmtpReceiver;
let kotak: RunningKotak;
let live: LiveClient;

beforeAll(async () => {
  utf8Mx = await startReceiver('127.0.0.11', 0);
  plainMx = await startReceiver('127.0.0.12', utf8Mx.port, { smtpUtf8: false });
  dns = await startDnsServer({
    'allowed.test': { MX: [{ preference: 10, exchange: 'mx.utf8.test' }] },
    'xn--bcher-kva.test': { MX: [{ preference: 10, exchange: 'mx.utf8.test' }] },
    'plain.test': { MX: [{ preference: 10, exchange: 'mx.plain.test' }] },
    'mx.utf8.test': { A: ['127.0.0.11'] },
    'mx.plain.test': { A: ['127.0.0.12'] },
  });
  kotak = await withKotak({
    relayAllow: '*@allowed.test,*@bücher.test,*@plain.test',
    relayDns: dns.address,
    relayMxPort: utf8Mx.port,
    relayRetry: '100ms',
    relayConnectTimeout: '2s',
    relayCommandTimeout: '5s',
    relayDataTimeout: '5s',
    hostname: 'kotak.test',
  });
  live = await LiveClient.connect(kotak);
});

afterAll(async () => {
  live?.close();
  await kotak?.stop();
  await Promise.all([utf8Mx?.close(), plainMx?.close(), dns?.close()]);
});

interface Delivery {
  recipient: string;
  domain: string;
  status: string;
  reply: string | null;
  reason: string | null;
}

async function send(subject: string, from = 'app@kotak.test'): Promise<string> {
  const info = await transport(kotak).sendMail({ from, to: 'someone@kotak.test', subject, text: 'relay me' });
  return queuedId(info.response);
}

function release(id: string, to: string[]) {
  return getJson(kotak, `/api/messages/${id}/release`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to }) });
}

/** Resolves when every job of the message is delivered or failed. */
function settled(id: string): Promise<Delivery[]> {
  return settledDeliveries<Delivery>(kotak, live, id);
}

describe('relay addresses with Unicode', () => {
  it('sends qa@allowed。test (ideographic full stop) as RCPT TO:<qa@allowed.test>, and a zero-width space in the domain is dropped, as UTS 46 says: one job', async () => {
    const before = utf8Mx.commands.length;
    const id = await send('full stop');
    const released = await release(id, ['qa@allowed\u3002test', 'qa@allo\u200Bwed.test', 'qa@allowed.test']);
    expect(released.status).toBe(202);
    const deliveries = await settled(id);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ recipient: 'qa@allowed.test', domain: 'allowed.test', status: 'delivered' });
    const seen = utf8Mx.commands.slice(before);
    expect(seen.filter((c) => /^RCPT TO:/i.test(c))).toEqual(['RCPT TO:<qa@allowed.test>']);
    expect(seen.find((c) => /^MAIL FROM:/i.test(c))).toMatch(/^MAIL FROM:<app@kotak\.test>/);
    expect(seen.find((c) => /^MAIL FROM:/i.test(c))).not.toMatch(/SMTPUTF8/);
  });

  it('sends an IDN domain in its A-label form, looked up by that name, without SMTPUTF8', async () => {
    const before = utf8Mx.commands.length;
    dns.queries.length = 0;
    const id = await send('idn');
    expect((await release(id, ['qa@Bücher.test'])).status).toBe(202);
    expect(await settled(id)).toMatchObject([{ recipient: 'qa@xn--bcher-kva.test', status: 'delivered' }]);
    const seen = utf8Mx.commands.slice(before);
    expect(seen.filter((c) => /^RCPT /i.test(c))).toEqual(['RCPT TO:<qa@xn--bcher-kva.test>']);
    expect(seen.find((c) => /^MAIL FROM:/i.test(c))).not.toMatch(/SMTPUTF8/);
    expect(dns.queries.map((q) => `${q.type} ${q.name}`)).toContain('MX xn--bcher-kva.test');
  });

  it('refuses, and contacts nobody for, a zero-width joiner in the domain (UTS 46 disallows it) or any invisible character in the local part', async () => {
    const connections = utf8Mx.connections;
    const id = await send('invisible');
    for (const address of ['qa@allo\u200Dwed.test', 'q\u200Ba@allowed.test', 'qa\u2060@allowed.test', '\u202Eqa@allowed.test']) {
      const refused = await release(id, [address]);
      expect(refused.status, JSON.stringify(address)).toBe(403);
      expect(refused.body.error.code).toBe('relay_not_allowed');
    }
    expect((await getJson(kotak, `/api/messages/${id}/deliveries`)).body.deliveries).toEqual([]);
    expect(utf8Mx.connections).toBe(connections);
  });

  it('fails a non-ASCII local part at a server without SMTPUTF8, with the reason, and delivers the others of the transaction', async () => {
    const before = plainMx.commands.length;
    const id = await send('no smtputf8');
    expect((await release(id, ['jörg@plain.test', 'qa@plain.test'])).status).toBe(202);
    const deliveries = await settled(id);
    const byRecipient = Object.fromEntries(deliveries.map((d) => [d.recipient, d]));
    expect(byRecipient['jörg@plain.test']).toMatchObject({ status: 'failed', reply: null, reason: 'SMTPUTF8 is required for this address, but was not offered by mx.plain.test' });
    expect(byRecipient['qa@plain.test']).toMatchObject({ status: 'delivered' });
    const seen = plainMx.commands.slice(before);
    expect(seen.filter((c) => /^RCPT TO:/i.test(c))).toEqual(['RCPT TO:<qa@plain.test>']);
    expect(seen.some((c) => c.includes('jörg'))).toBe(false);
  });

  it('fails every recipient of a message whose sender has a non-ASCII local part at a server without SMTPUTF8', async () => {
    const before = plainMx.commands.length;
    const id = await send('sender needs smtputf8', 'jörg@kotak.test');
    expect((await release(id, ['qa@plain.test'])).status).toBe(202);
    expect(await settled(id)).toMatchObject([
      { recipient: 'qa@plain.test', status: 'failed', reply: null, reason: 'SMTPUTF8 is required for the sender <jörg@kotak.test>, but was not offered by mx.plain.test' },
    ]);
    expect(plainMx.commands.slice(before).some((c) => /^(MAIL|RCPT) /i.test(c))).toBe(false);
  });

  it('sends a non-ASCII local part with SMTPUTF8 where the server offers it', async () => {
    const before = utf8Mx.commands.length;
    const id = await send('smtputf8');
    expect((await release(id, ['jörg@allowed.test'])).status).toBe(202);
    expect(await settled(id)).toMatchObject([{ recipient: 'jörg@allowed.test', status: 'delivered' }]);
    const [mail, ...rcpts] = utf8Mx.commands.slice(before).filter((c) => /^(MAIL|RCPT) /i.test(c));
    expect(mail).toMatch(/^MAIL FROM:<app@kotak\.test>(?: \S+)* SMTPUTF8\b/);
    expect(rcpts).toEqual(['RCPT TO:<jörg@allowed.test>']);
  });
});
