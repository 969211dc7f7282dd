/** Mailbox routing (src/mailbox/routing.ts): rules → placements per envelope, pure. */
import { describe, expect, it } from 'vitest';
import { isMailboxName } from '../../src/mail/mailbox-name.js';
import { compileRouting } from '../../src/mailbox/routing.js';
import type { Envelope } from '../../src/mail/types.js';

function envelope(rcptTo: string[], user: string | null = null): Envelope {
  return { mailFrom: 'app@example.com', rcptTo, clientAddress: '127.0.0.1', heloName: 'localhost', user, tls: false };
}

describe('mailbox names', () => {
  it.each(['default', 'a', 'w3', 'team.a_b-c', '0', 'x'.repeat(64)])('%s is a mailbox name', (name) => expect(isMailboxName(name)).toBe(true));
  it.each(['', 'A', '.a', '-a', '_a', 'a b', 'a/b', 'x'.repeat(65), 'é'])('%j is not', (name) => expect(isMailboxName(name)).toBe(false));
});

describe('routing', () => {
  it('sends everything to default without rules', () => {
    const routing = compileRouting({ routes: [], bySmtpUser: false });
    expect(routing.place(envelope(['a@x.test', 'b@y.test']))).toEqual([{ mailbox: 'default', rule: 'default' }]);
    expect(routing.configuredMailboxes).toEqual(['default']);
  });

  it('places by a fixed rule, first match wins, the rest to default', () => {
    const routing = compileRouting({ routes: ['*@billing.test=billing', 'ops@billing.test=ops', '*@*.corp.test=corp'], bySmtpUser: false });
    expect(routing.place(envelope(['ops@billing.test']))).toEqual([{ mailbox: 'billing', rule: '*@billing.test' }]);
    expect(routing.place(envelope(['x@eu.corp.test']))).toEqual([{ mailbox: 'corp', rule: '*@*.corp.test' }]);
    expect(routing.place(envelope(['x@corp.test']))).toEqual([{ mailbox: 'default', rule: 'default' }]);
    expect(routing.configuredMailboxes).toEqual(['default', 'billing', 'ops', 'corp']);
  });

  it('gives one placement per mailbox, in the order of the recipients', () => {
    const routing = compileRouting({ routes: ['*@a.test=a', '*@b.test=b'], bySmtpUser: false });
    expect(routing.place(envelope(['x@b.test', 'y@a.test', 'z@b.test', 'q@other.test']))).toEqual([
      { mailbox: 'b', rule: '*@b.test' },
      { mailbox: 'a', rule: '*@a.test' },
      { mailbox: 'default', rule: 'default' },
    ]);
  });

  it('captures {mailbox} in the domain or the local part, case-folded', () => {
    const routing = compileRouting({ routes: ['*@{mailbox}.inbox.test', '*+{mailbox}@example.com'], bySmtpUser: false });
    expect(routing.place(envelope(['anyone@Worker-3.inbox.test']))).toEqual([{ mailbox: 'worker-3', rule: '*@{mailbox}.inbox.test' }]);
    expect(routing.place(envelope(['qa+Signup.Flow@example.com']))).toEqual([{ mailbox: 'signup.flow', rule: '*+{mailbox}@example.com' }]);
    // The last + is the tag's: what precedes it is the *.
    expect(routing.place(envelope(['a+b+c@example.com']))).toEqual([{ mailbox: 'c', rule: '*+{mailbox}@example.com' }]);
    // Not a capture the pattern allows, or not a mailbox name: the rule does not apply.
    expect(routing.place(envelope(['x@a.b.inbox.test', 'qa+@example.com', 'qa+.x@example.com', 'plain@example.com']))).toEqual([{ mailbox: 'default', rule: 'default' }]);
    expect(routing.configuredMailboxes).toEqual(['default']);
  });

  it('with --mailbox-by-smtp-user, puts mail of an authenticated user in that mailbox', () => {
    const routing = compileRouting({ routes: ['*@a.test=a'], bySmtpUser: true });
    expect(routing.place(envelope(['x@a.test', 'y@b.test'], 'team1'))).toEqual([{ mailbox: 'team1', rule: 'smtp-user' }]);
    // Not a valid mailbox name: routed as without the option.
    expect(routing.place(envelope(['x@a.test'], 'Team One'))).toEqual([{ mailbox: 'a', rule: '*@a.test' }]);
    expect(routing.place(envelope(['x@b.test'], null))).toEqual([{ mailbox: 'default', rule: 'default' }]);
    expect(compileRouting({ routes: [], bySmtpUser: false }).place(envelope(['x@b.test'], 'team1'))).toEqual([{ mailbox: 'default', rule: 'default' }]);
  });

  it('gives a mail-client login the mailbox its SMTP AUTH fills (exact name, no folding), or default without the option', () => {
    const byUser = compileRouting({ routes: ['*@a.test=a'], bySmtpUser: true });
    for (const user of ['team1', 'Team1', 'a b', '', 'x'.repeat(65)]) {
      const placed = byUser.place(envelope(['x@b.test'], user))[0]!;
      // A name SMTP would not route to a mailbox of its own has none to read.
      expect(byUser.readerMailbox(user)).toBe(placed.rule === 'smtp-user' ? placed.mailbox : null);
    }
    expect(byUser.readerMailbox('team1')).toBe('team1');
    expect(byUser.readerMailbox('default')).toBe('default');
    const plain = compileRouting({ routes: ['*@a.test=a'], bySmtpUser: false });
    expect(['team1', 'a', 'Team1'].map((user) => plain.readerMailbox(user))).toEqual(['default', 'default', 'default']);
  });

  it('names the copy that holds each recipient', () => {
    const routing = compileRouting({ routes: ['*@a.test=a', '*@{mailbox}.inbox.test'], bySmtpUser: true });
    const mail = envelope(['x@a.test', 'y@w1.inbox.test', 'z@other.test']);
    expect(mail.rcptTo.map((r) => routing.mailboxOf(mail, r))).toEqual(['a', 'w1', 'default']);
    const asUser = envelope(['x@a.test', 'z@other.test'], 'team1');
    expect(asUser.rcptTo.map((r) => routing.mailboxOf(asUser, r))).toEqual(['team1', 'team1']);
  });

  it.each([
    ['*@a.test', /needs =NAME or \{mailbox\}/],
    ['*@a.test=Bad', /"Bad", which is not a mailbox name/],
    ['*@a.test=', /"", which is not a mailbox name/],
    ['*@{mailbox}.test=x', /names its mailbox twice/],
    ['{mailbox}+{mailbox}@a.test', /only once/],
    ['nobody=x', /--mailbox-route: "nobody" is not a recipient pattern: it needs exactly one @/],
    ['*@mail-{mailbox}.test', /--mailbox-route: .* is not a recipient pattern/],
  ])('refuses %j at start', (route, message) => {
    expect(() => compileRouting({ routes: [route], bySmtpUser: false })).toThrow(message);
  });

  it('takes = inside a local part as part of the pattern', () => {
    const routing = compileRouting({ routes: ['a=b@x.test=ab', 'c=*+{mailbox}@x.test'], bySmtpUser: false });
    expect(routing.place(envelope(['a=b@x.test']))).toEqual([{ mailbox: 'ab', rule: 'a=b@x.test' }]);
    expect(routing.place(envelope(['c=1+w2@x.test']))).toEqual([{ mailbox: 'w2', rule: 'c=*+{mailbox}@x.test' }]);
  });
});
