/**
 * A session's selected folder (RFC 3501 section 5.1.2): the messages numbered 1..N in the order
 * the client was told of them, their flags as last told, and the changes heard from the event bus
 * since. The client learns of changes only through `updates()`, called where the protocol allows
 * it; message numbers never move under a command in progress.
 *
 * The view opens on the folder's newest `limit` messages (--imap-folder-size) and grows by what
 * arrives while selected.
 */
import type { Folder, FolderAccess, FolderMessage, MessageFlags } from '../access/folder-types.js';
import type { FolderChange } from './folder-events.js';
import { flagList, sameFlags } from './flags.js';
import { inSequenceSet, type SequenceSet } from './wire/sequence-set.js';

export class MailboxView {
  readonly folder: Folder;
  readonly readOnly: boolean;
  readonly #access: FolderAccess;
  readonly #limit: number;
  #messages: FolderMessage[];
  readonly #byId = new Map<string, FolderMessage>();
  /** Heard of, not yet told. */
  #newMail = false;
  readonly #gone = new Set<string>();
  readonly #flagsChanged = new Set<string>();
  #allFlags = false;
  #recheck = false;

  constructor(access: FolderAccess, folder: Folder, messages: readonly FolderMessage[], options: { readonly readOnly: boolean; readonly limit: number }) {
    this.#access = access;
    this.folder = folder;
    this.readOnly = options.readOnly;
    this.#limit = options.limit;
    this.#messages = [...messages];
    for (const message of messages) this.#byId.set(message.id, message);
  }

  get messages(): readonly FolderMessage[] {
    return this.#messages;
  }

  get exists(): number {
    return this.#messages.length;
  }

  get lastUid(): number {
    return this.#messages.at(-1)?.uid ?? 0;
  }

  /** Sequence number of a message in view (binary search: UIDs ascend), or 0. */
  seqOf(id: string): number {
    const message = this.#byId.get(id);
    if (!message) return 0;
    let low = 0;
    let high = this.#messages.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const uid = this.#messages[middle]!.uid;
      if (uid === message.uid) return middle + 1;
      if (uid < message.uid) low = middle + 1;
      else high = middle - 1;
    }
    return 0;
  }

  byId(id: string): FolderMessage | undefined {
    return this.#byId.get(id);
  }

  /** The messages a set names, in view order: by sequence number, or by UID. */
  select(set: SequenceSet, byUid: boolean): FolderMessage[] {
    if (byUid) {
      const largest = this.lastUid;
      return this.#messages.filter((message) => inSequenceSet(set, message.uid, largest));
    }
    const largest = this.#messages.length;
    return this.#messages.filter((_, i) => inSequenceSet(set, i + 1, largest));
  }

  /**
   * True when a sequence-number set names a number past the end (a BAD, RFC 3501 section 9). A
   * range reaching `*` is never out of range: `1:*` of an empty folder selects nothing (clients
   * send it to poll), and must not count towards the bad-command limit.
   */
  outOfRange(set: SequenceSet): boolean {
    return set.some((range) => range.from !== null && range.to !== null && Math.max(range.from, range.to) > this.#messages.length);
  }

  /** The client now knows these flags (it changed them itself): no FETCH for them later. */
  told(id: string, flags: MessageFlags): void {
    const message = this.#byId.get(id);
    if (!message) return;
    const updated = { ...message, flags };
    this.#byId.set(id, updated);
    const seq = this.seqOf(id);
    if (seq > 0) this.#messages[seq - 1] = updated;
  }

  /** Removes messages the client is told are expunged; returns their sequence numbers, highest first. */
  remove(ids: readonly string[]): number[] {
    const seqs = ids.map((id) => this.seqOf(id)).filter((seq) => seq > 0).sort((a, b) => b - a);
    for (const seq of seqs) {
      const [message] = this.#messages.splice(seq - 1, 1);
      this.#byId.delete(message!.id);
      this.#gone.delete(message!.id);
      this.#flagsChanged.delete(message!.id);
    }
    return seqs;
  }

  /** A change heard from the bus, kept until `updates()`. */
  note(change: FolderChange): void {
    switch (change.kind) {
      case 'stored':
        this.#newMail = true;
        break;
      case 'deleted':
        for (const id of change.ids) if (this.#byId.has(id)) this.#gone.add(id);
        break;
      case 'flags':
        for (const id of change.ids) if (this.#byId.has(id)) this.#flagsChanged.add(id);
        break;
      case 'all-flags':
        this.#allFlags = true;
        break;
      case 'recheck':
        this.#recheck = true;
        this.#newMail = true;
        break;
    }
  }

  get hasNews(): boolean {
    return this.#newMail || this.#gone.size > 0 || this.#flagsChanged.size > 0 || this.#allFlags || this.#recheck;
  }

  /** Messages the folder no longer holds, not yet told as expunged. */
  isGone(id: string): boolean {
    return this.#gone.has(id);
  }

  /**
   * The untagged responses for what changed: FETCH (FLAGS) for flags, EXPUNGE when `mayExpunge`
   * (RFC 3501 section 7.4.1 forbids it during FETCH, STORE and SEARCH), EXISTS for new mail.
   */
  async updates(mayExpunge: boolean): Promise<string[]> {
    const lines: string[] = [];
    const everything = this.#allFlags || this.#recheck;
    const asked = everything ? this.#messages.map((m) => m.id) : [...this.#flagsChanged].filter((id) => this.#byId.has(id));
    this.#allFlags = false;
    this.#recheck = false;
    this.#flagsChanged.clear();
    if (asked.length > 0) {
      const current = await this.#access.flagsOf(this.folder, asked);
      for (const id of asked) {
        const flags = current.get(id);
        const message = this.#byId.get(id);
        if (!message) continue;
        if (!flags) {
          this.#gone.add(id);
          continue;
        }
        if (sameFlags(flags, message.flags)) continue;
        this.told(id, flags);
        lines.push(`* ${this.seqOf(id)} FETCH (UID ${message.uid} FLAGS ${flagList(flags)})\r\n`);
      }
    }
    if (mayExpunge && this.#gone.size > 0) {
      for (const seq of this.remove([...this.#gone])) lines.push(`* ${seq} EXPUNGE\r\n`);
      this.#gone.clear();
    }
    if (this.#newMail) {
      this.#newMail = false;
      const fresh = await this.#access.messages(this.folder, { afterUid: this.lastUid, limit: this.#limit });
      let added = 0;
      for (const message of fresh) {
        if (message.uid <= this.lastUid || this.#byId.has(message.id)) continue;
        this.#messages.push(message);
        this.#byId.set(message.id, message);
        added += 1;
      }
      if (added > 0) lines.push(`* ${this.#messages.length} EXISTS\r\n`);
    }
    return lines;
  }
}
