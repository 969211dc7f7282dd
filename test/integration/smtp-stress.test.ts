/**
 * Slow clients under pressure (Postfix's stress mode): a drip from five loopback addresses
 * (127.0.0.2-6) takes the connection slots of a small server (--smtp-max-connections 50). The
 * last 20% of the slots stay open to addresses holding few connections, so a well-behaved
 * nodemailer client from 127.0.0.1 is served; and from 80% in use the timeouts shorten, for
 * connections already open too. Timeouts are configured small; nothing waits on a clock, only on
 * replies and closed connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { RawSmtp } from '../helpers/raw-smtp.js';
import { queuedId } from '../helpers/smtp-client.js';
import type { KotakOptions } from '../../src/index.js';

const DRIP_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
const MAX_CONNECTIONS = 50;
/** 80% of MAX_CONNECTIONS: from here the server is under pressure and the rest is reserved. */
const PRESSURE_AT = 40;
/** The pressure ends below 60% (30): after this many cuts, the drip's other connections keep normal timeouts. */
const CUTS_TO_END_PRESSURE = PRESSURE_AT - 29;

let kotak: RunningKotak | null = null;
const clients: RawSmtp[] = [];
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  for (const client of clients.splice(0)) client.destroy();
  await kotak?.stop();
  kotak = null;
});

async function start(options: KotakOptions): Promise<RunningKotak> {
  kotak = await withKotak({ smtpMaxConnections: MAX_CONNECTIONS, ...options });
  return kotak;
}

/**
 * Opens `count` connections round-robin from the drip addresses, one after the other, each
 * waiting for its first reply; `onGreeted` starts the drip on each admitted one at once.
 */
async function openDrip(count: number, onGreeted: (client: RawSmtp) => void = () => undefined): Promise<{ admitted: RawSmtp[]; refusals: string[] }> {
  const admitted: RawSmtp[] = [];
  const refusals: string[] = [];
  for (let i = 0; i < count; i++) {
    const client = await RawSmtp.connect(kotak!.smtpPort, { localAddress: DRIP_ADDRESSES[i % DRIP_ADDRESSES.length] });
    clients.push(client);
    const first = await client.read();
    if (first.code === 220) {
      admitted.push(client);
      onGreeted(client);
    } else {
      refusals.push(first.text);
    }
  }
  return { admitted, refusals };
}

/** Writes the next byte of `bytes` every 100 ms (a one-byte-a-second drip, ten times faster). */
function drip(client: RawSmtp, bytes: string): void {
  let sent = 0;
  timers.push(setInterval(() => client.write(bytes.slice(sent, ++sent)), 100));
}

/** The well-behaved client: nodemailer from 127.0.0.1; its message must be stored and readable. */
async function wellBehavedClientIsServed(subject: string): Promise<void> {
  const info = await transport(kotak!).sendMail({ from: 'app@example.com', to: 'user@example.com', subject, text: 'Served under pressure.' });
  const { status, body } = await getJson(kotak!, `/api/messages/${queuedId(info.response)}`);
  expect(status).toBe(200);
  expect(body).toMatchObject({ subject, text: 'Served under pressure.' });
}

/** The first `count` of these connections that the server closes, in that order. */
function firstToClose(connections: RawSmtp[], count: number): Promise<RawSmtp[]> {
  return new Promise((resolve) => {
    const closed: RawSmtp[] = [];
    for (const client of connections) {
      void client.closed.then(() => {
        closed.push(client);
        if (closed.length === count) resolve([...closed]);
      });
    }
  });
}

/** Reads replies until the connection's last one, and returns that one (the connection then closes). */
async function lastReply(client: RawSmtp): Promise<string> {
  let last = '';
  for (;;) {
    try {
      last = (await client.read()).text;
    } catch {
      return last;
    }
  }
}

describe('slow clients under pressure (80% of --smtp-max-connections open)', () => {
  it('keeps the last slots for addresses holding few connections: a normal client gets through while the drip holds the rest', async () => {
    // Timeouts far away: this test is about the slots alone.
    await start({ smtpStressLineTimeout: '1h', smtpStressSessionTimeout: '1h' });
    const { admitted, refusals } = await openDrip(MAX_CONNECTIONS, (client) => drip(client, `EHLO ${'x'.repeat(400)}`));
    expect(admitted).toHaveLength(PRESSURE_AT);
    expect(refusals).toHaveLength(MAX_CONNECTIONS - PRESSURE_AT);
    for (const text of refusals) expect(text).toMatch(/^421 4\.7\.0 Too many connections from 127\.0\.0\.[2-6] while the server is busy, try again later$/);
    await wellBehavedClientIsServed('through the reserved slots');
    expect(admitted.every((client) => !client.isClosed)).toBe(true);
  });

  it('closes clients that trickle bytes without finishing a line at the line deadline, connections open before the pressure too, until it is over', async () => {
    await start({ smtpStressLineTimeout: '1s' });
    // Each drip connection starts trickling a command line at once, so the first 39 are already
    // dripping (and would be kept for the 5 min idle timeout) when the 40th brings the pressure.
    const { admitted } = await openDrip(PRESSURE_AT, (client) => drip(client, `NOOP ${'x'.repeat(400)}`));
    expect(admitted).toHaveLength(PRESSURE_AT);
    // (The normal client under pressure is the first test's; here it would race a 1 s deadline.)
    const cut = await firstToClose(admitted, CUTS_TO_END_PRESSURE);
    for (const client of cut) expect(await lastReply(client)).toBe('421 4.4.2 Too slow while the server is busy, closing connection');
    await wellBehavedClientIsServed('after the cut');
  });

  it('counts a long line without line ends per 2 KB, so a client streaming such a message steadily is not cut', async () => {
    await start({ smtpStressLineTimeout: '1s' });
    // The drip keeps the pressure on with whole commands, in time for the line deadline.
    await openDrip(PRESSURE_AT, (client) => timers.push(setInterval(() => client.write('NOOP\r\n'), 100)));
    const steady = await RawSmtp.connect(kotak!.smtpPort);
    clients.push(steady);
    await steady.hello();
    for (const line of ['MAIL FROM:<steady@example.com>', 'RCPT TO:<rcpt@example.com>', 'DATA']) await steady.command(line);
    steady.write('Subject: one long line\r\n\r\n');
    // 2 KB every 100 ms, 50 KB in all: far longer than the 1 s deadline, and no line end in it.
    const done = new Promise<void>((resolve) => {
      let pieces = 0;
      const timer = setInterval(() => {
        steady.write('x'.repeat(2048));
        if (++pieces < 25) return;
        clearInterval(timer);
        resolve();
      }, 100);
      timers.push(timer);
    });
    await done;
    steady.write('\r\n.\r\n');
    expect((await steady.read()).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
  });

  it('shortens the session cap under pressure, for sessions already open: a busy drip of whole commands is cut off', async () => {
    await start({ smtpStressSessionTimeout: '2s' });
    // NOOP after NOOP: every line in time for the line deadline, the session never idle.
    const { admitted } = await openDrip(PRESSURE_AT, (client) => timers.push(setInterval(() => client.write('NOOP\r\n'), 100)));
    const cut = await firstToClose(admitted, CUTS_TO_END_PRESSURE);
    for (const client of cut) expect(await lastReply(client)).toBe('421 4.4.2 Session time limit reached, closing connection');
    await wellBehavedClientIsServed('after the busy drip');
  });
});
