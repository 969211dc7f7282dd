/**
 * Mailpit's Chaos API (`GET/PUT /api/v1/chaos`) on Kotak's chaos rules: its three triggers are
 * three rules under reserved ids (Sender: a reply at MAIL, Recipient: at RCPT, Authentication:
 * at AUTH), each firing with the trigger's probability. A trigger at 0 % is no rule. A PUT sets
 * all three (an omitted trigger goes back to 0 %, as in Mailpit). The codes must be ones SMTP
 * allows at that stage (Kotak's rule check; Mailpit takes any 400–599). They are global rules:
 * only an unscoped login sets them.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { accessScope } from '../../api/access.js';
import type { ChaosEngine } from '../../chaos/engine.js';
import type { ChaosRuleInput, ChaosStage } from '../../chaos/rules.js';
import { KotakError } from '../../errors.js';
import { readBody } from './http.js';

const TRIGGERS = [
  { name: 'Sender', id: 'mailpit-sender', stage: 'mail', defaultCode: 451 },
  { name: 'Recipient', id: 'mailpit-recipient', stage: 'rcpt', defaultCode: 451 },
  { name: 'Authentication', id: 'mailpit-authentication', stage: 'auth', defaultCode: 535 },
] as const satisfies readonly { name: string; id: string; stage: ChaosStage; defaultCode: number }[];

type TriggerName = (typeof TRIGGERS)[number]['name'];

const TriggerSchema = z.object({ ErrorCode: z.number().int(), Probability: z.number().int() });
const TriggersSchema = z.object({ Sender: TriggerSchema.nullish(), Recipient: TriggerSchema.nullish(), Authentication: TriggerSchema.nullish() });

interface Trigger {
  ErrorCode: number;
  Probability: number;
}

function triggersOf(engine: ChaosEngine): Record<TriggerName, Trigger> {
  const out = {} as Record<TriggerName, Trigger>;
  for (const trigger of TRIGGERS) {
    const rule = engine.getReserved(trigger.id);
    const action = rule?.action;
    out[trigger.name] = action?.type === 'reply'
      ? { ErrorCode: action.code, Probability: Math.round((rule?.when?.probability ?? 1) * 100) }
      : { ErrorCode: trigger.defaultCode, Probability: 0 };
  }
  return out;
}

export function mountChaosRoutes(app: Hono, engine: ChaosEngine): void {
  app.get('/api/v1/chaos', (c) => {
    // A scoped login sees no global rule: to it every trigger is off.
    if (accessScope(c).kind !== 'all') return c.json(Object.fromEntries(TRIGGERS.map((t) => [t.name, { ErrorCode: t.defaultCode, Probability: 0 }])));
    return c.json(triggersOf(engine));
  });

  app.put('/api/v1/chaos', async (c) => {
    if (accessScope(c).kind !== 'all') throw new KotakError('mailbox_not_allowed', 'Chaos triggers are global: this login sees only some mailboxes');
    const body = (await readBody(c, TriggersSchema)) ?? {};
    const rules: [string, ChaosRuleInput | null][] = TRIGGERS.map((trigger) => {
      const given = body[trigger.name];
      if (!given) return [trigger.id, null];
      // Mailpit's own checks, with its words.
      if (given.ErrorCode < 400 || given.ErrorCode > 599) throw new KotakError('invalid_request', `${trigger.name}: ErrorCode must be between 400 and 599`);
      if (given.Probability < 0 || given.Probability > 100) throw new KotakError('invalid_request', `${trigger.name}: Probability must be between 0 and 100`);
      if (given.Probability === 0) return [trigger.id, null];
      return [trigger.id, {
        stage: trigger.stage,
        action: { type: 'reply', code: given.ErrorCode, text: `Chaos ${trigger.name.toLowerCase()} error` },
        when: { probability: given.Probability / 100 },
      }];
    });
    // Every trigger checked before any is set: a refused one changes nothing.
    for (const [id, input] of rules) {
      if (input === null) continue;
      try {
        engine.check(input);
      } catch (err) {
        if (err instanceof KotakError) throw new KotakError(err.code, `${TRIGGERS.find((t) => t.id === id)!.name}: ${err.message}`);
        throw err;
      }
    }
    for (const [id, input] of rules) engine.setReserved(id, input);
    return c.json(triggersOf(engine));
  });
}
