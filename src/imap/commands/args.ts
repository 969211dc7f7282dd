/** Reading a command's arguments (ImapValue) as the types commands need; a misfit is a BAD. */
import { parseSequenceSet, type SequenceSet } from '../wire/sequence-set.js';
import type { ImapValue } from '../wire/values.js';
import { CommandFailure } from './context.js';

export function bad(text: string): never {
  throw new CommandFailure('BAD', text);
}

/** Exactly `count` arguments, or a BAD naming the command's form. */
export function expectCount(args: readonly ImapValue[], count: number, form: string): void {
  if (args.length !== count) bad(`expected: ${form}`);
}

/** An astring (atom, quoted or literal) as UTF-8 text. */
export function text(value: ImapValue | undefined, what: string): string {
  if (value?.kind === 'string') return value.value.toString('utf8');
  if (value?.kind === 'atom' && value.section === undefined) return value.value;
  return bad(`${what} must be an atom or a string`);
}

/** A bare atom (a keyword of the command), upper case. */
export function keyword(value: ImapValue | undefined, what: string): string {
  if (value?.kind === 'atom' && value.section === undefined) return value.value.toUpperCase();
  return bad(`${what} expected`);
}

export function listItems(value: ImapValue | undefined, what: string): readonly ImapValue[] {
  if (value?.kind === 'list') return value.items;
  return bad(`${what} must be a parenthesised list`);
}

export function sequenceSet(value: ImapValue | undefined): SequenceSet {
  const set = value?.kind === 'atom' && value.section === undefined ? parseSequenceSet(value.value) : null;
  return set ?? bad('a sequence set (e.g. 1:4,7,9:*) expected');
}

/** A flag list `(\Seen foo)` or a single flag, as names. */
export function flagNames(value: ImapValue | undefined): string[] {
  const items = value?.kind === 'list' ? value.items : value ? [value] : [];
  return items.map((item) => (item.kind === 'atom' && item.section === undefined ? item.value : bad('flags are atoms')));
}
