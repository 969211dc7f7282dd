/**
 * The compact rule syntax of --chaos-rule (and of the API's `{ "spec": "…" }`): a stage word, then
 * `key=value` words in any order. Values with spaces are double-quoted (`\"` inside).
 *
 *   rcpt to=*@bounce.test reply=550:5.1.1:"no such user" first=3
 *   mail from=*@flaky.test reply=451 p=0.3 seed=7
 *   connect client=10.0.0.0/8 refuse
 *   mail rate=5/min:421
 *
 * Several rules in one text (KOTAK_CHAOS_RULE) are separated by `;` outside quotes.
 */
import { KotakError } from '../errors.js';
import { parseDuration } from '../units.js';
import { CHAOS_STAGES, type ChaosAction, type ChaosMatch, type ChaosRuleInput, type ChaosStage, type ChaosWhen } from './rules.js';

const STAGE_ALIASES: Readonly<Record<string, ChaosStage>> = { helo: 'ehlo', lhlo: 'ehlo', 'end-of-data': 'end', eod: 'end', dot: 'end' };
const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/;

function bad(reason: string): never {
  throw new KotakError('invalid_request', reason);
}

/** Words, with double-quoted stretches kept whole (quotes removed). */
function words(spec: string): string[] {
  const out: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i]!;
    if (ch === '"') {
      word ??= '';
      let closed = false;
      for (i++; i < spec.length; i++) {
        const q = spec[i]!;
        if (q === '\\' && i + 1 < spec.length) word += spec[++i];
        else if (q === '"') {
          closed = true;
          break;
        } else word += q;
      }
      if (!closed) bad('a quoted value is not closed');
    } else if (/\s/.test(ch)) {
      if (word !== null) out.push(word);
      word = null;
    } else word = (word ?? '') + ch;
  }
  if (word !== null) out.push(word);
  return out;
}

/** `;`-separated rules (outside quotes), blanks dropped. */
export function splitRuleSpecs(text: string): string[] {
  const specs: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && quoted && i + 1 < text.length) {
      current += ch + text[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      specs.push(current);
      current = '';
    } else current += ch;
  }
  specs.push(current);
  return specs.map((s) => s.trim()).filter(Boolean);
}

function wholeNumber(key: string, value: string): number {
  if (!/^\d+$/.test(value)) bad(`${key}=${value}: not a whole number`);
  return Number(value);
}

function parseReply(value: string): ChaosAction {
  const [codeText = '', ...rest] = value.split(':');
  if (!/^\d{3}$/.test(codeText)) bad(`reply=${value}: CODE[:ENHANCED][:TEXT], e.g. reply=550:5.1.1:"no such user"`);
  let enhanced: string | undefined;
  if (rest.length > 0 && ENHANCED.test(rest[0]!)) enhanced = rest.shift();
  const text = rest.join(':');
  return { type: 'reply', code: Number(codeText), ...(enhanced ? { enhanced } : {}), ...(text ? { text } : {}) };
}

function parseRate(value: string): ChaosAction {
  const m = /^(\d+)(?:\/min)?(?::(\d{3}))?$/.exec(value);
  if (!m) bad(`rate=${value}: N[/min][:421|451], e.g. rate=5/min:421`);
  return { type: 'rate', perMinute: Number(m[1]), code: (m[2] ? Number(m[2]) : 421) as 421 | 451 };
}

function parseProbability(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(value);
  if (!m) bad(`p=${value}: a probability such as 0.3 or 30%`);
  return m[2] ? Number(m[1]) / 100 : Number(m[1]);
}

/** One rule's text → the rule (checked by validateRule afterwards, where the engine takes it). */
export function parseRuleSpec(spec: string): ChaosRuleInput {
  let stage: ChaosStage | undefined;
  const match: { -readonly [K in keyof ChaosMatch]: ChaosMatch[K] } = {};
  const when: { -readonly [K in keyof ChaosWhen]: ChaosWhen[K] } = {};
  let action: ChaosAction | undefined;
  const setAction = (next: ChaosAction) => {
    if (action) bad(`one action per rule (got ${action.type} and ${next.type})`);
    action = next;
  };
  for (const word of words(spec)) {
    const eq = word.indexOf('=');
    const key = (eq < 0 ? word : word.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : word.slice(eq + 1);
    if (eq < 0) {
      const named = (CHAOS_STAGES as readonly string[]).includes(key) ? (key as ChaosStage) : STAGE_ALIASES[key];
      if (named) {
        if (stage) bad(`one stage per rule (got ${stage} and ${named})`);
        stage = named;
      } else if (key === 'drop' || key === 'refuse') setAction({ type: key });
      else if (key !== 'always') bad(`"${word}" is not a stage (${CHAOS_STAGES.join(', ')}), drop, refuse, always or key=value`);
      continue;
    }
    switch (key) {
      case 'mailbox': case 'from': case 'to': case 'client': case 'user':
        match[key] = value;
        break;
      case 'reply': setAction(parseReply(value)); break;
      case 'delay': setAction({ type: 'delay', ms: /^\d+$/.test(value) ? Number(value) : durationMs(value) }); break;
      case 'slow': setAction({ type: 'slow', bytesPerSecond: wholeNumber(key, value.replace(/b\/s$/i, '')) }); break;
      case 'rate': setAction(parseRate(value)); break;
      case 'p': case 'probability': when.probability = parseProbability(value); break;
      case 'seed': when.seed = wholeNumber(key, value); break;
      case 'every': when.every = wholeNumber(key, value); break;
      case 'first': when.first = wholeNumber(key, value); break;
      case 'until': when.until = value; break;
      default: bad(`"${key}=" is not a rule key (mailbox, from, to, client, user, reply, delay, slow, rate, p, seed, every, first, until)`);
    }
  }
  if (!stage) bad(`no stage: start with one of ${CHAOS_STAGES.join(', ')}`);
  if (!action) bad('no action: reply=CODE…, delay=MS, drop, slow=BYTES_PER_S, refuse or rate=N/min');
  return { stage, action, ...(Object.keys(match).length ? { match } : {}), ...(Object.keys(when).length ? { when } : {}) };
}

function durationMs(value: string): number {
  try {
    return parseDuration(value);
  } catch {
    return bad(`delay=${value}: milliseconds or a duration such as 500ms or 2s`);
  }
}
