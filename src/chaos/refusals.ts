/**
 * Messages chaos refused, kept in memory so the inbox can show them beside the messages that did
 * arrive: the last few per mailbox (a refused message was never stored, so there is nothing in
 * the database to show). Lost on restart, and per node with a shared PostgreSQL database.
 */
import { inScope, type MailboxScope } from '../mail/mailbox-scope.js';
import type { ChaosStage } from './rules.js';

export interface ChaosRefusal {
  /** When it was refused (ISO 8601). */
  readonly at: string;
  readonly mailbox: string;
  readonly ruleId: string;
  readonly stage: ChaosStage;
  /** What refused it: a reply (the rule's, or a rate limit's) or a dropped connection. */
  readonly action: 'reply' | 'rate' | 'drop';
  /** The reply the client got, e.g. `550 5.1.1 no such user`; null for a drop. */
  readonly reply: string | null;
  readonly from: string;
  readonly to: readonly string[];
  readonly client: string;
}

export interface RefusalList {
  /** Refusals ever recorded in these mailboxes (since start), beyond those kept. */
  readonly total: number;
  /** The kept ones, newest first. */
  readonly refusals: readonly ChaosRefusal[];
}

export type RefusalListener = (refusal: ChaosRefusal) => void;

const DEFAULT_KEEP_PER_MAILBOX = 50;

export class ChaosRefusals {
  readonly #keep: number;
  readonly #byMailbox = new Map<string, { total: number; kept: ChaosRefusal[] }>();
  readonly #listeners = new Set<RefusalListener>();

  constructor(keepPerMailbox = DEFAULT_KEEP_PER_MAILBOX) {
    this.#keep = keepPerMailbox;
  }

  record(refusal: ChaosRefusal): void {
    const entry = this.#byMailbox.get(refusal.mailbox) ?? { total: 0, kept: [] };
    entry.total++;
    entry.kept.push(refusal);
    if (entry.kept.length > this.#keep) entry.kept.shift();
    this.#byMailbox.set(refusal.mailbox, entry);
    for (const listener of this.#listeners) listener(refusal);
  }

  list(scope: MailboxScope, limit = this.#keep): RefusalList {
    let total = 0;
    const all: ChaosRefusal[] = [];
    for (const [mailbox, entry] of this.#byMailbox) {
      if (!inScope(scope, mailbox)) continue;
      total += entry.total;
      all.push(...entry.kept);
    }
    all.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
    return { total, refusals: all.slice(0, limit) };
  }

  /** Forgets the refusals of these mailboxes (the inbox's "dismiss"); returns how many were counted. */
  clear(scope: MailboxScope): number {
    let cleared = 0;
    for (const [mailbox, entry] of this.#byMailbox) {
      if (!inScope(scope, mailbox)) continue;
      cleared += entry.total;
      this.#byMailbox.delete(mailbox);
    }
    return cleared;
  }

  onRefused(listener: RefusalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
