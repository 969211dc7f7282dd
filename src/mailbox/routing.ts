/**
 * Mailbox routing: which mailboxes a new message goes to, decided once at intake from its
 * envelope. Pure: configuration in, a function from envelope to placements out.
 *
 * Order: with --mailbox-by-smtp-user, a message sent with SMTP AUTH as a user whose name is a
 * valid mailbox name goes, whole, to that mailbox (one credential per inbox, as the hosted
 * services do). Otherwise each envelope recipient is placed by the first --mailbox-route rule
 * that matches it, else in `default`. Recipients that land in the same mailbox share one copy.
 *
 * Patterns are the --relay-allow language (relay/allowlist.ts decides whether an address
 * matches); a `{mailbox}` pattern is matched as if `{mailbox}` were `*`, and the mailbox is then
 * read from the place it holds.
 */
import { KotakError } from '../errors.js';
import { isMailboxName } from '../mail/mailbox-name.js';
import { DEFAULT_MAILBOX, DEFAULT_ROUTE_RULE, type Envelope } from '../mail/types.js';
import { compileAllowlist } from '../relay/allowlist.js';

/** The rule name of a placement by the SMTP user, and of the fallback. */
export const SMTP_USER_RULE = 'smtp-user';
export const DEFAULT_RULE = DEFAULT_ROUTE_RULE;

export interface RoutingSettings {
  /** `PATTERN=NAME` or a PATTERN holding `{mailbox}` once, as written on the command line. */
  readonly routes: readonly string[];
  readonly bySmtpUser: boolean;
}

/** One copy of the message: the mailbox, the rule that chose it (pattern text, `smtp-user` or `default`). */
export interface Placement {
  readonly mailbox: string;
  readonly rule: string;
}

export interface MailboxRouting {
  /** The copies to store, in the order of the first recipient that chose each; never empty. */
  place(envelope: Envelope): Placement[];
  /**
   * The mailbox whose copy holds this recipient (each recipient belongs to exactly one copy), so
   * that --relay-auto relays each recipient once, from its own copy, not from every copy.
   */
  mailboxOf(envelope: Envelope, recipient: string): string;
  /** The mailboxes named in configuration (fixed NAMEs) and `default`: they exist even when empty. */
  readonly configuredMailboxes: readonly string[];
  /**
   * The mailbox a mail client (POP3) logged in as this user reads. With --mailbox-by-smtp-user,
   * the mailbox that mail sent with SMTP AUTH as this user goes to, by the same test (so one
   * credential reaches one mailbox both ways), or null when the name is no mailbox name: such a
   * user's mail is routed by the recipient rules and has no mailbox of its own. Otherwise `default`.
   */
  readerMailbox(user: string): string | null;
}

const FLAG = '--mailbox-route';
const CAPTURE = '{mailbox}';

interface Rule {
  readonly text: string;
  /** The mailbox of this recipient under this rule, or undefined when the rule does not apply. */
  readonly mailboxFor: (recipient: string) => string | undefined;
}

export function compileRouting(settings: RoutingSettings): MailboxRouting {
  const rules = settings.routes.map(compileRule);
  const configured = new Set<string>([DEFAULT_MAILBOX]);
  for (const written of settings.routes) {
    const fixed = splitRoute(written).name;
    if (fixed !== undefined) configured.add(fixed);
  }
  const routeRecipient = (recipient: string): Placement => {
    for (const rule of rules) {
      const mailbox = rule.mailboxFor(recipient);
      if (mailbox !== undefined) return { mailbox, rule: rule.text };
    }
    return { mailbox: DEFAULT_MAILBOX, rule: DEFAULT_RULE };
  };
  const byUser = (envelope: Envelope): Placement | undefined => {
    const mailbox = settings.bySmtpUser && envelope.user !== null ? mailboxOfUser(envelope.user) : undefined;
    return mailbox !== undefined ? { mailbox, rule: SMTP_USER_RULE } : undefined;
  };
  return {
    configuredMailboxes: [...configured],
    readerMailbox: (user) => (settings.bySmtpUser ? (mailboxOfUser(user) ?? null) : DEFAULT_MAILBOX),
    mailboxOf: (envelope, recipient) => (byUser(envelope) ?? routeRecipient(recipient)).mailbox,
    place(envelope) {
      const userPlacement = byUser(envelope);
      if (userPlacement) return [userPlacement];
      const placements = new Map<string, Placement>();
      for (const recipient of envelope.rcptTo) {
        const placement = routeRecipient(recipient);
        if (!placements.has(placement.mailbox)) placements.set(placement.mailbox, placement);
      }
      return placements.size > 0 ? [...placements.values()] : [{ mailbox: DEFAULT_MAILBOX, rule: DEFAULT_RULE }];
    },
  };
}

/**
 * A user's own mailbox: the user name itself when it is a mailbox name. Not case-folded: user
 * names are compared exactly (the htpasswd file has `Alice` and `alice` as two users), so folding
 * would give two credentials one mailbox.
 */
function mailboxOfUser(user: string): string | undefined {
  return isMailboxName(user) ? user : undefined;
}

/**
 * `PATTERN=NAME` → both; a PATTERN alone (with `{mailbox}`) → no name. The name is after the
 * last `=`, since `=` may appear in a local part but never in a mailbox name; text after it
 * that holds an `@` is still the pattern's domain, so there is no name.
 */
function splitRoute(written: string): { pattern: string; name: string | undefined } {
  const text = written.trim();
  const eq = text.lastIndexOf('=');
  if (eq < 0 || text.slice(eq + 1).includes('@')) return { pattern: text, name: undefined };
  return { pattern: text.slice(0, eq).trim(), name: text.slice(eq + 1).trim() };
}

function compileRule(written: string): Rule {
  const fail = (reason: string): never => {
    throw new KotakError('invalid_config', `${FLAG}: "${written}" ${reason} (examples: '*@billing.test=billing', '*@{mailbox}.inbox.test', '*+{mailbox}@example.com')`);
  };
  const { pattern, name } = splitRoute(written);
  const captures = pattern.split(CAPTURE).length - 1;
  if (name !== undefined) {
    if (captures > 0) fail('names its mailbox twice: use either {mailbox} in the pattern or =NAME, not both');
    if (!isMailboxName(name)) fail(`routes to "${name}", which is not a mailbox name (a-z, 0-9, then also . _ -, at most 64 characters)`);
    const matches = compileAllowlist([pattern], FLAG);
    return { text: pattern, mailboxFor: (recipient) => (matches(recipient) ? name : undefined) };
  }
  if (captures === 0) fail('needs =NAME or {mailbox} in the pattern');
  if (captures > 1) fail('may hold {mailbox} only once');
  const matches = compileAllowlist([pattern.replace(CAPTURE, '*')], FLAG);
  const capture = captureRegExp(pattern);
  return {
    text: pattern,
    mailboxFor(recipient) {
      if (!matches(recipient)) return undefined;
      const mailbox = capture.exec(recipient.replace(/[A-Z]+/g, (letters) => letters.toLowerCase()))?.[1];
      return mailbox !== undefined && isMailboxName(mailbox) ? mailbox : undefined;
    },
  };
}

/**
 * Where `{mailbox}` sits in an address the pattern matched: the pattern's `*` as any run without
 * `@`, `{mailbox}` as `[a-z0-9._-]+`, the rest literal, over the address with ASCII letters
 * folded (the matcher folds the same way). Whether the address matches at all is the matcher's
 * decision; this only reads the capture.
 */
function captureRegExp(pattern: string): RegExp {
  const [before = '', after = ''] = pattern.toLowerCase().split(CAPTURE);
  const literal = (text: string) =>
    text
      .split('*')
      .map((part) => part.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
      .join('[^@]*');
  return new RegExp(`^${literal(before)}([a-z0-9._-]+)${literal(after)}$`);
}
