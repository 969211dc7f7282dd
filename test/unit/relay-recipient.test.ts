import { describe, expect, it } from 'vitest';
import { compileAllowlist } from '../../src/relay/allowlist.js';
import { readRelayAddress } from '../../src/relay/recipient.js';

const address = (written: string): string | undefined => readRelayAddress(written)?.address;

describe('readRelayAddress: the one form a relay address is judged, queued and sent in', () => {
  it('writes the domain in lower-case ASCII: Unicode full stops, case and U-labels', () => {
    expect(address('qa@allowed\u3002test')).toBe('qa@allowed.test');
    expect(address('qa@allowed\uFF0Etest')).toBe('qa@allowed.test');
    expect(address('QA@Allowed.TEST')).toBe('QA@allowed.test');
    expect(address('qa@Bücher.test')).toBe('qa@xn--bcher-kva.test');
  });

  it('follows UTS 46 for invisible characters in the domain: ignored ones vanish, disallowed ones make it unreadable', () => {
    for (const ignored of ['\u200B', '\u00AD', '\u2060', '\uFEFF', '\uFE0F']) expect(address(`qa@allo${ignored}wed.test`)).toBe('qa@allowed.test');
    for (const disallowed of ['\u200C', '\u200D', '\u200E', '\u202E']) expect(address(`qa@allo${disallowed}wed.test`)).toBeUndefined();
  });

  it('refuses invisible and control characters in the local part rather than guess', () => {
    for (const invisible of ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\u202E', '\u2028', '\u0000', '\r', '\n']) {
      expect(address(`q${invisible}a@allowed.test`), JSON.stringify(invisible)).toBeUndefined();
    }
  });

  it('keeps a non-ASCII local part as written and says it needs SMTPUTF8', () => {
    expect(readRelayAddress('jörg@bücher.test')).toEqual({ address: 'jörg@xn--bcher-kva.test', local: 'jörg', domain: 'xn--bcher-kva.test', needsSmtpUtf8: true });
    expect(readRelayAddress('qa@bücher.test')?.needsSmtpUtf8).toBe(false);
  });

  it('writes address literals one way and refuses what is not an address', () => {
    expect(address('x@[127.0.0.1]')).toBe('x@[127.0.0.1]');
    expect(address('x@[ipv6:0:0:0:0:0:0:0:1]')).toBe('x@[IPv6:::1]');
    for (const bad of ['', '@allowed.test', 'qa@', 'qa@allowed.test.', 'qa@[999.0.0.1]', 'qa@a%41.test']) expect(address(bad), bad).toBeUndefined();
  });

  it('gives the allowlist the same answer for every spelling of an address', () => {
    const allows = compileAllowlist(['*@allowed.test']);
    for (const written of ['qa@allowed\u3002test', 'qa@allo\u200Bwed.test', 'qa@ALLOWED.test']) {
      expect(allows(written)).toBe(true);
      expect(allows(address(written)!)).toBe(true);
    }
    expect(allows('q\u200Ba@allowed.test')).toBe(false);
  });
});
