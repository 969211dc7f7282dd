/**
 * Which IP addresses the link check may connect to: only public unicast ones, unless private
 * targets are allowed (--link-check-private). Pure: an address in, a reason (or null) out.
 *
 * Addresses arrive in the forms node:dns and the WHATWG URL parser give (`127.0.0.1`, `::1`,
 * `::ffff:7f00:1`); decimal, octal and hex IPv4 forms in a URL are normalised by the URL parser
 * before they get here. IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4,
 * IPv4-compatible) are judged by the IPv4 address inside, as that is where the packets go.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

interface Range {
  readonly network: string;
  readonly prefix: number;
  readonly reason: string;
}

// IANA's special-purpose registries (RFC 6890 and successors), the ranges no public web server uses.
const IPV4_RANGES: readonly Range[] = [
  { network: '255.255.255.255', prefix: 32, reason: 'the broadcast address' },
  { network: '0.0.0.0', prefix: 8, reason: 'an unspecified ("this network") address' },
  { network: '10.0.0.0', prefix: 8, reason: 'a private address (RFC 1918)' },
  { network: '100.64.0.0', prefix: 10, reason: 'a carrier-grade NAT address (RFC 6598)' },
  { network: '127.0.0.0', prefix: 8, reason: 'a loopback address' },
  { network: '169.254.0.0', prefix: 16, reason: 'a link-local address' },
  { network: '172.16.0.0', prefix: 12, reason: 'a private address (RFC 1918)' },
  { network: '192.0.0.0', prefix: 24, reason: 'a reserved address (IETF protocol assignments)' },
  { network: '192.0.2.0', prefix: 24, reason: 'a documentation address (RFC 5737)' },
  { network: '192.88.99.0', prefix: 24, reason: 'a reserved address (6to4 relay anycast)' },
  { network: '192.168.0.0', prefix: 16, reason: 'a private address (RFC 1918)' },
  { network: '198.18.0.0', prefix: 15, reason: 'a benchmarking address (RFC 2544)' },
  { network: '198.51.100.0', prefix: 24, reason: 'a documentation address (RFC 5737)' },
  { network: '203.0.113.0', prefix: 24, reason: 'a documentation address (RFC 5737)' },
  { network: '224.0.0.0', prefix: 4, reason: 'a multicast address' },
  { network: '240.0.0.0', prefix: 4, reason: 'a reserved address (240.0.0.0/4)' },
];

// Checked after the IPv4-carrying forms; anything outside 2000::/3 (global unicast) is refused too.
const IPV6_RANGES: readonly Range[] = [
  { network: '::', prefix: 128, reason: 'the unspecified address' },
  { network: '::1', prefix: 128, reason: 'the loopback address' },
  { network: '64:ff9b:1::', prefix: 48, reason: 'a local-use NAT64 address (RFC 8215)' },
  { network: '100::', prefix: 64, reason: 'a discard-only address (RFC 6666)' },
  { network: '2001:db8::', prefix: 32, reason: 'a documentation address (RFC 3849)' },
  { network: '2001::', prefix: 23, reason: 'a reserved address (IETF protocol assignments: Teredo, benchmarking, ORCHID)' },
  { network: '3fff::', prefix: 20, reason: 'a documentation address (RFC 9637)' },
  { network: 'fc00::', prefix: 7, reason: 'a unique local (private) address' },
  { network: 'fe80::', prefix: 10, reason: 'a link-local address' },
  { network: 'fec0::', prefix: 10, reason: 'a site-local address (deprecated)' },
  { network: 'ff00::', prefix: 8, reason: 'a multicast address' },
];

function compile(ranges: readonly Range[], family: 'ipv4' | 'ipv6'): readonly { readonly list: BlockList; readonly reason: string }[] {
  return ranges.map(({ network, prefix, reason }) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return { list, reason };
  });
}

const IPV4_RULES = compile(IPV4_RANGES, 'ipv4');
const IPV6_RULES = compile(IPV6_RANGES, 'ipv6');
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/** The 16 bytes of an IPv6 address (any textual form, an embedded dotted quad included), or null. */
export function ipv6Bytes(address: string): Uint8Array | null {
  if (!isIPv6(address)) return null;
  let text = address;
  const bytes = new Uint8Array(16);
  // A trailing dotted quad stands for the last two groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (quad) {
    tail = quad[1]!.split('.').map(Number);
    text = `${text.slice(0, -quad[1]!.length)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').filter((g) => g !== '').map((g) => Number.parseInt(g, 16)) : []);
  const front = groups(head);
  const back = groups(rest);
  const all = rest === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  all.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  if (quad) bytes.set(tail, 12);
  return bytes;
}

const dotted = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
const zeros = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);

/** The IPv4 address an IPv6 address carries, with the name of the form, or null. */
function embeddedIpv4(b: Uint8Array): { readonly ipv4: string; readonly form: string } | null {
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return { ipv4: dotted(b, 12), form: 'IPv4-mapped' };
  // 64:ff9b::/96, the well-known NAT64 prefix (RFC 6052): a NAT64 gateway forwards to the IPv4 address.
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(b, 4, 12)) return { ipv4: dotted(b, 12), form: 'NAT64' };
  // 2002::/16, 6to4 (RFC 3056): the IPv4 address is bits 16–47.
  if (b[0] === 0x20 && b[1] === 0x02) return { ipv4: dotted(b, 2), form: '6to4' };
  // ::a.b.c.d, IPv4-compatible (deprecated by RFC 4291), but ::, ::1 are their own cases.
  if (zeros(b, 0, 12) && !zeros(b, 12, 15)) return { ipv4: dotted(b, 12), form: 'IPv4-compatible' };
  return null;
}

function ipv4Reason(address: string): string | null {
  for (const rule of IPV4_RULES) if (rule.list.check(address, 'ipv4')) return rule.reason;
  return null;
}

/**
 * Why the link check must not connect to this address (`"10.0.0.1 is a private address (RFC
 * 1918)"`), or null for a public unicast address. Anything that is not an IP address is refused.
 */
export function refusalReason(address: string): string | null {
  // A zone index (fe80::1%eth0) names an interface, not a different address.
  const bare = address.replace(/%.*$/, '');
  if (isIPv4(bare)) {
    const reason = ipv4Reason(bare);
    return reason === null ? null : `${bare} is ${reason}`;
  }
  const bytes = ipv6Bytes(bare);
  if (bytes === null) return `${address} is not an IP address`;
  const embedded = embeddedIpv4(bytes);
  if (embedded) {
    const reason = ipv4Reason(embedded.ipv4);
    return reason === null ? null : `${bare} is the ${embedded.form} form of ${embedded.ipv4}, ${reason}`;
  }
  for (const rule of IPV6_RULES) if (rule.list.check(bare, 'ipv6')) return `${bare} is ${rule.reason}`;
  if (!GLOBAL_UNICAST.check(bare, 'ipv6')) return `${bare} is a reserved address (outside 2000::/3)`;
  return null;
}
