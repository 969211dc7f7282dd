/** The deliverability check's pure parts, and its bounds, without sockets (fake resolvers). */
import { describe, expect, it } from 'vitest';
import { alignmentOf } from '../../src/checks/deliverability/alignment.js';
import { checkDeliverability, DELIVERABILITY_LIMITS } from '../../src/checks/deliverability/index.js';
import { dateProblem, isMsgId } from '../../src/checks/deliverability/message-format.js';
import { KotakError } from '../../src/errors.js';

const SIGNED = Buffer.from(
  [
    'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=s1; h=from:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA',
    'DKIM-Signature: v=1; a=rsa-md5; d=example.test; s=old; h=from; bh=x; b=BBBB',
    'From: "Shop, Inc." <news@Example.TEST>',
    'Subject: hi',
    '',
    '',
  ].join('\r\n'),
);

/** A DNS server that never answers. */
const silent = { resolveTxt: () => new Promise<string[][]>(() => {}) };

describe('checkDeliverability bounds', () => {
  it('answers temperror for every lookup once DNS stays silent past the per-lookup limit', async () => {
    const report = await checkDeliverability(SIGNED, null, { resolver: silent, limits: { ...DELIVERABILITY_LIMITS, perLookupMs: 20 } });
    expect(report.dkim.signatures.map((s) => [s.selector, s.result])).toEqual([['s1', 'temperror'], ['old', 'permerror']]);
    expect(report.dkim.signatures[0]!.reason).toMatch(/ETIMEOUT/);
    expect(report.dmarc).toEqual(expect.objectContaining({ result: 'temperror', domain: 'example.test' }));
  });

  it('makes no further lookup once the check\'s total time is spent', async () => {
    let asked = 0;
    let clock = 0;
    const resolver = { resolveTxt: () => { asked++; clock += 5_000; return Promise.reject(Object.assign(new Error('servfail'), { code: 'ESERVFAIL' })); } };
    const report = await checkDeliverability(SIGNED, null, { resolver, now: () => clock, limits: { ...DELIVERABILITY_LIMITS, perLookupMs: 3000, totalMs: 4000 } });
    expect(asked).toBe(1);
    expect(report.dmarc).toEqual(expect.objectContaining({ result: 'temperror', reason: expect.stringMatching(/ETIMEOUT/) }));
  });

  it('refuses a message over its size limit with check_too_large (422)', async () => {
    const error = await checkDeliverability(Buffer.alloc(2048, 'a'), null, { resolver: silent, limits: { ...DELIVERABILITY_LIMITS, maxBytes: 1024 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KotakError);
    expect((error as KotakError).code).toBe('check_too_large');
    expect((error as KotakError).httpStatus).toBe(422);
  });

  it('refuses a header section over its limit, and more DKIM signatures than it verifies, before any lookup', async () => {
    const lookups = { resolveTxt: () => Promise.reject(new Error('no lookup was expected')) };
    const longHeaders = Buffer.from(`X-Filler: ${'a'.repeat(4096)}\r\nFrom: a@example.test\r\n\r\nbody\r\n`);
    await expect(checkDeliverability(longHeaders, null, { resolver: lookups, limits: { ...DELIVERABILITY_LIMITS, maxHeaderBytes: 1024 } })).rejects.toThrow(/header section/);
    const manySignatures = Buffer.from(`${'DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=s1; h=from; bh=x; b=y\r\n'.repeat(11)}From: a@example.test\r\n\r\nbody\r\n`);
    await expect(checkDeliverability(manySignatures, null, { resolver: lookups })).rejects.toMatchObject({ code: 'check_too_large', message: expect.stringMatching(/11 DKIM signatures/) });
  });

  it('reads the From address out of a display name with a comma, lower-casing the domain', async () => {
    const report = await checkDeliverability(SIGNED, '', { resolver: silent, limits: { ...DELIVERABILITY_LIMITS, perLookupMs: 1, totalMs: 1 } });
    expect(report.from).toEqual({ address: 'news@Example.TEST', domain: 'example.test' });
    expect(report.envelope).toEqual({ mailFrom: null, domain: null, alignment: null });
    expect(report.rules.find((r) => r.id === 'single-from')!.result).toBe('pass');
  });
});

describe('List-Unsubscribe', () => {
  it('names a mailto target with a broken escape as having no address, rather than failing the check', async () => {
    const raw = Buffer.from('From: a@example.test\r\nList-Unsubscribe: <mailto:%E0%A4%A>\r\n\r\nbody\r\n');
    const report = await checkDeliverability(raw, null, { resolver: silent, limits: { ...DELIVERABILITY_LIMITS, perLookupMs: 1 } });
    expect(report.unsubscribe.problems).toEqual([expect.stringMatching(/has no mail address/)]);
  });
});

describe('alignment', () => {
  it('is relaxed within an organizational domain (public suffix aware) and strict only for the same domain', () => {
    expect(alignmentOf('example.co.uk', 'mail.example.co.uk')).toEqual({ strict: false, relaxed: true });
    expect(alignmentOf('Example.com', 'example.com.')).toEqual({ strict: true, relaxed: true });
    expect(alignmentOf('a.co.uk', 'b.co.uk')).toEqual({ strict: false, relaxed: false });
    expect(alignmentOf('example.com', 'example.net')).toEqual({ strict: false, relaxed: false });
  });
});

describe('RFC 5322 forms', () => {
  it.each(['<a.b@example.test>', ' <x+y=z@[127.0.0.1]> ', '<1234@host>'])('%s is a msg-id', (id) => expect(isMsgId(id)).toBe(true));
  it.each(['a@example.test', '<a@>', '<@b>', '<a b@c>', '<a..b@c>'])('%s is not a msg-id', (id) => expect(isMsgId(id)).toBe(false));

  it.each(['Sun, 6 Dec 2026 10:00:00 +0000', '6 Dec 2026 10:00 -0500', 'Sun, 06 Dec 2026 10:00:00 GMT (UTC)'])('%s is a date-time', (date) => expect(dateProblem(date)).toBeNull());
  it.each([
    ['Mon, 6 Dec 2026 10:00:00 +0000', /was a Sun/],
    ['Sun, 31 Feb 2026 10:00:00 +0000', /not a day/],
    ['2026-12-06T10:00:00Z', /not an RFC 5322 date-time/],
    ['Sun, 6 Dec 2026 25:00:00 +0000', /time of day/],
    ['Sun, 6 Dec 2026 10:00:00 XYZ', /time zone/],
  ])('%s is not', (date, reason) => expect(dateProblem(date)).toMatch(reason));
});
