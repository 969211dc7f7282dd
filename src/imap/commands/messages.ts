/**
 * Commands that change or find messages of the selected folder: STORE, SEARCH, COPY, MOVE,
 * EXPUNGE (and UID EXPUNGE from RFC 4315), and APPEND (which names its folder). Every change goes
 * through FolderAccess (the mailbox service behind it announces it); the view is told here, so
 * the event that comes back is not sent to this client a second time.
 */
import type { FlagChange, FolderMessage } from '../../access/folder-types.js';
import { flagList, toFlagSet } from '../flags.js';
import { evaluateSearch, ImapSearchError, parseSearch } from '../search.js';
import type { ImapValue } from '../wire/values.js';
import { bad, expectCount, flagNames, keyword, sequenceSet, text } from './args.js';
import { resolveFolder } from './folders.js';
import { CommandFailure, ok, type AuthenticatedContext, type Command, type Reply, type SelectedContext } from './context.js';

function writable(context: SelectedContext, name: string): void {
  if (context.view.readOnly) throw new CommandFailure('NO', `${name} is not allowed in a folder opened with EXAMINE`, 'READ-ONLY');
}

function selected(command: Command, context: SelectedContext, set: ImapValue | undefined): FolderMessage[] {
  const parsed = sequenceSet(set);
  if (!command.uid && context.view.outOfRange(parsed)) bad('no such message (sequence number past the last message)');
  return context.view.select(parsed, command.uid);
}

export async function store(command: Command, context: SelectedContext): Promise<Reply> {
  expectCount(command.args, 3, `${command.uid ? 'UID ' : ''}STORE sequence-set [+|-]FLAGS[.SILENT] (flags)`);
  const item = keyword(command.args[1], 'FLAGS, +FLAGS or -FLAGS');
  const match = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
  if (!match) bad(`unknown STORE item ${item} (CONDSTORE's UNCHANGEDSINCE is not offered)`);
  const flags = toFlagSet(flagNames(command.args[2]));
  if ('invalid' in flags) bad(`${flags.invalid} is not a flag`);
  writable(context, 'STORE');
  const messages = selected(command, context, command.args[0]);
  const change: FlagChange = { kind: match[1] === '+' ? 'add' : match[1] === '-' ? 'remove' : 'replace', flags };
  const { view } = context;
  const stored = messages.length > 0 ? await context.access.setFlags(view.folder, messages.map((m) => m.id), change) : new Map();
  const lines: string[] = [];
  for (const message of messages) {
    const now = stored.get(message.id);
    if (!now) continue;
    view.told(message.id, now);
    if (match[2]) continue;
    lines.push(`* ${view.seqOf(message.id)} FETCH (${command.uid ? `UID ${message.uid} ` : ''}FLAGS ${flagList(now)})\r\n`);
  }
  if (lines.length > 0) await context.send(lines);
  return ok('STORE completed');
}

export async function search(command: Command, context: SelectedContext): Promise<Reply> {
  const { view, access } = context;
  let found: FolderMessage[];
  try {
    const program = parseSearch(command.args);
    found = await evaluateSearch(program, {
      messages: view.messages,
      matching: (query, within) => access.search(view.folder, query, within),
      read: (id) => access.read(view.folder, id),
    });
  } catch (error) {
    if (!(error instanceof ImapSearchError)) throw error;
    if (error.kind === 'badcharset') throw new CommandFailure('NO', error.message, 'BADCHARSET (UTF-8 US-ASCII)');
    throw new CommandFailure('BAD', error.message);
  }
  const numbers = found.map((message) => (command.uid ? message.uid : view.seqOf(message.id))).filter((n) => n > 0);
  await context.send([`* SEARCH${numbers.map((n) => ` ${n}`).join('')}\r\n`]);
  return ok('SEARCH completed');
}

/** COPY and MOVE (RFC 6851): copies with COPYUID (RFC 4315); MOVE then expunges the originals. */
export async function copy(command: Command, context: SelectedContext): Promise<Reply> {
  const name = command.name;
  expectCount(command.args, 2, `${command.uid ? 'UID ' : ''}${name} sequence-set mailbox`);
  if (name === 'MOVE') writable(context, 'MOVE');
  const messages = selected(command, context, command.args[0]);
  const target = await context.access.resolve(text(command.args[1], 'the mailbox'));
  if (!target) throw new CommandFailure('NO', 'no such folder (Kotak makes a mailbox when mail is routed to it)', 'TRYCREATE');
  const { view, access } = context;
  if (messages.length === 0) return ok(`${name} completed (no messages)`);
  const copies = await access.copy(view.folder, messages.map((m) => m.id), target);
  const pairs = messages.filter((m) => copies.has(m.id)).map((m) => [m.uid, copies.get(m.id)!.uid] as const);
  const copyUid = pairs.length > 0 ? `COPYUID ${access.uidValidity} ${pairs.map(([from]) => from).join(',')} ${pairs.map(([, to]) => to).join(',')}` : undefined;
  if (name === 'COPY') return ok('COPY completed', copyUid);
  const moved = messages.filter((m) => copies.has(m.id)).map((m) => m.id);
  await access.expunge(view.folder, moved);
  // RFC 6851 section 4.3: COPYUID comes in an untagged OK before the expunges.
  const lines = [...(copyUid ? [`* OK [${copyUid}] moved\r\n`] : []), ...view.remove(moved).map((seq) => `* ${seq} EXPUNGE\r\n`)];
  if (lines.length > 0) await context.send(lines);
  return ok('MOVE completed');
}

/**
 * EXPUNGE, UID EXPUNGE (only the UIDs given) and CLOSE (silent): the messages marked \Deleted are
 * deleted through the mailbox service, as an API delete would be.
 */
export async function expunge(command: Command, context: SelectedContext, options: { readonly silent: boolean }): Promise<Reply> {
  const { view, access } = context;
  if (command.name === 'EXPUNGE') expectCount(command.args, command.uid ? 1 : 0, command.uid ? 'UID EXPUNGE sequence-set' : 'EXPUNGE');
  if (view.readOnly) {
    if (options.silent) return ok(`${command.name} completed`);
    throw new CommandFailure('NO', 'EXPUNGE is not allowed in a folder opened with EXAMINE', 'READ-ONLY');
  }
  // Flags other sessions changed are brought in first, so their \Deleted counts too.
  const news = await view.updates(!options.silent);
  if (news.length > 0 && !options.silent) await context.send(news);
  const candidates = command.name === 'EXPUNGE' && command.uid ? selected(command, context, command.args[0]) : view.messages;
  const marked = candidates.filter((m) => m.flags.deleted).map((m) => m.id);
  if (marked.length > 0) await access.expunge(view.folder, marked);
  const seqs = view.remove(marked);
  if (!options.silent && seqs.length > 0) await context.send(seqs.map((seq) => `* ${seq} EXPUNGE\r\n`));
  return ok(`${command.name} completed`);
}

const APPEND_DATE = /^\s?(\d{1,2})-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/i;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** An APPEND date-time (RFC 3501 `date-time`) → epoch ms, or null when it is not one. */
export function parseAppendDate(value: string): number | null {
  const m = APPEND_DATE.exec(value);
  if (!m) return null;
  const [, day, month, year, hh, mm, ss, sign, zh, zm] = m;
  const utc = Date.UTC(Number(year), MONTHS.indexOf(month!.toLowerCase()), Number(day), Number(hh), Number(mm), Number(ss));
  const offset = (Number(zh) * 60 + Number(zm)) * 60_000 * (sign === '-' ? -1 : 1);
  const epoch = utc - offset;
  return Number.isFinite(epoch) ? epoch : null;
}

/** APPEND mailbox [(flags)] [date-time] literal, answered with APPENDUID (RFC 4315). */
export async function append(command: Command, context: AuthenticatedContext): Promise<{ reply: Reply; folderName: string }> {
  const args = command.args;
  if (args.length < 2 || args.length > 4) bad('expected: APPEND mailbox [(flags)] [date-time] message');
  const message = args[args.length - 1]!;
  if (message.kind !== 'string') bad('the message must be a literal');
  let flags = toFlagSet([]);
  let date: number | null = null;
  for (const option of args.slice(1, -1)) {
    if (option.kind === 'list') flags = toFlagSet(flagNames(option));
    else if (option.kind === 'string' && !option.literal) {
      date = parseAppendDate(option.value.toString('latin1'));
      if (date === null) bad('the date-time is e.g. "07-Dec-2026 09:40:00 +0000"');
    } else bad('expected: APPEND mailbox [(flags)] [date-time] message');
  }
  if ('invalid' in flags) bad(`${flags.invalid} is not a flag`);
  if (message.value.length === 0) throw new CommandFailure('NO', 'an empty message is not stored');
  const folder = await resolveFolder(context, text(args[0], 'the mailbox')).catch((error: unknown) => {
    if (error instanceof CommandFailure) throw new CommandFailure('NO', error.message, 'TRYCREATE');
    throw error;
  });
  const stored = await context.access.append(folder, message.value, flags, date);
  return { reply: ok('APPEND completed', `APPENDUID ${context.access.uidValidity} ${stored.uid}`), folderName: folder.name };
}
