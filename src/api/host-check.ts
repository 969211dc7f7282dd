/**
 * DNS rebinding: a page at http://attacker.example:8025 whose name is re-pointed at 127.0.0.1 is,
 * to the browser, the same origin as Kotak, so the origin check (origin.ts) lets its scripts read
 * every message. What gives it away is the Host header: the attacker's name, not one Kotak answers
 * to. So every request must name a host Kotak knows: loopback names (`localhost`, `*.localhost`),
 * an IP address, a name without dots (compose service and container names, `kotak`; public DNS has
 * no such names for an attacker to re-point), `--hostname`, or one listed in `--http-allowed-hosts`.
 *
 * Every request, not only those that look like a browser's: Chromium sends neither `Sec-Fetch-*`
 * nor `Origin` with a same-origin GET (a page loading `/`, fetching `/api/messages`), so a guard
 * that waits for those headers lets the rebinding page read the inbox (issue 15). A request with no
 * Host (HTTP/1.0) is refused too: none reaches this check in practice (Node answers HTTP/1.1
 * without Host with 400, and the Hono adapter does the same for HTTP/1.0, as it cannot build the
 * request's URL), and "every request names a known host" is simpler to trust than an exception
 * no client needs: every browser, curl and HTTP library sends Host.
 *
 * The check is off when HTTP authentication is on: the attacker's origin holds no credentials for
 * Kotak, so it gets 401 whatever its Host.
 */
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { KotakError } from '../errors.js';

export interface HostPolicy {
  /** May a request whose Host header is this go on? */
  admits(host: string | undefined): boolean;
}

/** `allowed`: names from --http-allowed-hosts; `.example.test` allows it and its subdomains; `*` allows any. */
export function createHostPolicy(settings: { allowed: readonly string[]; hostname: string; authOn: boolean }): HostPolicy {
  const anyHost = settings.authOn || settings.allowed.includes('*');
  const exact = new Set([settings.hostname, ...settings.allowed].map((h) => h.toLowerCase()).filter((h) => !h.startsWith('.')));
  const suffixes = settings.allowed.map((h) => h.toLowerCase()).filter((h) => h.startsWith('.'));

  return {
    admits(host) {
      if (anyHost) return true;
      const name = hostName(host);
      if (name === null) return false;
      if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || !name.includes('.')) return true;
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

export function hostRefusal(host: string | undefined): KotakError {
  const shown = (host ?? '').slice(0, 200);
  return new KotakError(
    'host_not_allowed',
    `Kotak was reached as "${shown}", a name it does not know (a DNS rebinding attack looks like this): use localhost, an IP address or a name without dots, or start Kotak with --http-allowed-hosts ${hostName(host) ?? 'NAME'} (or turn on --http-auth)`,
  );
}

/** Hono middleware, first after the security headers: refuses requests under an unknown Host. */
export function guardHost(policy: HostPolicy): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (policy.admits(host)) return next();
    const error = hostRefusal(host);
    return c.json(error.toJSON(), error.httpStatus as 403);
  };
}
