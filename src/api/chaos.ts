/**
 * The chaos routes (src/api/routes.ts: listChaosRules … deleteChaosRule) on the rules and the
 * refused attempts. Every call is scoped: a login with mailbox grants sees and changes only the
 * rules whose `match.mailbox` it may see; a rule without a mailbox is global and only an
 * unscoped login sets it (src/chaos/engine.ts checks).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { z } from '@hono/zod-openapi';
import type { ChaosEngine } from '../chaos/engine.js';
import type { ChaosRefusals } from '../chaos/refusals.js';
import type { ChaosRuleInput } from '../chaos/rules.js';
import { parseRuleSpec } from '../chaos/spec.js';
import { KotakError } from '../errors.js';
import { accessScope, requestScope } from './access.js';
import type { ChaosRuleBodySchema } from './chaos-schemas.js';
import { routes } from './routes.js';

export interface ChaosApiDeps {
  readonly engine: ChaosEngine;
  readonly refusals: ChaosRefusals;
}

/** A body → the rule: `spec` parsed, or the fields (checked by the engine, which names the field). */
export function ruleOfBody(body: z.infer<typeof ChaosRuleBodySchema>): ChaosRuleInput {
  const { spec, ...fields } = body;
  if (spec !== undefined) {
    if (Object.keys(fields).length > 0) throw new KotakError('invalid_request', `spec: give the rule as spec or as fields, not both (also got ${Object.keys(fields).join(', ')})`);
    try {
      return parseRuleSpec(spec);
    } catch (err) {
      if (err instanceof KotakError) throw new KotakError(err.code, `spec: ${err.message}`);
      throw err;
    }
  }
  if (fields.stage === undefined) throw new KotakError('invalid_request', 'stage: missing (or give spec)');
  if (fields.action === undefined) throw new KotakError('invalid_request', 'action: missing (or give spec)');
  return fields as ChaosRuleInput;
}

export function mountChaosRoutes(app: OpenAPIHono, deps: ChaosApiDeps): void {
  const { engine, refusals } = deps;

  app.openapi(routes.listChaosRules, (c) => c.json({ rules: engine.list(accessScope(c)) }, 200));

  app.openapi(routes.replaceChaosRules, (c) => {
    const body = c.req.valid('json');
    const inputs = body.rules.map((rule, i) => {
      try {
        return ruleOfBody(rule);
      } catch (err) {
        if (err instanceof KotakError) throw new KotakError(err.code, `rules.${i}.${err.message}`);
        throw err;
      }
    });
    return c.json({ rules: engine.replace(accessScope(c), inputs) }, 200);
  });

  app.openapi(routes.addChaosRule, (c) => c.json(engine.add(accessScope(c), ruleOfBody(c.req.valid('json'))), 201));

  app.openapi(routes.clearChaosRules, (c) => c.json({ deleted: engine.clear(accessScope(c)) }, 200));

  app.openapi(routes.listChaosRefusals, (c) => c.json(refusals.list(requestScope(c, c.req.valid('query').mailbox)), 200));

  app.openapi(routes.clearChaosRefusals, (c) => c.json({ deleted: refusals.clear(requestScope(c, c.req.valid('query').mailbox)) }, 200));

  app.openapi(routes.getChaosRule, (c) => {
    const { id } = c.req.valid('param');
    const rule = engine.get(accessScope(c), id);
    if (!rule) throw new KotakError('not_found', `no chaos rule ${id}`);
    return c.json(rule, 200);
  });

  app.openapi(routes.deleteChaosRule, (c) => {
    const { id } = c.req.valid('param');
    if (!engine.remove(accessScope(c), id)) throw new KotakError('not_found', `no chaos rule ${id}`);
    return c.json({ deleted: 1 }, 200);
  });
}
