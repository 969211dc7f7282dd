/**
 * Every DKIM-Signature of a message, verified by mailauth (key fetched over DNS through the
 * check's bounded lookup), in the words of RFC 8601: pass, fail (with the reason), temperror (DNS
 * could not answer now) or permerror (no usable key, or a signature this verifier cannot use).
 */
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import type { DKIMResult } from 'mailauth';
import { alignmentOf, type Alignment } from './alignment.js';
import type { TxtLookup } from './dns-lookups.js';
import { fieldsNamed, type HeaderField } from './headers.js';

export type DkimResult = 'pass' | 'fail' | 'temperror' | 'permerror';

export interface DkimSignatureReport {
  /** d= */
  readonly domain: string;
  /** s= */
  readonly selector: string;
  /** a=, e.g. rsa-sha256 */
  readonly algorithm: string;
  readonly result: DkimResult;
  /** Why it did not pass; null when it passed. */
  readonly reason: string | null;
  /** Alignment of d= with the From domain; it counts for DMARC only when the signature passes. */
  readonly alignment: Alignment;
  /** Lower-cased names of the present header fields the signature covers (h=). */
  readonly coveredHeaders: readonly string[];
}

export interface DkimReport {
  readonly signatures: readonly DkimSignatureReport[];
  /** Whether some passing signature aligns with the From domain. */
  readonly aligned: Alignment;
}

/** Tags of a DKIM-Signature field value (RFC 6376 3.2), folding whitespace removed from b=. */
function signatureTags(value: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return tags;
}

/** mailauth says "neutral" for most of what RFC 8601 calls fail or permerror; its comment says which. */
function classify(status: DKIMResult['status']): { result: DkimResult; reason: string | null } {
  const comment = status.comment ?? null;
  switch (status.result) {
    case 'pass':
      return { result: 'pass', reason: null };
    case 'fail':
      return { result: 'fail', reason: comment ?? 'bad signature' };
    case 'temperror':
    case 'temperr':
      return { result: 'temperror', reason: comment ?? 'DNS failure' };
    case 'policy':
      return { result: 'permerror', reason: 'the key is shorter than 1024 bits' };
    default:
      if (comment === 'body hash did not verify') return { result: 'fail', reason: 'body hash did not verify (the body changed after signing)' };
      if (comment === 'no key') return { result: 'permerror', reason: 'no key: the selector has no DKIM record in DNS' };
      return { result: 'permerror', reason: comment ?? 'the signature could not be verified' };
  }
}

export async function verifyDkim(raw: Buffer, fields: readonly HeaderField[], fromDomain: string | null, lookup: TxtLookup, now: Date): Promise<DkimReport> {
  const verified = await dkimVerify(raw, { resolver: lookup, curTime: now });
  const results = verified.results.filter((r) => r.signingDomain);
  const byB = new Map(results.map((r) => [String((r as { signature?: string }).signature ?? '').replace(/\s+/g, ''), r]));
  const signatures: DkimSignatureReport[] = [];
  const present = new Set(fields.map((f) => f.name));
  for (const field of fieldsNamed(fields, 'dkim-signature')) {
    const tags = signatureTags(field.value);
    const domain = tags.get('d') ?? '';
    const found = byB.get(tags.get('b') ?? '');
    const alignment = fromDomain && domain ? alignmentOf(fromDomain, domain) : { strict: false, relaxed: false };
    const h = (tags.get('h') ?? '').split(':').map((n) => n.trim().toLowerCase()).filter(Boolean);
    const coveredHeaders = [...new Set(h)].filter((name) => present.has(name));
    const base = { domain, selector: tags.get('s') ?? '', algorithm: tags.get('a') ?? '', alignment, coveredHeaders };
    // mailauth skips (leaves out of its results) what it cannot verify at all.
    if (!found) signatures.push({ ...base, result: 'permerror', reason: 'not verifiable: missing d= or s=, or an unsupported algorithm or canonicalization' });
    else signatures.push({ ...base, ...classify(found.status) });
  }
  const passing = signatures.filter((s) => s.result === 'pass');
  return {
    signatures,
    aligned: { strict: passing.some((s) => s.alignment.strict), relaxed: passing.some((s) => s.alignment.relaxed) },
  };
}
