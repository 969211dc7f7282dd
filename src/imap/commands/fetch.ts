/**
 * FETCH and UID FETCH (RFC 3501 6.4.5, BINARY from RFC 3516). Items are read once into a plan;
 * each message is then read (only when an item needs its bytes), parsed once for its structure
 * (src/imap/structure/) and written as one response, waiting for the socket to drain between
 * messages, so a client fetching a 20 MB message costs its bytes once, not a growing buffer.
 * A non-PEEK body item sets \Seen (not in EXAMINE), and the response then carries FLAGS.
 */
import type { FolderMessage, MessageFlags } from '../../access/folder-types.js';
import { ImapStructureError, parseMessageStructure, type MessageStructure, type SectionSpec } from '../structure/index.js';
import { flagList } from '../flags.js';
import { encodeImapValue, encodeString, type Chunk } from '../wire/encode.js';
import type { ImapValue } from '../wire/values.js';
import { bad, expectCount, sequenceSet, text } from './args.js';
import { CommandFailure, ok, type Command, type Reply, type SelectedContext } from './context.js';

type Partial = { readonly start: number; readonly length: number | null } | undefined;

type FetchItem =
  | { readonly kind: 'FLAGS' | 'UID' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' }
  /** BODY[...] / BODY.PEEK[...] and the RFC822 forms, which are sections by other names. */
  | { readonly kind: 'section'; readonly label: string; readonly spec: SectionSpec; readonly seen: boolean; readonly partial: Partial }
  | { readonly kind: 'binary'; readonly label: string; readonly part: readonly number[]; readonly seen: boolean; readonly partial: Partial }
  | { readonly kind: 'binary-size'; readonly label: string; readonly part: readonly number[] };

const MACROS: Readonly<Record<string, readonly string[]>> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SIMPLE = new Set(['FLAGS', 'UID', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY']);
const SECTION_TEXTS = new Set(['HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME']);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3501 date-time, in UTC: `"07-Dec-2026 09:38:38 +0000"`. */
export function internalDate(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `"${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000"`;
}

/** `1.2.HEADER.FIELDS` + fields → the section, and how the response names it. */
function readSection(section: readonly ImapValue[]): { spec: SectionSpec; label: string } {
  if (section.length === 0) return { spec: { part: [], text: null }, label: '' };
  const [first, fields, ...extra] = section;
  if (first?.kind !== 'atom' || extra.length > 0) return bad('a section is e.g. 1.2.HEADER.FIELDS (From)');
  const tokens = first.value.split('.');
  const part: number[] = [];
  while (tokens.length > 0 && /^[1-9]\d{0,5}$/.test(tokens[0]!)) part.push(Number(tokens.shift()));
  const rest = tokens.join('.').toUpperCase();
  if (rest !== '' && !SECTION_TEXTS.has(rest)) bad(`unknown section ${first.value}`);
  if (rest === 'MIME' && part.length === 0) bad('MIME needs a part number');
  const textPart = (rest === '' ? null : rest) as SectionSpec['text'];
  const label = [...part.map(String), ...(rest === '' ? [] : [rest])].join('.');
  if (rest === 'HEADER.FIELDS' || rest === 'HEADER.FIELDS.NOT') {
    if (fields?.kind !== 'list' || fields.items.length === 0) bad(`${rest} needs a list of field names`);
    const names = fields.items.map((item) => text(item, 'a field name'));
    return { spec: { part, text: textPart, fields: names }, label: `${label} (${names.map((n) => n.toUpperCase()).join(' ')})` };
  }
  if (fields !== undefined) bad('only HEADER.FIELDS takes field names');
  return { spec: { part, text: textPart }, label };
}

function readPart(section: readonly ImapValue[]): number[] {
  if (section.length === 0) return [];
  const [first, ...extra] = section;
  if (first?.kind !== 'atom' || extra.length > 0 || !/^[1-9]\d{0,5}(\.[1-9]\d{0,5})*$/.test(first.value)) return bad('BINARY takes a part number, e.g. BINARY[1.2]');
  return first.value.split('.').map(Number);
}

function readItem(value: ImapValue): FetchItem {
  if (value.kind !== 'atom') return bad('fetch items are atoms');
  const name = value.value.toUpperCase();
  if (value.section === undefined) {
    if (value.partial) bad('a partial range follows a section');
    if (SIMPLE.has(name)) return { kind: name as 'FLAGS' };
    if (name === 'RFC822') return { kind: 'section', label: 'RFC822', spec: { part: [], text: null }, seen: true, partial: undefined };
    if (name === 'RFC822.HEADER') return { kind: 'section', label: 'RFC822.HEADER', spec: { part: [], text: 'HEADER' }, seen: false, partial: undefined };
    if (name === 'RFC822.TEXT') return { kind: 'section', label: 'RFC822.TEXT', spec: { part: [], text: 'TEXT' }, seen: true, partial: undefined };
    return bad(`unknown fetch item ${value.value}`);
  }
  if (name === 'BODY' || name === 'BODY.PEEK') {
    const { spec, label } = readSection(value.section);
    return { kind: 'section', label: `BODY[${label}]`, spec, seen: name === 'BODY', partial: value.partial };
  }
  const part = readPart(value.section);
  if (name === 'BINARY.SIZE') {
    if (value.partial) bad('BINARY.SIZE takes no partial range');
    return { kind: 'binary-size', label: `BINARY.SIZE[${part.join('.')}]`, part };
  }
  return { kind: 'binary', label: `BINARY[${part.join('.')}]`, part, seen: name === 'BINARY', partial: value.partial };
}

/** The items of a FETCH: one item, a macro, or a list. */
export function readFetchItems(value: ImapValue | undefined, byUid: boolean): FetchItem[] {
  if (value === undefined) return bad('FETCH needs items');
  let items: FetchItem[];
  if (value.kind === 'atom' && value.section === undefined && MACROS[value.value.toUpperCase()]) {
    items = MACROS[value.value.toUpperCase()]!.map((name) => ({ kind: name as 'FLAGS' }));
  } else if (value.kind === 'list') {
    if (value.items.length === 0) bad('FETCH needs items');
    items = value.items.map(readItem);
  } else items = [readItem(value)];
  // UID FETCH always answers with the UID (RFC 3501 6.4.8).
  if (byUid && !items.some((item) => item.kind === 'UID')) items.unshift({ kind: 'UID' });
  return items;
}

const needsBytes = (item: FetchItem): boolean => !['FLAGS', 'UID', 'INTERNALDATE', 'RFC822.SIZE'].includes(item.kind);
const setsSeen = (item: FetchItem): boolean => (item.kind === 'section' || item.kind === 'binary') && item.seen;

function slice(bytes: Buffer, partial: Partial): Buffer {
  if (!partial) return bytes;
  const start = Math.min(partial.start, bytes.length);
  return bytes.subarray(start, partial.length === null ? undefined : Math.min(bytes.length, start + partial.length));
}

function binaryLiteral(bytes: Buffer): Chunk[] {
  // RFC 3516 literal8 only when the content has NUL, which a plain literal may not carry.
  return bytes.includes(0) ? [`~{${bytes.length}}\r\n`, bytes] : [`{${bytes.length}}\r\n`, bytes];
}

function itemData(item: FetchItem, message: FolderMessage, flags: MessageFlags, raw: Buffer | null, structure: () => MessageStructure): Chunk[] {
  switch (item.kind) {
    case 'FLAGS':
      return [`FLAGS ${flagList(flags)}`];
    case 'UID':
      return [`UID ${message.uid}`];
    case 'INTERNALDATE':
      return [`INTERNALDATE ${internalDate(message.receivedAt)}`];
    case 'RFC822.SIZE':
      return [`RFC822.SIZE ${message.size}`];
    case 'ENVELOPE':
      return ['ENVELOPE ', ...encodeImapValue(structure().envelope())];
    case 'BODYSTRUCTURE':
      return ['BODYSTRUCTURE ', ...encodeImapValue(structure().bodyStructure(true))];
    case 'BODY':
      return ['BODY ', ...encodeImapValue(structure().bodyStructure(false))];
    case 'section': {
      // BODY[] is the stored bytes exactly, without a parse.
      const whole = item.spec.part.length === 0 && item.spec.text === null ? raw : structure().section(item.spec);
      const origin = item.partial ? `<${item.partial.start}>` : '';
      if (whole === null) return [`${item.label}${origin} NIL`];
      const data = slice(whole, item.partial);
      return [`${item.label}${origin} `, ...(data.length > 0 ? [`{${data.length}}\r\n`, data] : encodeString(''))];
    }
    case 'binary': {
      const content = binaryOf(structure(), item.part);
      const origin = item.partial ? `<${item.partial.start}>` : '';
      return content === null ? [`${item.label}${origin} NIL`] : [`${item.label}${origin} `, ...binaryLiteral(slice(content, item.partial))];
    }
    case 'binary-size': {
      const content = binaryOf(structure(), item.part);
      return [`${item.label} ${content === null ? 'NIL' : content.length}`];
    }
  }
}

function binaryOf(structure: MessageStructure, part: readonly number[]): Buffer | null {
  try {
    return structure.binary(part);
  } catch (error) {
    if (error instanceof ImapStructureError) throw new CommandFailure('NO', 'a part has a content transfer encoding Kotak cannot undo', 'UNKNOWN-CTE');
    throw error;
  }
}

export async function fetch(command: Command, context: SelectedContext): Promise<Reply> {
  expectCount(command.args, 2, `${command.uid ? 'UID ' : ''}FETCH sequence-set items`);
  const set = sequenceSet(command.args[0]);
  const items = readFetchItems(command.args[1], command.uid);
  const { view, access } = context;
  if (!command.uid && view.outOfRange(set)) bad('no such message (sequence number past the last message)');
  const messages = view.select(set, command.uid);
  const wantsBytes = items.some(needsBytes);
  // \Seen for non-PEEK body items, in one change before any response, so each FETCH carries it.
  const marking = !view.readOnly && items.some(setsSeen) ? messages.filter((m) => !m.flags.seen && !view.isGone(m.id)) : [];
  const includeFlags = marking.length > 0 && !items.some((item) => item.kind === 'FLAGS');
  const newlySeen = new Set<string>();
  if (marking.length > 0) {
    const stored = await access.setFlags(view.folder, marking.map((m) => m.id), { kind: 'add', flags: { seen: true } });
    for (const [id, flags] of stored) {
      view.told(id, flags);
      newlySeen.add(id);
    }
  }
  let missing = 0;
  for (const listed of messages) {
    const message = view.byId(listed.id) ?? listed;
    const raw = wantsBytes ? await access.read(view.folder, message.id) : null;
    if (wantsBytes && raw === null) {
      missing += 1;
      continue;
    }
    let parsed: MessageStructure | null = null;
    const structure = (): MessageStructure => (parsed ??= parseMessageStructure(raw!));
    const seq = view.seqOf(message.id);
    if (seq === 0) continue;
    const chunks: Chunk[] = [`* ${seq} FETCH (`];
    const all = includeFlags && newlySeen.has(message.id) ? [...items, { kind: 'FLAGS' } as const] : items;
    all.forEach((item, i) => {
      if (i > 0) chunks.push(' ');
      chunks.push(...itemData(item, message, message.flags, raw, structure));
    });
    chunks.push(')\r\n');
    await context.send(chunks);
  }
  return missing > 0 ? ok(`FETCH completed; ${missing} message${missing === 1 ? ' was' : 's were'} deleted meanwhile`) : ok('FETCH completed');
}
