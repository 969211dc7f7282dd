/**
 * DMARC identifier alignment (RFC 7489 3.1): strict when the two domains are the same, relaxed
 * when they share an organizational domain. The organizational domain comes from mailauth's own
 * comparison (tldts over the public suffix list), the one its DMARC verdict uses, so
 * `mail.example.co.uk` aligns with `example.co.uk` and `a.com` never with `b.com`.
 */
import { domainToASCII } from 'node:url';
import { getAlignment } from 'mailauth/lib/tools.js';

export interface Alignment {
  readonly strict: boolean;
  readonly relaxed: boolean;
}

export function asciiDomain(domain: string): string {
  const lower = domain.trim().toLowerCase().replace(/\.$/, '');
  return domainToASCII(lower) || lower;
}

export function alignmentOf(fromDomain: string, otherDomain: string): Alignment {
  const from = asciiDomain(fromDomain);
  const other = asciiDomain(otherDomain);
  if (from === '' || other === '') return { strict: false, relaxed: false };
  const strict = from === other;
  return { strict, relaxed: strict || getAlignment(from, [other], false) !== false };
}
