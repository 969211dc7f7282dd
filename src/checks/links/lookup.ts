/**
 * Name → addresses for the link check, injectable: the system's resolver by default (so /etc/hosts
 * and `localhost` work as in a browser), or given DNS servers (a loopback server in tests).
 */
import { promises as dns } from 'node:dns';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type HostLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** getaddrinfo, as browsers resolve: every address, in the order the system gives. */
export const systemLookup: HostLookup = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true, order: 'verbatim' });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** A/AAAA queries to these servers (`127.0.0.1:5353`, as node:dns's setServers takes them). */
export function dnsServerLookup(servers: readonly string[]): HostLookup {
  const resolver = new dns.Resolver({ timeout: 2_000, tries: 2 });
  resolver.setServers([...servers]);
  const noData = (err: unknown) => ['ENODATA', 'ENOTFOUND'].includes((err as NodeJS.ErrnoException).code ?? '');
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const addresses: ResolvedAddress[] = [];
    if (v4.status === 'fulfilled') addresses.push(...v4.value.map((address) => ({ address, family: 4 as const })));
    if (v6.status === 'fulfilled') addresses.push(...v6.value.map((address) => ({ address, family: 6 as const })));
    if (addresses.length > 0) return addresses;
    // Neither family answered: the first real failure, else "no such host".
    const failure = [v4, v6].find((r): r is PromiseRejectedResult => r.status === 'rejected' && !noData(r.reason));
    throw failure ? failure.reason : Object.assign(new Error(`${hostname}: no such host`), { code: 'ENOTFOUND' });
  };
}
