/**
 * The one DNS resolver of a Kotak process: relay's MX and address lookups and the message checks'
 * TXT lookups (DKIM keys, DMARC records) all ask the servers of `--dns` (or its older name
 * `--relay-dns`), or the system's when none is given. Built once at the composition root.
 */
import { Resolver } from 'node:dns/promises';
import { KotakError } from './errors.js';

/** The lookups Kotak makes. `node:dns/promises`' `Resolver` has this shape; failures reject with its error codes. */
export interface DnsResolver {
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  /** Each record as its character-strings (a long TXT record comes in 255-byte chunks). */
  resolveTxt(name: string): Promise<string[][]>;
}

export interface DnsResolverOptions {
  /** `host`, `host:port`, `[v6]:port`; empty or absent: the system's resolvers. */
  readonly servers?: readonly string[];
  /** c-ares' per-try timeout; with 1 try, a silent server fails the lookup after about twice this (measured: 200 ms → ~400 ms). */
  readonly timeoutMs: number;
  /** How many times to ask each server. */
  readonly tries: number;
}

export function createDnsResolver(options: DnsResolverOptions): DnsResolver {
  try {
    const resolver = new Resolver({ timeout: options.timeoutMs, tries: options.tries });
    if (options.servers && options.servers.length > 0) resolver.setServers([...options.servers]);
    return resolver;
  } catch (err) {
    throw new KotakError('invalid_config', `DNS resolver (--dns): ${(err as Error).message}`, { cause: err });
  }
}
