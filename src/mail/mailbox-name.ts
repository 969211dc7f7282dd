/**
 * Mailbox names as callers give them (`?mailbox=` of the API and of /api/live, `mailbox:` in a
 * search) and the scope they ask for. A name is `[a-z0-9][a-z0-9._-]{0,63}`: names are stored
 * in that form, so a caller's name is case-folded before it is checked and compared.
 */
import { KotakError } from '../errors.js';
import { ALL_MAILBOXES, onlyMailboxes, type MailboxScope } from './mailbox-scope.js';

const MAILBOX_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function isMailboxName(name: string): boolean {
  return MAILBOX_NAME.test(name);
}

/** A caller's name, case-folded; a KotakError('invalid_mailbox') when it is not a mailbox name. */
export function parseMailboxName(text: string): string {
  const name = text.trim().toLowerCase();
  if (!isMailboxName(name)) {
    const shown = text.length > 70 ? `${text.slice(0, 70)}…` : text;
    throw new KotakError('invalid_mailbox', `"${shown}" is not a mailbox name (1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit)`);
  }
  return name;
}

/**
 * `?mailbox=` values → the scope they ask for: absent, every mailbox; otherwise exactly the named
 * ones. The parameter may repeat (`?mailbox=a&mailbox=b`) and a value may list names with commas
 * (`?mailbox=a,b`): a comma is never part of a name, so both read the same.
 */
export function scopeOfMailboxParam(values: string | readonly string[] | undefined): MailboxScope {
  if (values === undefined) return ALL_MAILBOXES;
  const list = typeof values === 'string' ? [values] : values;
  if (list.length === 0) return ALL_MAILBOXES;
  return onlyMailboxes(list.flatMap((value) => value.split(',')).map(parseMailboxName));
}
