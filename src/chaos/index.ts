/**
 * Chaos as app.ts builds it: the rules of --chaos-rule checked at start (a bad one stops Kotak
 * with the rule and the reason), the engine that holds them, and the list of refused messages.
 */
import { isKotakError, KotakError } from '../errors.js';
import { ALL_MAILBOXES } from '../mail/mailbox-scope.js';
import { ChaosEngine } from './engine.js';
import { ChaosRefusals } from './refusals.js';
import { parseRuleSpec } from './spec.js';

export interface ChaosSettings {
  /** --chaos-rule, one spec each. */
  readonly rules: readonly string[];
  /** --chaos-seed; null: drawn at start. */
  readonly seed: number | null;
}

export interface Chaos {
  readonly engine: ChaosEngine;
  readonly refusals: ChaosRefusals;
}

export function createChaos(settings: ChaosSettings): Chaos {
  const engine = new ChaosEngine({ seed: settings.seed });
  for (const spec of settings.rules) {
    try {
      engine.add(ALL_MAILBOXES, parseRuleSpec(spec));
    } catch (err) {
      if (isKotakError(err)) throw new KotakError('invalid_config', `--chaos-rule '${spec}': ${err.message}`);
      throw err;
    }
  }
  return { engine, refusals: new ChaosRefusals() };
}

export { ChaosEngine, type ChaosRule, type ChaosCounters } from './engine.js';
export { ChaosRefusals, type ChaosRefusal, type RefusalList } from './refusals.js';
export { parseRuleSpec } from './spec.js';
export type { ChaosAction, ChaosMatch, ChaosRuleInput, ChaosStage, ChaosWhen } from './rules.js';
