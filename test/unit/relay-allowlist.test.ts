import { describe, expect, it } from 'vitest';
import { KotakError } from '../../src/errors.js';
import { compileAllowlist } from '../../src/relay/allowlist.js';

function allowed(patterns: string[], addresses: string[]): string[] {
  const allows = compileAllowlist(patterns);
  return addresses.filter((address) => allows(address));
}

describe('compileAllowlist: what a pattern matches', () => {
  it('*@example.com matches that domain in any case, and nothing longer, shorter or nested', () => {
    const matches = ['a@example.com', 'A.B+c@Example.COM', 'x@EXAMPLE.com'];
    const hostile = [
      'x@example.com.evil.test',
      'x@sub.example.com',
      'x@xexample.com',
      'x@example.co',
      'x@example.com.', // the same DNS name, but not an address the relay would deliver
      'x@evil.test?@example.com',
      'x@evil.test@example.com',
      '"x@evil.test"@example.com',
      '@evil.test:x@example.com',
      '<x@example.com>',
      ' x@example.com',
      'x@example.com ',
      'x y@example.com',
      'x@example.com\r\nRCPT TO:<victim@evil.test>',
      'x\n@example.com',
      '@example.com',
      'x@',
      '',
    ];
    expect(allowed(['*@example.com'], [...matches, ...hostile])).toEqual(matches);
  });

  it('* in the local part matches any run, empty included, and the rest is literal', () => {
    const addresses = ['qa+@corp.test', 'qa+login-1@corp.test', 'QA+X@CORP.TEST', 'qa+a.b@corp.test', 'qa@corp.test', 'qa-1@corp.test', 'xqa+1@corp.test', 'qa+1@corp.test.evil'];
    expect(allowed(['qa+*@corp.test'], addresses)).toEqual(['qa+@corp.test', 'qa+login-1@corp.test', 'QA+X@CORP.TEST', 'qa+a.b@corp.test']);
  });

  it('a pattern without * is one mailbox: no plus tags, no prefixes', () => {
    const addresses = ['alice@example.com', 'ALICE@EXAMPLE.COM', 'alice+x@example.com', 'malice@example.com', 'alice@sub.example.com'];
    expect(allowed(['alice@example.com'], addresses)).toEqual(['alice@example.com', 'ALICE@EXAMPLE.COM']);
  });

  it('treats regular-expression characters in a pattern literally', () => {
    const addresses = ['a.b+c?@example.com', 'axb+c?@example.com', 'a.bbc@example.com', 'a.b+c@example.com'];
    expect(allowed(['a.b+c?@example.com'], addresses)).toEqual(['a.b+c?@example.com']);
  });

  it('*@*.example.com matches exactly one more label, as a TLS wildcard does', () => {
    const addresses = ['a@sub.example.com', 'a@SUB.Example.COM', 'a@example.com', 'a@x.sub.example.com', 'a@sub.example.com.evil.test', 'a@subexample.com'];
    expect(allowed(['*@*.example.com'], addresses)).toEqual(['a@sub.example.com', 'a@SUB.Example.COM']);
  });

  it('compares IDN domains in their ASCII form, the name the MX lookup resolves, whichever form each side is written in', () => {
    const addresses = ['x@xn--bcher-kva.example', 'x@bücher.example', 'x@BÜCHER.example', 'x@bucher.example', 'x@xn--bcher-kva.example.evil.test'];
    const expected = ['x@xn--bcher-kva.example', 'x@bücher.example', 'x@BÜCHER.example'];
    expect(allowed(['*@bücher.example'], addresses)).toEqual(expected);
    expect(allowed(['*@xn--bcher-kva.example'], addresses)).toEqual(expected);
  });

  it('folds only ASCII letters in the local part: non-ASCII characters must be the same', () => {
    expect(allowed(['jörg@example.com'], ['jörg@example.com', 'JöRG@example.com', 'jÖrg@example.com', 'jorg@example.com'])).toEqual(['jörg@example.com', 'JöRG@example.com']);
    // Unicode case folding would turn the Kelvin sign into k; a reader of the pattern does not expect that.
    expect(allowed(['kelvin@example.com'], ['\u212Aelvin@example.com'])).toEqual([]);
  });

  it('matches address literals by IP address, and never a domain that merely looks like one', () => {
    expect(allowed(['*@[127.0.0.1]'], ['x@[127.0.0.1]', 'x@127.0.0.1', 'x@[127.0.0.2]', 'x@[127.0.0.01]'])).toEqual(['x@[127.0.0.1]']);
    expect(allowed(['*@[IPv6:::1]'], ['x@[IPv6:0:0:0:0:0:0:0:1]', 'x@[ipv6:::1]', 'x@[::1]', 'x@[IPv6:::2]'])).toEqual(['x@[IPv6:0:0:0:0:0:0:0:1]', 'x@[ipv6:::1]']);
  });

  it('allows a recipient that any pattern allows, and nobody with no patterns', () => {
    expect(allowed(['*@a.test', 'bob@b.test'], ['x@a.test', 'bob@b.test', 'eve@b.test'])).toEqual(['x@a.test', 'bob@b.test']);
    expect(allowed([], ['x@a.test'])).toEqual([]);
  });

  it('ignores blanks around a pattern', () => {
    expect(allowed([' *@example.com '], ['x@example.com'])).toEqual(['x@example.com']);
  });
});

describe('compileAllowlist: invalid patterns', () => {
  const invalid = [
    '',
    'example.com',
    '*',
    '*@*', // allowing everyone is a separate, loud option
    '@example.com',
    'a@b@example.com',
    '"a b"@example.com',
    'a b@example.com',
    '.a@example.com',
    `${'a'.repeat(65)}@example.com`,
    '*@*.com',
    '*@ex*ample.com',
    '*@example.*',
    '*@a.*.example.com',
    '*@**.example.com',
    '*@exa mple.com',
    '*@example.com.',
    '*@a..example.com',
    '*@under_score.test',
    '*@127.0.0.1',
    '*@[999.0.0.1]',
    '*@[tag:whatever]',
  ];
  it.each(invalid)('rejects %j with invalid_config naming the pattern', (pattern) => {
    let thrown: unknown;
    try {
      compileAllowlist(['*@fine.test', pattern]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(KotakError);
    expect((thrown as KotakError).code).toBe('invalid_config');
    expect((thrown as KotakError).message).toContain(`"${pattern}"`);
  });

  it('points *@* to the allow-everyone option', () => {
    expect(() => compileAllowlist(['*@*'])).toThrow(/--relay-allow-everyone/);
  });
});
