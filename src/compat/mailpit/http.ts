/**
 * HTTP conventions of Mailpit's API: plain-text errors (JSON `{ Error }` on the send route), `start`
 * and `limit` read leniently, "latest" as a message id, JSON bodies that may be empty.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { isKotakError, KotakError } from '../../errors.js';
import { accessScope } from '../../api/access.js';
import { EMPTY_QUERY, parseSearchQuery, type SearchQuery } from '../../mail/search-query.js';
import type { MessageStore } from '../../store/types.js';

/** Mailpit's wording for an id that names nothing. */
export const PAGE_NOT_FOUND = '404 page not found';

export const DEFAULT_LIMIT = 50;
/** Mailpit has no cap; Kotak's own API stops at the same number (messages_count still says how many match). */
export const MAX_LIMIT = 1000;

/** Status and text of any error, by the one registry (src/errors.ts); unexpected ones are logged. */
export function describeError(err: unknown, c: Context, log: Logger): { status: number; message: string } {
  if (isKotakError(err)) return { status: err.httpStatus, message: err.message };
  // Hono's own request errors (e.g. a body over the limit) carry their status.
  if (err instanceof HTTPException && err.status < 500) return { status: err.status, message: err.message || 'invalid request' };
  log.error({ err, path: c.req.path }, 'mailpit request failed');
  return { status: 500, message: 'internal error; see the server log' };
}

/** What Mailpit clients read from a failed request: the status and a line of text. */
export function plainTextError(err: unknown, c: Context, log: Logger): Response {
  const { status, message } = describeError(err, c, log);
  return c.text(message, status as 400);
}

/** Mailpit's getStartLimit: anything unreadable falls back to the default, as Mailpit does. */
export function startLimit(c: Context): { start: number; limit: number } {
  const start = Number.parseInt(c.req.query('start') ?? '', 10);
  const limit = Number.parseInt(c.req.query('limit') ?? '', 10);
  return {
    start: Number.isSafeInteger(start) && start > 0 ? start : 0,
    limit: Number.isSafeInteger(limit) && limit >= 0 ? Math.min(limit, MAX_LIMIT) : DEFAULT_LIMIT,
  };
}

/**
 * Mailpit's `before` paging parameter (epoch seconds or milliseconds, or a date) as a `before:`
 * term; like Mailpit, a value it cannot read is ignored.
 */
export function withBefore(query: SearchQuery, c: Context): SearchQuery {
  const value = c.req.query('before')?.trim();
  if (!value) return query;
  let at: number | null = null;
  if (/^\d{1,15}$/.test(value)) {
    const n = Number(value);
    at = n > 1e12 ? n : n * 1000;
  } else {
    try {
      const [term] = parseSearchQuery(`before:"${value.replace(/"/g, '')}"`).terms;
      if (term?.kind === 'date') at = term.at;
    } catch {
      // Unreadable: ignored, as Mailpit ignores it.
    }
  }
  return at === null ? query : { terms: [...query.terms, { kind: 'date', op: 'before', at, negated: false }] };
}

export function searchQuery(text: string | undefined): SearchQuery {
  return text !== undefined && text.trim() !== '' ? parseSearchQuery(text) : EMPTY_QUERY;
}

/** "latest" is the newest message, or with `?query=` the newest one matching it. */
export async function resolveId(store: MessageStore, id: string, c: Context): Promise<string> {
  if (id !== 'latest') return id;
  const page = await store.listAt(accessScope(c), { query: searchQuery(c.req.query('query')), start: 0, limit: 1 });
  const newest = page.messages[0];
  if (!newest) throw new KotakError('not_found', 'Message not found');
  return newest.id;
}

/**
 * The body parsed and checked; undefined when there is none. Unlike Mailpit, a body that is not
 * JSON is refused rather than read as "no IDs", which on DELETE would mean "everything".
 */
export async function readBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T> | undefined> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KotakError('invalid_request', 'the request body is not valid JSON');
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new KotakError('invalid_request', `${where}${issue?.message ?? 'invalid request body'}`);
  }
  return result.data;
}

/** The user of a Basic Authorization header, which Mailpit records as the sender's Username. */
export function basicAuthUser(c: Context): string | null {
  const header = c.req.header('authorization');
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, colon) : null;
}
