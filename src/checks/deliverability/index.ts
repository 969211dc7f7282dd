/**
 * The deliverability check: what Gmail, Yahoo and other receivers will make of a message's
 * authentication and sender hygiene, judged from its raw bytes and DNS (DKIM keys, DMARC records)
 * through the process's resolver. Free of HTTP: the route hands it the raw message and its
 * envelope sender. Bounded: messages over `maxBytes` are refused, each lookup has `perLookupMs`
 * and all of them together `totalMs`; a lookup past its time is a temperror in the answer.
 */
import { KotakError } from '../../errors.js';
import type { DnsResolver } from '../../dns.js';
import { alignmentOf, asciiDomain, type Alignment } from './alignment.js';
import { verifyDkim, type DkimReport } from './dkim.js';
import { lookupDmarc, type DmarcReport } from './dmarc.js';
import { boundedTxtLookup } from './dns-lookups.js';
import { readHeaderFields, type HeaderField } from './headers.js';
import { judgeBulk, judgeBulkSenderRules, type BulkJudgement, type RuleReport } from './bulk-rules.js';
import { checkUnsubscribe, type UnsubscribeReport } from './unsubscribe.js';

export interface DeliverabilityLimits {
  readonly maxBytes: number;
  /** The header section: mailauth canonicalizes it once per signature. */
  readonly maxHeaderBytes: number;
  /** DKIM-Signature fields: each costs a DNS lookup and a pass over the headers. */
  readonly maxSignatures: number;
  readonly perLookupMs: number;
  readonly totalMs: number;
}

export const DELIVERABILITY_LIMITS: DeliverabilityLimits = {
  maxBytes: 32 * 1024 * 1024,
  maxHeaderBytes: 1024 * 1024,
  maxSignatures: 10,
  perLookupMs: 3000,
  totalMs: 10_000,
};

export interface DeliverabilityDeps {
  readonly resolver: Pick<DnsResolver, 'resolveTxt'>;
  readonly limits?: DeliverabilityLimits;
  /** Milliseconds since the epoch (signature expiry, the deadline); Date.now by default. */
  readonly now?: () => number;
}

export interface DeliverabilityReport {
  readonly from: { readonly address: string | null; readonly domain: string | null };
  /** The SMTP envelope sender (MAIL FROM) and whether its domain aligns with From (what SPF alignment would need). */
  readonly envelope: { readonly mailFrom: string | null; readonly domain: string | null; readonly alignment: Alignment | null };
  readonly dkim: DkimReport;
  /** null when there is no From domain to look up. */
  readonly dmarc: DmarcReport | null;
  readonly unsubscribe: UnsubscribeReport;
  readonly bulk: BulkJudgement;
  readonly rules: readonly RuleReport[];
}

const domainOf = (address: string | null): string | null => {
  const at = address?.lastIndexOf('@') ?? -1;
  return address && at > 0 && at < address.length - 1 ? asciiDomain(address.slice(at + 1)) : null;
};

export async function checkDeliverability(raw: Buffer, envelopeFrom: string | null, deps: DeliverabilityDeps): Promise<DeliverabilityReport> {
  const limits = deps.limits ?? DELIVERABILITY_LIMITS;
  if (raw.length > limits.maxBytes) {
    throw new KotakError('check_too_large', `the message is ${raw.length} bytes; the deliverability check reads at most ${limits.maxBytes}`);
  }
  const now = deps.now ?? Date.now;
  const lookup = boundedTxtLookup(deps.resolver, { perLookupMs: limits.perLookupMs, deadline: now() + limits.totalMs, now });
  const fields = readHeaderFields(raw, limits.maxHeaderBytes);
  if (fields === null) {
    throw new KotakError('check_too_large', `the message's header section is over ${limits.maxHeaderBytes} bytes, more than the deliverability check reads`);
  }
  const signatureCount = fields.filter((f) => f.name === 'dkim-signature').length;
  if (signatureCount > limits.maxSignatures) {
    throw new KotakError('check_too_large', `the message has ${signatureCount} DKIM signatures; the deliverability check verifies at most ${limits.maxSignatures}`);
  }
  const fromAddresses = fromAddressesOf(fields);
  const fromAddress = fromAddresses.length === 1 ? fromAddresses[0]! : null;
  const fromDomain = domainOf(fromAddress);

  const dkim = await verifyDkim(raw, fields, fromDomain, lookup, new Date(now()));
  const dmarc = fromDomain ? await lookupDmarc(fromDomain, dkim.aligned, lookup) : null;
  const unsubscribe = checkUnsubscribe(fields, dkim.signatures);
  const bulk = judgeBulk(fields);
  const mailFrom = envelopeFrom && envelopeFrom.trim() !== '' ? envelopeFrom : null;
  const envelopeDomain = domainOf(mailFrom);
  return {
    from: { address: fromAddress, domain: fromDomain },
    envelope: { mailFrom, domain: envelopeDomain, alignment: fromDomain && envelopeDomain ? alignmentOf(fromDomain, envelopeDomain) : null },
    dkim,
    dmarc,
    unsubscribe,
    bulk,
    rules: judgeBulkSenderRules({ fields, fromAddresses, fromDomain, dkim, dmarc, unsubscribe, bulk }),
  };
}

/** The addresses of the From fields: the part in angle brackets, else the whole bare address; group syntax and comments are rare in From and read as written. */
function fromAddressesOf(fields: readonly HeaderField[]): string[] {
  const addresses: string[] = [];
  for (const field of fields.filter((f) => f.name === 'from')) {
    for (const part of splitAddressList(field.value)) {
      const bracketed = /<([^<>]*)>\s*$/.exec(part);
      const address = (bracketed ? bracketed[1]! : part.replace(/\([^()]*\)/g, '')).trim();
      if (address.includes('@')) addresses.push(address);
    }
  }
  return addresses;
}

/** Commas outside quotes and angle brackets separate addresses. */
function splitAddressList(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let bracketed = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && quoted) {
      current += ch + (value[++i] ?? '');
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') bracketed = true;
    else if (!quoted && ch === '>') bracketed = false;
    if (ch === ',' && !quoted && !bracketed) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}
