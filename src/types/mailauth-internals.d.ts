/**
 * The two helpers of mailauth 4 (CommonJS, no typings for these files) that the deliverability check
 * uses besides its typed `dkimVerify`: the public-suffix-aware domain comparison its DMARC module
 * aligns with, and its DMARC record lookup (the From domain's, then its organizational domain's).
 */
declare module 'mailauth/lib/tools.js' {
  /** The entry of `domainList` whose organizational domain (tldts, public suffix list) is `fromDomain`'s, or false. Called with strict=false: its strict branch falls through to the relaxed one. */
  export function getAlignment(fromDomain: string, domainList: readonly string[], strict: false): { domain: string } | false;
}

declare module 'mailauth/lib/dmarc/get-dmarc-record.js' {
  export interface DmarcRecordTags {
    readonly v?: string;
    readonly p?: string;
    readonly sp?: string;
    readonly adkim?: string;
    readonly aspf?: string;
    /** Parsed as an integer (0 when not a number). */
    readonly pct?: number;
    /** The record as published. */
    readonly rr: string;
    /** Found at the organizational domain, not at the From domain itself. */
    readonly isOrgRecord: boolean;
  }
  /** false: no record (NXDOMAIN, NODATA, none or several `v=DMARC1` TXT records); a DNS failure rejects. */
  function getDmarcRecord(domain: string, resolver: (name: string, type: string) => Promise<string[][]>): Promise<DmarcRecordTags | false>;
  export default getDmarcRecord;
}
