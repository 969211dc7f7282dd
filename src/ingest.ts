/**
 * The one way a message enters Kotak (SMTP now; the send API and sendmail later): parse off-thread,
 * route it to its mailboxes, then store and announce one copy per mailbox through the mailbox
 * service. The announcement comes strictly after the commit, so anything that hears
 * 'message:stored' can read the message back.
 */
import type { Logger } from 'pino';
import { newMessageId } from './mail/id.js';
import { KotakError } from './errors.js';
import { ALL_MAILBOXES, inScope, type MailboxScope } from './mail/mailbox-scope.js';
import type { SearchQuery } from './mail/search-query.js';
import { summarize } from './mail/summary.js';
import type { Envelope, NewMessage, SpooledRaw } from './mail/types.js';
import type { MailboxRouting } from './mailbox/routing.js';
import { tagsAnything, tagsOf, type TagRule, type TagSources } from './mailbox/tag-rules.js';
import type { MailboxService } from './mailbox/service.js';
import type { ParserPool } from './parse/pool.js';
import type { IntakeMetrics } from './metrics/types.js';

/**
 * Stores a message; resolves with the id of every copy (one per mailbox it was routed to), the
 * first first. `scope`: the mailboxes the sender may write to (SMTP: every one; the HTTP send API:
 * its login's); a message routed to any other is refused whole, before anything is stored.
 */
export type Deliver = (raw: Buffer | SpooledRaw, envelope: Envelope, scope?: MailboxScope) => Promise<readonly string[]>;

const NO_BYTES: Buffer = Buffer.alloc(0);

/** Tagging at intake (mailbox/tag-rules.ts); absent: messages arrive untagged. */
export interface IntakeTagging {
  readonly sources: TagSources;
  /** The ids among these stored ones that match a query, by the store's search (for rules with full-text terms). */
  readonly storedMatching: (query: SearchQuery, ids: readonly string[]) => Promise<string[]>;
}

export function createIngest(deps: { parser: ParserPool; mailboxes: MailboxService; routing: MailboxRouting; log: Logger; now?: () => number; tagging?: IntakeTagging; metrics?: IntakeMetrics }): Deliver {
  const { parser, mailboxes, routing, log } = deps;
  const now = deps.now ?? Date.now;
  const tagging = deps.tagging && tagsAnything(deps.tagging.sources) ? deps.tagging : null;

  /** Each copy with the tags its sources decide now (a copy's mailbox can matter to a rule); the rules left for the store. */
  const tagCopies = (copies: NewMessage[]): { copies: NewMessage[]; undecided: ReadonlyMap<TagRule, string[]> } => {
    const undecided = new Map<TagRule, string[]>();
    if (!tagging) return { copies, undecided };
    const tagged = copies.map((copy) => {
      const found = tagsOf(tagging.sources, { summary: summarize(copy), headers: copy.parsed.ok ? copy.parsed.message.headers : [], envelope: copy.envelope });
      for (const rule of found.undecided) (undecided.get(rule) ?? undecided.set(rule, []).get(rule)!).push(copy.id);
      return found.tags.length > 0 ? { ...copy, tags: found.tags } : copy;
    });
    return { copies: tagged, undecided };
  };

  /**
   * Rules only the full-text index can answer, asked of the store once the copies are committed,
   * and applied before the sender is told `250`: a test that waits for the message and then
   * reads its tags sees them. They reach listeners as a tag change after the message itself.
   */
  const applyUndecided = async (undecided: ReadonlyMap<TagRule, string[]>, scope: MailboxScope): Promise<void> => {
    if (!tagging) return;
    for (const [rule, ids] of undecided) {
      try {
        const matching = await tagging.storedMatching(rule.query, ids);
        if (matching.length > 0) await mailboxes.changeTags(scope, matching, [rule.tag], []);
        if (matching.length > 0) deps.metrics?.ruleTagged(rule.tag, matching.length);
      } catch (err) {
        // The message is committed: failing the 250 now would only make the sender send it twice.
        log.warn({ err, rule: rule.text, ids }, 'a tag rule could not be applied to a new message');
      }
    }
  };
  return async (raw, envelope, scope = ALL_MAILBOXES) => {
    const placements = routing.place(envelope);
    // Said without the mailbox's name: the sender may not know it exists, and must not learn it here.
    if (placements.some(({ mailbox }) => !inScope(scope, mailbox))) {
      throw new KotakError('mailbox_not_allowed', 'a recipient routes to a mailbox this login may not see; nothing was stored');
    }
    const receivedAt = now();
    const spooled = Buffer.isBuffer(raw) ? null : raw;
    const size = spooled ? spooled.size : (raw as Buffer).length;
    // A spooled message is parsed from its file, never held whole (parse/pool.ts).
    const parsed = spooled ? await parser.parseFile(spooled) : await parser.parse(raw as Buffer);
    if (!parsed.ok) log.warn({ reason: parsed.error, bytes: size }, 'message kept unparsed');
    deps.metrics?.parsed(parsed.ok, parsed.ok && parsed.message.textCut === true, envelope.smtpWarnings);
    const source = spooled ? { raw: NO_BYTES, spooled } : { raw: raw as Buffer };
    // Each copy is the whole message (envelope, Bcc view, raw bytes) with its own id and state;
    // the copies of a spooled message each get a raw file linked to the one spool file.
    const { copies, undecided } = tagCopies(placements.map(({ mailbox, rule }) => ({ id: newMessageId(receivedAt), mailbox, routeRule: rule, receivedAt, envelope, ...source, parsed })));
    const stored = await mailboxes.storeCopies(scope, copies);
    await applyUndecided(undecided, scope);
    const ids = stored.map((summary) => summary.id);
    log.debug({ ids, mailboxes: copies.map((c) => c.mailbox), from: envelope.mailFrom, rcpts: envelope.rcptTo.length, bytes: size }, 'message stored');
    return ids;
  };
}
