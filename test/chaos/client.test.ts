/** kotak/client's `chaos`: add returns a handle that removes exactly that rule; list, clear, refusals; a mailbox-scoped client. */
import { afterEach, describe, expect, it } from 'vitest';
import { KotakClient } from '../../src/client/index.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';

let kotak: RunningKotak | null = null;
afterEach(async () => {
  await kotak?.stop();
  kotak = null;
});

describe('kotak.chaos', () => {
  it('add returns a handle; remove takes away that rule only, once', async () => {
    kotak = await withKotak({ mailboxRoute: '*@{mailbox}.inbox.test', chaosRule: 'mail from=*@start.test reply=451' });
    const client = new KotakClient(kotak.url);
    const one = await client.chaos.add('rcpt to=*@bounce.test reply=550:5.1.1:"no such user"');
    const two = await client.chaos.add({ stage: 'end', match: { to: '*@late.test' }, action: { type: 'reply', code: 452, text: 'later' } });
    expect(one.rule).toMatchObject({ stage: 'rcpt', action: { type: 'reply', code: 550, enhanced: '5.1.1', text: 'no such user' }, counters: { matched: 0, fired: 0 } });
    expect((await client.chaos.list()).map((r) => r.id)).toEqual(['c1', one.id, two.id]);
    await expect(transport(kotak).sendMail({ from: 'a@example.test', to: 'x@bounce.test', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
    expect((await client.chaos.list())[1]!.counters).toEqual({ matched: 1, fired: 1 });
    expect(await one.remove()).toBe(true);
    expect(await one.remove()).toBe(false);
    expect((await client.chaos.list()).map((r) => r.id)).toEqual(['c1', two.id]);
    await expect(client.chaos.add('data reply=354')).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await client.chaos.clear()).toBe(2);
    expect(await client.chaos.list()).toEqual([]);
  });

  it('a mailbox-scoped client puts its rules in its mailbox, and sees only those and their refusals', async () => {
    kotak = await withKotak({ mailboxRoute: '*@{mailbox}.inbox.test' });
    const client = new KotakClient(kotak.url);
    const w1 = client.mailbox('w1');
    const text = await w1.chaos.add('rcpt reply=550');
    const fields = await w1.chaos.add({ stage: 'end', action: { type: 'drop' } });
    await client.chaos.add('rcpt mailbox=w2 reply=451');
    expect(text.rule.match).toEqual({ mailbox: 'w1' });
    expect(fields.rule.match).toEqual({ mailbox: 'w1' });
    expect((await w1.chaos.list()).map((r) => r.id)).toEqual([text.id, fields.id]);
    await expect(transport(kotak).sendMail({ from: 'a@example.test', to: 'x@w1.inbox.test', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
    await expect(transport(kotak).sendMail({ from: 'a@example.test', to: 'x@w2.inbox.test', text: 'x' })).rejects.toMatchObject({ responseCode: 451 });
    expect((await w1.chaos.refusals()).refusals.map((r) => r.mailbox)).toEqual(['w1']);
    expect((await client.chaos.refusals()).total).toBe(2);
    expect(await w1.chaos.clear()).toBe(2);
    expect((await client.chaos.list()).map((r) => r.match?.mailbox)).toEqual(['w2']);
  });
});
