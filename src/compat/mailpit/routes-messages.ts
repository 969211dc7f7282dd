/** Mailpit's message-list routes: list, search, read status, delete (by IDs, by search, or all). */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { KotakError } from '../../errors.js';
import { accessScope } from '../../api/access.js';
import { EMPTY_QUERY, type SearchQuery } from '../../mail/search-query.js';
import type { CompatDeps } from '../deps.js';
import { readBody, searchQuery, startLimit, withBefore } from './http.js';
import { toMailpitSummary, type MailpitMessages } from './shapes.js';

const IdsSchema = z.array(z.string()).nullish();
const ReadStatusSchema = z.object({ Read: z.boolean().nullish(), IDs: IdsSchema, Search: z.string().nullish() });
const DeleteSchema = z.object({ IDs: IdsSchema });

async function summaries(deps: CompatDeps, query: SearchQuery, c: Context): Promise<MailpitMessages> {
  const { store } = deps;
  const { start, limit } = startLimit(c);
  const scope = accessScope(c);
  const [page, stats, tags] = await Promise.all([store.listAt(scope, { query: withBefore(query, c), start, limit }), store.stats(scope), store.tagCounts(scope)]);
  const extras = await store.summaryExtras(page.messages.map((m) => m.id));
  return {
    total: stats.total,
    unread: stats.unread,
    count: page.messages.length,
    messages_count: page.total,
    messages_unread: page.unread,
    start,
    tags: tags.map((t) => t.name),
    messages: page.messages.map((m) => toMailpitSummary(m, extras.get(m.id))),
  };
}

/** Mailpit's search routes require a query: an empty one is a mistake, not "everything". */
function requiredQuery(c: Context): SearchQuery {
  const text = c.req.query('query');
  if (text === undefined || text.trim() === '') throw new KotakError('invalid_request', 'Error: no search query');
  return searchQuery(text);
}

export function mountMessageListRoutes(app: Hono, deps: CompatDeps): void {
  const { mailboxes } = deps;

  app.get('/api/v1/messages', async (c) => c.json(await summaries(deps, EMPTY_QUERY, c)));

  app.get('/api/v1/search', async (c) => c.json(await summaries(deps, requiredQuery(c), c)));

  // IDs, or a search, or (with neither) every message. `tz` is not supported: dates are in the server's zone.
  app.put('/api/v1/messages', async (c) => {
    const body = await readBody(c, ReadStatusSchema);
    if (body === undefined) throw new KotakError('invalid_request', 'EOF');
    const read = body.Read ?? false;
    const ids = body.IDs ?? [];
    const search = body.Search?.trim() ?? '';
    if (ids.length > 0 && search !== '') throw new KotakError('invalid_request', 'You may specify either IDs or a search query, not both');
    if (ids.length > 0) {
      for (const id of new Set(ids)) {
        // Unknown IDs are skipped, as Mailpit skips them.
        await mailboxes.markRead(accessScope(c), id, read);
      }
    } else {
      await mailboxes.markReadMatching(accessScope(c), search ? searchQuery(search) : EMPTY_QUERY, read);
    }
    return c.text('ok');
  });

  app.delete('/api/v1/messages', async (c) => {
    const ids = (await readBody(c, DeleteSchema))?.IDs ?? [];
    if (ids.length === 0) {
      await mailboxes.clear(accessScope(c));
      return c.text('ok');
    }
    await mailboxes.deleteByIds(accessScope(c), ids);
    return c.text('ok');
  });

  app.delete('/api/v1/search', async (c) => {
    await mailboxes.deleteMatching(accessScope(c), requiredQuery(c));
    return c.text('ok');
  });
}
