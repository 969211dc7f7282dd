/**
 * Where mail for a domain goes, decided as an MTA decides it (RFC 5321 section 5.1, RFC 7505):
 * IDNA to ASCII, MX lookup, hosts by preference with equal preferences shuffled, the domain itself
 * as an implicit MX when it has no MX records, no delivery at all for a null MX or a name that does
 * not exist. Every DNS failure is classified once here as permanent (the message can never be
 * delivered) or temporary (try again later), which is what the queue acts on.
 *
 * DNS goes through the small `MxResolver` interface, so tests and the composition root choose the
 * servers (`createDnsResolver({ servers: ['127.0.0.1:5353'] })`) or inject a fake.
 */
import type { MxRecord } from 'node:dns';
import net from 'node:net';
// The process's one resolver is built in src/dns.ts; re-exported for the relay's callers and tests.
export { createDnsResolver, type DnsResolverOptions } from '../dns.js';
import { parseAddressLiteral, toAsciiDomain } from './domain.js';

/** The three lookups the relay makes. `node:dns/promises`' `Resolver` has this shape; failures reject with its error codes. */
export interface MxResolver {
  resolveMx(name: string): Promise<MxRecord[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export interface MxHost {
  readonly host: string;
  readonly preference: number;
}

export type Destination =
  /** Try these in order until one accepts the mail; `host` is a name, or an IP for an address literal. */
  | { readonly kind: 'hosts'; readonly hosts: readonly MxHost[] }
  /** The mail can never be delivered there: fail it now, without connecting to anything. */
  | { readonly kind: 'permanent'; readonly reason: string }
  /** DNS could not answer now: defer and try again later. */
  | { readonly kind: 'temporary'; readonly reason: string };

export type HostAddresses =
  /** IPv4 first: many sandboxes and CI containers have no IPv6 route, so that order fails over least. */
  | { readonly kind: 'addresses'; readonly addresses: readonly string[] }
  | { readonly kind: 'permanent'; readonly reason: string }
  | { readonly kind: 'temporary'; readonly reason: string };

export interface MxDeps {
  readonly resolver: MxResolver;
  /** A number in [0, 1), as Math.random; tests inject it to fix the order of equal preferences. */
  readonly random?: () => number;
}


/** The destination of mail to `domain`, the part of a recipient address after the @. */
export async function resolveDestination(domain: string, deps: MxDeps): Promise<Destination> {
  if (domain.startsWith('[')) {
    const ip = parseAddressLiteral(domain);
    if (ip === undefined) return { kind: 'permanent', reason: `${domain} is not a valid address literal` };
    return { kind: 'hosts', hosts: [{ host: ip, preference: 0 }] };
  }
  const name = toAsciiDomain(domain);
  if (name === undefined) return { kind: 'permanent', reason: `"${domain}" is not a valid domain name` };

  const mx = await lookup('MX', name, () => deps.resolver.resolveMx(name));
  switch (mx.kind) {
    case 'failed':
      return { kind: mx.permanent ? 'permanent' : 'temporary', reason: mx.reason };
    case 'found':
      return orderMxHosts(name, mx.records, deps.random ?? Math.random);
    case 'none':
      return implicitMx(name, deps.resolver);
  }
}

/** The addresses to connect to for an MX host (or an IP, returned as it is, without DNS). */
export async function resolveHostAddresses(host: string, deps: Pick<MxDeps, 'resolver'>): Promise<HostAddresses> {
  if (net.isIP(host) !== 0) return { kind: 'addresses', addresses: [host] };
  const [v4, v6] = await Promise.all([
    lookup('A', host, () => deps.resolver.resolve4(host)),
    lookup('AAAA', host, () => deps.resolver.resolve6(host)),
  ]);
  const addresses = [v4, v6].flatMap((result) => (result.kind === 'found' ? result.records : []));
  if (addresses.length > 0) return { kind: 'addresses', addresses };
  const failures = [v4, v6].flatMap((result) => (result.kind === 'failed' ? [result] : []));
  const temporary = failures.find((failure) => !failure.permanent);
  if (temporary) return { kind: 'temporary', reason: temporary.reason };
  return { kind: 'permanent', reason: failures[0]?.reason ?? `${host} has no A or AAAA records` };
}

/**
 * RFC 7505: a null MX (`MX 0 .`) says the domain accepts no mail. It must be alone; if it is
 * mixed with real MX records the domain is misconfigured, and not delivering is the safe reading.
 * Exchanges that are not host names (an IP address written as an MX name, RFC 5321 5.1 forbids it)
 * are skipped; if none is left, the MX set is unusable, which 5.1 says must be reported as an error.
 */
function orderMxHosts(domain: string, records: readonly MxRecord[], random: () => number): Destination {
  const exchanges = records.map((record) => ({ host: record.exchange.replace(/\.$/, '').toLowerCase(), preference: record.priority }));
  if (exchanges.some((mx) => mx.host === '')) {
    return { kind: 'permanent', reason: `${domain} accepts no mail (null MX, RFC 7505)` };
  }
  const lowest = new Map<string, number>();
  for (const { host, preference } of exchanges) {
    if (toAsciiDomain(host) !== host) continue;
    lowest.set(host, Math.min(preference, lowest.get(host) ?? preference));
  }
  if (lowest.size === 0) return { kind: 'permanent', reason: `${domain} has no usable MX host (${exchanges.map((mx) => mx.host).join(', ')})` };

  // Sorted by name first, so the order depends on the random source alone, not on DNS answer order.
  const sorted = [...lowest].map(([host, preference]) => ({ host, preference }));
  sorted.sort((a, b) => a.preference - b.preference || (a.host < b.host ? -1 : 1));
  const hosts: MxHost[] = [];
  for (let start = 0; start < sorted.length; ) {
    let end = start + 1;
    while (end < sorted.length && sorted[end]!.preference === sorted[start]!.preference) end++;
    hosts.push(...shuffle(sorted.slice(start, end), random));
    start = end;
  }
  return { kind: 'hosts', hosts };
}

/** RFC 5321 5.1: no MX records, but the name exists → the domain itself, preference 0, if it has an address. */
async function implicitMx(domain: string, resolver: MxResolver): Promise<Destination> {
  const addresses = await resolveHostAddresses(domain, { resolver });
  if (addresses.kind === 'addresses') return { kind: 'hosts', hosts: [{ host: domain, preference: 0 }] };
  if (addresses.kind === 'temporary') return addresses;
  return { kind: 'permanent', reason: `${domain} has no MX, A or AAAA records` };
}

/** Fisher–Yates: every order equally likely (RFC 5321 5.1 asks senders to spread load over equal preferences). */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

type Lookup<T> =
  | { readonly kind: 'found'; readonly records: readonly T[] }
  /** NODATA: the name exists but has no records of this type. */
  | { readonly kind: 'none' }
  | { readonly kind: 'failed'; readonly permanent: boolean; readonly reason: string };

/** node:dns error codes (c-ares) → what they mean for delivery. Anything not listed is temporary. */
const DNS_FAILURES: Record<string, { readonly permanent: boolean; readonly text: string }> = {
  ENOTFOUND: { permanent: true, text: 'the name does not exist (NXDOMAIN)' },
  EBADNAME: { permanent: true, text: 'the name cannot be looked up' },
  ESERVFAIL: { permanent: false, text: 'the DNS server failed (SERVFAIL)' },
  ETIMEOUT: { permanent: false, text: 'no answer from the DNS server (timeout)' },
  ECONNREFUSED: { permanent: false, text: 'the DNS server could not be reached (connection refused)' },
  EREFUSED: { permanent: false, text: 'the DNS server refused the query (REFUSED)' },
  EBADRESP: { permanent: false, text: 'the DNS server sent a malformed answer' },
  EFORMERR: { permanent: false, text: 'the DNS server could not read the query (FORMERR)' },
  ENOTIMP: { permanent: false, text: 'the DNS server does not implement the query (NOTIMP)' },
  ECANCELLED: { permanent: false, text: 'the lookup was cancelled' },
};

async function lookup<T>(type: string, name: string, query: () => Promise<T[]>): Promise<Lookup<T>> {
  try {
    const records = await query();
    return records.length > 0 ? { kind: 'found', records } : { kind: 'none' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENODATA') return { kind: 'none' };
    const failure = DNS_FAILURES[code] ?? { permanent: false, text: `DNS lookup failed (${code || (err as Error).message})` };
    return { kind: 'failed', permanent: failure.permanent, reason: `${type} lookup of ${name}: ${failure.text}` };
  }
}
