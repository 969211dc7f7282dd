/**
 * The benchmark's messages (bench/messages.ts): spread over mailboxes or not, they must differ only
 * in their address, or `bench/ingest.ts --mailboxes 1` against `--mailboxes 100` compares
 * different work. Until 6 December every message was addressed To inbox@kotak.test, so with 100
 * mailboxes each also carried a hidden (Bcc) recipient that the one-mailbox run did not.
 */
import { describe, expect, it } from 'vitest';
import { buildTemplate, MAILBOX_ROUTE, recipients, SIZES } from '../../bench/messages.js';
import { parseMessage } from '../../src/mail/parse.js';
import { summarize } from '../../src/mail/summary.js';
import type { Envelope } from '../../src/mail/types.js';
import { compileRouting } from '../../src/mailbox/routing.js';

function envelopeTo(rcpt: string): Envelope {
  return { mailFrom: 'bench@kotak.test', rcptTo: [rcpt], clientAddress: '127.0.0.1', heloName: 'localhost', user: null, tls: false };
}

describe.each([1, 100])('bench messages over %i mailbox(es)', (mailboxes) => {
  const to = recipients(mailboxes);

  it('has one distinct recipient per mailbox, each routed to a mailbox of its own', () => {
    expect(new Set(to).size).toBe(mailboxes);
    if (mailboxes === 1) return; // no route: everything goes to default
    const routing = compileRouting({ routes: [MAILBOX_ROUTE], bySmtpUser: false });
    const placed = new Set(to.map((rcpt) => routing.place(envelopeTo(rcpt)).map((p) => p.mailbox).join()));
    expect(placed.size).toBe(mailboxes);
    for (const name of placed) expect(name).toMatch(/^mb\d+$/);
  });

  it.each(['1k', '50k'])('addresses each %s message To the recipient it is sent to, so none has a hidden recipient', async (sizeKey) => {
    const template = buildTemplate(SIZES[sizeKey]!, to);
    for (const n of [0, 1, mailboxes - 1, mailboxes, 2 * mailboxes + 7]) {
      const raw = template.stored(n);
      const rcpt = to[n % to.length]!;
      const parsed = await parseMessage(raw);
      const summary = summarize({ id: `m${n}`, mailbox: 'default', receivedAt: 0, envelope: envelopeTo(rcpt), raw, parsed: { ok: true, message: parsed } });
      expect(summary.to.map((a) => a.address)).toEqual([rcpt]);
      expect(summary.bcc).toEqual([]);
      // Every message of a run has the same size.
      expect(raw.length).toBe(template.messageBytes);
    }
  });
});
