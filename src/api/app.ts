/**
 * The Hono application: the routes of ./routes.ts with their handlers, JSON errors from the one
 * registry, the OpenAPI document generated from the same route schemas, and the web inbox.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { isKotakError, KotakError, type ErrorCode } from '../errors.js';
import { inScope, type MailboxScope } from '../mail/mailbox-scope.js';
import { EMPTY_QUERY, parseSearchQuery } from '../mail/search-query.js';
import type { ParserPool } from '../parse/pool.js';
import type { MessageSummary } from '../mail/types.js';
import { parseMailboxName } from '../mail/mailbox-name.js';
import type { MailboxService } from '../mailbox/service.js';
import { cleanTags } from '../mailbox/tag-names.js';
import { applyTagSources } from '../mailbox/apply-tags.js';
import type { TagSources } from '../mailbox/tag-rules.js';
import type { MessageStore } from '../store/types.js';
import { parseDuration } from '../units.js';
import type { RelayQueue } from '../relay/queue.js';
import type { RelayStore } from '../store/relay-types.js';
import type { WaitRegistry } from './waiters.js';
import type { SmtpInfo } from './schemas.js';
import { extractCodes } from '../mail/codes.js';
import { renderHtmlView } from '../mail/html-view.js';
import { checkHtml, noHtmlReport, toHtmlReport } from '../checks/html/check.js';
import { extractLinks } from '../mail/links.js';
import { accessScope, openAccess, requestScope } from './access.js';
import { requireAuth, type HttpAuth } from './auth.js';
import { limitRequestBodies, MAX_JSON_BODY_BYTES } from './body-limit.js';
import { downloadHeaders, pointToRaw } from './download.js';
import { guardHost, type HostPolicy } from './host-check.js';
import { guardOrigins, type OriginPolicy } from './origin.js';
import { messageHtmlPolicy, securityHeaders, UNTRUSTED_BYTES_POLICY } from './security.js';
import { mountWeb } from './web.js';
import { mountMetrics, type MetricsEndpoint } from './metrics-route.js';
import { liveRoute, routes } from './routes.js';
import type { SpamCheck } from '../checks/spam/index.js';
import type { DeliverabilityReport } from '../checks/deliverability/index.js';
import type { LinkChecker } from '../checks/links/check.js';
import { mountChaosRoutes, type ChaosApiDeps } from './chaos.js';
import { mountWebhookRoutes, type WebhookApiDeps } from './webhooks.js';

export interface RelayApi {
  readonly queue: RelayQueue;
  readonly store: RelayStore;
  readonly status: { readonly auto: boolean; readonly allow: readonly string[]; readonly smarthost: string | null; readonly requireTls: boolean };
}

export interface ApiDeps {
  readonly store: MessageStore;
  /** Every change to messages, announced (src/mailbox/service.ts). */
  readonly mailboxes: MailboxService;
  readonly parser: ParserPool;
  readonly log: Logger;
  readonly version: string;
  /** The built web inbox, web/dist/. */
  readonly webDistDir: URL;
  /** Public path prefix, '/' or e.g. '/mail/' behind a reverse proxy. */
  readonly basePath: string;
  readonly waiters: WaitRegistry;
  /** Relay mode, or null when it is off. */
  readonly relay: RelayApi | null;
  /** The webhook outbox (GET /api/webhooks/deliveries); null or absent: no webhook configured (the route lists nothing). */
  readonly webhooks?: WebhookApiDeps | null;
  /** Where SMTP listens (read per request: the port is bound after the API is built). */
  readonly smtpInfo: () => SmtpInfo;
  /** Mounts other APIs (Mailpit, MailHog compatibility) on the same app, before the web routes. */
  readonly mountExtra?: (app: OpenAPIHono) => void;
  /** Intake's tag sources, which POST /api/tags/apply applies to stored mail. */
  readonly tagSources: TagSources;
  /** The longest wait a client may ask for (ms). */
  readonly maxWaitMs: number;
  /** Who may use the HTTP side; null lets everyone in (the default, bound to loopback). */
  readonly auth: HttpAuth | null;
  /** Which browser pages may (same origin and --http-cors). */
  readonly origins: OriginPolicy;
  /** The DNS rebinding guard (host-check.ts). */
  readonly hosts: HostPolicy;
  /** Paths that cap their request bodies themselves (Mailpit's send API carries whole messages). */
  readonly ownBodyLimits?: readonly string[];
  // checks: spam
  /** The spam check (spamd of --spamassassin), or null when it is off. */
  readonly spamCheck?: SpamCheck | null;
  // checks: deliverability
  /** src/checks/deliverability with the process's resolver bound (src/app.ts). */
  readonly checkDeliverability: (raw: Buffer, envelopeFrom: string | null) => Promise<DeliverabilityReport>;
  // checks: links
  readonly linkChecker: LinkChecker;
  // chaos
  /** The chaos rules and refused attempts (/api/chaos); absent: those routes are not served. */
  readonly chaos?: ChaosApiDeps;
  // metrics
  /** GET /metrics (./metrics-route.ts); absent: no such route. */
  readonly metrics?: MetricsEndpoint;
  /** Called for each request refused for wrong credentials (counted by src/metrics/). */
  readonly onAuthFailure?: () => void;
}

/** The health probes stay open with auth on: they say only whether Kotak is up, and container HEALTHCHECKs and kubelets carry no credentials. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/livez', '/readyz']);

/** The JSON error body, for codes from the one registry (src/errors.ts). */
function errorBody(code: ErrorCode, message: string) {
  return new KotakError(code, message).toJSON();
}

function notFound(what: string): KotakError {
  return new KotakError('not_found', what);
}

const DEFAULT_WAIT_MS = 30_000;
const RECENT_ON_TIMEOUT = 5;

function parseSince(since: string | undefined): number | null {
  if (since === undefined || since.trim() === '') return null;
  const text = since.trim();
  const at = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(at)) throw new KotakError('invalid_request', `since: "${since}" is not an ISO 8601 time or epoch milliseconds`);
  return at;
}

function parseWaitTimeout(timeout: string | undefined): number {
  if (timeout === undefined || timeout.trim() === '') return DEFAULT_WAIT_MS;
  const text = timeout.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  try {
    return parseDuration(text);
  } catch {
    throw new KotakError('invalid_request', `timeout: "${timeout}" is not seconds or a duration such as 500ms or 2m`);
  }
}

/** For a timeout answer: what did arrive, so a person can see why nothing matched. */
async function recentOthers(store: MessageStore, scope: MailboxScope, since: number | null, matched: readonly MessageSummary[]): Promise<MessageSummary[]> {
  const matchedIds = new Set(matched.map((m) => m.id));
  const page = await store.list(scope, { query: EMPTY_QUERY, limit: RECENT_ON_TIMEOUT + matched.length });
  return page.messages
    .filter((m) => !matchedIds.has(m.id) && (since === null || Date.parse(m.receivedAt) >= since))
    .slice(0, RECENT_ON_TIMEOUT);
}

const searchQuery = (text: string | undefined) => (text && text.trim() ? parseSearchQuery(text) : EMPTY_QUERY);

export function createApi(deps: ApiDeps): OpenAPIHono {
  const { store, mailboxes, parser, log } = deps;

  const app = new OpenAPIHono({
    // Request validation failures become the same JSON error shape as everything else.
    defaultHook: (result, c) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
        return c.json(errorBody('invalid_request', `${where}${issue?.message ?? 'invalid request'}`), 400);
      }
      return undefined;
    },
  });

  // In this order: every response (refusals included) gets the security headers; a browser under
  // an unknown Host name (DNS rebinding) is refused; preflights and cross-site writes are settled
  // before credentials are checked; bodies are read only once the request is let in.
  app.use('*', securityHeaders());
  app.use('*', guardHost(deps.hosts));
  app.use('*', guardOrigins(deps.origins));
  // Before the auth middleware: /metrics has its own gate (--metrics-token, or an unscoped login).
  if (deps.metrics) mountMetrics(app, { endpoint: deps.metrics, auth: deps.auth, log, ...(deps.onAuthFailure ? { onAuthFailure: deps.onAuthFailure } : {}) });
  // Sets what each request may see (src/api/access.ts): its login's mailboxes, or all without auth.
  app.use('*', deps.auth ? requireAuth(deps.auth, OPEN_PATHS, deps.onAuthFailure) : openAccess());
  app.use('*', limitRequestBodies({ maxBytes: MAX_JSON_BODY_BYTES, exempt: deps.ownBodyLimits ?? [] }));

  app.onError((err, c: Context) => {
    if (isKotakError(err)) return c.json(err.toJSON(), err.httpStatus as 400);
    // Hono's own request errors (e.g. a malformed JSON body) carry their status.
    if (err instanceof HTTPException && err.status < 500) return c.json(errorBody('invalid_request', err.message), err.status);
    log.error({ err, path: c.req.path }, 'request failed');
    return c.json(errorBody('internal', 'internal error; see the server log'), 500);
  });

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  app.openapi(routes.listMessages, async (c) => {
    const { query, limit, cursor, after, start, mailbox } = c.req.valid('query');
    // A bounded total: counting every match of a common word in a million messages cost more than the page.
    return c.json(await store.list(requestScope(c, mailbox), { query: searchQuery(query), limit, cursor: cursor ?? null, after: after ?? null, start, boundedTotal: true }), 200);
  });

  app.openapi(routes.waitForMessages, async (c) => {
    const { query, since, count, timeout, mailbox } = c.req.valid('query');
    const sinceMs = parseSince(since);
    const waitScope = requestScope(c, mailbox);
    const request = {
      scope: waitScope,
      query: searchQuery(query),
      queryText: query?.trim() ?? '',
      since: sinceMs,
      count,
      timeoutMs: Math.min(parseWaitTimeout(timeout), deps.maxWaitMs),
      signal: c.req.raw.signal,
    };
    const outcome = await deps.waiters.wait(request);
    if (outcome.kind === 'matched') return c.json({ messages: outcome.messages }, 200);
    const recent = outcome.kind === 'timeout' ? await recentOthers(store, waitScope, sinceMs, outcome.messages) : [];
    const matched = outcome.kind === 'timeout' ? outcome.messages : [];
    const seconds = (request.timeoutMs / 1000).toFixed(request.timeoutMs % 1000 === 0 ? 0 : 1);
    return c.json(
      {
        error: {
          code: 'wait_timeout' as const,
          message: `waited ${seconds} s for ${count} message${count === 1 ? '' : 's'} matching "${request.queryText}"${since ? ` since ${new Date(sinceMs!).toISOString()}` : ''}; ${matched.length} matched`,
        },
        matched: matched.length,
        messages: matched,
        recent,
      },
      408,
    );
  });

  app.openapi(routes.patchMessages, async (c) => {
    const { read, query } = c.req.valid('json');
    const updated = await mailboxes.markReadMatching(requestScope(c, c.req.valid('query').mailbox), searchQuery(query), read);
    return c.json({ updated }, 200);
  });

  app.openapi(routes.deleteMessages, async (c) => {
    const { query, mailbox } = c.req.valid('query');
    const deleteScope = requestScope(c, mailbox);
    if (query === undefined || query.trim() === '') {
      return c.json({ deleted: await mailboxes.clear(deleteScope) }, 200);
    }
    const ids = await mailboxes.deleteMatching(deleteScope, parseSearchQuery(query));
    return c.json({ deleted: ids.length }, 200);
  });

  app.openapi(routes.getMessage, async (c) => {
    const { id } = c.req.valid('param');
    const message = await store.get(accessScope(c), id);
    if (!message) throw notFound(`no message ${id}`);
    return c.json({ ...message, links: extractLinks(message.html, message.text), codes: extractCodes(message.subject, message.text, message.html) }, 200);
  });

  app.openapi(routes.getRaw, async (c) => {
    const { id } = c.req.valid('param');
    const raw = await store.getRaw(accessScope(c), id);
    if (!raw) throw notFound(`no message ${id}`);
    return new Response(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), {
      headers: { 'Content-Type': 'message/rfc822', 'Content-Disposition': `inline; filename="${id}.eml"`, 'Content-Security-Policy': UNTRUSTED_BYTES_POLICY },
    });
  });

  app.openapi(routes.getHtml, async (c) => {
    const { id } = c.req.valid('param');
    const allowRemote = c.req.valid('query').remote === '1';
    const message = await store.get(accessScope(c), id);
    if (!message) throw notFound(`no message ${id}`);
    if (message.html === null) throw notFound(`message ${id} has no HTML body`);
    // Relative to this document's URL (…/messages/{id}/html), so it works under any base path.
    const cidUrls = new Map(message.attachments.filter((a) => a.contentId).map((a) => [a.contentId!, `parts/${a.id}`] as const));
    const view = renderHtmlView(message.html, { cidUrls, allowRemote });
    return new Response(view.html, {
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': messageHtmlPolicy(allowRemote),
        'X-Remote-Blocked': String(view.remoteBlocked),
        'Cache-Control': 'no-cache',
      },
    });
  });

  app.openapi(routes.getPart, async (c) => {
    const { id, partId } = c.req.valid('param');
    const raw = await store.getRaw(accessScope(c), id);
    if (!raw) throw notFound(`no message ${id}`);
    const part = await parser.extractPart(raw, partId).catch((err: unknown) => {
      throw pointToRaw(err, `/api/messages/${id}/raw`);
    });
    if (!part) throw notFound(`message ${id} has no part ${partId}`);
    return new Response(new Uint8Array(part.content.buffer, part.content.byteOffset, part.content.byteLength), {
      headers: downloadHeaders(part, `part-${partId}`),
    });
  });

  app.openapi(routes.getPartChecksums, async (c) => {
    const { id, partId } = c.req.valid('param');
    const raw = await store.getRaw(accessScope(c), id);
    if (!raw) throw notFound(`no message ${id}`);
    const checksums = await parser.partChecksums(raw, partId).catch((err: unknown) => {
      throw pointToRaw(err, `/api/messages/${id}/raw`);
    });
    if (!checksums) throw notFound(`message ${id} has no part ${partId}`);
    return c.json(checksums, 200);
  });

  app.openapi(routes.patchMessage, async (c) => {
    const { id } = c.req.valid('param');
    const { read } = c.req.valid('json');
    const summary = await mailboxes.markRead(accessScope(c), id, read);
    if (!summary) throw notFound(`no message ${id}`);
    return c.json(summary, 200);
  });

  app.openapi(routes.deleteMessage, async (c) => {
    const { id } = c.req.valid('param');
    if ((await mailboxes.deleteByIds(accessScope(c), [id])).length === 0) throw notFound(`no message ${id}`);
    return c.json({ deleted: 1 }, 200);
  });

  app.openapi(routes.releaseMessage, async (c) => {
    const { id } = c.req.valid('param');
    if (!deps.relay) throw new KotakError('relay_disabled', 'relay is off: start Kotak with --relay-allow PATTERNS to deliver chosen messages for real');
    let to: string[] | undefined;
    if (c.req.header('content-length') !== '0' && c.req.header('content-type')?.includes('application/json')) to = c.req.valid('json').to;
    const jobs = await deps.relay.queue.release(accessScope(c), id, to);
    return c.json({ jobs }, 202);
  });

  app.openapi(routes.getDeliveries, async (c) => {
    const { id } = c.req.valid('param');
    // Outside the caller's mailboxes a message has no deliveries, as an unknown id has none.
    const jobs = deps.relay ? await deps.relay.store.jobsForMessage(id) : [];
    return c.json({ deliveries: jobs.filter((job) => inScope(accessScope(c), job.mailbox)) }, 200);
  });

  app.openapi(routes.relayQueue, async (c) => {
    const { status, limit } = c.req.valid('query');
    return c.json({ jobs: deps.relay ? await deps.relay.store.list(accessScope(c), { status: status ?? null, limit }) : [] }, 200);
  });

  app.openapi(routes.relayStatus, (c) => {
    const relay = deps.relay;
    return c.json(relay ? { enabled: true, ...relay.status, allow: [...relay.status.allow] } : { enabled: false, auto: false, allow: [], smarthost: null, requireTls: false }, 200);
  });

  mountWebhookRoutes(app, deps.webhooks ?? null);

  app.openapi(routes.listMailboxes, async (c) => c.json({ mailboxes: await mailboxes.listMailboxes(accessScope(c)) }, 200));

  app.openapi(routes.deleteMailbox, async (c) => {
    const name = parseMailboxName(c.req.valid('param').name);
    const deleted = await mailboxes.deleteMailbox(accessScope(c), name);
    if (deleted === null) throw notFound(`no mailbox ${name}`);
    return c.json({ deleted: deleted.length }, 200);
  });

  app.openapi(routes.listTags, async (c) => c.json({ tags: await store.tagCounts(requestScope(c, c.req.valid('query').mailbox)) }, 200));

  app.openapi(routes.changeTags, async (c) => {
    const { ids, add = [], remove = [] } = c.req.valid('json');
    const changed = await mailboxes.changeTags(accessScope(c), ids, cleanTags(add), cleanTags(remove));
    return c.json({ updated: changed.length }, 200);
  });

  app.openapi(routes.applyTags, async (c) => {
    const { query, mailbox } = c.req.valid('query');
    const result = await applyTagSources({ store, mailboxes, sources: deps.tagSources }, requestScope(c, mailbox), query ? parseSearchQuery(query) : EMPTY_QUERY);
    return c.json(result, 200);
  });

  app.openapi(routes.setMessageTags, async (c) => {
    const { id } = c.req.valid('param');
    const scope = accessScope(c);
    await mailboxes.setTags(scope, [id], cleanTags(c.req.valid('json').tags));
    // Read after the change (and in scope): unknown and unseen ids alike are a 404.
    const [summary] = await store.find(scope, { query: EMPTY_QUERY, ids: [id], limit: 1 });
    if (!summary) throw notFound(`no message ${id}`);
    return c.json(summary, 200);
  });

  app.openapi(routes.stats, async (c) => {
    const scope = requestScope(c, c.req.valid('query').mailbox);
    // Waits on mailboxes the caller may not see are not its business: counted only within its scope.
    return c.json({ ...(await store.stats(scope)), waiters: deps.waiters.countWithin(scope) }, 200);
  });

  // The listener's address and what it asks of clients: configuration a login may already read from
  // the start line, and nothing about messages, so it is the same for every scope.
  app.openapi(routes.smtpInfo, (c) => c.json(deps.smtpInfo(), 200));

  app.openapi(routes.livez, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(routes.readyz, async (c) => {
    try {
      await store.ping();
      return c.json({ status: 'ok' as const }, 200);
    } catch (err) {
      log.warn({ err }, 'readiness check failed');
      return c.json(errorBody('storage_failed', 'database not answering'), 503);
    }
  });

  // checks: spam
  app.openapi(routes.checkSpam, async (c) => {
    const { id } = c.req.valid('param');
    const spamCheck = deps.spamCheck;
    if (!spamCheck) throw new KotakError('spamassassin_disabled', 'the spam check is off: start Kotak with --spamassassin HOST:PORT (or unix:/path) of a SpamAssassin spamd');
    const raw = await store.getRaw(accessScope(c), id);
    if (!raw) throw notFound(`no message ${id}`);
    const result = await spamCheck.check(raw).catch((err: unknown) => {
      log.warn({ err, id }, 'spam check failed');
      throw err;
    });
    return c.json(result, 200);
  });

  // checks: deliverability
  app.openapi(routes.checkDeliverability, async (c) => {
    const { id } = c.req.valid('param');
    const scope = accessScope(c);
    const [message, raw] = await Promise.all([store.get(scope, id), store.getRaw(scope, id)]);
    if (!message || !raw) throw notFound(`no message ${id}`);
    return c.json(await deps.checkDeliverability(raw, message.envelope.mailFrom || null), 200);
  });

  // checks: links
  app.openapi(routes.checkLinks, async (c) => {
    const { id } = c.req.valid('param');
    const follow = ['true', '1'].includes(c.req.valid('query').follow ?? '');
    const message = await store.get(accessScope(c), id);
    if (!message) throw notFound(`no message ${id}`);
    return c.json(await deps.linkChecker.check(message, { follow, signal: c.req.raw.signal }), 200);
  });

  // checks: html
  app.openapi(routes.checkHtml, async (c) => {
    const { id } = c.req.valid('param');
    const message = await store.get(accessScope(c), id);
    if (!message) throw notFound(`no message ${id}`);
    const report = message.html === null || message.html === '' ? await noHtmlReport() : toHtmlReport(await checkHtml(message.html));
    return c.json(report, 200);
  });

  // chaos
  if (deps.chaos) mountChaosRoutes(app, deps.chaos);

  app.openAPIRegistry.registerPath(liveRoute);
  app.openAPIRegistry.registerComponent('securitySchemes', 'basicAuth', {
    type: 'http', scheme: 'basic', description: 'A user of the --http-auth htpasswd file, or any user with a --http-token as the password',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'A --http-token' });
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Kotak API', version: deps.version, license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
      description: 'Catch, inspect and assert the email your app sends. The Mailpit- and MailHog-compatible routes are described in /api/openapi-compat.json.',
    },
    // Relative to where this document is served, so it holds behind a proxy and under any base path.
    servers: [{ url: deps.basePath.replace(/\/$/, '') || '/', description: 'This Kotak' }],
    // Credentials are asked for only with --http-auth or --http-token; `{}`: without them, none.
    security: [{ basicAuth: [] }, { bearerAuth: [] }, {}],
  });

  deps.mountExtra?.(app);
  mountWeb(app, { distDir: deps.webDistDir, basePath: deps.basePath });

  return app;
}
