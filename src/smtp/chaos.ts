/**
 * Chaos at the SMTP stages: asks the rules (src/chaos/engine.ts) what to do and does it to the
 * connection: a reply, a delay before carrying on, a dropped or refused connection, replies
 * slowed to a trickle, a rate limit's 421/451. Logs and counts each firing, and records a message
 * it refused (a reply or rate limit at RCPT, DATA or end of data; a drop at end of data) where
 * the inbox shows it (src/chaos/refusals.ts). Without rules, `at` answers null at once.
 */
import type { Logger } from 'pino';
import type { ChaosEngine, ChaosDecision } from '../chaos/engine.js';
import type { ChaosFacts, ChaosRecipient } from '../chaos/matcher.js';
import type { ChaosRefusals } from '../chaos/refusals.js';
import { defaultEnhanced, type ChaosStage } from '../chaos/rules.js';
import type { SmtpReplyError } from '../errors.js';

/** What chaos needs of an SMTP connection (src/smtp/connection.ts). */
export interface ChaosConnection {
  readonly remoteAddress: string;
  /** The socket destroyed at once, without a reply. */
  drop(): void;
  /** From now on, this connection's replies leave at this many bytes per second. */
  slowReplies(bytesPerSecond: number): void;
}

export type ChaosOutcome =
  /** Carry on as without chaos (after a delay, or with replies slowed). */
  | { readonly kind: 'continue' }
  /** Answer with this instead of going on. */
  | { readonly kind: 'reply'; readonly error: SmtpReplyError }
  /** The connection is gone: nothing more to answer. */
  | { readonly kind: 'dropped' };

export interface ChaosGate {
  /** null: no rule fired (the usual case), carry on at once. */
  at(stage: ChaosStage, connection: ChaosConnection, facts: ChaosFacts): ChaosOutcome | Promise<ChaosOutcome> | null;
  /** Recipients with the mailbox each is routed to, for the facts of RCPT and later stages. */
  recipients(addresses: readonly string[], user: string | null): ChaosRecipient[];
}

export interface ChaosGateDeps {
  readonly engine: ChaosEngine;
  readonly refusals: ChaosRefusals;
  /** The mailbox routing puts a recipient in (src/mailbox/routing.ts). */
  readonly mailboxOf: (recipient: string, user: string | null) => string;
  readonly log: Logger;
  /** Told of each firing (counted by src/metrics/); absent: only logged. */
  readonly onFired?: (stage: string, action: string) => void;
}

const CONTINUE: ChaosOutcome = Object.freeze({ kind: 'continue' });
const DROPPED: ChaosOutcome = Object.freeze({ kind: 'dropped' });
/** Stages at which a refusal refuses a message (before RCPT there is no mailbox to show it in). */
const MESSAGE_STAGES: ReadonlySet<ChaosStage> = new Set(['rcpt', 'data', 'end']);

/** Runs `then` on an outcome, now when there is one already, else when it comes. */
export function afterChaos(outcome: ChaosOutcome | Promise<ChaosOutcome>, then: (outcome: ChaosOutcome) => void): void {
  if (outcome instanceof Promise) void outcome.then(then);
  else then(outcome);
}

export function createChaosGate(deps: ChaosGateDeps): ChaosGate {
  const { engine, refusals, log } = deps;

  function refuse(decision: ChaosDecision, facts: ChaosFacts, action: 'reply' | 'rate' | 'drop', reply: string | null): void {
    if (!MESSAGE_STAGES.has(decision.stage) || (action === 'drop' && decision.stage !== 'end')) return;
    const recipients = facts.recipients ?? [];
    const at = new Date().toISOString();
    const to = recipients.map((r) => r.address);
    for (const mailbox of new Set(recipients.map((r) => r.mailbox))) {
      refusals.record({ at, mailbox, ruleId: decision.ruleId, stage: decision.stage, action, reply, from: facts.from ?? '', to, client: facts.client });
    }
  }

  function replyError(stage: ChaosStage, code: number, enhanced: string, text: string): SmtpReplyError {
    // The greeting carries no enhanced status code (RFC 2034 3).
    return Object.assign(new Error(stage === 'connect' ? text : `${enhanced} ${text}`), { responseCode: code });
  }

  return {
    at(stage, connection, facts) {
      if (engine.empty) return null;
      const decision = engine.decide(stage, facts);
      if (decision === null) return null;
      const { action } = decision;
      log.info({ rule: decision.ruleId, stage, action: action.type, client: facts.client }, 'chaos rule fired');
      deps.onFired?.(stage, action.type);
      switch (action.type) {
        case 'reply': {
          const error = replyError(stage, action.code, action.enhanced ?? defaultEnhanced(action.code), action.text ?? '');
          refuse(decision, facts, 'reply', `${action.code} ${error.message}`);
          return { kind: 'reply', error };
        }
        case 'rate': {
          const error = replyError(stage, action.code, '4.7.0', `Too many messages from ${facts.client}, slow down (chaos rate limit ${action.perMinute}/min)`);
          refuse(decision, facts, 'rate', `${action.code} ${error.message}`);
          return { kind: 'reply', error };
        }
        case 'delay':
          return new Promise((resolve) => setTimeout(() => resolve(CONTINUE), action.ms));
        case 'slow':
          connection.slowReplies(action.bytesPerSecond);
          return CONTINUE;
        case 'drop':
        case 'refuse':
          refuse(decision, facts, 'drop', null);
          connection.drop();
          return DROPPED;
      }
    },
    recipients(addresses, user) {
      return addresses.map((address) => ({ address, mailbox: deps.mailboxOf(address, user) }));
    },
  };
}
