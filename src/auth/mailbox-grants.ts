/**
 * Files that say who may see which mailboxes, one grant a line: `NAME` alone or `NAME *` (every
 * mailbox), or `NAME mailbox1,mailbox2` (only those). `--http-token-file` lines name a token,
 * `--http-auth-mailboxes` lines a user of `--http-auth`. Blank lines and `#` comments are skipped;
 * a mistake names its file and line and stops Kotak at start, never at the first request.
 */
import { KotakError } from '../errors.js';
import { isMailboxName } from '../mail/mailbox-name.js';
import { ALL_MAILBOXES, onlyMailboxes, type MailboxScope } from '../mail/mailbox-scope.js';

export interface Grant {
  /** The token or user name: one word of printable ASCII, as an Authorization header carries it. */
  readonly name: string;
  readonly scope: MailboxScope;
}

/** What can travel in an Authorization header as one word. */
export function isTokenText(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

/**
 * `what` says which file this is. A token standing alone sees every mailbox, so a token file
 * written before mailboxes existed keeps its meaning; a user line must say what it grants, since
 * a user left out of the file sees nothing (a forgotten scope must not mean "everything").
 */
export function parseGrants(text: string, source: string, what: 'token' | 'user'): Grant[] {
  const grants: Grant[] = [];
  const seen = new Set<string>();
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const fail = (reason: string): never => {
        throw new KotakError('invalid_config', `${source}:${index + 1}: ${reason}`);
      };
      const [name, ...rest] = line.split(/\s+/) as [string, ...string[]];
      if (!isTokenText(name)) fail(`a ${what} is printable ASCII without spaces`);
      // Said without the name: a token in an error message would end up in a log.
      if (seen.has(name)) fail(what === 'token' ? 'the same token twice' : `user "${name}" twice`);
      seen.add(name);
      // `a, b` and `a,b` read the same: a comma or a space is never part of a mailbox name.
      const listed = rest.join(',').split(',').filter(Boolean);
      if (listed.length === 0) {
        if (what === 'user') fail(`say which mailboxes user "${name}" may see: "${name} mailbox1,mailbox2" or "${name} *"`);
        grants.push({ name, scope: ALL_MAILBOXES });
        return;
      }
      if (listed.includes('*')) {
        if (listed.length > 1) fail('"*" (every mailbox) stands alone');
        grants.push({ name, scope: ALL_MAILBOXES });
        return;
      }
      const mailboxes = listed.map((m) => {
        const folded = m.toLowerCase();
        return isMailboxName(folded) ? folded : fail(`"${m.slice(0, 70)}" is not a mailbox name (1 to 64 of a-z, 0-9, '.', '_', '-')`);
      });
      grants.push({ name, scope: onlyMailboxes(mailboxes) });
    });
  return grants;
}
