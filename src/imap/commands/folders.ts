/**
 * Commands about folders rather than messages: LIST/LSUB, STATUS, SELECT/EXAMINE, NAMESPACE and
 * the ones Kotak refuses (CREATE, DELETE, RENAME: a mailbox exists because mail is routed to it).
 * Names are flat: Kotak's mailbox names hold no hierarchy, and "/" is announced as the delimiter.
 */
import type { Folder } from '../../access/folder-types.js';
import { PERMANENT_FLAGS, SYSTEM_FLAGS } from '../flags.js';
import { MailboxView } from '../mailbox-view.js';
import { quote } from '../wire/encode.js';
import { bad, expectCount, keyword, listItems, text } from './args.js';
import { CommandFailure, ok, type AuthenticatedContext, type Command, type Reply } from './context.js';

export const DELIMITER = '/';

/**
 * True when `name` matches a LIST pattern, where `*` and `%` both match any run of characters
 * (names are flat). Matched without a regular expression: a pattern of thousands of wildcards
 * would make a backtracking regex run for ages; this walk is linear in name × pattern at worst.
 */
export function matchesPattern(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const c = pattern[p];
    if (c === '*' || c === '%') {
      star = p++;
      resume = n;
    } else if (c !== undefined && c === name[n]) {
      p++;
      n++;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else return false;
  }
  while (pattern[p] === '*' || pattern[p] === '%') p++;
  return p === pattern.length;
}

/** INBOX matches in any case (RFC 3501 5.1); other names as written. */
function patternMatcher(pattern: string): (name: string) => boolean {
  return (name) => (name === 'INBOX' ? matchesPattern(pattern.toUpperCase(), name) : matchesPattern(pattern, name));
}

/** LIST and LSUB (every folder is subscribed). LIST's extended forms (RFC 5258 selection and return options) are read and their options ignored. */
export async function list(command: Command, context: AuthenticatedContext): Promise<Reply> {
  const args = [...command.args];
  if (command.name === 'LIST' && args[0]?.kind === 'list') args.shift();
  if (args.length < 2) bad(`expected: ${command.name} reference pattern`);
  const reference = text(args[0], 'the reference');
  const patterns = args[1]?.kind === 'list' ? args[1].items.map((item) => text(item, 'a pattern')) : [text(args[1], 'the pattern')];
  if (patterns.length === 1 && patterns[0] === '') {
    // RFC 3501 6.3.8: the delimiter and root of the reference.
    await context.send([`* ${command.name} (\\Noselect) "${DELIMITER}" ""\r\n`]);
    return ok(`${command.name} completed`);
  }
  const matchers = patterns.map((pattern) => patternMatcher(reference + pattern));
  const folders = await context.access.folders();
  const lines = folders
    .filter((folder) => matchers.some((matches) => matches(folder.name)))
    .map((folder) => `* ${command.name} (\\HasNoChildren) "${DELIMITER}" ${quote(folder.name)}\r\n`);
  if (lines.length > 0) await context.send(lines);
  return ok(`${command.name} completed`);
}

export async function resolveFolder(context: AuthenticatedContext, name: string): Promise<Folder> {
  const folder = await context.access.resolve(name);
  if (!folder) throw new CommandFailure('NO', `no folder named ${name} (a folder is a mailbox this login may see)`, 'NONEXISTENT');
  return folder;
}

const STATUS_ITEMS = new Set(['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'SIZE']);

export async function status(command: Command, context: AuthenticatedContext): Promise<Reply> {
  expectCount(command.args, 2, 'STATUS mailbox (items)');
  const folder = await resolveFolder(context, text(command.args[0], 'the mailbox'));
  const items = listItems(command.args[1], 'the status items').map((item) => keyword(item, 'a status item'));
  const unknown = items.find((item) => !STATUS_ITEMS.has(item));
  if (unknown) bad(`unknown status item ${unknown}`);
  const current = await context.access.status(folder, context.folderSize);
  const values: Record<string, number> = {
    MESSAGES: current.messages,
    RECENT: 0,
    UIDNEXT: current.uidNext,
    UIDVALIDITY: context.access.uidValidity,
    UNSEEN: current.unseen,
    SIZE: current.size,
  };
  await context.send([`* STATUS ${quote(folder.name)} (${items.map((item) => `${item} ${values[item]}`).join(' ')})\r\n`]);
  return ok('STATUS completed');
}

/** SELECT or EXAMINE: the untagged data of RFC 3501 6.3.1, and the view for the session to keep. */
export async function select(command: Command, context: AuthenticatedContext): Promise<{ reply: Reply; view: MailboxView }> {
  const args = command.args;
  // RFC 4466 select parameters (e.g. CONDSTORE) are not offered; a list after the name is refused.
  expectCount(args, 1, `${command.name} mailbox`);
  const folder = await resolveFolder(context, text(args[0], 'the mailbox'));
  const readOnly = command.name === 'EXAMINE';
  const [messages, current] = await Promise.all([context.access.messages(folder, { limit: context.folderSize }), context.access.status(folder, context.folderSize)]);
  const view = new MailboxView(context.access, folder, messages, { readOnly, limit: context.folderSize });
  const firstUnseen = messages.findIndex((message) => !message.flags.seen);
  const uidNext = Math.max(current.uidNext, view.lastUid + 1);
  await context.send([
    `* FLAGS (${SYSTEM_FLAGS.join(' ')})\r\n`,
    `* OK [PERMANENTFLAGS (${readOnly ? '' : PERMANENT_FLAGS.join(' ')})] ${readOnly ? 'read-only' : 'flags kept: \\Seen is the read state, keywords are tags'}\r\n`,
    `* ${messages.length} EXISTS\r\n`,
    '* 0 RECENT\r\n',
    ...(firstUnseen >= 0 ? [`* OK [UNSEEN ${firstUnseen + 1}] first unseen\r\n`] : []),
    `* OK [UIDVALIDITY ${context.access.uidValidity}] UIDs valid\r\n`,
    `* OK [UIDNEXT ${uidNext}] predicted next UID\r\n`,
  ]);
  return { reply: ok(`${command.name} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE'), view };
}

/** CREATE, DELETE, RENAME: refused, with the reason (docs/IMAP.md "Protocol"). */
export async function refuseFolderChange(command: Command, context: AuthenticatedContext): Promise<Reply> {
  if (command.args.length < 1) bad(`expected: ${command.name} mailbox`);
  const name = text(command.args[0], 'the mailbox');
  const exists = (await context.access.resolve(name)) !== null;
  if (command.name === 'CREATE') {
    if (exists) throw new CommandFailure('NO', `${name} exists already`, 'ALREADYEXISTS');
    throw new CommandFailure('NO', 'Kotak makes a mailbox when mail is routed to it (--mailbox-route); folders cannot be created over IMAP', 'CANNOT');
  }
  if (!exists) throw new CommandFailure('NO', `no folder named ${name}`, 'NONEXISTENT');
  if (command.name === 'DELETE') {
    throw new CommandFailure('NO', 'folders are Kotak mailboxes and are not deleted over IMAP; delete the messages (STORE +FLAGS \\Deleted, EXPUNGE) or use the API', 'CANNOT');
  }
  throw new CommandFailure('NO', 'folders are Kotak mailboxes, named by routing; they cannot be renamed over IMAP', 'CANNOT');
}

/** SUBSCRIBE and UNSUBSCRIBE: every folder is always subscribed; both succeed for a folder that exists. */
export async function subscription(command: Command, context: AuthenticatedContext): Promise<Reply> {
  expectCount(command.args, 1, `${command.name} mailbox`);
  await resolveFolder(context, text(command.args[0], 'the mailbox'));
  return ok(`${command.name} completed (every folder is subscribed)`);
}

export async function namespace(command: Command, context: AuthenticatedContext): Promise<Reply> {
  expectCount(command.args, 0, 'NAMESPACE');
  await context.send([`* NAMESPACE (("" "${DELIMITER}")) NIL NIL\r\n`]);
  return ok('NAMESPACE completed');
}
