/**
 * A rule's match compiled into a predicate over what the SMTP session knows at a stage. Address
 * patterns are the --relay-allow language (src/relay/allowlist.ts), so `*@bounce.test` means the
 * same thing in both places; the client is an IP or CIDR block (node:net's BlockList).
 */
import { BlockList } from 'node:net';
import { isKotakError, KotakError } from '../errors.js';
import { compileAllowlist, type RecipientAllowlist } from '../relay/allowlist.js';
import { parseClientBlock, type ChaosMatch } from './rules.js';

/** One recipient as the session knows it: the address and the mailbox routing puts it in. */
export interface ChaosRecipient {
  readonly address: string;
  readonly mailbox: string;
}

/** What is known when a stage is reached; later stages know more. */
export interface ChaosFacts {
  readonly client: string;
  /** The SMTP AUTH user (at the auth stage: the one being tried); null without AUTH. */
  readonly user: string | null;
  /** The envelope sender, from MAIL on ('' for the null sender). */
  readonly from?: string;
  /** At RCPT: that recipient; at DATA and end of data: every accepted recipient. */
  readonly recipients?: readonly ChaosRecipient[];
}

export type ChaosPredicate = (facts: ChaosFacts) => boolean;

/** `*` and `*@*` are "anyone", the same as leaving the field out (the allowlist refuses them on purpose). */
const ANYONE = new Set(['*', '*@*']);

function compileAddress(field: string, pattern: string): RecipientAllowlist {
  if (ANYONE.has(pattern)) return () => true;
  try {
    return compileAllowlist([pattern], field);
  } catch (err) {
    // The allowlist's reason, with the field it came from, as the API's 400 says it.
    if (isKotakError(err)) throw new KotakError('invalid_request', err.message.replace(/^[^:]*: /, `${field}: `));
    throw err;
  }
}

/** IPv4 clients on a dual-stack listener read as ::ffff:a.b.c.d. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function compileMatch(match: ChaosMatch): ChaosPredicate {
  const tests: ChaosPredicate[] = [];
  if (match.client !== undefined) {
    const block = parseClientBlock(match.client)!;
    const list = new BlockList();
    list.addSubnet(block.address, block.prefix, block.family);
    tests.push((facts) => {
      const address = plainAddress(facts.client);
      try {
        return list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
      } catch {
        return false;
      }
    });
  }
  if (match.user !== undefined) {
    const user = match.user;
    tests.push((facts) => facts.user === user);
  }
  if (match.from !== undefined) {
    const from = compileAddress('match.from', match.from);
    tests.push((facts) => facts.from !== undefined && from(facts.from));
  }
  if (match.to !== undefined) {
    const to = compileAddress('match.to', match.to);
    tests.push((facts) => (facts.recipients ?? []).some((r) => to(r.address)));
  }
  if (match.mailbox !== undefined) {
    const mailbox = match.mailbox;
    tests.push((facts) => (facts.recipients ?? []).some((r) => r.mailbox === mailbox));
  }
  return (facts) => tests.every((test) => test(facts));
}
