/**
 * The Gmail and Yahoo sender requirements (in force since February 2024) that can be judged from
 * the message alone, each pass / fail / not applicable with a one-line reason and its source.
 * What depends on the sending server (SPF, PTR records, TLS on the wire, spam rates) cannot be
 * seen in a sandbox and is said to be so, not guessed.
 *
 * "Bulk" (the stricter rules) is judged from the headers a mailing carries: List-Id,
 * List-Unsubscribe, or Precedence: bulk / list / junk. Google counts a sender as bulk by volume
 * (5,000 messages a day to Gmail), which one message cannot show.
 */
import type { DkimReport } from './dkim.js';
import type { DmarcReport } from './dmarc.js';
import { fieldsNamed, type HeaderField } from './headers.js';
import { dateProblem, isMsgId } from './message-format.js';
import type { UnsubscribeReport } from './unsubscribe.js';

export type RuleResult = 'pass' | 'fail' | 'not_applicable';

export interface RuleReport {
  readonly id: string;
  readonly title: string;
  readonly result: RuleResult;
  readonly reason: string;
  /** Where the rule is written. */
  readonly source: string;
}

export interface BulkJudgement {
  readonly bulk: boolean;
  readonly reason: string;
}

export const GOOGLE_GUIDELINES = 'https://support.google.com/a/answer/81126';
export const YAHOO_BEST_PRACTICES = 'https://senders.yahooinc.com/best-practices/';
const RFC_8058 = 'https://www.rfc-editor.org/rfc/rfc8058';
/** DMARC needs exactly one author domain. */
const RFC_7489_FROM = 'https://www.rfc-editor.org/rfc/rfc7489#section-6.6.1';
/** Bcc recipients are meant to be removed from (or emptied in) the copies sent. */
const RFC_5322_BCC = 'https://www.rfc-editor.org/rfc/rfc5322#section-3.6.3';

/**
 * Mailbox providers whose domains publish DMARC p=reject or p=quarantine: mail "From" them sent
 * through anyone else's servers fails DMARC, so Gmail and Yahoo tell senders not to use them.
 */
const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com', 'yahoo.com', 'ymail.com', 'rocketmail.com', 'aol.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com',
]);

export function judgeBulk(fields: readonly HeaderField[]): BulkJudgement {
  const named = (name: string) => fieldsNamed(fields, name).length > 0;
  if (named('list-id')) return { bulk: true, reason: 'it has a List-Id header' };
  if (named('list-unsubscribe')) return { bulk: true, reason: 'it has a List-Unsubscribe header' };
  const precedence = fieldsNamed(fields, 'precedence')[0]?.value.toLowerCase();
  if (precedence && ['bulk', 'list', 'junk'].includes(precedence)) return { bulk: true, reason: `Precedence: ${precedence}` };
  return { bulk: false, reason: 'no List-Id, List-Unsubscribe or Precedence: bulk/list/junk header' };
}

interface RuleInputs {
  readonly fields: readonly HeaderField[];
  readonly fromAddresses: readonly string[];
  readonly fromDomain: string | null;
  readonly dkim: DkimReport;
  readonly dmarc: DmarcReport | null;
  readonly unsubscribe: UnsubscribeReport;
  readonly bulk: BulkJudgement;
}

export function judgeBulkSenderRules(input: RuleInputs): RuleReport[] {
  const { fields, fromDomain, dkim, dmarc, unsubscribe, bulk } = input;
  const rule = (id: string, title: string, source: string, result: RuleResult, reason: string): RuleReport => ({ id, title, result, reason, source });
  const onlyBulk = (why: string) => `${why}; required of bulk senders only, and this message does not look bulk (${bulk.reason})`;
  const rules: RuleReport[] = [];

  const passing = dkim.signatures.filter((s) => s.result === 'pass');
  rules.push(
    passing.length > 0
      ? rule('dkim-signed', 'Authenticated with DKIM', GOOGLE_GUIDELINES, 'pass', `signed by ${passing.map((s) => s.domain).join(', ')}`)
      : rule('dkim-signed', 'Authenticated with DKIM', GOOGLE_GUIDELINES, 'fail',
          dkim.signatures.length === 0 ? 'no DKIM-Signature (SPF alone cannot be judged here, and bulk senders need DKIM)' : 'no DKIM signature passes'),
  );

  const alignedTitle = 'DKIM domain aligned with From';
  if (dkim.aligned.relaxed) rules.push(rule('dkim-aligned', alignedTitle, GOOGLE_GUIDELINES, 'pass', `a passing signature's d= shares ${fromDomain}'s organizational domain${dkim.aligned.strict ? ' (strictly: the same domain)' : ''}`));
  else if (bulk.bulk) rules.push(rule('dkim-aligned', alignedTitle, GOOGLE_GUIDELINES, 'fail', `no passing signature's d= aligns with the From domain ${fromDomain ?? '(none)'} (DMARC alignment)`));
  else rules.push(rule('dkim-aligned', alignedTitle, GOOGLE_GUIDELINES, 'not_applicable', onlyBulk('no passing DKIM signature aligns with From')));

  const dmarcTitle = 'DMARC record for the From domain';
  if (!dmarc) rules.push(rule('dmarc-record', dmarcTitle, GOOGLE_GUIDELINES, 'fail', 'no From domain to look up'));
  else if (dmarc.result === 'found') rules.push(rule('dmarc-record', dmarcTitle, GOOGLE_GUIDELINES, 'pass', `p=${dmarc.policy.p ?? '(missing)'} (p=none is enough)`));
  // none or temperror: a record DNS cannot show is a record receivers cannot use either.
  else rules.push(rule('dmarc-record', dmarcTitle, GOOGLE_GUIDELINES, bulk.bulk ? 'fail' : 'not_applicable', bulk.bulk ? dmarc.reason : onlyBulk(dmarc.reason)));

  const oneClickTitle = 'One-click unsubscribe (RFC 8058)';
  if (!bulk.bulk) rules.push(rule('one-click-unsubscribe', oneClickTitle, RFC_8058, 'not_applicable', `marketing and subscribed mail only; this message does not look bulk (${bulk.reason})`));
  else if (unsubscribe.oneClick.result === 'pass') rules.push(rule('one-click-unsubscribe', oneClickTitle, RFC_8058, 'pass', unsubscribe.oneClick.reason));
  else rules.push(rule('one-click-unsubscribe', oneClickTitle, RFC_8058, 'fail', `${unsubscribe.oneClick.reason} (bulk because ${bulk.reason})`));

  const ids = fieldsNamed(fields, 'message-id');
  const idTitle = 'Valid Message-ID (RFC 5322)';
  if (ids.length !== 1) rules.push(rule('message-id', idTitle, GOOGLE_GUIDELINES, 'fail', ids.length === 0 ? 'no Message-ID header' : `${ids.length} Message-ID headers; RFC 5322 allows one`));
  else if (!isMsgId(ids[0]!.value)) rules.push(rule('message-id', idTitle, GOOGLE_GUIDELINES, 'fail', `"${ids[0]!.value}" is not <left@right>`));
  else rules.push(rule('message-id', idTitle, GOOGLE_GUIDELINES, 'pass', ids[0]!.value));

  const dates = fieldsNamed(fields, 'date');
  const dateTitle = 'Valid Date (RFC 5322)';
  const problem = dates.length === 1 ? dateProblem(dates[0]!.value) : null;
  if (dates.length !== 1) rules.push(rule('date', dateTitle, GOOGLE_GUIDELINES, 'fail', dates.length === 0 ? 'no Date header' : `${dates.length} Date headers; RFC 5322 allows one`));
  else if (problem) rules.push(rule('date', dateTitle, GOOGLE_GUIDELINES, 'fail', problem));
  else rules.push(rule('date', dateTitle, GOOGLE_GUIDELINES, 'pass', dates[0]!.value));

  const fromTitle = 'One From address';
  if (input.fromAddresses.length === 1) rules.push(rule('single-from', fromTitle, RFC_7489_FROM, 'pass', input.fromAddresses[0]!));
  else rules.push(rule('single-from', fromTitle, RFC_7489_FROM, 'fail', input.fromAddresses.length === 0 ? 'no From address' : `${input.fromAddresses.length} From addresses: DMARC cannot be evaluated`));

  const freeTitle = 'From is not a free-mail domain';
  if (fromDomain && FREE_MAIL_DOMAINS.has(fromDomain)) rules.push(rule('from-not-free-mail', freeTitle, YAHOO_BEST_PRACTICES, 'fail', `${fromDomain} publishes DMARC reject/quarantine: mail From it sent by other servers fails DMARC`));
  else rules.push(rule('from-not-free-mail', freeTitle, YAHOO_BEST_PRACTICES, 'pass', `${fromDomain ?? '(no domain)'} is not one of the free-mail domains`));

  const bcc = fieldsNamed(fields, 'bcc');
  rules.push(
    bcc.length === 0
      ? rule('no-bcc-header', 'No Bcc header left in', RFC_5322_BCC, 'pass', 'no Bcc header')
      : rule('no-bcc-header', 'No Bcc header left in', RFC_5322_BCC, 'fail', 'a Bcc header is in the message: every recipient can read who was blind-copied'),
  );

  rules.push(rule('spf', 'SPF for the sending domain', GOOGLE_GUIDELINES, 'not_applicable', 'depends on the address of the server that sends for real, which a sandbox does not see'));
  rules.push(rule('tls', 'TLS for the connection', GOOGLE_GUIDELINES, 'not_applicable', 'a property of the connection to the receiver, not of the message'));
  return rules;
}
