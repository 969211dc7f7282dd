/**
 * Chaos rules, the pure model: what a rule is (a match, a stage, an action, when it fires), and
 * the one validation every way of setting a rule goes through (--chaos-rule, the API, Mailpit's
 * triggers). A rule that passes obeys SMTP: a reply action uses only codes RFC 5321 (4.3.2) and
 * RFC 4954 allow at its stage, with an enhanced status code of the same class (RFC 3463).
 * Nothing here knows SMTP sockets: src/smtp/ asks ./engine.ts what to do.
 */
import { isIP } from 'node:net';
import { KotakError } from '../errors.js';
import { isMailboxName } from '../mail/mailbox-name.js';

export const CHAOS_STAGES = ['connect', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'end'] as const;
export type ChaosStage = (typeof CHAOS_STAGES)[number];

/** Any subset; an absent field matches everything. */
export interface ChaosMatch {
  /** The mailbox the recipient is routed to: known from RCPT on (see README). */
  readonly mailbox?: string;
  /** Envelope sender, in the --relay-allow pattern language (`*@example.com`). */
  readonly from?: string;
  /** Envelope recipient, same language; at DATA and end of data, any recipient of the message. */
  readonly to?: string;
  /** The client's IP address, or a CIDR block (`127.0.0.0/8`, `::1/128`). */
  readonly client?: string;
  /** The SMTP AUTH user (the one being tried, at the AUTH stage). */
  readonly user?: string;
}

export type ChaosAction =
  | { readonly type: 'reply'; readonly code: number; readonly enhanced?: string; readonly text?: string }
  | { readonly type: 'delay'; readonly ms: number }
  | { readonly type: 'drop' }
  | { readonly type: 'slow'; readonly bytesPerSecond: number }
  | { readonly type: 'refuse' }
  | { readonly type: 'rate'; readonly perMinute: number; readonly code: 421 | 451 };

/** When a matching rule fires: at most one of probability, every, first; none = always. `until` bounds any of them. */
export interface ChaosWhen {
  /** 0 to 1, drawn from a PRNG seeded by `seed` (or --chaos-seed): the same sequence every run. */
  readonly probability?: number;
  readonly seed?: number;
  /** Fires on the Nth, 2Nth, … match. */
  readonly every?: number;
  /** Fires on the first N matches only. */
  readonly first?: number;
  /** Fires only before this time (ISO 8601). */
  readonly until?: string;
}

/** A rule as set (what the API takes and --chaos-rule produces). */
export interface ChaosRuleInput {
  readonly stage: ChaosStage;
  readonly match?: ChaosMatch;
  readonly action: ChaosAction;
  readonly when?: ChaosWhen;
}

/** Replies allowed at each stage (RFC 5321 4.3.2; AUTH: RFC 4954 6). 421 closes the connection anywhere. */
export const STAGE_REPLY_CODES: Readonly<Record<ChaosStage, readonly number[]>> = {
  connect: [421, 554],
  ehlo: [421, 500, 501, 502, 504, 550],
  auth: [421, 432, 454, 500, 501, 503, 504, 534, 535, 538],
  mail: [421, 451, 452, 455, 500, 501, 503, 550, 552, 553, 555],
  rcpt: [421, 450, 451, 452, 455, 500, 501, 503, 550, 551, 552, 553, 555],
  data: [421, 450, 451, 452, 500, 501, 503, 550, 554],
  end: [421, 450, 451, 452, 550, 552, 554],
};

/** Where the actions that are not replies make sense. */
const ACTION_STAGES: Readonly<Record<Exclude<ChaosAction['type'], 'reply'>, readonly ChaosStage[]>> = {
  delay: CHAOS_STAGES,
  drop: CHAOS_STAGES,
  slow: CHAOS_STAGES,
  // Refusing is not answering the greeting: only at connect.
  refuse: ['connect'],
  // Counted per message: at MAIL (a transaction starts) or later.
  rate: ['mail', 'rcpt', 'data', 'end'],
};

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})$/;
const MAX_DELAY_MS = 10 * 60_000;
const MAX_TEXT = 400;

function bad(field: string, reason: string): never {
  throw new KotakError('invalid_request', `${field}: ${reason}`);
}

/** A single IP or a CIDR block, as node:net's BlockList takes them. */
export function parseClientBlock(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return null;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The default enhanced code of a reply: X.0.0, "other or undefined status" (RFC 3463). */
export function defaultEnhanced(code: number): string {
  return `${Math.floor(code / 100)}.0.0`;
}

/**
 * Checks a rule and returns it normalised (fields trimmed, the enhanced code filled in). Throws
 * KotakError('invalid_request') whose message names the field: `action.code: 354 is not a reply …`.
 * Address patterns are compiled by ./matcher.ts, which reports them the same way.
 */
export function validateRule(input: ChaosRuleInput): ChaosRuleInput {
  const stage = input.stage;
  if (!CHAOS_STAGES.includes(stage)) bad('stage', `"${String(stage)}" is not one of ${CHAOS_STAGES.join(', ')}`);
  const match = validateMatch(input.match ?? {}, stage);
  const action = validateAction(input.action, stage);
  const when = validateWhen(input.when ?? {}, action);
  return { stage, ...(Object.keys(match).length > 0 ? { match } : {}), action, ...(Object.keys(when).length > 0 ? { when } : {}) };
}

function validateMatch(match: ChaosMatch, stage: ChaosStage): ChaosMatch {
  const out: { -readonly [K in keyof ChaosMatch]: ChaosMatch[K] } = {};
  if (match.mailbox !== undefined) {
    const name = match.mailbox.trim().toLowerCase();
    if (!isMailboxName(name)) bad('match.mailbox', `"${match.mailbox}" is not a mailbox name (1 to 64 of a-z, 0-9, '.', '_', '-')`);
    // The mailbox follows from the recipient: before RCPT nothing could match.
    if (['connect', 'ehlo', 'auth', 'mail'].includes(stage)) bad('match.mailbox', `a mailbox is known from the rcpt stage on, not at ${stage}`);
    out.mailbox = name;
  }
  if (match.from !== undefined) {
    if (['connect', 'ehlo', 'auth'].includes(stage)) bad('match.from', `the sender is known from the mail stage on, not at ${stage}`);
    out.from = match.from.trim();
  }
  if (match.to !== undefined) {
    if (['connect', 'ehlo', 'auth', 'mail'].includes(stage)) bad('match.to', `a recipient is known from the rcpt stage on, not at ${stage}`);
    out.to = match.to.trim();
  }
  if (match.client !== undefined) {
    if (parseClientBlock(match.client) === null) bad('match.client', `"${match.client}" is not an IP address or CIDR block (127.0.0.1, 10.0.0.0/8, ::1)`);
    out.client = match.client.trim();
  }
  if (match.user !== undefined) {
    if (['connect', 'ehlo'].includes(stage)) bad('match.user', `the AUTH user is known from the auth stage on, not at ${stage}`);
    if (match.user === '') bad('match.user', 'empty');
    out.user = match.user;
  }
  return out;
}

function positiveInteger(field: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) bad(field, `${String(value)} is not a whole number from 1 to ${max}`);
  return value;
}

function validateAction(action: ChaosAction, stage: ChaosStage): ChaosAction {
  if (typeof action !== 'object' || action === null) bad('action', 'missing');
  switch (action.type) {
    case 'reply': {
      const allowed = STAGE_REPLY_CODES[stage];
      if (!allowed.includes(action.code)) bad('action.code', `${String(action.code)} is not a reply SMTP allows at ${stage} (allowed: ${allowed.join(', ')})`);
      const enhanced = action.enhanced?.trim() || defaultEnhanced(action.code);
      const parts = ENHANCED.exec(enhanced);
      if (!parts) bad('action.enhanced', `"${enhanced}" is not an enhanced status code such as 5.1.1`);
      if (Number(parts[1]) !== Math.floor(action.code / 100)) bad('action.enhanced', `${enhanced} is not of the class of ${action.code} (${Math.floor(action.code / 100)}.x.x)`);
      const text = action.text ?? '';
      // Control characters would split the reply into lines of the client's choosing.
      if (/[\x00-\x1f\x7f]/.test(text)) bad('action.text', 'contains control characters');
      if (text.length > MAX_TEXT) bad('action.text', `longer than ${MAX_TEXT} characters`);
      return { type: 'reply', code: action.code, enhanced, text: text || 'Chaos rule reply' };
    }
    case 'delay':
      if (typeof action.ms !== 'number' || !Number.isInteger(action.ms) || action.ms < 0 || action.ms > MAX_DELAY_MS) bad('action.ms', `${String(action.ms)} is not a whole number of ms from 0 to ${MAX_DELAY_MS}`);
      break;
    case 'slow':
      positiveInteger('action.bytesPerSecond', action.bytesPerSecond, 1_000_000);
      break;
    case 'rate':
      positiveInteger('action.perMinute', action.perMinute, 1_000_000);
      if (action.code !== 421 && action.code !== 451) bad('action.code', `${String(action.code)}: a rate limit answers 421 or 451`);
      break;
    case 'drop':
    case 'refuse':
      break;
    default:
      bad('action.type', `"${String((action as { type: unknown }).type)}" is not one of reply, delay, drop, slow, refuse, rate`);
  }
  if (!ACTION_STAGES[action.type].includes(stage)) bad('stage', `${action.type} is possible at ${ACTION_STAGES[action.type].join(', ')}, not at ${stage}`);
  return action;
}

function validateWhen(when: ChaosWhen, action: ChaosAction): ChaosWhen {
  const modes = (['probability', 'every', 'first'] as const).filter((k) => when[k] !== undefined);
  if (modes.length > 1) bad('when', `give one of probability, every, first (got ${modes.join(' and ')})`);
  if (action.type === 'rate' && modes.length > 0) bad('when', 'a rate limit fires by its own count: only until may bound it');
  const out: { -readonly [K in keyof ChaosWhen]: ChaosWhen[K] } = {};
  if (when.probability !== undefined) {
    if (typeof when.probability !== 'number' || !(when.probability >= 0 && when.probability <= 1)) bad('when.probability', `${String(when.probability)} is not from 0 to 1`);
    out.probability = when.probability;
  }
  if (when.seed !== undefined) {
    if (typeof when.seed !== 'number' || !Number.isInteger(when.seed) || when.seed < 0 || when.seed > 0xffffffff) bad('when.seed', `${String(when.seed)} is not a whole number from 0 to 4294967295`);
    if (when.probability === undefined) bad('when.seed', 'a seed goes with a probability');
    out.seed = when.seed;
  }
  if (when.every !== undefined) out.every = positiveInteger('when.every', when.every);
  if (when.first !== undefined) out.first = positiveInteger('when.first', when.first);
  if (when.until !== undefined) {
    if (typeof when.until !== 'string' || Number.isNaN(Date.parse(when.until))) bad('when.until', `"${String(when.until)}" is not an ISO 8601 time`);
    out.until = new Date(Date.parse(when.until)).toISOString();
  }
  return out;
}
