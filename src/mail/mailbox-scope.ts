/**
 * Which mailboxes a caller may see and change. Every store read and every mailbox-service write
 * takes one, so a route cannot forget it. A request's scope is what its credentials allow
 * (src/api/access.ts) narrowed by what it asks for (`?mailbox=`): see `narrowScope`. Whatever
 * lies outside a scope is treated as absent: not found, not counted, not deleted.
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

/**
 * The mailboxes both scopes allow: what a caller may see (`allowed`) narrowed by what it asked
 * for (`asked`). Asking for a mailbox one may not see yields an empty scope, never an error, so
 * the answer is the same whether or not that mailbox exists.
 */
export function narrowScope(allowed: MailboxScope, asked: MailboxScope): MailboxScope {
  if (allowed.kind === 'all') return asked;
  if (asked.kind === 'all') return allowed;
  return onlyMailboxes(asked.mailboxes.filter((name) => allowed.mailboxes.includes(name)));
}

/** Whether every mailbox `inner` may see, `outer` may see too (an empty scope lies within any). */
export function scopeWithin(inner: MailboxScope, outer: MailboxScope): boolean {
  if (outer.kind === 'all') return true;
  return inner.kind === 'only' && inner.mailboxes.every((name) => outer.mailboxes.includes(name));
}

/** Whether some mailbox lies in both scopes. */
export function scopesMeet(a: MailboxScope, b: MailboxScope): boolean {
  if (a.kind === 'all') return b.kind === 'all' || b.mailboxes.length > 0;
  return a.mailboxes.some((name) => inScope(b, name));
}
