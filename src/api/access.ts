/**
 * The mailboxes a request may see, set once per request by the auth middleware (src/api/auth.ts)
 * or, with authentication off, by `openAccess` (every mailbox). Every route of the app (Kotak's,
 * Mailpit's, MailHog's) reads it here and hands it to the store or the mailbox service, narrowed
 * by what the request asks for (`?mailbox=`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { scopeOfMailboxParam } from '../mail/mailbox-name.js';
import { ALL_MAILBOXES, narrowScope, type MailboxScope } from '../mail/mailbox-scope.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** What this request's credentials may see. */
    access: MailboxScope;
  }
}

/** For an app without authentication: every request may see every mailbox. */
export function openAccess(): MiddlewareHandler {
  return async (c, next) => {
    c.set('access', ALL_MAILBOXES);
    return next();
  };
}

/**
 * What the request's credentials may see. A route reached without the middleware having run is a
 * wiring mistake; failing (500) is safer than guessing "everything".
 */
export function accessScope(c: Context): MailboxScope {
  const scope = c.get('access') as MailboxScope | undefined;
  if (scope === undefined) throw new Error(`no access scope was set for ${c.req.path}: the auth middleware did not run`);
  return scope;
}

/** What the request may see, narrowed to the `?mailbox=` values it gave (none: all it may see). */
export function requestScope(c: Context, mailboxParam?: string | readonly string[]): MailboxScope {
  return narrowScope(accessScope(c), scopeOfMailboxParam(mailboxParam));
}
