/**
 * GET /api/messages/wait over real HTTP and SMTP: answers from stored and from arriving messages,
 * counts, since, timeouts a person can read, dropped clients, and the race it exists to remove.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

let kotak: RunningKotak;

beforeAll(async () => {
  kotak = await withKotak({ maxWait: '2s' });
});

afterAll(async () => {
  await kotak?.stop();
});

const wait = (params: Record<string, string | number>) => getJson(kotak, `/api/messages/wait?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`);

function message(to: string, subject: string, body = 'hello'): Buffer {
  return Buffer.from(`From: app@example.com\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);
}

describe('GET /api/messages/wait', () => {
  it('answers at once from a message already stored', async () => {
    const id = queuedId(await sendRaw(kotak.smtpPort, message('stored@wait.test', 'already here')));
    const { status, body } = await wait({ query: 'to:stored@wait.test', timeout: 5 });
    expect(status).toBe(200);
    expect(body.messages.map((m: { id: string }) => m.id)).toEqual([id]);
  });

  it('answers when a matching message arrives during the wait, ignoring ones that do not match', async () => {
    const pending = wait({ query: 'to:future@wait.test subject:"the one"', timeout: 5 });
    await sendRaw(kotak.smtpPort, message('future@wait.test', 'not it'));
    await sendRaw(kotak.smtpPort, message('someone@else.test', 'the one'));
    const id = queuedId(await sendRaw(kotak.smtpPort, message('future@wait.test', 'the one')));
    const { status, body } = await pending;
    expect(status).toBe(200);
    expect(body.messages.map((m: { id: string }) => m.id)).toEqual([id]);
  });

  it('waits for count messages and returns them oldest first', async () => {
    const first = queuedId(await sendRaw(kotak.smtpPort, message('count@wait.test', 'one')));
    const pending = wait({ query: 'to:count@wait.test', count: 3, timeout: 5 });
    const second = queuedId(await sendRaw(kotak.smtpPort, message('count@wait.test', 'two')));
    const third = queuedId(await sendRaw(kotak.smtpPort, message('count@wait.test', 'three')));
    const { status, body } = await pending;
    expect(status).toBe(200);
    expect(body.messages.map((m: { id: string }) => m.id)).toEqual([first, second, third]);
  });

  it('counts only messages received at or after since', async () => {
    await sendRaw(kotak.smtpPort, message('since@wait.test', 'before'));
    const { body: listed } = await getJson(kotak, '/api/messages?query=to:since@wait.test');
    const since = Date.parse(listed.messages[0].receivedAt) + 1;
    const pending = wait({ query: 'to:since@wait.test', since: new Date(since).toISOString(), timeout: 5 });
    const after = queuedId(await sendRaw(kotak.smtpPort, message('since@wait.test', 'after')));
    const { body } = await pending;
    expect(body.messages.map((m: { id: string }) => m.id)).toEqual([after]);
  });

  it('matches full-text and Reply-To terms through the database', async () => {
    const pending = wait({ query: '"purple elephant" reply-to:support@wait.test', timeout: 5 });
    await transport(kotak).sendMail({ from: 'a@example.com', to: 'x@wait.test', subject: 'no', text: 'a purple elephant', replyTo: 'other@wait.test' });
    const info = await transport(kotak).sendMail({ from: 'a@example.com', to: 'x@wait.test', subject: 'yes', text: 'a purple elephant', replyTo: 'support@wait.test' });
    const { status, body } = await pending;
    expect(status).toBe(200);
    expect(body.messages.map((m: { id: string }) => m.id)).toEqual([queuedId(info.response)]);
  });

  it('times out with 408: how many matched, and the newest messages that did not', async () => {
    await sendRaw(kotak.smtpPort, message('decoy@wait.test', 'Decoy subject'));
    const started = Date.now() - 60_000;
    const { status, body } = await wait({ query: 'to:nobody@wait.test', since: started, timeout: '300ms' });
    expect(status).toBe(408);
    expect(body.error.code).toBe('wait_timeout');
    expect(body.error.message).toContain('waited 0.3 s for 1 message matching "to:nobody@wait.test"');
    expect(body.matched).toBe(0);
    expect(body.messages).toEqual([]);
    expect(body.recent.length).toBeGreaterThan(0);
    expect(body.recent.length).toBeLessThanOrEqual(5);
    expect(body.recent[0].subject).toBe('Decoy subject');
  });

  it('caps the timeout at --max-wait and rejects bad parameters with 400', async () => {
    expect((await wait({ timeout: 'soon' })).status).toBe(400);
    expect((await wait({ since: 'yesterday-ish' })).status).toBe(400);
    expect((await wait({ count: 0 })).status).toBe(400);
    expect((await wait({ query: 'subject:"open' })).status).toBe(400);
    // This server's cap is 2 s: an hour-long request ends after 2 s, as a timeout.
    const capped = await wait({ query: 'to:never@wait.test', timeout: '3600' });
    expect(capped.status).toBe(408);
    expect(capped.body.error.message).toContain('waited 2 s');
  }, 15_000);

  it('frees the waiter as soon as the client goes away', async () => {
    const waiting = async () => (await getJson(kotak, '/api/stats')).body.waiters as number;
    expect(await waiting()).toBe(0);
    const request = http.get(new URL(`${kotak.url}/api/messages/wait?query=to:gone@wait.test&timeout=60`));
    request.on('error', () => undefined);
    await expect.poll(waiting, { timeout: 5_000, interval: 10 }).toBe(1);
    request.destroy();
    await expect.poll(waiting, { timeout: 5_000, interval: 10 }).toBe(0);
    // A later matching message finds nobody to answer, and nothing breaks.
    await sendRaw(kotak.smtpPort, message('gone@wait.test', 'too late'));
    expect((await getJson(kotak, '/api/stats')).status).toBe(200);
  });

  it('never misses a message committed while the wait is being set up (200 races)', async () => {
    const rounds = 200;
    const results = await Promise.all(
      Array.from({ length: rounds }, async (_, i) => {
        const to = `race-${i}@wait.test`;
        // Start the wait and the send together: the commit can land before, during or after the waiter's set-up.
        const [answer] = await Promise.all([wait({ query: `to:${to}`, timeout: 5 }), sendRaw(kotak.smtpPort, message(to, `race ${i}`))]);
        return answer;
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(rounds).fill(200));
    expect(results.every((r) => r.body.messages.length === 1)).toBe(true);
  }, 60_000);
});
