/**
 * The Docker image's health check (`node bin/healthcheck.js`): asks /livez of the Kotak that this
 * environment configures. KOTAK_HTTP and KOTAK_HTTP_BASE_PATH go through the same settings table
 * as the server's, so the check follows whatever port and base path the container was given.
 */
import { resolveConfig } from './config.js';
import type { Config } from './config.js';

/** Docker's HEALTHCHECK --timeout is 5 s; answering before it says why in the check's output. */
const TIMEOUT_MS = 4000;

/** Where a server listening on `http` under `httpBasePath` answers /livez; a wildcard listener is asked on loopback. */
export function livezUrl(config: Pick<Config, 'http' | 'httpBasePath'>): string {
  const { host, port } = config.http;
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const authority = reachable.includes(':') ? `[${reachable}]` : reachable;
  return `http://${authority}:${port}${config.httpBasePath}livez`;
}

/** True when /livez answers 200; otherwise false, with the reason written to `report`. */
export async function checkHealth(env: NodeJS.ProcessEnv, report: (line: string) => void): Promise<boolean> {
  let url: string;
  try {
    url = livezUrl(resolveConfig({}, env));
  } catch (err) {
    report(`kotak healthcheck: ${(err as Error).message}`);
    return false;
  }
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (res.ok) return true;
    report(`kotak healthcheck: ${url} answered ${res.status}`);
  } catch (err) {
    // fetch says only "fetch failed"; the cause names it (ECONNREFUSED, a timeout).
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    report(`kotak healthcheck: ${url}: ${cause}`);
  }
  return false;
}
