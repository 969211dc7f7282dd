/**
 * The From domain's DMARC record (RFC 7489 6.6.3: `_dmarc.<domain>`, then the organizational
 * domain's), looked up with mailauth's own reader, and whether the message's DKIM would satisfy
 * it (alignment as the record's adkim= asks). SPF is not judged: it depends on the sending
 * server's address, which a sandbox never sees as a receiver would.
 */
import getDmarcRecord from 'mailauth/lib/dmarc/get-dmarc-record.js';
import type { Alignment } from './alignment.js';
import type { TxtLookup } from './dns-lookups.js';

export interface DmarcPolicy {
  readonly p: string | null;
  readonly sp: string | null;
  /** r (relaxed, the default) or s (strict). */
  readonly adkim: 'r' | 's';
  readonly aspf: 'r' | 's';
  /** 100 when not given. */
  readonly pct: number;
}

export type DmarcReport =
  | {
      readonly result: 'found';
      /** The From domain. */
      readonly domain: string;
      /** The record is the organizational domain's (none at `_dmarc.<domain>` itself); then sp= applies. */
      readonly atOrganizationalDomain: boolean;
      readonly record: string;
      readonly policy: DmarcPolicy;
      /** Whether a passing DKIM signature aligns as the record's adkim= asks (DMARC would pass on DKIM). */
      readonly dkimAligned: boolean;
      readonly reason: string;
    }
  | { readonly result: 'none' | 'temperror'; readonly domain: string; readonly reason: string };

const mode = (value: string | undefined): 'r' | 's' => (value?.trim().toLowerCase() === 's' ? 's' : 'r');

export async function lookupDmarc(fromDomain: string, dkimAligned: Alignment, lookup: TxtLookup): Promise<DmarcReport> {
  let record;
  try {
    record = await getDmarcRecord(fromDomain, lookup);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { result: 'temperror', domain: fromDomain, reason: `DNS did not answer for _dmarc.${fromDomain} (${code})` };
  }
  if (!record) return { result: 'none', domain: fromDomain, reason: `no DMARC record at _dmarc.${fromDomain} or its organizational domain` };
  const policy: DmarcPolicy = {
    p: record.p?.trim().toLowerCase() || null,
    sp: record.sp?.trim().toLowerCase() || null,
    adkim: mode(record.adkim),
    aspf: mode(record.aspf),
    pct: typeof record.pct === 'number' ? record.pct : 100,
  };
  const aligned = policy.adkim === 's' ? dkimAligned.strict : dkimAligned.relaxed;
  const where = record.isOrgRecord ? 'the organizational domain' : fromDomain;
  return {
    result: 'found',
    domain: fromDomain,
    atOrganizationalDomain: record.isOrgRecord,
    record: record.rr,
    policy,
    dkimAligned: aligned,
    reason: `p=${policy.p ?? '(missing)'} at ${where}; DKIM ${aligned ? 'aligns' : 'does not align'} ${policy.adkim === 's' ? 'strictly' : '(relaxed)'}`,
  };
}

