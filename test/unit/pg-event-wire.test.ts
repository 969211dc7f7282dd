/** The NOTIFY payloads of events across nodes (src/live/pg-event-wire.ts): packed, split, read back. */
import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES, packPayloads, parsePayload, type WireEvent } from '../../src/live/pg-event-wire.js';

const read = (payloads: string[]) => payloads.map((p) => parsePayload(p)!);

describe('packPayloads', () => {
  it('packs small events into one payload, in order, merging consecutive stored ids', () => {
    const events: WireEvent[] = [
      { e: 'message:stored', ids: ['a'] },
      { e: 'message:stored', ids: ['b'] },
      { e: 'message:updated', id: 'a', mailbox: 'default', read: true },
      { e: 'message:stored', ids: ['c'] },
      { e: 'messages:cleared' },
    ];
    const { payloads, dropped } = packPayloads('node-1', 7, events);
    expect(dropped).toEqual([]);
    expect(read(payloads)).toEqual([{ n: 'node-1', s: 7, v: [{ e: 'message:stored', ids: ['a', 'b'] }, events[2], events[3], events[4]] }]);
  });

  it('splits long lists over payloads each under the limit (counted in UTF-8 bytes), numbering them in turn', () => {
    const ids = Array.from({ length: 5000 }, (_, n) => `01JID${n}`);
    const mailbox = 'почта-'.repeat(10);
    const messages = Array.from({ length: 800 }, (_, n) => ({ id: `t${n}`, mailbox }));
    const scope = { kind: 'only' as const, mailboxes: Array.from({ length: 900 }, (_, n) => `${mailbox}${n}`) };
    const { payloads, dropped } = packPayloads('node-1', 0, [{ e: 'message:deleted', mailbox, ids }, { e: 'tags:set', messages }, { e: 'tags:bulk', scope }]);
    expect(dropped).toEqual([]);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const back = read(payloads);
    expect(back.map((p) => p.s)).toEqual(back.map((_, n) => n));
    const all = back.flatMap((p) => p.v);
    expect(all.flatMap((e) => (e.e === 'message:deleted' ? e.ids : []))).toEqual(ids);
    expect(all.flatMap((e) => (e.e === 'tags:set' ? e.messages : []))).toEqual(messages);
    expect(all.flatMap((e) => (e.e === 'tags:bulk' && e.scope.kind === 'only' ? e.scope.mailboxes : []))).toEqual(scope.mailboxes);
    expect(all.every((e) => e.e !== 'message:deleted' || e.mailbox === mailbox)).toBe(true);
  });

  it('drops only what cannot fit even alone, and says so', () => {
    const huge = 'x'.repeat(9000);
    const { payloads, dropped } = packPayloads('n', 0, [{ e: 'message:updated', id: 'a', mailbox: huge, read: true }, { e: 'messages:cleared' }]);
    expect(dropped.map((e) => e.e)).toEqual(['message:updated']);
    expect(read(payloads)[0]!.v).toEqual([{ e: 'messages:cleared' }]);
    expect(packPayloads('n', 0, []).payloads).toEqual([]);
  });
});

describe('parsePayload', () => {
  it('reads every kind of event back, and refuses what is not a payload', () => {
    const events: WireEvent[] = [
      { e: 'message:stored', ids: ['a'] },
      { e: 'message:updated', id: 'a', mailbox: 'm', read: false },
      { e: 'messages:updated', mailbox: 'm', read: true, count: 3 },
      { e: 'message:deleted', mailbox: 'm', ids: ['a', 'b'] },
      { e: 'messages:cleared' },
      { e: 'message:flags', mailbox: 'm', ids: ['a'] },
      { e: 'tags:set', messages: [{ id: 'a', mailbox: 'm' }] },
      { e: 'tags:bulk', scope: { kind: 'all' } },
      { e: 'relay:updated', id: 12, messageId: 'a' },
    ];
    expect(read(packPayloads('n', 1, events).payloads)).toEqual([{ n: 'n', s: 1, v: events }]);
    for (const junk of ['', 'null', '[]', '{"n":"x","s":1}', '{"n":"x","s":1,"v":[{"e":"message:stored","ids":[1]}]}', '{"n":"x","s":1,"v":[{"e":"nope"}]}', '{"n":1,"s":1,"v":[]}', '{"n":"x","s":1,"v":[{"e":"relay:updated","id":"1","messageId":"a"}]}', '{"n":"x","s":1,"v":[{"e":"message:flags","mailbox":"m"}]}']) {
      expect(parsePayload(junk), junk).toBeNull();
    }
  });
});
