import type { MxRecord } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { KotakError } from '../../src/errors.js';
import { createDnsResolver, resolveDestination, resolveHostAddresses, type MxResolver } from '../../src/relay/mx.js';

/** A DNS error as node:dns rejects with it. */
function dnsError(code: string): Error {
  return Object.assign(new Error(`query ${code}`), { code });
}

type Answer<T> = T[] | string;

/** An in-memory resolver: per name and type, records or a node:dns error code; absent names are NXDOMAIN. */
function fakeResolver(zone: Record<string, { MX?: Answer<MxRecord>; A?: Answer<string>; AAAA?: Answer<string> }>): MxResolver & { asked: string[] } {
  const asked: string[] = [];
  const answer = async <T>(name: string, type: 'MX' | 'A' | 'AAAA'): Promise<T[]> => {
    asked.push(`${type} ${name}`);
    const entry = zone[name];
    if (!entry) throw dnsError('ENOTFOUND');
    const records = entry[type] ?? 'ENODATA';
    if (typeof records === 'string') throw dnsError(records);
    return records as T[];
  };
  return {
    asked,
    resolveMx: (name) => answer(name, 'MX'),
    resolve4: (name) => answer(name, 'A'),
    resolve6: (name) => answer(name, 'AAAA'),
  };
}

const mx = (priority: number, exchange: string): MxRecord => ({ priority, exchange });

describe('resolveDestination', () => {
  it('delivers to an address literal as it is, without DNS', async () => {
    const resolver = fakeResolver({});
    expect(await resolveDestination('[127.0.0.1]', { resolver })).toEqual({ kind: 'hosts', hosts: [{ host: '127.0.0.1', preference: 0 }] });
    expect(await resolveDestination('[IPv6:0:0::1]', { resolver })).toEqual({ kind: 'hosts', hosts: [{ host: '::1', preference: 0 }] });
    expect((await resolveDestination('[999.0.0.1]', { resolver })).kind).toBe('permanent');
    expect((await resolveDestination('[tag:x]', { resolver })).kind).toBe('permanent');
    expect(resolver.asked).toEqual([]);
  });

  it.each(['', 'a..test', 'exa mple.test', '-x.test', 'under_score.test', 'example.test.', '127.0.0.1', '0x7f.1', 'a%41.test', `${'a'.repeat(64)}.test`])(
    'fails %j permanently as not a domain, without asking DNS',
    async (domain) => {
      const resolver = fakeResolver({});
      const destination = await resolveDestination(domain, { resolver });
      expect(destination).toEqual({ kind: 'permanent', reason: expect.stringContaining('not a valid domain') });
      expect(resolver.asked).toEqual([]);
    },
  );

  it('orders equal preferences by the random source alone, not by the order DNS answered in', async () => {
    const records = [mx(10, 'c.test'), mx(5, 'first.test'), mx(10, 'a.test'), mx(10, 'b.test'), mx(20, 'last.test')];
    const hosts = async (answer: MxRecord[], random: () => number): Promise<string[]> => {
      const destination = await resolveDestination('example.test', { resolver: fakeResolver({ 'example.test': { MX: answer } }), random });
      return destination.kind === 'hosts' ? destination.hosts.map((h) => h.host) : [];
    };
    // Fisher–Yates over [a, b, c]: random 0.99 keeps every item in place, 0 rotates.
    expect(await hosts(records, () => 0.99)).toEqual(['first.test', 'a.test', 'b.test', 'c.test', 'last.test']);
    expect(await hosts(records, () => 0)).toEqual(['first.test', 'b.test', 'c.test', 'a.test', 'last.test']);
    expect(await hosts([...records].reverse(), () => 0)).toEqual(['first.test', 'b.test', 'c.test', 'a.test', 'last.test']);
  });

  it('lists a host named twice once, at its lowest preference, and normalises names', async () => {
    const resolver = fakeResolver({ 'example.test': { MX: [mx(30, 'MX1.Example.Test.'), mx(10, 'mx1.example.test'), mx(20, 'mx2.example.test')] } });
    expect(await resolveDestination('example.test', { resolver })).toEqual({
      kind: 'hosts',
      hosts: [
        { host: 'mx1.example.test', preference: 10 },
        { host: 'mx2.example.test', preference: 20 },
      ],
    });
  });

  it('treats a null MX as "no mail" even when mixed with real MX records', async () => {
    const resolver = fakeResolver({ 'mixed.test': { MX: [mx(0, ''), mx(10, 'mx.mixed.test')], A: ['192.0.2.1'] } });
    expect(await resolveDestination('mixed.test', { resolver })).toEqual({ kind: 'permanent', reason: expect.stringContaining('null MX') });
    expect(resolver.asked).toEqual(['MX mixed.test']);
  });

  it('skips MX exchanges that are IP addresses, and fails when nothing usable is left', async () => {
    const resolver = fakeResolver({ 'a.test': { MX: [mx(5, '192.0.2.1'), mx(10, 'mx.a.test')] }, 'b.test': { MX: [mx(5, '192.0.2.1')] } });
    expect(await resolveDestination('a.test', { resolver })).toEqual({ kind: 'hosts', hosts: [{ host: 'mx.a.test', preference: 10 }] });
    expect(await resolveDestination('b.test', { resolver })).toEqual({ kind: 'permanent', reason: expect.stringContaining('no usable MX') });
  });

  it.each([
    ['ENOTFOUND', 'permanent'],
    ['EBADNAME', 'permanent'],
    ['ESERVFAIL', 'temporary'],
    ['ETIMEOUT', 'temporary'],
    ['ECONNREFUSED', 'temporary'],
    ['EREFUSED', 'temporary'],
    ['EBADRESP', 'temporary'],
    ['EFORMERR', 'temporary'],
    ['ECANCELLED', 'temporary'],
    ['ESOMETHINGNEW', 'temporary'],
  ])('classifies an MX lookup failing with %s as %s', async (code, kind) => {
    const resolver = fakeResolver({ 'example.test': { MX: code } });
    const destination = await resolveDestination('example.test', { resolver });
    expect(destination).toEqual({ kind, reason: expect.stringContaining('MX lookup of example.test') });
    expect(resolver.asked).toEqual(['MX example.test']);
  });

  it('uses the domain as its own MX when it has an address but no MX records, even if one family fails', async () => {
    const resolver = fakeResolver({ 'a.test': { A: ['192.0.2.1'], AAAA: 'ESERVFAIL' } });
    expect(await resolveDestination('a.test', { resolver })).toEqual({ kind: 'hosts', hosts: [{ host: 'a.test', preference: 0 }] });
  });

  it('defers an implicit MX whose address lookup failed temporarily, and fails one with no address at all', async () => {
    const resolver = fakeResolver({ 'flaky.test': { AAAA: 'ETIMEOUT' }, 'bare.test': {} });
    expect((await resolveDestination('flaky.test', { resolver })).kind).toBe('temporary');
    expect(await resolveDestination('bare.test', { resolver })).toEqual({ kind: 'permanent', reason: 'bare.test has no MX, A or AAAA records' });
  });
});

describe('resolveHostAddresses', () => {
  it('returns IPv4 addresses before IPv6 ones', async () => {
    const resolver = fakeResolver({ 'mx.test': { A: ['192.0.2.1', '192.0.2.2'], AAAA: ['2001:db8::1'] } });
    expect(await resolveHostAddresses('mx.test', { resolver })).toEqual({ kind: 'addresses', addresses: ['192.0.2.1', '192.0.2.2', '2001:db8::1'] });
  });

  it('returns an IP as it is, without DNS', async () => {
    const resolver = fakeResolver({});
    expect(await resolveHostAddresses('::1', { resolver })).toEqual({ kind: 'addresses', addresses: ['::1'] });
    expect(resolver.asked).toEqual([]);
  });

  it('fails permanently for a host that does not exist, temporarily when DNS could not say', async () => {
    const resolver = fakeResolver({ 'flaky.test': { A: 'ESERVFAIL' } });
    expect(await resolveHostAddresses('gone.test', { resolver })).toEqual({ kind: 'permanent', reason: expect.stringContaining('NXDOMAIN') });
    expect((await resolveHostAddresses('flaky.test', { resolver })).kind).toBe('temporary');
  });
});

describe('createDnsResolver', () => {
  it('refuses a server that is not an address as invalid_config', () => {
    expect(() => createDnsResolver({ servers: ['not an ip'], timeoutMs: 1000, tries: 1 })).toThrow(KotakError);
  });
});
