/**
 * The chaos rules in force, with their firing state and counters. The SMTP side asks `decide`
 * at each stage; the API (scoped: a login sees and changes only the rules of its mailboxes) and
 * --chaos-rule set them. Rules are tried in order; the first that fires decides, and a rule
 * counts a match only when it is tried. Pure bookkeeping with an injectable clock.
 *
 * Rate limits are a sliding window per rule and client address: a message passes while fewer
 * than N passed in the last 60 s; past that the rule fires (421 or 451). Refused messages do not
 * count, so a client is let through again as soon as its oldest counted message is a minute old.
 */
import { randomInt } from 'node:crypto';
import { KotakError } from '../errors.js';
import { inScope, type MailboxScope } from '../mail/mailbox-scope.js';
import { compileMatch, type ChaosFacts, type ChaosPredicate } from './matcher.js';
import { deriveSeed, seededRandom, type Random } from './random.js';
import { validateRule, type ChaosAction, type ChaosRuleInput, type ChaosStage } from './rules.js';

export interface ChaosCounters {
  /** Times the rule was tried at its stage and its match held. */
  readonly matched: number;
  /** Times its action was taken. */
  readonly fired: number;
}

/** A rule in force, as the API shows it. */
export interface ChaosRule extends ChaosRuleInput {
  readonly id: string;
  readonly counters: ChaosCounters;
}

export interface ChaosDecision {
  readonly ruleId: string;
  readonly stage: ChaosStage;
  readonly action: ChaosAction;
}

const RATE_WINDOW_MS = 60_000;

interface LiveRule {
  readonly id: string;
  readonly input: ChaosRuleInput;
  readonly matches: ChaosPredicate;
  readonly random: Random | null;
  readonly until: number | null;
  matched: number;
  fired: number;
  /** Rate limits: when each counted message passed, per client address. */
  readonly passed: Map<string, number[]>;
}

export interface ChaosEngineOptions {
  /** --chaos-seed: the seed of rules that give none; absent: one drawn at start (shown in each rule). */
  readonly seed?: number | null;
  readonly now?: () => number;
}

export class ChaosEngine {
  readonly #rules: LiveRule[] = [];
  readonly #now: () => number;
  readonly #seed: number;
  #nextId = 1;

  constructor(options: ChaosEngineOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#seed = options.seed ?? randomInt(0, 0xffffffff);
  }

  /** No rule at all: the SMTP side skips every lookup. */
  get empty(): boolean {
    return this.#rules.length === 0;
  }

  /** Checks every rule first: a bad one leaves the rules as they were. Ids are given here. */
  #compile(input: ChaosRuleInput, id: string): LiveRule {
    const rule = validateRule(input);
    const matches = compileMatch(rule.match ?? {});
    let when = rule.when;
    let random: Random | null = null;
    if (when?.probability !== undefined) {
      // The seed used is kept in the rule, so GET shows what reproduces a run.
      const seed = when.seed ?? deriveSeed(this.#seed, id);
      when = { ...when, seed };
      random = seededRandom(seed);
    }
    return {
      id, input: { ...rule, ...(when ? { when } : {}) }, matches, random,
      until: when?.until !== undefined ? Date.parse(when.until) : null,
      matched: 0, fired: 0, passed: new Map(),
    };
  }

  #newId(): string {
    return `c${this.#nextId++}`;
  }

  /** Adds one rule at the end; throws KotakError naming the field when it is not valid or not the caller's to set. */
  add(scope: MailboxScope, input: ChaosRuleInput): ChaosRule {
    assertMayHold(scope, input);
    const rule = this.#compile(input, this.#newId());
    this.#rules.push(rule);
    return view(rule);
  }

  /** Replaces every rule the caller may see by these (the others stay, first). All are checked before any changes. */
  replace(scope: MailboxScope, inputs: readonly ChaosRuleInput[]): ChaosRule[] {
    inputs.forEach((input, i) => {
      try {
        assertMayHold(scope, input);
        this.#compile(input, 'check');
      } catch (err) {
        if (err instanceof KotakError) throw new KotakError(err.code, `rules.${i}.${err.message}`);
        throw err;
      }
    });
    this.clear(scope);
    const rules = inputs.map((input) => this.#compile(input, this.#newId()));
    this.#rules.push(...rules);
    return rules.map(view);
  }

  list(scope: MailboxScope): ChaosRule[] {
    return this.#rules.filter((rule) => visible(scope, rule.input)).map(view);
  }

  get(scope: MailboxScope, id: string): ChaosRule | null {
    const rule = this.#rules.find((r) => r.id === id && visible(scope, r.input));
    return rule ? view(rule) : null;
  }

  /** False when there is no such rule the caller may see. */
  remove(scope: MailboxScope, id: string): boolean {
    const index = this.#rules.findIndex((r) => r.id === id && visible(scope, r.input));
    if (index < 0) return false;
    this.#rules.splice(index, 1);
    return true;
  }

  /** Removes every rule the caller may see; returns how many. */
  clear(scope: MailboxScope): number {
    let removed = 0;
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      if (!visible(scope, this.#rules[i]!.input)) continue;
      this.#rules.splice(i, 1);
      removed++;
    }
    return removed;
  }

  /**
   * A rule under a fixed id (Mailpit's three triggers): set in its place, or removed with null.
   * Unscoped: only an unscoped caller reaches this.
   */
  setReserved(id: string, input: ChaosRuleInput | null): ChaosRule | null {
    const index = this.#rules.findIndex((r) => r.id === id);
    if (input === null) {
      if (index >= 0) this.#rules.splice(index, 1);
      return null;
    }
    const rule = this.#compile(input, id);
    if (index >= 0) this.#rules[index] = rule;
    else this.#rules.push(rule);
    return view(rule);
  }

  /** Throws as `add` would for a rule that is not valid; changes nothing. */
  check(input: ChaosRuleInput): void {
    this.#compile(input, 'check');
  }

  getReserved(id: string): ChaosRule | null {
    const rule = this.#rules.find((r) => r.id === id);
    return rule ? view(rule) : null;
  }

  /** What to do at this stage: the first rule that fires, or null (carry on as without chaos). */
  decide(stage: ChaosStage, facts: ChaosFacts): ChaosDecision | null {
    const now = this.#now();
    for (const rule of this.#rules) {
      if (rule.input.stage !== stage || !rule.matches(facts)) continue;
      rule.matched++;
      if (rule.until !== null && now >= rule.until) continue;
      if (!this.#fires(rule, facts, now)) continue;
      rule.fired++;
      return { ruleId: rule.id, stage, action: rule.input.action };
    }
    return null;
  }

  #fires(rule: LiveRule, facts: ChaosFacts, now: number): boolean {
    const { action, when } = rule.input;
    if (action.type === 'rate') return overRate(rule, facts.client, action.perMinute, now);
    if (when?.every !== undefined) return rule.matched % when.every === 0;
    if (when?.first !== undefined) return rule.matched <= when.first;
    if (rule.random !== null) return rule.random() < (when?.probability ?? 0);
    return true;
  }
}

function overRate(rule: LiveRule, client: string, perMinute: number, now: number): boolean {
  const since = now - RATE_WINDOW_MS;
  const passed = (rule.passed.get(client) ?? []).filter((at) => at > since);
  if (passed.length >= perMinute) {
    rule.passed.set(client, passed);
    return true;
  }
  passed.push(now);
  rule.passed.set(client, passed);
  // Forget clients that went quiet, so the map holds only the last minute's.
  for (const [other, times] of rule.passed) {
    if (times.length === 0 || times[times.length - 1]! <= since) rule.passed.delete(other);
  }
  return false;
}

function view(rule: LiveRule): ChaosRule {
  return { id: rule.id, ...rule.input, counters: { matched: rule.matched, fired: rule.fired } };
}

/** A rule without a mailbox is global: only an unscoped login sees it. */
function visible(scope: MailboxScope, input: ChaosRuleInput): boolean {
  if (scope.kind === 'all') return true;
  const mailbox = input.match?.mailbox;
  return mailbox !== undefined && inScope(scope, mailbox.trim().toLowerCase());
}

function assertMayHold(scope: MailboxScope, input: ChaosRuleInput): void {
  if (scope.kind === 'all') return;
  const mailbox = input.match?.mailbox;
  if (mailbox === undefined) throw new KotakError('mailbox_not_allowed', `match.mailbox: this login sees only some mailboxes; its rules must name one of them`);
  if (!visible(scope, input)) throw new KotakError('mailbox_not_allowed', `match.mailbox: "${mailbox}" is not a mailbox this login may see`);
}
