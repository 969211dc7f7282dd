/**
 * Relay end to end, all on loopback: a real DNS server (dns-packet) answers MX/A for test
 * domains, receiving smtp-server instances play the MX hosts on 127.0.0.2–127.0.0.4 (one port,
 * several loopback addresses, so MX preference decides who is contacted), and Kotak relays over
 * real SMTP. The receivers' logs prove who was and was not contacted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsTestServer, type Zone } from '../helpers/dns-server.js';
import { getJson, LiveClient, settledDeliveries, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { startReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { queuedId } from '../helpers/smtp-client.js';

let dns: DnsTestServer;
let primary: SmtpReceiver;
let backup: SmtpReceiver;
let other: SmtpReceiver;
let mxPort: number;
const running: RunningKotak[] = [];

const ZONE: Zone = {
  'example.test': { MX: [{ preference: 20, exchange: 'backup.example.test' }, { preference: 10, exchange: 'primary.example.test' }] },
  // Its first MX has an address where nothing listens: the connection is refused.
  'refusing.test': { MX: [{ preference: 5, exchange: 'dead.example.test' }, { preference: 10, exchange: 'backup.example.test' }] },
  'dead.example.test': { A: ['127.0.0.9'] },
  'primary.example.test': { A: ['127.0.0.2'] },
  'backup.example.test': { A: ['127.0.0.3'] },
  'implicit.test': { A: ['127.0.0.4'] },
  'nullmx.test': { MX: [{ preference: 0, exchange: '.' }], A: ['127.0.0.4'] },
  'deferring.test': { MX: [{ preference: 10, exchange: 'primary.example.test' }] },
};

beforeAll(async () => {
  primary = await startReceiver('127.0.0.2', 0);
  mxPort = primary.port;
  backup = await startReceiver('127.0.0.3', mxPort);
  other = await startReceiver('127.0.0.4', mxPort);
  dns = await startDnsServer(ZONE);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((k) => k.stop()));
  for (const r of [primary, backup, other]) r.behaviour = {};
});

afterAll(async () => {
  await Promise.all([primary?.close(), backup?.close(), other?.close(), dns?.close()]);
});

function relayKotak(options: Record<string, string | number | boolean> = {}): Promise<RunningKotak> {
  return withKotak({
    relayAllow: '*@example.test,*@implicit.test,*@nullmx.test,*@nxdomain.test,*@deferring.test,*@refusing.test',
    relayDns: dns.address,
    relayMxPort: mxPort,
    relayRetry: '100ms',
    relayConnectTimeout: '2s',
    relayCommandTimeout: '5s',
    relayDataTimeout: '5s',
    hostname: 'kotak.test',
    ...options,
  }).then((k) => {
    running.push(k);
    return k;
  });
}

async function send(kotak: RunningKotak, to: string | string[], subject = 'relay me'): Promise<string> {
  const info = await transport(kotak).sendMail({ from: 'app@kotak.test', to, subject, text: `Hello\nbare-LF line endings become CRLF\n` });
  return queuedId(info.response);
}

async function release(kotak: RunningKotak, id: string, to?: string[]) {
  return getJson(kotak, `/api/messages/${id}/release`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(to ? { to } : {}),
  });
}

type Settled = { recipient: string; status: string; reply: string | null; reason: string | null; mxHost: string | null; tls: string | null; attempts: number };

/** Resolves when every job of the message has reached one of these statuses. */
function settled(kotak: RunningKotak, live: LiveClient, id: string, statuses?: readonly string[]): Promise<Settled[]> {
  return settledDeliveries<Settled>(kotak, live, id, statuses);
}

describe('relay', () => {
  it('is off by default: release is refused and nothing is contacted', async () => {
    const kotak = await withKotak();
    running.push(kotak);
    const id = await send(kotak, 'user@example.test');
    const res = await release(kotak, id);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('relay_disabled');
    expect((await getJson(kotak, '/api/relay')).body.enabled).toBe(false);
  });

  it('delivers to the lowest-preference MX, with the bytes unchanged but for CRLF', async () => {
    const kotak = await relayKotak();
    const live = await LiveClient.connect(kotak);
    const before = primary.messages.length;
    const id = await send(kotak, 'user@example.test');
    expect((await release(kotak, id)).status).toBe(202);
    const [job] = await settled(kotak, live, id);
    expect(job).toMatchObject({ recipient: 'user@example.test', status: 'delivered', mxHost: 'primary.example.test' });
    expect(job!.reply).toMatch(/^250/);
    const received = await primary.nextMessage(before);
    expect(received.to).toEqual(['user@example.test']);
    expect(received.from).toBe('app@kotak.test');
    const stored = Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer());
    expect(received.raw.toString('latin1')).toBe(stored.toString('latin1').replace(/\r?\n/g, '\r\n'));
    live.ws.close();
  });

  it('falls over to the next MX when the first answers 421, and when it refuses the connection', async () => {
    const kotak = await relayKotak();
    const live = await LiveClient.connect(kotak);
    primary.behaviour = { greeting421: true };
    const before = backup.messages.length;
    const id = await send(kotak, 'fallover@example.test');
    await release(kotak, id);
    const [job] = await settled(kotak, live, id);
    expect(job).toMatchObject({ status: 'delivered', mxHost: 'backup.example.test' });
    expect((await backup.nextMessage(before)).to).toEqual(['fallover@example.test']);

    const refusedId = await send(kotak, 'refused@refusing.test');
    await release(kotak, refusedId);
    const [refusedJob] = await settled(kotak, live, refusedId);
    expect(refusedJob).toMatchObject({ status: 'delivered', mxHost: 'backup.example.test' });
    const { body } = await getJson(kotak, `/api/messages/${refusedId}/deliveries`);
    expect(body.deliveries[0].history).toHaveLength(1);
    live.ws.close();
  });

  it('skips an MX that greets with 554, and fails when every MX does', async () => {
    const kotak = await relayKotak();
    const live = await LiveClient.connect(kotak);
    primary.behaviour = { greeting554: true };
    const before = backup.messages.length;
    const id = await send(kotak, 'skip554@example.test');
    await release(kotak, id);
    const [job] = await settled(kotak, live, id);
    expect(job).toMatchObject({ status: 'delivered', mxHost: 'backup.example.test' });
    expect((await backup.nextMessage(before)).to).toEqual(['skip554@example.test']);

    backup.behaviour = { greeting554: true };
    const received = primary.messages.length + backup.messages.length;
    const refusedId = await send(kotak, 'nowhere@example.test');
    await release(kotak, refusedId);
    const [refused] = await settled(kotak, live, refusedId);
    expect(refused).toMatchObject({ status: 'failed', attempts: 1 });
    expect(refused?.reason).toMatch(/554/);
    expect(primary.messages.length + backup.messages.length).toBe(received);
    live.ws.close();
  });

  it('uses the A record as an implicit MX, fails a null MX and NXDOMAIN without connecting', async () => {
    const kotak = await relayKotak();
    const live = await LiveClient.connect(kotak);
    const connectionsBefore = other.connections;
    const implicitId = await send(kotak, 'a@implicit.test');
    await release(kotak, implicitId);
    expect((await settled(kotak, live, implicitId))[0]).toMatchObject({ status: 'delivered', mxHost: 'implicit.test' });
    expect(other.connections).toBe(connectionsBefore + 1);

    const nullId = await send(kotak, 'b@nullmx.test');
    await release(kotak, nullId);
    const [nullJob] = await settled(kotak, live, nullId);
    expect(nullJob!.status).toBe('failed');
    expect(nullJob!.reason).toMatch(/null MX/i);
    const nxId = await send(kotak, 'c@nxdomain.test');
    await release(kotak, nxId);
    const [nxJob] = await settled(kotak, live, nxId);
    expect(nxJob!.status).toBe('failed');
    expect(nxJob!.reason).toMatch(/does not exist|NXDOMAIN/i);
    expect(other.connections).toBe(connectionsBefore + 1);
    live.ws.close();
  });

  it('defers on 451, retries and delivers; fails on 550 with the remote reply kept', async () => {
    const kotak = await relayKotak();
    const live = await LiveClient.connect(kotak);
    let busy = 1;
    primary.behaviour = { rcpt: (a) => (a.startsWith('busy') && busy-- > 0 ? 451 : a.startsWith('unknown') ? 550 : undefined) };
    const id = await send(kotak, ['busy@deferring.test', 'unknown@deferring.test']);
    await release(kotak, id);
    const jobs = await settled(kotak, live, id);
    const busyJob = jobs.find((j) => j.recipient === 'busy@deferring.test')!;
    const unknownJob = jobs.find((j) => j.recipient === 'unknown@deferring.test')!;
    expect(busyJob.status).toBe('delivered');
    expect(busyJob.attempts).toBe(2);
    expect(unknownJob.status).toBe('failed');
    expect(unknownJob.reply).toMatch(/^550.*No such user here/);
    const { body } = await getJson(kotak, `/api/messages/${id}/deliveries`);
    const history = body.deliveries.find((d: { recipient: string }) => d.recipient === 'busy@deferring.test').history;
    expect(history.map((h: { outcome: string }) => h.outcome)).toEqual(['deferred', 'delivered']);
    expect(history[0].reply).toMatch(/^451/);
    live.ws.close();
  });

  it('never contacts a recipient the allowlist does not allow', async () => {
    const kotak = await relayKotak({ relayAllow: 'allowed@example.test' });
    const seenBefore = { primary: primary.recipientsSeen.length, backup: backup.recipientsSeen.length };
    const id = await send(kotak, ['allowed@example.test', 'stranger@example.test']);
    const refused = await release(kotak, id);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('stranger@example.test');
    expect((await getJson(kotak, `/api/messages/${id}/deliveries`)).body.deliveries).toEqual([]);
    const overridden = await release(kotak, id, ['stranger@corp.test']);
    expect(overridden.status).toBe(403);
    const live = await LiveClient.connect(kotak);
    expect((await release(kotak, id, ['allowed@example.test'])).status).toBe(202);
    await settled(kotak, live, id);
    const seenAfter = [...primary.recipientsSeen.slice(seenBefore.primary), ...backup.recipientsSeen.slice(seenBefore.backup)];
    expect(seenAfter).toEqual(['allowed@example.test']);
    live.ws.close();
  });

  it('relays new mail automatically with --relay-auto, to allowed recipients only', async () => {
    const kotak = await relayKotak({ relayAllow: '*@implicit.test', relayAuto: true });
    const live = await LiveClient.connect(kotak);
    const before = other.messages.length;
    const id = await send(kotak, ['auto@implicit.test', 'someone@elsewhere.test']);
    const [job, ...rest] = await settled(kotak, live, id);
    expect(rest).toEqual([]);
    expect(job).toMatchObject({ recipient: 'auto@implicit.test', status: 'delivered' });
    expect((await other.nextMessage(before)).to).toEqual(['auto@implicit.test']);
    live.ws.close();
  });

  it('with --relay-auto, relays a message routed to two mailboxes once per recipient, each from its own copy', async () => {
    const kotak = await relayKotak({ relayAllow: '*@implicit.test', relayAuto: true, mailboxRoute: 'a@implicit.test=a,b@implicit.test=b' });
    const live = await LiveClient.connect(kotak);
    const before = other.messages.length;
    const info = await transport(kotak).sendMail({ from: 'app@kotak.test', to: ['a@implicit.test', 'b@implicit.test'], subject: 'two copies', text: 'x' });
    const ids = /queued as (.+)$/.exec(info.response.trim())![1]!.split(' ');
    expect(ids).toHaveLength(2);
    const [forA, forB] = await Promise.all(ids.map((id) => settled(kotak, live, id)));
    expect(forA!.map((j) => j.recipient)).toEqual(['a@implicit.test']);
    expect(forB!.map((j) => j.recipient)).toEqual(['b@implicit.test']);
    await other.nextMessage(before + 1);
    expect(other.messages.slice(before).flatMap((m) => m.to).sort()).toEqual(['a@implicit.test', 'b@implicit.test']);
    live.ws.close();
  });

  it('opens at most --relay-concurrency sessions at once to one destination domain', async () => {
    // Each message's data is answered after 400 ms, so sessions overlap unless the limit holds them back.
    dns.setZone({ ...ZONE, 'busy.test': { A: ['127.0.0.6'] } });
    const mostOpenAtOnce = async (relayConcurrency: number): Promise<number> => {
      const slow = await startReceiver('127.0.0.6', mxPort, { dataDelayMs: 400 });
      try {
        const kotak = await relayKotak({ relayAllow: '*@busy.test', relayConcurrency });
        const live = await LiveClient.connect(kotak);
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) ids.push(await send(kotak, `user${i}@busy.test`));
        for (const id of ids) expect((await release(kotak, id)).status).toBe(202);
        for (const id of ids) expect((await settled(kotak, live, id))[0]).toMatchObject({ status: 'delivered' });
        expect(slow.messages).toHaveLength(6);
        live.ws.close();
        return slow.maxOpenSessions;
      } finally {
        await slow.close();
      }
    };
    expect(await mostOpenAtOnce(2)).toBeLessThanOrEqual(2);
    // The control: with room for all six, they do overlap, so the check above is not vacuous.
    expect(await mostOpenAtOnce(6)).toBeGreaterThan(2);
  });

  it('uses STARTTLS when offered, and --relay-require-tls refuses a receiver without it', async () => {
    const tlsReceiver = await startReceiver('127.0.0.5', mxPort, { starttls: true });
    dns.setZone({ ...ZONE, 'tls.test': { A: ['127.0.0.5'] }, 'plain.test': { A: ['127.0.0.4'] } });
    try {
      const kotak = await relayKotak({ relayAllow: '*@tls.test,*@plain.test', relayRequireTls: true });
      const live = await LiveClient.connect(kotak);
      const tlsId = await send(kotak, 'secure@tls.test');
      await release(kotak, tlsId);
      const [tlsJob] = await settled(kotak, live, tlsId);
      expect(tlsJob!.status).toBe('delivered');
      expect(tlsJob!.tls).toMatch(/TLS/);
      expect(tlsReceiver.messages.at(-1)!.tls).toBe(true);

      const plainBefore = other.messages.length;
      const plainId = await send(kotak, 'insecure@plain.test');
      await release(kotak, plainId);
      const [plainJob] = await settled(kotak, live, plainId, ['deferred', 'failed']);
      expect(plainJob!.status).toBe('deferred');
      expect(plainJob!.reason).toMatch(/TLS/i);
      expect(other.messages.length).toBe(plainBefore);
      live.ws.close();
    } finally {
      await tlsReceiver.close();
    }
  });
});
