/**
 * Which mailboxes a caller may see and change. Every store read and every mailbox-service write
 * takes one, so a route cannot forget it: today every caller passes ALL_MAILBOXES; per-mailbox
 * callers (issue 16) pass only(...) and see another mailbox's messages as absent.
 */
export type MailboxScope = { readonly kind: 'all' } | { readonly kind: 'only'; readonly mailboxes: readonly string[] };

export const ALL_MAILBOXES: MailboxScope = Object.freeze({ kind: 'all' });

/** A scope of just these mailboxes (an empty list sees nothing). */
export function onlyMailboxes(mailboxes: readonly string[]): MailboxScope {
  return Object.freeze({ kind: 'only', mailboxes: Object.freeze([...new Set(mailboxes)]) });
}

export function inScope(scope: MailboxScope, mailbox: string): boolean {
  return scope.kind === 'all' || scope.mailboxes.includes(mailbox);
}
