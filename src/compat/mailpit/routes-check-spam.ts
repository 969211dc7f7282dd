/**
 * Mailpit's SpamAssassin check, `GET /api/v1/message/{ID}/sa-check`, in Mailpit's shape
 * (`{ IsSpam, Score, Rules: [{ Name, Score, Description }], Error }`), so the `mailpit-api`
 * client's `spamAssassinCheck()` works unchanged. As Mailpit: when spamd cannot be used, the
 * answer is still 200, with `Error` saying why and `Rules` null; without a configured spamd the
 * request fails with Mailpit's "no SpamAssassin service defined" (400, plain text).
 */
import type { Hono } from 'hono';
import { accessScope } from '../../api/access.js';
import type { SpamCheck } from '../../checks/spam/index.js';
import { isKotakError, KotakError } from '../../errors.js';
import type { CompatDeps } from '../deps.js';
import { PAGE_NOT_FOUND, resolveId } from './http.js';

export interface MailpitSpamAssassinResult {
  IsSpam: boolean;
  Error: string;
  Score: number;
  Rules: { Name: string; Score: number; Description: string }[] | null;
}

export function mountMailpitSpamCheck(app: Hono, deps: CompatDeps): void {
  const { store, log } = deps;
  const spamCheck: SpamCheck | null = deps.spamCheck ?? null;

  app.get('/api/v1/message/:id/sa-check', async (c) => {
    if (!spamCheck) throw new KotakError('invalid_request', 'no SpamAssassin service defined (start Kotak with --spamassassin HOST:PORT)');
    const id = await resolveId(store, c.req.param('id'), c);
    const raw = await store.getRaw(accessScope(c), id);
    if (!raw) throw new KotakError('not_found', PAGE_NOT_FOUND);
    let result: MailpitSpamAssassinResult;
    try {
      const check = await spamCheck.check(raw);
      // spamd's own verdict and numbers (Mailpit compares with a fixed 5.0 and floors to one decimal).
      result = { IsSpam: check.isSpam, Error: '', Score: check.score, Rules: check.rules.map((r) => ({ Name: r.name, Score: r.score, Description: r.description })) };
    } catch (err) {
      if (!isKotakError(err)) throw err;
      log.warn({ err, id }, 'spam check failed');
      result = { IsSpam: false, Error: err.message, Score: 0, Rules: null };
    }
    return c.json(result);
  });
}
