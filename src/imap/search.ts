/**
 * IMAP SEARCH (RFC 3501 6.4.4): the command's arguments → a program, and a program answered over
 * a session's view. Keys on flags, sequence numbers, UIDs, sizes and INTERNALDATE are read from
 * the view; string keys are narrowed by the store's search and decided on the raw bytes of what it
 * found (search/narrowing.ts, search/message-text.ts). docs/IMAP.md "Search" says how each key is
 * answered.
 */
import type { FolderMessage } from '../access/folder-types.js';
import type { SearchQuery } from '../mail/search-query.js';
import { evaluateKeys } from './search/evaluate.js';
import { parseSearchKeys, SearchSyntaxError, type SearchKey } from './search/keys.js';
import type { ImapValue } from './wire/values.js';

export interface SearchContext {
  /** The session's view, oldest first: message sequence number n is messages[n - 1]. */
  readonly messages: readonly FolderMessage[];
  /** The ids among `within` (all of the view when null) that match a Kotak search query: the store answers (FolderAccess.search). */
  matching(query: SearchQuery, within: readonly string[] | null): Promise<Set<string>>;
  /** The raw message (for keys the store cannot answer, applied only to candidates the store already narrowed), null when gone. */
  read(id: string): Promise<Buffer | null>;
}

export interface SearchProgram {
  readonly charset: string | null;
}

/** The charsets SEARCH accepts, for `NO [BADCHARSET (UTF-8 US-ASCII)]`. */
export const SEARCH_CHARSETS: readonly string[] = ['UTF-8', 'US-ASCII'];

/** A SEARCH that cannot run: `bad` → BAD with the message; `badcharset` → NO [BADCHARSET (…)]. */
export class ImapSearchError extends Error {
  override readonly name = 'ImapSearchError';
  readonly kind: 'bad' | 'badcharset';

  constructor(kind: 'bad' | 'badcharset', message: string) {
    super(message);
    this.kind = kind;
  }
}

/** The program as evaluateSearch reads it; callers see only `charset`. */
interface ParsedProgram extends SearchProgram {
  readonly key: SearchKey;
}

/** Parses SEARCH's arguments (after the command name, including an optional CHARSET x); throws ImapSearchError with a reason fit for a BAD or NO [BADCHARSET] reply. */
export function parseSearch(args: readonly ImapValue[]): SearchProgram {
  let rest = args;
  let charset: string | null = null;
  const first = args[0];
  if (first?.kind === 'atom' && first.section === undefined && first.value.toUpperCase() === 'CHARSET') {
    const name = args[1];
    if (name === undefined || name.kind === 'list') throw new ImapSearchError('bad', 'CHARSET needs a charset name, e.g. CHARSET UTF-8');
    const text = (name.kind === 'atom' ? name.value : name.value.toString('latin1')).toUpperCase();
    if (!SEARCH_CHARSETS.includes(text)) throw new ImapSearchError('badcharset', `charset not supported for SEARCH (supported: ${SEARCH_CHARSETS.join(', ')})`);
    charset = text;
    rest = args.slice(2);
  }
  try {
    const program: ParsedProgram = { charset, key: parseSearchKeys(rest) };
    return program;
  } catch (err) {
    if (err instanceof SearchSyntaxError) throw new ImapSearchError('bad', err.message);
    throw err;
  }
}

/** The matching messages of the view, in view order (the caller turns them into sequence numbers or UIDs). */
export async function evaluateSearch(program: SearchProgram, context: SearchContext): Promise<FolderMessage[]> {
  if (!('key' in program)) throw new TypeError('evaluateSearch takes a program made by parseSearch');
  const positions = await evaluateKeys((program as ParsedProgram).key, context);
  return positions.map((at) => context.messages[at]!);
}
