/**
 * Completion for the search box: what the word being typed can become. Operators are the server's
 * (src/mail/search-query.ts, README "Search syntax"); values are offered where they are known.
 * Pure: the caller passes the tags and mailboxes it has.
 */

export interface Completion {
  /** What the list shows. */
  readonly label: string;
  /** A word of explanation beside it. */
  readonly hint: string;
  /** The whole new value of the box, and where the caret goes. */
  readonly value: string;
  readonly caret: number;
}

export interface CompletionSources {
  readonly tags: readonly string[];
  readonly mailboxes: readonly string[];
}

/** Every operator, with what it searches. */
export const OPERATORS: readonly (readonly [string, string])[] = [
  ['from', 'sender address or name'],
  ['to', 'recipient'],
  ['cc', 'Cc recipient'],
  ['bcc', 'Bcc recipient'],
  ['reply-to', 'Reply-To address'],
  ['addressed', 'any recipient'],
  ['subject', 'subject text'],
  ['message-id', 'Message-ID header'],
  ['tag', 'tag name'],
  ['is', 'read, unread, tagged'],
  ['has', 'attachment, inline'],
  ['before', 'received before a date'],
  ['after', 'received after a date'],
  ['larger', 'size above'],
  ['smaller', 'size below'],
  ['mailbox', 'mailbox name'],
];

const FIXED_VALUES = new Map<string, readonly (readonly [string, string])[]>([
  ['is', [['read', 'opened'], ['unread', 'not opened yet'], ['tagged', 'has any tag']]],
  ['has', [['attachment', 'with attachments'], ['inline', 'with inline parts']]],
  ['larger', [['10kb', ''], ['100kb', ''], ['1mb', '']]],
  ['smaller', [['10kb', ''], ['100kb', ''], ['1mb', '']]],
]);

const MAX_SHOWN = 12;

function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function valuesOf(operator: string, sources: CompletionSources, today: Date): readonly (readonly [string, string])[] {
  const fixed = FIXED_VALUES.get(operator);
  if (fixed) return fixed;
  switch (operator) {
    case 'tag':
      return sources.tags.map((tag) => [tag, 'tag']);
    case 'mailbox':
      return sources.mailboxes.map((name) => [name, 'mailbox']);
    case 'before':
    case 'after':
      return [['today', isoDay(today)], ['yesterday', isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1))], [isoDay(today), 'a date: YYYY-MM-DD']];
    default:
      return [];
  }
}

/** A value as the query language reads it: quoted when it holds a space or a quote. */
function quoted(value: string): string {
  return /[\s"]/.test(value) ? `"${value.replace(/"/g, '')}"` : value;
}

/**
 * The completions for the word that ends at `caret` in `text` (none inside quotes, none for a
 * plain word of fewer than one letter unless `all` is asked, e.g. by ArrowDown in an empty word).
 */
export function completions(text: string, caret: number, sources: CompletionSources, options: { all?: boolean; today?: Date } = {}): Completion[] {
  const before = text.slice(0, caret);
  // Inside an open quote the word is a phrase, not an operator.
  if ((before.match(/"/g)?.length ?? 0) % 2 === 1 && !/[a-z-]+:"[^"]*$/i.test(before)) return [];
  const wordStart = before.search(/\S*$/);
  const word = before.slice(wordStart);
  const after = text.slice(caret).replace(/^\S*/, '');
  const negation = /^[-!]/.test(word) ? word[0]! : '';
  const bare = word.slice(negation.length);
  const build = (completed: string, addSpace: boolean): Pick<Completion, 'value' | 'caret'> => {
    const head = text.slice(0, wordStart) + negation + completed + (addSpace ? ' ' : '');
    const tail = addSpace ? after.replace(/^ /, '') : after;
    return { value: head + tail, caret: head.length };
  };

  const colon = bare.indexOf(':');
  if (colon < 0) {
    if (bare === '' && !options.all) return [];
    const lower = bare.toLowerCase();
    return OPERATORS.filter(([name]) => name.startsWith(lower))
      .slice(0, MAX_SHOWN)
      .map(([name, hint]) => ({ label: `${name}:`, hint, ...build(`${name}:`, false) }));
  }
  const operator = bare.slice(0, colon).toLowerCase();
  const typed = bare.slice(colon + 1).replace(/^"/, '').toLowerCase();
  return valuesOf(operator, sources, options.today ?? new Date())
    .filter(([value]) => value.toLowerCase().startsWith(typed) && value.toLowerCase() !== typed)
    .slice(0, MAX_SHOWN)
    .map(([value, hint]) => ({ label: `${operator}:${value}`, hint, ...build(`${operator}:${quoted(value)}`, true) }));
}

/** True while the last word is an operator still waiting for its value (`from:`): not worth a search yet. */
export function awaitingValue(text: string): boolean {
  return /(^|\s)[-!]?[a-z][a-z-]*:"?$/i.test(text.trimStart());
}
