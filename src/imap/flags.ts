/**
 * IMAP flags ↔ Kotak's message state: `\Seen` is the read state, `\Flagged` and `\Deleted` are
 * stored (src/access/folder-types.ts), keywords are Kotak's tags. A tag that is not an IMAP atom
 * (a space in it, say) cannot be written as a keyword and is left out of FLAGS.
 */
import type { FlagSet, MessageFlags } from '../access/folder-types.js';

/** The flags FLAGS names at SELECT; \Answered and \Draft are known to clients but not kept. */
export const SYSTEM_FLAGS = ['\\Seen', '\\Flagged', '\\Deleted', '\\Answered', '\\Draft'] as const;
/** What a STORE changes for good; `\*`: any keyword (a tag). */
export const PERMANENT_FLAGS = ['\\Seen', '\\Flagged', '\\Deleted', '\\*'] as const;

/** A keyword: an IMAP atom (RFC 3501 flag-keyword), no backslash. */
const KEYWORD = /^[^\x00-\x20\x7f-\uffff(){%*"\\\]]{1,64}$/;

export function isKeyword(text: string): boolean {
  return KEYWORD.test(text);
}

export function flagNames(flags: MessageFlags): string[] {
  const names: string[] = [];
  if (flags.seen) names.push('\\Seen');
  if (flags.flagged) names.push('\\Flagged');
  if (flags.deleted) names.push('\\Deleted');
  for (const keyword of flags.keywords) if (isKeyword(keyword)) names.push(keyword);
  return names;
}

/** `(\Seen \Flagged)`. */
export function flagList(flags: MessageFlags): string {
  return `(${flagNames(flags).join(' ')})`;
}

export function sameFlags(a: MessageFlags, b: MessageFlags): boolean {
  if (a.seen !== b.seen || a.flagged !== b.flagged || a.deleted !== b.deleted || a.keywords.length !== b.keywords.length) return false;
  const keywords = new Set(a.keywords);
  return b.keywords.every((keyword) => keywords.has(keyword));
}

/**
 * Flag names from a client (STORE, APPEND) → a FlagSet, or the name that is not a flag. `\Answered`,
 * `\Draft` and `\Recent` are accepted and not kept (PERMANENTFLAGS does not list them, so clients know).
 */
export function toFlagSet(names: readonly string[]): FlagSet | { readonly invalid: string } {
  let seen = false;
  let flagged = false;
  let deleted = false;
  const keywords: string[] = [];
  for (const name of names) {
    switch (name.toLowerCase()) {
      case '\\seen':
        seen = true;
        break;
      case '\\flagged':
        flagged = true;
        break;
      case '\\deleted':
        deleted = true;
        break;
      case '\\answered':
      case '\\draft':
      case '\\recent':
        break;
      default:
        if (!isKeyword(name)) return { invalid: name };
        if (!keywords.includes(name)) keywords.push(name);
    }
  }
  return { seen, flagged, deleted, keywords };
}
