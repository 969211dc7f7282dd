/** The chaos API's shapes (src/chaos/rules.ts is the model; these validate requests and type /api/openapi.json). */
import { z } from '@hono/zod-openapi';
import { CHAOS_STAGES } from '../chaos/rules.js';

const StageSchema = z.enum(CHAOS_STAGES).openapi({ description: 'connect (before the greeting), ehlo (EHLO/HELO), auth, mail, rcpt, data (the DATA command, before 354), end (end of data, before the 250)' });

export const ChaosMatchSchema = z
  .object({
    mailbox: z.string().optional().openapi({ description: 'The mailbox the recipient is routed to; known from rcpt on (a rule with a mailbox cannot be set at an earlier stage)' }),
    from: z.string().optional().openapi({ description: 'Envelope sender pattern, the --relay-allow language', example: '*@example.test' }),
    to: z.string().optional().openapi({ description: 'Envelope recipient pattern; at data and end: any recipient of the message', example: '*@bounce.test' }),
    client: z.string().optional().openapi({ description: 'Client IP address or CIDR block', example: '127.0.0.0/8' }),
    user: z.string().optional().openapi({ description: 'The SMTP AUTH user (at auth: the one being tried)' }),
  })
  .strict()
  .openapi('ChaosMatch');

export const ChaosActionSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('reply'),
      code: z.number().int().openapi({ description: 'An SMTP reply code allowed at the stage', example: 550 }),
      enhanced: z.string().optional().openapi({ description: 'RFC 3463 enhanced code of the same class (default X.0.0); not sent at connect', example: '5.1.1' }),
      text: z.string().optional().openapi({ example: 'no such user' }),
    }).strict(),
    z.object({ type: z.literal('delay'), ms: z.number().int().openapi({ description: 'Wait this long, then carry on normally' }) }).strict(),
    z.object({ type: z.literal('drop').openapi({ description: 'The socket is destroyed without a reply' }) }).strict(),
    z.object({ type: z.literal('slow'), bytesPerSecond: z.number().int().openapi({ description: "The connection's replies from now on trickle at this rate (plaintext only)" }) }).strict(),
    z.object({ type: z.literal('refuse').openapi({ description: 'connect only: closed at once, no greeting' }) }).strict(),
    z.object({
      type: z.literal('rate'),
      perMinute: z.number().int().openapi({ description: 'Messages per client address per sliding 60 s window; past it the rule fires' }),
      code: z.union([z.literal(421), z.literal(451)]),
    }).strict(),
  ])
  .openapi('ChaosAction');

export const ChaosWhenSchema = z
  .object({
    probability: z.number().optional().openapi({ description: '0 to 1, drawn from a PRNG seeded by seed (or --chaos-seed): deterministic' }),
    seed: z.number().int().optional(),
    every: z.number().int().optional().openapi({ description: 'Fires on every Nth match' }),
    first: z.number().int().optional().openapi({ description: 'Fires on the first N matches' }),
    until: z.string().optional().openapi({ description: 'Fires only before this time (ISO 8601)', format: 'date-time' }),
  })
  .strict()
  .openapi('ChaosWhen');

/** A rule as a caller sets it: the fields, or `spec` in --chaos-rule's syntax (then nothing else). */
export const ChaosRuleBodySchema = z
  .object({
    spec: z.string().optional().openapi({ description: "The rule in --chaos-rule's syntax, instead of the fields", example: 'rcpt to=*@bounce.test reply=550:5.1.1:"no such user" first=3' }),
    stage: StageSchema.optional(),
    match: ChaosMatchSchema.optional(),
    action: ChaosActionSchema.optional(),
    when: ChaosWhenSchema.optional().openapi({ description: 'At most one of probability, every, first; none: always. until bounds any' }),
  })
  .strict()
  .openapi('ChaosRuleBody');

export const ChaosRuleSchema = z
  .object({
    id: z.string().openapi({ example: 'c1' }),
    stage: StageSchema,
    match: ChaosMatchSchema.optional(),
    action: ChaosActionSchema,
    when: ChaosWhenSchema.optional(),
    counters: z.object({
      matched: z.number().int().openapi({ description: 'Times the rule was tried and matched' }),
      fired: z.number().int().openapi({ description: 'Times its action was taken' }),
    }),
  })
  .openapi('ChaosRule');

export const ChaosRuleListSchema = z.object({ rules: z.array(ChaosRuleSchema) }).openapi('ChaosRuleList');
export const ChaosRulesBodySchema = z.object({ rules: z.array(ChaosRuleBodySchema) }).strict().openapi('ChaosRulesBody');
export const ChaosIdParamSchema = z.object({ id: z.string().min(1).max(64) });

export const ChaosRefusalSchema = z
  .object({
    at: z.string().openapi({ format: 'date-time' }),
    mailbox: z.string(),
    ruleId: z.string(),
    stage: StageSchema,
    action: z.enum(['reply', 'rate', 'drop']),
    reply: z.string().nullable().openapi({ description: 'What the client was answered; null for a dropped connection', example: '550 5.1.1 no such user' }),
    from: z.string(),
    to: z.array(z.string()).readonly(),
    client: z.string(),
  })
  .openapi('ChaosRefusal');

export const ChaosRefusalListSchema = z
  .object({
    total: z.number().int().openapi({ description: 'Messages refused since start in these mailboxes (more than the kept list, which holds the last 50 per mailbox)' }),
    refusals: z.array(ChaosRefusalSchema).readonly().openapi({ description: 'Newest first' }),
  })
  .openapi('ChaosRefusalList');
