/**
 * The one way the relay reads the domain of a recipient address: the allowlist judges, and the MX
 * lookup resolves, exactly the same ASCII name. If the two read a domain differently, a pattern
 * could approve one name while mail goes to another; sharing this module makes that impossible.
 */
import net from 'node:net';
import { domainToASCII } from 'node:url';

/** RFC 1035 2.3.4 and RFC 5321 4.5.3.1.2: 63 octets a label, 253 a name (255 on the wire). */
const MAX_LABEL = 63;
const MAX_NAME = 253;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * A domain as written in an address → its lower-case ASCII (A-label) form, the name that is looked
 * up in DNS; `undefined` when it is not a host name mail can be sent to.
 *
 * Non-ASCII is converted with IDNA (UTS 46, `node:url`), so `Bücher.example`, `bücher.example` and
 * `xn--bcher-kva.example` are one name. The ASCII characters written must already be letters, digits,
 * hyphens and dots: `domainToASCII` is the WHATWG URL host parser and would also percent-decode
 * (`a%41.test` → `aa.test`) and read numbers as IPv4 (`0x7f.1` → `127.0.0.1`), which no mail system
 * does. A trailing dot, an empty label and an all-numeric last label (an IPv4 address without the
 * brackets of an address literal) are refused as RFC 5321's Domain syntax refuses them.
 */
export function toAsciiDomain(domain: string): string | undefined {
  if (domain === '' || /[^a-z0-9.\-\u0080-\u{10FFFF}]/iu.test(domain)) return undefined;
  const ascii = domainToASCII(domain);
  if (ascii === '' || ascii.length > MAX_NAME) return undefined;
  const labels = ascii.split('.');
  if (!labels.every((label) => label.length <= MAX_LABEL && LDH_LABEL.test(label))) return undefined;
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return undefined;
  return ascii;
}

/**
 * `[127.0.0.1]` or `[IPv6:2001:DB8:0::1]` (RFC 5321 4.1.3) → the IP address in its canonical text
 * (`2001:db8::1`), so one address has one spelling; `undefined` for anything else, including RFC
 * 5321's general address literals (`[tag:…]`), which name no protocol we can connect with.
 */
export function parseAddressLiteral(domain: string): string | undefined {
  const inner = /^\[(.*)\]$/s.exec(domain)?.[1];
  if (inner === undefined) return undefined;
  if (net.isIPv4(inner)) return inner;
  const v6 = /^ipv6:(.*)$/is.exec(inner)?.[1];
  // A zone index (`fe80::1%eth0`) names an interface of this machine, not a destination.
  if (v6 === undefined || v6.includes('%') || !net.isIPv6(v6)) return undefined;
  return new net.SocketAddress({ address: v6, family: 'ipv6' }).address;
}
