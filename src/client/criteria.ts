/**
 * Wait criteria, split into what the server can check (search terms, so the server does the
 * waiting) and what only the client can (regular expressions, and the rare string the search
 * syntax cannot carry).
 */
import type { MessageDetail, MessageSummary } from './types.js';

/** A string matches as "contains" (case-insensitive); a RegExp as itself. */
export type TextMatcher = string | RegExp;

export interface WaitCriteria {
  /**
   * A To recipient. String: contained in any To entry, written "Name <address>" (case-insensitive).
   * RegExp: tested against each To address and each display name.
   */
  readonly to?: TextMatcher;
  /** The From header, matched as `to` is. */
  readonly from?: TextMatcher;
  /** String: contained in the subject (case-insensitive). RegExp: tested against the subject. */
  readonly subject?: TextMatcher;
  /**
   * String: these words, in this order, appear anywhere in the message (subject, addresses, text,
   * HTML text, attachment names; case and accents ignored; whole words, as the server's search
   * matches a quoted phrase). RegExp: tested against the text part, then the HTML source.
   */
  readonly text?: TextMatcher;
  /** More search terms, in the server's syntax (README "Search syntax"), e.g. `has:attachment cc:boss`. */
  readonly query?: string;
  /**
   * Only messages received at or after this time (Date, epoch ms or ISO 8601). Default: any
   * time, so a message that arrived before the wait started counts. See `KotakClient.mark()`.
   */
  readonly since?: Date | number | string;
  /** How long to wait in ms; default 30 000 (or the client's `timeout` option). */
  readonly timeout?: number;
  /** Abandons the wait (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

export interface WaitForManyCriteria extends WaitCriteria {
  /** How many matching messages to wait for (1–1000). */
  readonly count: number;
}

type Field = 'to' | 'from' | 'subject' | 'text';
const FIELDS: readonly Field[] = ['to', 'from', 'subject', 'text'];

/** A check only the client can make. `needsBody` checks run on the full message, the others on a summary. */
export type ClientCheck =
  | { readonly needsBody: false; test(message: MessageSummary): boolean }
  | { readonly needsBody: true; test(message: MessageDetail): boolean };

export interface WaitPlan {
  /** Search terms for the server's wait; '' waits for any message. */
  readonly query: string;
  readonly checks: readonly ClientCheck[];
  /** The criteria as a person wrote them, for error messages. */
  readonly description: string;
}

export function planWait(criteria: WaitCriteria): WaitPlan {
  const terms: string[] = [];
  const checks: ClientCheck[] = [];
  const described: string[] = [];
  for (const field of FIELDS) {
    const matcher = criteria[field];
    if (matcher === undefined) continue;
    if (typeof matcher === 'string' && matcher.trim() === '') continue;
    described.push(`${field} ${matcher instanceof RegExp ? String(matcher) : JSON.stringify(matcher)}`);
    // The search syntax has no escape for a double quote inside a quoted value.
    if (typeof matcher === 'string' && !matcher.includes('"')) terms.push(field === 'text' ? `"${matcher}"` : `${field}:"${matcher}"`);
    else checks.push(clientCheck(field, matcher));
  }
  const query = criteria.query?.trim();
  if (query) {
    terms.push(query);
    described.push(`query \`${query}\``);
  }
  return { query: terms.join(' '), checks, description: described.length > 0 ? described.join(', ') : 'anything' };
}

function clientCheck(field: Field, matcher: TextMatcher): ClientCheck {
  const matches = toPredicate(matcher);
  switch (field) {
    case 'to':
      return { needsBody: false, test: (m) => m.to.some((a) => matches(a.address) || (a.name !== '' && matches(a.name))) };
    case 'from':
      return { needsBody: false, test: (m) => m.from !== null && (matches(m.from.address) || (m.from.name !== '' && matches(m.from.name))) };
    case 'subject':
      return { needsBody: false, test: (m) => matches(m.subject) };
    case 'text':
      return { needsBody: true, test: (m) => matches(m.text ?? '') || matches(m.html ?? '') };
  }
}

function toPredicate(matcher: TextMatcher): (value: string) => boolean {
  if (typeof matcher === 'string') {
    const needle = matcher.toLowerCase();
    return (value) => value.toLowerCase().includes(needle);
  }
  // A global or sticky RegExp remembers lastIndex between test() calls; a copy without those flags does not.
  const regex = new RegExp(matcher.source, matcher.flags.replace(/[gy]/g, ''));
  return (value) => regex.test(value);
}

/** `since` as epoch ms, or null for any time. */
export function sinceMs(since: WaitCriteria['since']): number | null {
  if (since === undefined) return null;
  const at = since instanceof Date ? since.getTime() : typeof since === 'number' ? since : Date.parse(since);
  if (!Number.isFinite(at)) throw new TypeError(`since: ${String(since)} is not a time (use a Date, epoch ms or an ISO 8601 string)`);
  return at;
}
