/**
 * DNS rebinding: a page at http://attacker.example:8025 whose name is re-pointed at 127.0.0.1 is,
 * to the browser, the same origin as Kotak, so the origin check (origin.ts) lets its scripts read
 * every message. What gives it away is the Host header: the attacker's name, not one Kotak answers
 * to. So a request from a browser must name a host Kotak knows: loopback names (`localhost`,
 * `*.localhost`), an IP address, `--hostname`, or one listed in `--http-allowed-hosts`.
 *
 * Only browser requests are checked (they carry `Sec-Fetch-*` or `Origin`): rebinding happens in a
 * browser, and test suites and API clients often reach Kotak by a service name
 * (`http://kotak:8025` in a compose network). The check is off when HTTP authentication is on: the
 * attacker's origin holds no credentials for Kotak, so it gets 401 whatever its Host.
 */
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { KotakError } from '../errors.js';

export interface HostPolicy {
  /** May a request with these headers go on? */
  admits(facts: HostFacts): boolean;
}

export interface HostFacts {
  readonly host: string | undefined;
  /** True when the request comes from a browser (Sec-Fetch-* or Origin present). */
  readonly fromBrowser: boolean;
}

/** `allowed`: names from --http-allowed-hosts; `.example.test` allows it and its subdomains; `*` allows any. */
export function createHostPolicy(settings: { allowed: readonly string[]; hostname: string; authOn: boolean }): HostPolicy {
  const anyHost = settings.authOn || settings.allowed.includes('*');
  const exact = new Set([settings.hostname, ...settings.allowed].map((h) => h.toLowerCase()).filter((h) => !h.startsWith('.')));
  const suffixes = settings.allowed.map((h) => h.toLowerCase()).filter((h) => h.startsWith('.'));

  return {
    admits({ host, fromBrowser }) {
      if (anyHost || !fromBrowser) return true;
      const name = hostName(host);
      if (name === null) return false;
      if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
      return exact.has(name) || suffixes.some((suffix) => name.endsWith(suffix) || name === suffix.slice(1));
    },
  };
}

/** The name of a Host header value, lower case, without port or IPv6 brackets; null when unreadable. */
export function hostName(host: string | undefined): string | null {
  const value = host?.trim().toLowerCase();
  if (!value) return null;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end > 1 ? value.slice(1, end) : null;
  }
  const name = value.replace(/:\d*$/, '').replace(/\.$/, '');
  // Underscores are not valid in DNS host names, but compose service and container names have them.
  return /^[a-z0-9_.-]+$/.test(name) ? name : null;
}

export function isBrowserRequest(header: (name: string) => string | undefined): boolean {
  return header('sec-fetch-site') !== undefined || header('sec-fetch-mode') !== undefined || header('origin') !== undefined;
}

export function hostRefusal(host: string | undefined): KotakError {
  const shown = (host ?? '').slice(0, 200);
  return new KotakError(
    'host_not_allowed',
    `this browser reached Kotak as "${shown}", a name Kotak does not know (a DNS rebinding attack looks like this): use localhost or an IP address, or allow the name with --http-allowed-hosts ${hostName(host) ?? 'NAME'} (or turn on --http-auth)`,
  );
}

/** Hono middleware, first after the security headers: refuses browser requests under an unknown Host. */
export function guardHost(policy: HostPolicy): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (policy.admits({ host, fromBrowser: isBrowserRequest((name) => c.req.header(name)) })) return next();
    const error = hostRefusal(host);
    return c.json(error.toJSON(), error.httpStatus as 403);
  };
}
