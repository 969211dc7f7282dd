/**
 * Chaos over the API and with other clients: /api/chaos (set, list with counters, delete, 400
 * reasons, the OpenAPI document), scoped tokens, a rate limit under a burst, deterministic firing
 * over real SMTP, swaks, and Mailpit's Chaos API through the `mailpit-api` client.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MailpitClient } from 'mailpit-api';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { ALL, startScopedKotak, W1, W2, type ScopedKotak } from '../helpers/scoped-kotak.js';

const run = promisify(execFile);

let kotak: RunningKotak | null = null;
let scoped: ScopedKotak | null = null;
afterEach(async () => {
  await kotak?.stop();
  await scoped?.stop();
  kotak = null;
  scoped = null;
});

async function start(options: Record<string, string | number | boolean> = {}): Promise<RunningKotak> {
  kotak = await withKotak(options);
  return kotak;
}

function call(k: RunningKotak, method: string, path: string, body?: unknown) {
  return getJson(k, path, { method, ...(body !== undefined ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {}) });
}

/** Sends one message; 'ok' or the SMTP code it was refused with. */
async function outcome(k: RunningKotak, to = 'bob@example.test'): Promise<'ok' | number> {
  try {
    await transport(k).sendMail({ from: 'alice@example.test', to, subject: 's', text: 't' });
    return 'ok';
  } catch (err) {
    return (err as { responseCode?: number }).responseCode ?? -1;
  }
}

async function outcomes(k: RunningKotak, n: number): Promise<('ok' | number)[]> {
  const out: ('ok' | number)[] = [];
  for (let i = 0; i < n; i++) out.push(await outcome(k));
  return out;
}

/** swaks's transcript and exit status (it exits non-zero when a command is refused). */
async function swaks(port: number, to: string): Promise<{ output: string; code: number }> {
  try {
    const { stdout, stderr } = await run('swaks', ['--server', `127.0.0.1:${port}`, '--from', 'swaks@example.test', '--to', to, '--timeout', '10'], { timeout: 30_000 });
    return { output: stdout + stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { output: `${e.stdout ?? ''}${e.stderr ?? ''}`, code: e.code ?? -1 };
  }
}

describe('/api/chaos', () => {
  it('adds, lists with counters, gets, deletes one and clears all', async () => {
    const k = await start();
    const added = await call(k, 'POST', '/api/chaos', { stage: 'rcpt', match: { to: '*@bounce.test' }, action: { type: 'reply', code: 550, enhanced: '5.1.1', text: 'no such user' } });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ id: 'c1', stage: 'rcpt', match: { to: '*@bounce.test' }, action: { type: 'reply', code: 550, enhanced: '5.1.1', text: 'no such user' }, counters: { matched: 0, fired: 0 } });
    const spec = await call(k, 'POST', '/api/chaos', { spec: 'mail reply=451 every=2' });
    expect(spec.status).toBe(201);
    expect(await outcome(k, 'x@bounce.test')).toBe(550);
    expect(await outcome(k)).toBe(451);
    const list = await call(k, 'GET', '/api/chaos');
    expect(list.body.rules.map((r: { id: string; counters: unknown }) => [r.id, r.counters])).toEqual([
      ['c1', { matched: 1, fired: 1 }],
      // The first message was refused at RCPT, after its MAIL: two MAILs tried, the second fired.
      ['c2', { matched: 2, fired: 1 }],
    ]);
    expect((await call(k, 'GET', '/api/chaos/c2')).body.when).toEqual({ every: 2 });
    expect((await call(k, 'DELETE', '/api/chaos/c1')).body).toEqual({ deleted: 1 });
    expect((await call(k, 'DELETE', '/api/chaos/c1')).status).toBe(404);
    expect((await call(k, 'GET', '/api/chaos/c1')).status).toBe(404);
    expect((await call(k, 'DELETE', '/api/chaos')).body).toEqual({ deleted: 1 });
    expect((await call(k, 'GET', '/api/chaos')).body).toEqual({ rules: [] });
    expect(await outcome(k, 'x@bounce.test')).toBe('ok');
  });

  it('PUT replaces the rules; a bad rule is a 400 naming the field, and changes nothing', async () => {
    const k = await start({ chaosRule: 'mail reply=451' });
    const put = await call(k, 'PUT', '/api/chaos', { rules: [{ spec: 'rcpt reply=550 first=1' }, { stage: 'end', action: { type: 'drop' } }] });
    expect(put.status).toBe(200);
    expect(put.body.rules.map((r: { id: string; stage: string }) => `${r.id}:${r.stage}`)).toEqual(['c2:rcpt', 'c3:end']);
    const reasons: [unknown, RegExp][] = [
      [{ stage: 'data', action: { type: 'reply', code: 354 } }, /^action\.code: 354 is not a reply SMTP allows at data/],
      [{ stage: 'rcpt', action: { type: 'reply', code: 550, enhanced: '4.1.1' } }, /^action\.enhanced:/],
      [{ stage: 'mail', match: { mailbox: 'w1' }, action: { type: 'drop' } }, /^match\.mailbox:/],
      [{ stage: 'rcpt', match: { to: 'nobody' }, action: { type: 'drop' } }, /^match\.to:/],
      [{ stage: 'rcpt' }, /^action: missing/],
      [{ stage: 'nope', action: { type: 'drop' } }, /^stage: /],
      [{ stage: 'rcpt', action: { type: 'explode' } }, /^action/],
      [{ stage: 'rcpt', action: { type: 'drop' }, colour: 'red' }, /colour/],
      [{ spec: 'rcpt reply=550 colour=red' }, /^spec: "colour=" is not a rule key/],
      [{ spec: 'rcpt drop', stage: 'rcpt' }, /^spec: give the rule as spec or as fields/],
    ];
    for (const [body, reason] of reasons) {
      const res = await call(k, 'POST', '/api/chaos', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message, JSON.stringify(body)).toMatch(reason);
    }
    const bad = await call(k, 'PUT', '/api/chaos', { rules: [{ spec: 'mail drop' }, { spec: 'data reply=354' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^rules\.1\.spec: |^rules\.1\.action\.code/);
    expect((await call(k, 'GET', '/api/chaos')).body.rules.map((r: { id: string }) => r.id)).toEqual(['c2', 'c3']);
  });

  it('is typed in the OpenAPI document', async () => {
    const k = await start();
    const doc = (await getJson(k, '/api/openapi.json')).body;
    expect(Object.keys(doc.paths['/api/chaos']).sort()).toEqual(['delete', 'get', 'post', 'put']);
    expect(Object.keys(doc.paths['/api/chaos/{id}']).sort()).toEqual(['delete', 'get']);
    expect(doc.paths['/api/chaos/refusals'].get.operationId).toBe('listChaosRefusals');
    expect(doc.components.schemas).toHaveProperty('ChaosRule');
    expect(doc.components.schemas).toHaveProperty('ChaosAction');
    expect(doc.components.schemas).toHaveProperty('ChaosRefusalList');
  });

  it('stops Kotak at start on a bad --chaos-rule, naming the rule and the reason', async () => {
    await expect(start({ chaosRule: 'data reply=354' })).rejects.toThrow(/--chaos-rule 'data reply=354': action\.code: 354/);
  });
});

describe('scoped logins', () => {
  it('a scoped token sees and changes only its mailboxes\' rules; global rules are an unscoped login\'s', async () => {
    scoped = await startScopedKotak();
    const { call: as } = scoped;
    const own = await as(W1, 'POST', '/api/chaos', { spec: 'rcpt mailbox=w1 reply=550:5.1.1:"w1 says no"' });
    expect(own.status).toBe(201);
    expect((await as(W1, 'POST', '/api/chaos', { spec: 'mail reply=451' })).status).toBe(403);
    expect((await as(W1, 'POST', '/api/chaos', { spec: 'rcpt mailbox=w2 reply=550' })).status).toBe(403);
    expect((await as(W1, 'PUT', '/api/chaos', { rules: [{ spec: 'rcpt reply=550' }] })).status).toBe(403);
    const global = await as(ALL, 'POST', '/api/chaos', { spec: 'rcpt to=*@nowhere.test reply=550' });
    expect(global.status).toBe(201);
    const w2rule = await as(ALL, 'POST', '/api/chaos', { spec: 'rcpt mailbox=w2 reply=451' });

    expect((await as(W1, 'GET', '/api/chaos')).body.rules.map((r: { id: string }) => r.id)).toEqual([own.body.id]);
    expect((await as(W2, 'GET', '/api/chaos')).body.rules.map((r: { id: string }) => r.id)).toEqual([w2rule.body.id]);
    expect((await as(ALL, 'GET', '/api/chaos')).body.rules).toHaveLength(3);
    // Another mailbox's rule is absent to it: not found, not deleted, not cleared.
    expect((await as(W2, 'GET', `/api/chaos/${own.body.id}`)).status).toBe(404);
    expect((await as(W2, 'DELETE', `/api/chaos/${own.body.id}`)).status).toBe(404);
    expect((await as(W2, 'DELETE', `/api/chaos/${global.body.id}`)).status).toBe(404);
    expect((await as(W2, 'DELETE', '/api/chaos')).body).toEqual({ deleted: 1 });
    expect((await as(ALL, 'GET', '/api/chaos')).body.rules.map((r: { id: string }) => r.id)).toEqual([own.body.id, global.body.id]);
    // PUT by w1 replaces w1's rules only.
    const put = await as(W1, 'PUT', '/api/chaos', { rules: [{ spec: 'rcpt mailbox=w1 reply=550:5.1.1:"w1 says no"' }] });
    expect(put.status).toBe(200);
    expect((await as(ALL, 'GET', '/api/chaos')).body.rules.map((r: { id: string }) => r.id)).toEqual([global.body.id, put.body.rules[0].id]);

    // The refused message shows in w1's refusals only, and w1's live clients hear of it.
    const [w1live, w2live] = await Promise.all([scoped.socket(W1, '/api/live'), scoped.socket(W2, '/api/live')]);
    await expect(scoped.send('someone@w1.inbox.test', 'refused')).rejects.toMatchObject({ responseCode: 550 });
    expect((await w1live.next((f) => f.type === 'chaos:refused')).data).toMatchObject({ mailbox: 'w1', reply: '550 5.1.1 w1 says no' });
    const w1refusals = await as(W1, 'GET', '/api/chaos/refusals');
    expect(w1refusals.body).toMatchObject({ total: 1, refusals: [{ mailbox: 'w1', stage: 'rcpt', action: 'reply', reply: '550 5.1.1 w1 says no', to: ['someone@w1.inbox.test'] }] });
    expect((await as(W2, 'GET', '/api/chaos/refusals')).body).toEqual({ total: 0, refusals: [] });
    expect((await as(W2, 'GET', '/api/chaos/refusals?mailbox=w1')).body).toEqual({ total: 0, refusals: [] });
    expect((await as(W2, 'DELETE', '/api/chaos/refusals')).body).toEqual({ deleted: 0 });
    expect((await as(W1, 'DELETE', '/api/chaos/refusals')).body).toEqual({ deleted: 1 });
    // Mailpit's triggers are global.
    expect((await as(W1, 'PUT', '/api/v1/chaos', { Sender: { ErrorCode: 451, Probability: 50 } })).status).toBe(403);
    // w2's client hears of w2's refusal, and (frames arrive in order) heard nothing of w1's before it.
    await as(W2, 'POST', '/api/chaos', { spec: 'rcpt mailbox=w2 reply=451' });
    await expect(scoped.send('someone@w2.inbox.test', 'refused too')).rejects.toMatchObject({ responseCode: 451 });
    await w2live.next((f) => f.type === 'chaos:refused');
    expect(w2live.frames.filter((f) => f.type === 'chaos:refused').map((f) => f.data.mailbox)).toEqual(['w2']);
    w1live.close();
    w2live.close();
  });
});

describe('firing over real SMTP', () => {
  it('a 421 rate limit under a burst: N+k messages at once, exactly k refused with 421, and counted', async () => {
    const k = await start({ chaosRule: 'mail rate=3/min:421' });
    const results = await Promise.all(Array.from({ length: 5 }, () => outcome(k)));
    expect(results.filter((r) => r === 'ok')).toHaveLength(3);
    expect(results.filter((r) => r === 421)).toHaveLength(2);
    expect((await getJson(k, '/api/messages')).body.total).toBe(3);
    expect((await call(k, 'GET', '/api/chaos')).body.rules[0].counters).toEqual({ matched: 5, fired: 2 });
  });

  it('a 451 rate limit at rcpt shows each refused message in the inbox\'s refusals', async () => {
    const k = await start({ chaosRule: 'rcpt rate=1/min:451' });
    expect(await outcomes(k, 3)).toEqual(['ok', 451, 451]);
    const refused = (await getJson(k, '/api/chaos/refusals')).body;
    expect(refused.total).toBe(2);
    expect(refused.refusals[0]).toMatchObject({ action: 'rate', stage: 'rcpt', reply: expect.stringMatching(/^451 4\.7\.0 /) });
  });

  it('every Nth and first N fire on exactly those messages', async () => {
    const k = await start({ chaosRule: 'rcpt reply=451 every=3' });
    expect(await outcomes(k, 6)).toEqual(['ok', 'ok', 451, 'ok', 'ok', 451]);
    await call(k, 'PUT', '/api/chaos', { rules: [{ spec: 'rcpt reply=450 first=2' }] });
    expect(await outcomes(k, 4)).toEqual([450, 450, 'ok', 'ok']);
    expect((await call(k, 'GET', '/api/chaos')).body.rules[0].counters).toEqual({ matched: 4, fired: 2 });
  });

  it('a seeded probability gives the same firing sequence twice', async () => {
    const k = await start();
    const sequence = async () => {
      await call(k, 'PUT', '/api/chaos', { rules: [{ spec: 'rcpt reply=451 p=0.5 seed=1234' }] });
      return outcomes(k, 16);
    };
    const first = await sequence();
    const second = await sequence();
    expect(second).toEqual(first);
    expect(first).toContain(451);
    expect(first).toContain('ok');
    // --chaos-seed does the same for rules without seed=.
    const a = await withKotak({ chaosSeed: 77, chaosRule: 'rcpt reply=451 p=0.5' });
    const b = await withKotak({ chaosSeed: 77, chaosRule: 'rcpt reply=451 p=0.5' });
    try {
      expect(await outcomes(b, 12)).toEqual(await outcomes(a, 12));
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('swaks', () => {
  it('sees a rule\'s reply at RCPT', async () => {
    const k = await start({ chaosRule: 'rcpt to=*@bounce.test reply=550:5.1.1:"no such user"' });
    const { output, code } = await swaks(k.smtpPort, 'x@bounce.test');
    expect(code).not.toBe(0);
    expect(output).toMatch(/<\*\* 550 5\.1\.1 no such user/);
  });

  it('sees a refused connection: no greeting', async () => {
    const k = await start({ chaosRule: 'connect refuse' });
    const { output, code } = await swaks(k.smtpPort, 'x@example.test');
    expect(code).not.toBe(0);
    expect(output).not.toMatch(/<- {2}220/);
    expect(output).toMatch(/closed|lost|Remote host/i);
  });
});

describe('Mailpit\'s Chaos API', () => {
  it('getChaosTriggers and setChaosTriggers of the mailpit-api client work, as three rules', async () => {
    const k = await start();
    const mailpit = new MailpitClient(k.url);
    expect(await mailpit.setChaosTriggers({ Recipient: { ErrorCode: 451, Probability: 100 }, Authentication: { ErrorCode: 535, Probability: 30 } })).toEqual({
      Sender: { ErrorCode: 451, Probability: 0 }, Recipient: { ErrorCode: 451, Probability: 100 }, Authentication: { ErrorCode: 535, Probability: 30 },
    });
    expect((await mailpit.getChaosTriggers()).Recipient).toEqual({ ErrorCode: 451, Probability: 100 });
    const rules = (await call(k, 'GET', '/api/chaos')).body.rules;
    expect(rules.map((r: { id: string; stage: string }) => `${r.id}:${r.stage}`)).toEqual(['mailpit-recipient:rcpt', 'mailpit-authentication:auth']);
    expect(await outcome(k)).toBe(451);
    // A code SMTP does not allow at that stage is refused, and nothing changes.
    await expect(mailpit.setChaosTriggers({ Sender: { ErrorCode: 535, Probability: 10 } })).rejects.toThrow(/400/);
    await expect(mailpit.setChaosTriggers({ Sender: { ErrorCode: 700, Probability: 10 } })).rejects.toThrow(/400/);
    expect((await mailpit.getChaosTriggers()).Recipient.Probability).toBe(100);
    // No triggers: every one back to 0 %, and mail flows.
    expect((await mailpit.setChaosTriggers()).Recipient).toEqual({ ErrorCode: 451, Probability: 0 });
    expect((await call(k, 'GET', '/api/chaos')).body.rules).toEqual([]);
    expect(await outcome(k)).toBe('ok');
  });
});
