/**
 * `GET /metrics`: Prometheus' text exposition of src/metrics/, outside the JSON API (so not under
 * /api/) but listed in /api/openapi.json, as /livez is. Who may read it:
 * - with `--metrics-token`, a scraper sending `Authorization: Bearer <that token>`: it opens
 *   /metrics and nothing else (and once it is set, /metrics asks for it or for a login below even
 *   with HTTP authentication off);
 * - with HTTP authentication on, a login that sees every mailbox; a login limited to some
 *   mailboxes is refused (403): the labels name every mailbox and tag, and the counts are
 *   everyone's, so they would tell it about mailboxes it may not see;
 * - with neither, everyone, like the rest of the API (bound to loopback by default).
 * It is mounted before the app's auth middleware, and answers (or refuses) by itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import { KotakError } from '../errors.js';
import { AUTH_CHALLENGE, authError, type HttpAuth } from './auth.js';
import { ErrorSchema } from './schemas.js';

export const METRICS_PATH = '/metrics';

export interface MetricsEndpoint {
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** `--metrics-token`; null: none. */
  readonly token: string | null;
}

const errorResponse = (description: string) => ({ content: { 'application/json': { schema: ErrorSchema } }, description });

export const metricsRoute = createRoute({
  operationId: 'metrics', method: 'get', path: METRICS_PATH, tags: ['system'],
  summary: 'Prometheus metrics (text exposition format 0.0.4)',
  description:
    'Counters, gauges and a histogram of intake, refusals, connections, relay and the process, for a Prometheus scraper. ' +
    'Readable with `--metrics-token` as a Bearer token, or with a login that sees every mailbox when HTTP authentication is on; open otherwise.',
  security: [{ bearerAuth: [] }, { basicAuth: [] }, {}],
  responses: {
    200: { content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: z.string() } }, description: 'The metrics, one sample a line' },
    401: errorResponse('Credentials required (--metrics-token, --http-auth or --http-token), or not accepted'),
    403: errorResponse('A login limited to some mailboxes (the labels would name the others), or the host and origin checks'),
    429: errorResponse('Too many failed logins from this address; wait a minute'),
  },
});

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export function mountMetrics(app: OpenAPIHono, deps: { endpoint: MetricsEndpoint; auth: HttpAuth | null; log: Logger; onAuthFailure?: () => void }): void {
  const { endpoint, auth, log } = deps;
  const tokenDigest = endpoint.token === null ? null : sha256(endpoint.token);
  const isMetricsToken = (header: string | undefined): boolean => {
    if (tokenDigest === null || header === undefined) return false;
    const match = /^bearer\s+(\S+)$/i.exec(header.trim());
    // Digests of equal length, compared in constant time.
    return match !== null && timingSafeEqual(sha256(match[1]!), tokenDigest);
  };

  app.get(METRICS_PATH, async (c) => {
    const header = c.req.header('authorization');
    if (!isMetricsToken(header) && (auth !== null || tokenDigest !== null)) {
      if (auth === null) {
        // Only the metrics token opens it.
        deps.onAuthFailure?.();
        const error = new KotakError('auth_failed', header ? 'wrong metrics token' : 'authentication required: "Authorization: Bearer <token>" (--metrics-token)');
        return c.json(error.toJSON(), 401, { 'WWW-Authenticate': 'Bearer realm="Kotak metrics"' });
      }
      const check = await auth.check(header, (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress ?? '');
      if (!check.ok) {
        if (check.reason === 'wrong') deps.onAuthFailure?.();
        const error = authError(check);
        if (check.reason === 'throttled') return c.json(error.toJSON(), 429, { 'Retry-After': String(check.retryAfterS) });
        return c.json(error.toJSON(), 401, { 'WWW-Authenticate': AUTH_CHALLENGE });
      }
      if (check.scope.kind !== 'all') {
        const error = new KotakError('mailbox_not_allowed', 'a login limited to some mailboxes may not read /metrics: its labels name every mailbox');
        return c.json(error.toJSON(), 403);
      }
    }
    try {
      const { contentType, body } = await endpoint.render();
      return c.body(body, 200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
    } catch (err) {
      log.error({ err }, 'metrics could not be rendered');
      throw err;
    }
  });
  app.openAPIRegistry.registerPath(metricsRoute);
}
