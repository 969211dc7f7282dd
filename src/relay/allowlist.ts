/**
 * The relay allowlist: which recipients Kotak may deliver to for real. It is a safety device, so
 * every rule below errs towards "no": a pattern must never match an address its reader would not
 * expect it to, and an address we cannot read with certainty matches nothing.
 *
 * Pattern syntax (`LOCAL@DOMAIN`, exactly one `@`):
 * - LOCAL is a dot-atom in which `*` matches any run of characters, empty included (it may cross
 *   dots: `qa+*@corp.test` matches `qa+@corp.test` and `qa+a.b@corp.test`). Everything else is
 *   literal: `alice@example.com` does not match `alice+x@example.com`. A literal `*` cannot be written.
 * - DOMAIN is a host name, compared in its ASCII (IDNA, UTS 46) form: `*@bücher.example` and
 *   `*@xn--bcher-kva.example` are the same pattern, and match `x@BÜCHER.example` and
 *   `x@xn--bcher-kva.example` alike, because that ASCII name is the one the MX lookup resolves and
 *   the envelope carries (both sides go through `toAsciiDomain`; recipient.ts). So `x@example。com`
 *   (ideographic full stop) is `x@example.com`, and so is `x@exam\u200Bple.com`: UTS 46 drops the
 *   zero-width space, and the relay sends what was judged. A domain never matches its subdomains or longer names:
 *   `*@example.com` does not match `a@sub.example.com` or `a@example.com.evil.test`.
 * - DOMAIN may start with a whole-label wildcard, `*@*.example.com`, which matches exactly one more
 *   label (`a@sub.example.com`, not `a@example.com` or `a@x.sub.example.com`), as in TLS
 *   certificates (RFC 6125 6.4.3). It needs two fixed labels after it: `*.com` is refused.
 * - DOMAIN may be an address literal, `*@[127.0.0.1]` or `*@[IPv6:::1]`, matching the same IP.
 *
 * Case: the domain is case-insensitive (DNS is). The local part is compared with ASCII letters
 * folded: RFC 5321 lets a server treat `Alice` and `alice` as two mailboxes, but virtually none
 * does, so the reader of `alice@example.com` means that mailbox in any case, and a sender that
 * writes `ALICE@` should not slip past or be refused by a rule about case. Non-ASCII letters are
 * compared exactly, not case-folded: Unicode folding joins characters a reader tells apart (the
 * Kelvin sign `K` folds to `k`).
 *
 * Addresses: only `local@domain` with a dot-atom local part (UTF-8 allowed, RFC 6531, but nothing
 * invisible) of at most 64 octets matches. Quoted local parts, a second `@` (`x@evil.test@example.com`), source routes,
 * angle brackets, spaces and control characters match nothing, whatever the patterns say.
 *
 * "Allow everyone" is deliberately not expressible here (`*@*` is refused): it is a separate,
 * loud option handled by the caller.
 */
import { KotakError } from '../errors.js';
import { parseAddressLiteral, toAsciiDomain } from './domain.js';

/**
 * RFC 5322 atext, plus any non-ASCII character (RFC 6531) but controls, separators, lone surrogates
 * and invisible ones (format characters such as the zero-width space, joiners and direction marks,
 * and the other default-ignorables): `q\u200Ba@example.com` would read as `qa@example.com`.
 */
const ATOM = String.raw`(?:[A-Za-z0-9!#$%&'*+\-/=?^_\x60{|}~]|[^\x00-\x7F\p{Cc}\p{Cf}\p{Z}\p{Cs}\p{Default_Ignorable_Code_Point}])+`;
const DOT_ATOM = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`, 'u');
/** RFC 5321 4.5.3.1.1. */
const MAX_LOCAL_OCTETS = 64;

export type RecipientAllowlist = (address: string) => boolean;

interface CompiledPattern {
  readonly local: RegExp;
  readonly domain: (domain: string) => boolean;
}

/**
 * Patterns → a predicate over envelope addresses (`alice@example.com`, without angle brackets).
 * An empty list allows nobody. Throws KotakError('invalid_config') naming the first bad pattern.
 */
export function compileAllowlist(patterns: readonly string[], flag = '--relay-allow'): RecipientAllowlist {
  const compiled = patterns.map((pattern) => compilePattern(pattern, flag));
  return (address) => {
    const recipient = readAddress(address);
    return recipient !== undefined && compiled.some((p) => p.local.test(recipient.local) && p.domain(recipient.domain));
  };
}

/** `flag` names the option in errors: --mailbox-route uses the same pattern language. */
function compilePattern(written: string, flag: string): CompiledPattern {
  const pattern = written.trim();
  const fail = (reason: string): never => {
    throw new KotakError(
      'invalid_config',
      `${flag}: "${written}" is not a recipient pattern: ${reason} (examples: *@example.com, qa+*@corp.test, alice@example.com, *@*.example.com)`,
    );
  };
  const at = pattern.indexOf('@');
  if (at < 0 || at !== pattern.lastIndexOf('@')) fail('it needs exactly one @');
  const local = pattern.slice(0, at);
  const domain = pattern.slice(at + 1);
  if (local === '') fail('the part before @ is empty (use * for any)');
  if (!DOT_ATOM.test(local)) fail('the part before @ may hold letters, digits, dots and !#$%&\'+-/=?^_`{|}~ (no quotes or spaces), with * as the wildcard');
  if (Buffer.byteLength(local.replaceAll('*', '')) > MAX_LOCAL_OCTETS) fail(`the part before @ is longer than ${MAX_LOCAL_OCTETS} octets`);
  const localSource = asciiLowerCase(local)
    .split('*')
    .map((literal) => literal.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
    .join('[^@]*');
  return { local: new RegExp(`^${localSource}$`, 'u'), domain: compileDomain(domain, fail) };
}

function compileDomain(domain: string, fail: (reason: string) => never): (domain: string) => boolean {
  if (domain === '*') fail('to relay to every recipient, use the separate --relay-allow-everyone option');
  if (domain.startsWith('[')) {
    const ip = parseAddressLiteral(domain) ?? fail('an address literal must be an IP address, as in [127.0.0.1] or [IPv6:::1]');
    const literal = `[${ip}]`;
    return (candidate) => candidate === literal;
  }
  const wildcard = domain.startsWith('*.');
  const fixed = wildcard ? domain.slice(2) : domain;
  if (fixed.includes('*')) fail('in the domain, * may only be the whole first label, as in *@*.example.com');
  const ascii = toAsciiDomain(fixed) ?? fail(`"${fixed}" is not a valid domain name`);
  if (!wildcard) return (candidate) => candidate === ascii;
  if (!ascii.includes('.')) fail('a domain wildcard needs two fixed labels after it (*.example.com, not *.com)');
  const suffix = `.${ascii}`;
  return (candidate) => {
    if (!candidate.endsWith(suffix)) return false;
    const label = candidate.slice(0, -suffix.length);
    return label !== '' && !label.includes('.');
  };
}

/**
 * An address → its local part (ASCII letters lower-cased) and the domain in the form patterns
 * are compiled to: ASCII name, or `[ip]` for an address literal; `undefined` when it is not an
 * address we can read with certainty.
 */
function readAddress(address: string): { local: string; domain: string } | undefined {
  const at = address.indexOf('@');
  if (at <= 0 || at !== address.lastIndexOf('@')) return undefined;
  const local = address.slice(0, at);
  if (!DOT_ATOM.test(local) || Buffer.byteLength(local) > MAX_LOCAL_OCTETS) return undefined;
  const domainText = address.slice(at + 1);
  const domain = domainText.startsWith('[') ? wrapLiteral(parseAddressLiteral(domainText)) : toAsciiDomain(domainText);
  return domain === undefined ? undefined : { local: asciiLowerCase(local), domain };
}

function wrapLiteral(ip: string | undefined): string | undefined {
  return ip === undefined ? undefined : `[${ip}]`;
}

function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
