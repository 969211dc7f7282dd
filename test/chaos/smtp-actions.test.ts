/**
 * Chaos actions as real SMTP clients see them: nodemailer (and raw sockets where nodemailer hides
 * the detail) against a Kotak with --chaos-rule. No sleeps: the tests wait on replies and events.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { resolveConfig } from '../../src/config.js';
import { RawSmtp } from '../helpers/raw-smtp.js';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';

let kotak: RunningKotak | null = null;
afterEach(async () => {
  await kotak?.stop();
  kotak = null;
});

async function start(rules: string[], extra: Record<string, string | number | boolean> = {}): Promise<RunningKotak> {
  kotak = await withKotak({ chaosRule: rules.join(';'), ...extra });
  return kotak;
}

function send(k: RunningKotak, to: string | string[] = 'bob@example.test', extra: Record<string, unknown> = {}, from = 'alice@example.test') {
  return transport(k, extra).sendMail({ from, to, subject: 'chaos', text: 'hello' });
}

async function rules(k: RunningKotak) {
  return (await getJson(k, '/api/chaos')).body.rules as { id: string; counters: { matched: number; fired: number } }[];
}

describe('chaos replies at each stage (nodemailer)', () => {
  it.each([
    ['mail', 'mail from=*@example.test reply=451:4.3.2:"try later"', 451, /451 4\.3\.2 try later/, 'EENVELOPE'],
    ['rcpt', 'rcpt to=*@bounce.test reply=550:5.1.1:"no such user"', 550, /550 5\.1\.1 no such user/, 'EENVELOPE'],
    // nodemailer counts the DATA command with the envelope.
    ['data', 'data reply=554:5.6.0:"not today"', 554, /554 5\.6\.0 not today/, 'EENVELOPE'],
    ['end', 'end reply=452:4.3.1:"disk full"', 452, /452 4\.3\.1 disk full/, 'EMESSAGE'],
    // nodemailer tries HELO after a refused EHLO; the rule (at ehlo: EHLO and HELO) refuses that too.
    ['ehlo', 'ehlo reply=550:5.7.1:"go away"', 550, /550 5\.7\.1 go away/, 'EPROTOCOL'],
  ])('at %s: the client gets the rule\'s code and text, and nothing is stored', async (_stage, rule, code, text, errorCode) => {
    const k = await start([rule]);
    const to = rule.includes('bounce.test') ? 'x@bounce.test' : 'bob@example.test';
    const err = (await send(k, to).then(() => null, (e: unknown) => e)) as { responseCode?: number; response?: string; code?: string } | null;
    expect(err).not.toBeNull();
    expect(err!.responseCode).toBe(code);
    expect(err!.response).toMatch(text);
    expect(err!.code).toBe(errorCode);
    expect((await getJson(k, '/api/messages')).body.total).toBe(0);
    expect((await rules(k))[0]!.counters.fired).toBeGreaterThanOrEqual(1);
  });

  it('at auth: the reply replaces the login (the password is never checked)', async () => {
    const k = await start(['auth user=alice reply=535:5.7.8:"chaos says no"'], { smtpAuth: 'any' });
    const err = (await send(k, 'bob@example.test', { auth: { user: 'alice', pass: 'secret' } }).then(() => null, (e: unknown) => e)) as { responseCode?: number; response?: string };
    expect(err.responseCode).toBe(535);
    expect(err.response).toMatch(/535 5\.7\.8 chaos says no/);
    // Another user is not matched.
    await send(k, 'bob@example.test', { auth: { user: 'carol', pass: 'secret' } });
    expect((await getJson(k, '/api/messages')).body.total).toBe(1);
  });

  it('at connect: a 554 greeting, without an enhanced code, and the connection ends', async () => {
    const k = await start(['connect reply=554:"no service here"']);
    const raw = await RawSmtp.connect(k.smtpPort);
    const greeting = await raw.read();
    expect(greeting.text).toBe('554 no service here');
    await raw.closed;
    await expect(send(k)).rejects.toMatchObject({ responseCode: 554, response: '554 no service here' });
  });

  it('a 421 at rcpt closes the connection after the reply', async () => {
    const k = await start(['rcpt reply=421:4.3.2:"shutting down"']);
    const raw = await RawSmtp.connect(k.smtpPort);
    expect((await raw.read()).code).toBe(220);
    raw.write('EHLO client.test\r\n');
    expect((await raw.read()).code).toBe(250);
    raw.write('MAIL FROM:<a@example.test>\r\n');
    expect((await raw.read()).code).toBe(250);
    raw.write('RCPT TO:<b@example.test>\r\n');
    expect((await raw.read()).text).toBe('421 4.3.2 shutting down');
    await raw.closed;
  });
});

describe('chaos actions other than replies', () => {
  it('refuse: the connection closes at once, without a greeting', async () => {
    const k = await start(['connect refuse']);
    const raw = await RawSmtp.connect(k.smtpPort);
    await raw.closed;
    expect(raw.unread).toEqual({ replies: 0, bytes: 0 });
    await expect(send(k)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNECTION|ESOCKET|EPROTOCOL/) });
  });

  it('drop at rcpt: the socket is destroyed without a reply; nodemailer sees the connection lost', async () => {
    const k = await start(['rcpt drop']);
    const raw = await RawSmtp.connect(k.smtpPort);
    await raw.read();
    raw.write('EHLO client.test\r\nMAIL FROM:<a@example.test>\r\n');
    await raw.read();
    await raw.read();
    raw.write('RCPT TO:<b@example.test>\r\n');
    await raw.closed;
    expect(raw.unread).toEqual({ replies: 0, bytes: 0 });
    await expect(send(k)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNECTION|ESOCKET/) });
    expect((await getJson(k, '/api/messages')).body.total).toBe(0);
  });

  it('drop at end of data: the message is not stored, and shows as a refused attempt', async () => {
    const k = await start(['end to=*@drop.test drop']);
    await expect(send(k, 'x@drop.test')).rejects.toMatchObject({ code: expect.stringMatching(/ECONNECTION|ESOCKET/) });
    expect((await getJson(k, '/api/messages')).body.total).toBe(0);
    const refused = (await getJson(k, '/api/chaos/refusals')).body;
    expect(refused.total).toBe(1);
    expect(refused.refusals[0]).toMatchObject({ mailbox: 'default', stage: 'end', action: 'drop', reply: null, to: ['x@drop.test'], from: 'alice@example.test' });
  });

  it('delay at mail: the message arrives after the delay, and the rule counts it', async () => {
    const k = await start(['mail delay=50']);
    const info = await send(k);
    expect(info.response).toMatch(/^250 /);
    expect((await rules(k))[0]!.counters).toEqual({ matched: 1, fired: 1 });
  });

  it('a delay on one connection does not hold up another connection\'s mail', async () => {
    // The delayed client's MAIL waits 10 minutes (the longest delay); the other gets through meanwhile.
    const k = await start(['mail from=slow@example.test delay=600000']);
    const slow = await RawSmtp.connect(k.smtpPort);
    await slow.read();
    slow.write('EHLO slow.test\r\n');
    await slow.read();
    slow.write('MAIL FROM:<slow@example.test>\r\n');
    // Wait until the rule has fired (the delay runs), by its counter.
    await expect.poll(async () => (await rules(k))[0]!.counters.fired).toBe(1);
    const info = await send(k, 'bob@example.test', {}, 'fast@example.test');
    expect(info.response).toMatch(/^250 /);
    // The delayed MAIL is still unanswered.
    expect(slow.unread).toEqual({ replies: 0, bytes: 0 });
    slow.destroy();
  });

  it('slow: replies trickle at the given rate (a reply arrives in pieces), and mail still gets through', async () => {
    // 20 bytes/s for the second loopback address: a byte every 50 ms; nodemailer on 127.0.0.1 gets 5000/s.
    const k = await start(['ehlo client=127.0.0.2 slow=20', 'ehlo client=127.0.0.1 slow=5000']);
    const raw = await RawSmtp.connect(k.smtpPort, { localAddress: '127.0.0.2' });
    expect((await raw.read()).code).toBe(220);
    raw.write('EHLO client.test\r\n');
    // Part of the EHLO reply is there, and not all of it: it trickles.
    await expect.poll(() => raw.unread.bytes > 0 && raw.unread.replies === 0).toBe(true);
    expect((await raw.read()).code).toBe(250);
    raw.destroy();
    const info = await send(k);
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect((await rules(k)).map((r) => r.counters.fired)).toEqual([1, 1]);
  });
});

describe('the log', () => {
  it('logs every firing at info with the rule, stage, action and client, and never the password', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const k = await startApp(resolveConfig({ smtp: '127.0.0.1:0', http: '127.0.0.1:0', db: ':memory:', parseWorkers: '1', smtpAuth: 'any', chaosRule: 'auth reply=454:4.7.0:"not now" first=1; mail delay=1' }), { log });
    kotak = k;
    await expect(send(k, 'bob@example.test', { auth: { user: 'alice', pass: 'hunter2-secret' } })).rejects.toMatchObject({ responseCode: 454 });
    await send(k, 'bob@example.test', { auth: { user: 'alice', pass: 'hunter2-secret' } });
    const fired = lines.filter((l) => l.msg === 'chaos rule fired');
    expect(fired).toEqual([
      expect.objectContaining({ level: 30, component: 'chaos', rule: 'c1', stage: 'auth', action: 'reply', client: '127.0.0.1' }),
      expect.objectContaining({ level: 30, component: 'chaos', rule: 'c2', stage: 'mail', action: 'delay', client: '127.0.0.1' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('hunter2-secret');
  });
});
