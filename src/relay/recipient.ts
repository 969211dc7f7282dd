/**
 * The one form of a relay address. The allowlist judges it, the queue keys its jobs by it, the MX
 * lookup resolves its domain and the SMTP envelope carries it: if any of them read an address
 * another way, a pattern could approve one address while mail goes to another, or the same
 * recipient could be queued twice under two spellings.
 *
 * - The domain is its lower-case ASCII form (IDNA, UTS 46, see domain.ts): `qa@allowed。test`
 *   (an ideographic full stop) and `qa@Allowed.test` are `qa@allowed.test`, and `qa@bücher.test`
 *   goes out as `qa@xn--bcher-kva.test`, which needs no SMTPUTF8. UTS 46 also decides what
 *   invisible characters do in a domain: those it ignores (zero-width space U+200B, soft hyphen,
 *   word joiner, byte order mark, variation selectors) are removed, those it disallows (zero-width
 *   joiner and non-joiner outside the scripts that use them, direction marks) make the address
 *   unreadable. Either way nothing invisible is left in the name that is judged and sent.
 * - An address literal is written in one way: `[127.0.0.1]`, `[IPv6:2001:db8::1]`.
 * - The local part is kept as written (servers may tell case apart), but one holding a control,
 *   format or other default-ignorable character (zero-width space, joiners, direction overrides) is
 *   refused: it would look like another mailbox to whoever reads it, and no rule says which.
 * - A local part with non-ASCII characters (RFC 6531) can only go to a server that offers SMTPUTF8.
 */
import { parseAddressLiteral, toAsciiDomain } from './domain.js';

export interface RelayAddress {
  /** `local@domain` as it goes into the envelope. */
  readonly address: string;
  readonly local: string;
  /** The ASCII name that is looked up, or an address literal (`[192.0.2.1]`, `[IPv6:…]`). */
  readonly domain: string;
  /** A non-ASCII local part: only a server that offers SMTPUTF8 may be given it. */
  readonly needsSmtpUtf8: boolean;
}

/** Characters no local part may hold: controls, line and paragraph separators, lone surrogates, and invisible ones. */
const UNREADABLE_LOCAL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/u;

/** An address as written (no angle brackets) → its one form; `undefined` when it cannot be read with certainty. */
export function readRelayAddress(written: string): RelayAddress | undefined {
  const at = written.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = written.slice(0, at);
  if (UNREADABLE_LOCAL.test(local)) return undefined;
  const domain = canonicalDomain(written.slice(at + 1));
  if (domain === undefined) return undefined;
  return { address: `${local}@${domain}`, local, domain, needsSmtpUtf8: !/^[\x00-\x7F]*$/.test(local) };
}

function canonicalDomain(domain: string): string | undefined {
  if (!domain.startsWith('[')) return toAsciiDomain(domain);
  const ip = parseAddressLiteral(domain);
  if (ip === undefined) return undefined;
  return ip.includes(':') ? `[IPv6:${ip}]` : `[${ip}]`;
}
