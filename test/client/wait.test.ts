/**
 * The client's wait rounds against a scripted server, for what a real one makes hard to arrange:
 * candidates stored out of time order, a candidate deleted between the wait and the fetch, the
 * server's own timeout cap, and more candidates than a wait can carry.
 */
import { describe, expect, it } from 'vitest';
import { planWait } from '../../src/client/criteria.js';
import { KotakError, KotakTimeoutError } from '../../src/client/errors.js';
import type { MessageDetail, MessageSummary } from '../../src/client/types.js';
import { waitForMessages, type WaitAnswer, type WaitRound, type WaitServer } from '../../src/client/wait.js';

function summary(id: string, subject: string, receivedAt: number): MessageSummary {
  return {
    id, mailbox: 'default', receivedAt: new Date(receivedAt).toISOString(), from: { name: '', address: 'app@example.com' },
    to: [{ name: '', address: 'user@example.com' }], cc: [], bcc: [], subject, snippet: '', size: 100, hasAttachments: false, read: false, messageId: null, tags: [],
  };
}

function detail(s: MessageSummary): MessageDetail {
  return {
    ...s, text: `body of ${s.subject}`, html: null, headers: [], attachments: [], replyTo: [], date: null, links: [], codes: [],
    envelope: { mailFrom: 'app@example.com', rcptTo: ['user@example.com'], clientAddress: '127.0.0.1', heloName: 'localhost', user: null, tls: false },
    route: { mailbox: s.mailbox, rule: 'default' },
  };
}

/** Answers each round with the next scripted answer, and records what was asked and fetched. */
function scriptedServer(answers: ((round: WaitRound) => WaitAnswer)[], deleted: string[] = []) {
  const rounds: WaitRound[] = [];
  const fetched: string[] = [];
  const server: WaitServer = {
    async wait(round) {
      rounds.push(round);
      const answer = answers[rounds.length - 1];
      if (!answer) throw new Error(`unexpected round ${rounds.length}: ${JSON.stringify(round)}`);
      return answer(round);
    },
    async get(id) {
      fetched.push(id);
      return deleted.includes(id) ? null : detail(all.get(id)!);
    },
  };
  return { server, rounds, fetched };
}

const all = new Map<string, MessageSummary>();
function stored(id: string, subject: string, receivedAt: number): MessageSummary {
  const s = summary(id, subject, receivedAt);
  all.set(id, s);
  return s;
}

const matched = (...messages: MessageSummary[]): (() => WaitAnswer) => () => ({ kind: 'matched', messages });
const options = { count: 1, since: null, timeoutMs: 5000, signal: undefined };

describe('waitForMessages', () => {
  it('asks for one candidate more each round and examines each once, even when they arrive out of time order', async () => {
    const packed = stored('a', 'Order packed', 2000);
    const late = stored('b', 'Order delayed', 1000); // received earlier, stored later (a slow parse)
    const shipped = stored('c', 'Order shipped', 3000);
    const { server, rounds, fetched } = scriptedServer([matched(packed), matched(late, packed), matched(late, packed, shipped)]);
    const result = await waitForMessages(server, planWait({ to: 'user@example.com', subject: /shipped/ }), options);
    expect(result.map((m) => m.id)).toEqual(['c']);
    expect(rounds.map((r) => [r.query, r.count, r.since])).toEqual([
      ['to:"user@example.com"', 1, null],
      ['to:"user@example.com"', 2, null],
      ['to:"user@example.com"', 3, null],
    ]);
    // Summary-only checks: only the match is fetched.
    expect(fetched).toEqual(['c']);
  });

  it('returns the oldest count of more candidates than asked for, oldest first', async () => {
    const [one, two, three] = [stored('1', 'One', 1000), stored('2', 'Two', 2000), stored('3', 'Three', 3000)];
    const { server, fetched } = scriptedServer([matched(one, two, three)]);
    const result = await waitForMessages(server, planWait({ subject: 'o' }), { ...options, count: 2 });
    expect(result.map((m) => m.id)).toEqual(['1', '2']);
    expect(fetched).toEqual(['1', '2']);
  });

  it('does not count a candidate deleted before it could be fetched', async () => {
    const gone = stored('gone', 'Welcome', 1000);
    const next = stored('next', 'Welcome', 2000);
    const { server, rounds } = scriptedServer([matched(gone), matched(next)], ['gone']);
    const result = await waitForMessages(server, planWait({ subject: 'Welcome' }), options);
    expect(result.map((m) => m.id)).toEqual(['next']);
    // The server no longer has the deleted one, so one more is still one.
    expect(rounds.map((r) => r.count)).toEqual([1, 1]);
  });

  it('asks again when the server’s cap ends a wait early, until the caller’s timeout', async () => {
    let clock = 0;
    const capped = (round: WaitRound): WaitAnswer => {
      clock += Math.min(round.timeoutMs, 400);
      return { kind: 'timeout', messages: [], recent: [] };
    };
    const { server, rounds } = scriptedServer([capped, capped, capped]);
    const error = await waitForMessages(server, planWait({ subject: 'never' }), { ...options, timeoutMs: 1000, now: () => clock }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KotakTimeoutError);
    expect(rounds.map((r) => r.timeoutMs)).toEqual([1000, 600, 200]);
    expect((error as KotakTimeoutError).elapsed).toBe(1000);
  });

  it('gives up at once when the server times out at once, rather than spinning', async () => {
    const { server, rounds } = scriptedServer([() => ({ kind: 'timeout', messages: [], recent: [] })]);
    await expect(waitForMessages(server, planWait({}), { ...options, now: () => 0 })).rejects.toBeInstanceOf(KotakTimeoutError);
    expect(rounds).toHaveLength(1);
  });

  it('says so when more than 1000 candidates would have to be checked in the client', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => stored(`m${i}`, `Newsletter ${i}`, i));
    const { server } = scriptedServer([matched(...many)]);
    const error = await waitForMessages(server, planWait({ subject: /^Invoice/ }), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KotakError);
    expect((error as Error).message).toMatch(/more than 1000 candidates in the client: 1000 messages matched any message and 0 of them passed the regular expressions\. Narrow the wait/);
  });
});

describe('planWait', () => {
  it('turns strings into search terms and RegExps (or unquotable strings) into client checks', () => {
    const plan = planWait({ to: 'a@example.com', from: /shop/i, subject: 'Say "hi"', text: 'reset your password', query: 'has:attachment' });
    expect(plan.query).toBe('to:"a@example.com" "reset your password" has:attachment');
    expect(plan.checks.map((c) => c.needsBody)).toEqual([false, false]);
    expect(plan.description).toBe('to "a@example.com", from /shop/i, subject "Say \\"hi\\"", text "reset your password", query `has:attachment`');
    expect(planWait({ subject: '  ' })).toEqual({ query: '', checks: [], description: 'anything' });
  });
});
