/**
 * resolveDestination through node:dns (c-ares) against a real DNS server on 127.0.0.1: the
 * classification of real answers, and proof from the server's query log of what was looked up.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDnsResolver, resolveDestination, resolveHostAddresses, type MxResolver } from '../../src/relay/mx.js';
import { startDnsServer, unreachableDnsAddress, type DnsTestServer } from '../helpers/dns-server.js';

const manyMx = Array.from({ length: 40 }, (_, i) => ({ preference: 100 + i, exchange: `mx${i}.a-rather-long-host-name.big.test` }));

let dns: DnsTestServer;
let resolver: MxResolver;

beforeAll(async () => {
  dns = await startDnsServer({
    'example.test': {
      MX: [
        { preference: 20, exchange: 'mx2.example.test' },
        { preference: 10, exchange: 'mx1.example.test' },
        { preference: 30, exchange: 'mx3.example.test' },
      ],
    },
    'equal.test': {
      MX: [
        { preference: 10, exchange: 'c.equal.test' },
        { preference: 10, exchange: 'a.equal.test' },
        { preference: 10, exchange: 'b.equal.test' },
        { preference: 5, exchange: 'first.equal.test' },
      ],
    },
    'mx1.example.test': { A: ['127.0.0.1'], AAAA: ['::1'] },
    'v4only.test': { A: ['127.0.0.2'] },
    'v6only.test': { AAAA: ['::1'] },
    'bare.test': {},
    'nomail.test': { MX: [{ preference: 0, exchange: '.' }], A: ['127.0.0.1'] },
    'broken.test': 'SERVFAIL',
    'slow.test': 'TIMEOUT',
    'xn--bcher-kva.test': { MX: [{ preference: 10, exchange: 'mx.xn--bcher-kva.test' }] },
    'big.test': { MX: manyMx },
  });
  resolver = createDnsResolver({ servers: [dns.address], timeoutMs: 2000, tries: 2 });
});

afterAll(async () => {
  await dns?.close();
});

beforeEach(() => {
  dns.queries.length = 0;
});

const asked = (): string[] => dns.queries.map((q) => `${q.type} ${q.name}`);

describe('resolveDestination over real DNS', () => {
  it('lists MX hosts lowest preference first', async () => {
    expect(await resolveDestination('example.test', { resolver })).toEqual({
      kind: 'hosts',
      hosts: [
        { host: 'mx1.example.test', preference: 10 },
        { host: 'mx2.example.test', preference: 20 },
        { host: 'mx3.example.test', preference: 30 },
      ],
    });
    expect(asked()).toEqual(['MX example.test']);
  });

  it('shuffles equal preferences with the injected random source, after the lower preference', async () => {
    const order = async (random: () => number): Promise<string[]> => {
      const destination = await resolveDestination('equal.test', { resolver, random });
      return destination.kind === 'hosts' ? destination.hosts.map((h) => h.host) : [];
    };
    const kept = await order(() => 0.99);
    const rotated = await order(() => 0);
    expect(kept).toEqual(['first.equal.test', 'a.equal.test', 'b.equal.test', 'c.equal.test']);
    expect(rotated).toEqual(['first.equal.test', 'b.equal.test', 'c.equal.test', 'a.equal.test']);
  });

  it('uses the domain as an implicit MX when it has an A record and no MX', async () => {
    expect(await resolveDestination('v4only.test', { resolver })).toEqual({ kind: 'hosts', hosts: [{ host: 'v4only.test', preference: 0 }] });
    expect(asked().sort()).toEqual(['A v4only.test', 'AAAA v4only.test', 'MX v4only.test']);
  });

  it('uses the domain as an implicit MX when it has only an AAAA record', async () => {
    expect(await resolveDestination('v6only.test', { resolver })).toEqual({ kind: 'hosts', hosts: [{ host: 'v6only.test', preference: 0 }] });
  });

  it('fails a name with neither MX, A nor AAAA permanently', async () => {
    expect(await resolveDestination('bare.test', { resolver })).toEqual({ kind: 'permanent', reason: 'bare.test has no MX, A or AAAA records' });
  });

  it('fails a null MX permanently without looking up any address', async () => {
    expect(await resolveDestination('nomail.test', { resolver })).toEqual({ kind: 'permanent', reason: expect.stringContaining('null MX') });
    expect(asked()).toEqual(['MX nomail.test']);
  });

  it('fails NXDOMAIN permanently without looking up any address', async () => {
    expect(await resolveDestination('nowhere.test', { resolver })).toEqual({ kind: 'permanent', reason: expect.stringContaining('NXDOMAIN') });
    expect(asked()).toEqual(['MX nowhere.test']);
  });

  it('defers on SERVFAIL', async () => {
    expect(await resolveDestination('broken.test', { resolver })).toEqual({ kind: 'temporary', reason: expect.stringContaining('SERVFAIL') });
  });

  it('defers when the DNS server does not answer', async () => {
    const impatient = createDnsResolver({ servers: [dns.address], timeoutMs: 200, tries: 1 });
    expect(await resolveDestination('slow.test', { resolver: impatient })).toEqual({ kind: 'temporary', reason: expect.stringContaining('timeout') });
    expect(asked()).toEqual(['MX slow.test']);
  });

  it('defers when the DNS server cannot be reached', async () => {
    const nowhere = createDnsResolver({ servers: [await unreachableDnsAddress()], timeoutMs: 200, tries: 1 });
    expect((await resolveDestination('example.test', { resolver: nowhere })).kind).toBe('temporary');
  });

  it('looks up an IDN domain by its punycode name', async () => {
    expect(await resolveDestination('Bücher.test', { resolver })).toEqual({ kind: 'hosts', hosts: [{ host: 'mx.xn--bcher-kva.test', preference: 10 }] });
    expect(asked()).toEqual(['MX xn--bcher-kva.test']);
  });

  it('makes no DNS query for an address literal or an invalid domain', async () => {
    expect(await resolveDestination('[127.0.0.1]', { resolver })).toEqual({ kind: 'hosts', hosts: [{ host: '127.0.0.1', preference: 0 }] });
    expect((await resolveDestination('evil.test\r\n', { resolver })).kind).toBe('permanent');
    expect(asked()).toEqual([]);
  });

  it('reads an MX set too large for UDP over TCP', async () => {
    const destination = await resolveDestination('big.test', { resolver });
    expect(destination.kind === 'hosts' && destination.hosts.length).toBe(manyMx.length);
    expect(dns.queries.map((q) => q.transport)).toEqual(['udp', 'tcp']);
  });
});

describe('resolveHostAddresses over real DNS', () => {
  it('returns an MX host’s IPv4 and IPv6 addresses, IPv4 first', async () => {
    expect(await resolveHostAddresses('mx1.example.test', { resolver })).toEqual({ kind: 'addresses', addresses: ['127.0.0.1', '::1'] });
  });

  it('classifies a missing host as permanent and a failing server as temporary', async () => {
    expect((await resolveHostAddresses('gone.example.test', { resolver })).kind).toBe('permanent');
    expect((await resolveHostAddresses('broken.test', { resolver })).kind).toBe('temporary');
  });
});
