/** What the compatibility APIs (Mailpit, MailHog) are given: the same parts as Kotak's own API. */
import type { Logger } from 'pino';
import type { EventBus } from '../events.js';
import type { Deliver } from '../ingest.js';
import type { LinkChecker } from '../checks/links/check.js';
import type { MailboxService } from '../mailbox/service.js';
import type { ParserPool } from '../parse/pool.js';
import type { MessageStore } from '../store/types.js';
import type { SpamCheck } from '../checks/spam/index.js';
import type { ChaosEngine } from '../chaos/engine.js';

export interface CompatDeps {
  readonly store: MessageStore;
  /** For listening (and the Mailpit tag feed); changes to messages go through `mailboxes`. */
  readonly bus: EventBus;
  /** Every change to messages, announced (src/mailbox/service.ts). */
  readonly mailboxes: MailboxService;
  readonly parser: ParserPool;
  /** Stores a message as if it had arrived over SMTP (for Mailpit's POST /api/v1/send). */
  readonly deliver: Deliver;
  readonly log: Logger;
  readonly version: string;
  readonly maxMessageSize: number;
  // checks: spam
  /** The spam check (spamd of --spamassassin); null or absent when it is off. */
  readonly spamCheck?: SpamCheck | null;
  // checks: links
  readonly linkChecker: LinkChecker;
  // chaos
  /** The chaos rules, for Mailpit's /api/v1/chaos; absent: Mailpit's "Chaos is not enabled". */
  readonly chaos?: ChaosEngine;
}
