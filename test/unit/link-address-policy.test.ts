/** The link check's SSRF guard: which addresses are refused, and URL host forms normalised first. */
import { describe, expect, it } from 'vitest';
import { ipv6Bytes, refusalReason } from '../../src/checks/links/address-policy.js';
import { bareHostname } from '../../src/checks/links/request.js';

describe('link check address policy', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['10.0.0.1', /private/],
    ['172.16.5.4', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.254', /carrier-grade NAT/],
    ['0.0.0.0', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.10', /documentation/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.99', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['192.0.0.8', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fc00::1', /unique local/],
    ['fd12:3456::1', /unique local/],
    ['ff02::1', /multicast/],
    ['2001:db8::1', /documentation/],
    ['::ffff:127.0.0.1', /IPv4-mapped form of 127\.0\.0\.1, a loopback/],
    ['::ffff:7f00:1', /IPv4-mapped form of 127\.0\.0\.1/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped form of 169\.254\.169\.254, a link-local/],
    ['64:ff9b::10.0.0.1', /NAT64 form of 10\.0\.0\.1, a private/],
    ['64:ff9b::a00:1', /NAT64 form of 10\.0\.0\.1/],
    ['64:ff9b:1::1', /local-use NAT64/],
    ['2002:7f00:1::', /6to4 form of 127\.0\.0\.1/],
    ['::127.0.0.1', /IPv4-compatible form of 127\.0\.0\.1/],
    ['2001::1', /reserved/],
    ['4000::1', /outside 2000::\/3/],
    ['not-an-address', /not an IP address/],
  ])('refuses %s', (address, reason) => {
    expect(refusalReason(address)).toMatch(reason);
  });

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '100.128.0.1', '172.32.0.1', '192.169.0.1', '2606:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'lets the public address %s through',
    (address) => {
      expect(refusalReason(address)).toBeNull();
    },
  );

  it('reads every IPv6 form into the same 16 bytes', () => {
    const hex = (a: string) => Buffer.from(ipv6Bytes(a)!).toString('hex');
    expect(hex('::ffff:127.0.0.1')).toBe('00000000000000000000ffff7f000001');
    expect(hex('::ffff:7f00:1')).toBe(hex('0:0:0:0:0:ffff:7f00:1'));
    expect(hex('::')).toBe('0'.repeat(32));
    expect(hex('fe80::')).toBe(`fe80${'0'.repeat(28)}`);
    expect(ipv6Bytes('10.0.0.1')).toBeNull();
  });

  // Hosts are read by the WHATWG URL parser (as in every browser) before the policy sees them, so
  // the odd spellings of an address reach it as the address.
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:ffff:169.254.169.254]/', '::ffff:a9fe:a9fe'],
    ['http://[64:ff9b::10.0.0.1]/', '64:ff9b::a00:1'],
    ['http://[::1]:8080/', '::1'],
  ])('%s is the address %s, and refused', (text, address) => {
    const host = bareHostname(new URL(text));
    expect(host).toBe(address);
    expect(refusalReason(host)).not.toBeNull();
  });
});
