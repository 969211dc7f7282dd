/**
 * The TXT lookups of one deliverability check, as mailauth asks for them (`resolver(name, type)`),
 * through the process's resolver (src/dns.ts), each bounded: a lookup gets at most `perLookupMs`,
 * and none outlives the check's deadline, so a silent DNS server costs a temperror, not a hang.
 */
import type { DnsResolver } from '../../dns.js';

export type TxtLookup = (name: string, type: string) => Promise<string[][]>;

export interface LookupBounds {
  readonly perLookupMs: number;
  /** When the whole check must be done (a `now()` value). */
  readonly deadline: number;
  readonly now: () => number;
}

/** Rejects as c-ares does for a server that never answers, so mailauth files it as a temperror. */
function timedOut(name: string): Error {
  return Object.assign(new Error(`DNS lookup of ${name} timed out`), { code: 'ETIMEOUT' });
}

export function boundedTxtLookup(resolver: Pick<DnsResolver, 'resolveTxt'>, bounds: LookupBounds): TxtLookup {
  return async (name, type) => {
    if (type !== 'TXT') throw Object.assign(new Error(`${type} lookups are not made by this check`), { code: 'ENOTIMP' });
    const allowed = Math.min(bounds.perLookupMs, bounds.deadline - bounds.now());
    if (allowed <= 0) throw timedOut(name);
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut(name)), allowed);
    });
    try {
      // The abandoned query ends by itself within the resolver's own timeout.
      return await Promise.race([resolver.resolveTxt(name), expiry]);
    } finally {
      clearTimeout(timer);
    }
  };
}
