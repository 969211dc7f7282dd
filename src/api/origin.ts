/**
 * Which browser pages may use Kotak: its own (same host as the request, whatever the scheme and
 * path, so TLS-terminating proxies and --http-base-path work), the exact origins given to
 * `--http-cors`, and with `--http-cors '*'` any page, but never with Basic credentials.
 *
 * Enforced in three places: WebSocket handshakes (a page elsewhere must not read the mailbox
 * through the user's browser: Mailpit's CVE-2026-22689), requests that change something (a form
 * on another site can POST text/plain without a preflight), and CORS headers on reads. A request
 * without an Origin header comes from outside a browser (curl, `ws`, a test suite) and is let
 * through; authentication, when on, still applies to it.
 *
 * Why `*` refuses Basic: a browser attaches the Basic credentials it has cached for Kotak to any
 * request or WebSocket to it, from any page; a Bearer token is only there if the page's own script
 * put it there, so it proves the page was given the token.
 */
import type { MiddlewareHandler } from 'hono';
import { KotakError } from '../errors.js';

/** The request headers that decide, as sent (undefined when absent). */
export interface OriginFacts {
  readonly origin: string | undefined;
  readonly host: string | undefined;
  /** A reverse proxy's record of the Host it was asked for; a browser page cannot set it. */
  readonly forwardedHost: string | undefined;
  readonly authorization: string | undefined;
}

export interface OriginPolicy {
  /** May the page at `facts.origin` (or a client without an Origin) use Kotak in this request? */
  admits(facts: OriginFacts): boolean;
  /** CORS headers for a cross-origin response to `origin`, or null when it gets none. */
  corsHeaders(origin: string): Record<string, string> | null;
  /** Whether any cross-origin page is allowed (so responses vary by Origin). */
  readonly corsEnabled: boolean;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type',
  'Access-Control-Max-Age': '600',
};
const EXPOSED_HEADERS = 'Content-Disposition, X-Remote-Blocked';

/** host[:port] in lower case without the scheme's default port; null when unreadable. */
function originHost(origin: string): { host: string; defaultPort: string } | null {
  try {
    const url = new URL(origin);
    const defaultPort = DEFAULT_PORTS[url.protocol];
    return defaultPort === undefined ? null : { host: url.host.toLowerCase(), defaultPort };
  } catch {
    return null;
  }
}

function sameHost(originHostPort: { host: string; defaultPort: string }, header: string | undefined): boolean {
  // A proxy may send a list; the first is what the browser asked for.
  const value = header?.split(',')[0]?.trim().toLowerCase();
  if (!value) return false;
  return value === originHostPort.host || value === `${originHostPort.host}:${originHostPort.defaultPort}`;
}

const hasBasicCredentials = (authorization: string | undefined): boolean => /^\s*basic\s/i.test(authorization ?? '');

export function createOriginPolicy(cors: readonly string[]): OriginPolicy {
  const wildcard = cors.includes('*');
  const listed = new Set(cors.filter((o) => o !== '*'));

  return {
    corsEnabled: cors.length > 0,
    admits(facts) {
      const origin = facts.origin;
      if (origin === undefined) return true;
      if (listed.has(origin)) return true;
      const own = originHost(origin);
      if (own && (sameHost(own, facts.host) || sameHost(own, facts.forwardedHost))) return true;
      return wildcard && !hasBasicCredentials(facts.authorization);
    },
    corsHeaders(origin): Record<string, string> | null {
      if (listed.has(origin)) {
        return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', 'Access-Control-Expose-Headers': EXPOSED_HEADERS };
      }
      if (wildcard) return { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSED_HEADERS };
      return null;
    },
  };
}

/** The facts of a request as Hono sees it. */
function factsOf(header: (name: string) => string | undefined): OriginFacts {
  return { origin: header('origin'), host: header('host'), forwardedHost: header('x-forwarded-host'), authorization: header('authorization') };
}

export function originRefusal(origin: string): KotakError {
  return new KotakError(
    'origin_not_allowed',
    `requests from the page at ${origin.slice(0, 200)} are not allowed: only the inbox's own origin and --http-cors origins are (behind a reverse proxy, forward the Host header, e.g. nginx's proxy_set_header Host $host)`,
  );
}

/**
 * Hono middleware, placed before authentication: answers CORS preflights (browsers send them
 * without credentials), refuses state-changing requests from pages that are not admitted, and
 * adds CORS headers to the responses an allowed origin may read.
 */
export function guardOrigins(policy: OriginPolicy): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('origin');
    const cors = origin === undefined ? null : policy.corsHeaders(origin);

    if (c.req.method === 'OPTIONS' && origin !== undefined && c.req.header('access-control-request-method') !== undefined) {
      if (cors === null) {
        const error = originRefusal(origin);
        return c.json(error.toJSON(), error.httpStatus as 403);
      }
      return c.body(null, 204, { ...cors, ...PREFLIGHT_HEADERS });
    }
    if (!SAFE_METHODS.has(c.req.method) && !policy.admits(factsOf((name) => c.req.header(name)))) {
      const error = originRefusal(origin ?? 'null');
      return c.json(error.toJSON(), error.httpStatus as 403);
    }
    await next();
    // Set on the finished response, so every kind (JSON, errors, downloads) carries them.
    if (policy.corsEnabled) c.res.headers.append('Vary', 'Origin');
    if (cors !== null) for (const [name, value] of Object.entries(cors)) c.res.headers.set(name, value);
  };
}
