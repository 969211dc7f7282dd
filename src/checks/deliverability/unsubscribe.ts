/**
 * List-Unsubscribe (RFC 2369) and one-click unsubscription (RFC 8058), judged from the headers and
 * the DKIM results: every target in angle brackets, an https (or mailto) URI; for one-click, an
 * https target, `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and a passing DKIM signature
 * that covers both fields (RFC 8058 section 4: otherwise anyone could forge the POST target).
 */
import type { DkimSignatureReport } from './dkim.js';
import { fieldsNamed, type HeaderField } from './headers.js';

export interface UnsubscribeTarget {
  readonly uri: string;
  /** Lower-cased, without the colon: https, mailto, http, … */
  readonly scheme: string;
}

export interface UnsubscribeReport {
  /** The List-Unsubscribe value as received (unfolded); null when absent. */
  readonly listUnsubscribe: string | null;
  readonly targets: readonly UnsubscribeTarget[];
  /** What is wrong with List-Unsubscribe; empty when it is well formed (or absent). */
  readonly problems: readonly string[];
  /** The List-Unsubscribe-Post value as received; null when absent. */
  readonly listUnsubscribePost: string | null;
  readonly oneClick: {
    /** absent: no List-Unsubscribe-Post, so the message does not offer one-click. */
    readonly result: 'pass' | 'fail' | 'absent';
    readonly reason: string;
  };
}

const ONE_CLICK = 'List-Unsubscribe=One-Click';

/** Items separated by commas outside angle brackets (RFC 2369 2: a comma-separated list of <URI>s). */
function splitTargets(value: string): string[] {
  const items: string[] = [];
  let current = '';
  let inBrackets = false;
  for (const ch of value) {
    if (ch === '<') inBrackets = true;
    if (ch === '>') inBrackets = false;
    if (ch === ',' && !inBrackets) {
      items.push(current);
      current = '';
    } else current += ch;
  }
  items.push(current);
  return items.map((i) => i.trim()).filter(Boolean);
}

/** A stray % is kept as written rather than thrown on: the address check then fails on its own. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseTargets(value: string): { targets: UnsubscribeTarget[]; problems: string[] } {
  const targets: UnsubscribeTarget[] = [];
  const problems: string[] = [];
  const items = splitTargets(value);
  if (items.length === 0) problems.push('List-Unsubscribe is empty');
  for (const item of items) {
    // A comment after the bracket is allowed (RFC 2369 2); anything before or unbracketed is not.
    const match = /^<([^<>]*)>\s*(\(.*\))?$/.exec(item);
    if (!match) {
      problems.push(`"${item}" is not an <URI> in angle brackets`);
      continue;
    }
    const uri = match[1]!.replace(/\s+/g, '');
    let parsed: URL;
    try {
      parsed = new URL(uri);
    } catch {
      problems.push(`<${uri}> is not a URI`);
      continue;
    }
    const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
    if (scheme === 'mailto' && !/^[^@\s]+@[^@\s]+$/.test(safeDecode(parsed.pathname))) problems.push(`<${uri}> has no mail address`);
    else if (scheme === 'http') problems.push(`<${uri}> is plain http: use https`);
    else if (scheme !== 'https' && scheme !== 'mailto') problems.push(`<${uri}> is neither https nor mailto`);
    targets.push({ uri, scheme });
  }
  return { targets, problems };
}

export function checkUnsubscribe(fields: readonly HeaderField[], signatures: readonly DkimSignatureReport[]): UnsubscribeReport {
  const listFields = fieldsNamed(fields, 'list-unsubscribe');
  const postFields = fieldsNamed(fields, 'list-unsubscribe-post');
  const listUnsubscribe = listFields[0]?.value ?? null;
  const listUnsubscribePost = postFields[0]?.value ?? null;
  const { targets, problems } = listUnsubscribe === null ? { targets: [], problems: [] } : parseTargets(listUnsubscribe);
  if (listFields.length > 1) problems.push(`List-Unsubscribe appears ${listFields.length} times; it must appear once`);
  const report = { listUnsubscribe, targets, problems, listUnsubscribePost };

  if (listUnsubscribePost === null) {
    return { ...report, oneClick: { result: 'absent', reason: 'no List-Unsubscribe-Post header: one-click unsubscription is not offered' } };
  }
  const fail = (reason: string) => ({ ...report, oneClick: { result: 'fail' as const, reason } });
  if (postFields.length > 1) return fail(`List-Unsubscribe-Post appears ${postFields.length} times; it must appear once`);
  if (listUnsubscribePost !== ONE_CLICK) return fail(`List-Unsubscribe-Post must be exactly "${ONE_CLICK}", not "${listUnsubscribePost}"`);
  if (listUnsubscribe === null) return fail('List-Unsubscribe-Post without List-Unsubscribe');
  if (!targets.some((t) => t.scheme === 'https')) return fail('one-click needs an https target in List-Unsubscribe (RFC 8058 3.1)');
  if (problems.length > 0) return fail(`List-Unsubscribe is malformed: ${problems[0]}`);
  const covering = signatures.some((s) => s.result === 'pass' && s.coveredHeaders.includes('list-unsubscribe') && s.coveredHeaders.includes('list-unsubscribe-post'));
  if (!covering) return fail('no passing DKIM signature covers both List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 4)');
  return { ...report, oneClick: { result: 'pass', reason: 'https target, List-Unsubscribe-Post, both covered by a passing DKIM signature' } };
}
