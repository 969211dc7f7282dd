/**
 * The rows of one list (a mailbox and a search): a sparse window onto the whole result, however
 * long. Only the rows asked for are fetched (pages by offset, `start`, of GET /api/messages), a
 * page ahead is prefetched, and live changes are applied in place. Knows nothing of the DOM.
 */
import { listMessages, type MessagePage, type MessageSummary } from './api.js';

/** Rows per request: a few screens, so steady scrolling asks every second or so, not every frame. */
export const PAGE_ROWS = 100;
/** Rows fetched beyond the wanted range in both directions, so scrolling rarely meets a gap. */
const PREFETCH_ROWS = PAGE_ROWS;
/** At most this many page requests at once: scrolling fast must not queue up pages it has passed. */
const MAX_IN_FLIGHT = 2;
/** A reload overtaken by live changes is retried; after this many in a row it is taken as it is. */
const MAX_DISCARDED_RELOADS = 3;

export interface ResultRowsOptions {
  readonly mailbox: string | null;
  readonly query: string;
  /** Called after every change to the rows or the total. */
  readonly onChange: () => void;
  /** Called when a request fails (a bad query answers 400 here). */
  readonly onError: (error: unknown) => void;
  /** Called when a page shows the result changed in ways no frame told of: time for a reload. */
  readonly onStale: () => void;
}

export class ResultRows {
  readonly #options: ResultRowsOptions;
  /** Index → summary; undefined where not loaded yet. */
  #rows: (MessageSummary | undefined)[] = [];
  #total = 0;
  /** The server counts a search's matches only so far past the page asked for: more may follow. */
  #totalIsLowerBound = false;
  #answered = false;
  /**
   * Bumped by every change that moves rows to other indices (new mail at the top, a delete, a
   * reload): a page requested before it would land at the wrong place, so it is dropped.
   */
  #epoch = 0;
  #inFlight: { readonly start: number; readonly end: number; readonly epoch: number }[] = [];
  #wanted = { first: 0, last: -1 };
  #discardedReloads = 0;
  #disposed = false;

  constructor(options: ResultRowsOptions) {
    this.#options = options;
  }

  /** How many messages the whole result holds (0 until the first answer). */
  get total(): number {
    return this.#total;
  }

  /** True when at least `total` messages match, not exactly `total` (the list grows as it is scrolled). */
  get totalIsLowerBound(): boolean {
    return this.#totalIsLowerBound;
  }

  /** True once the server has answered at least once. */
  get answered(): boolean {
    return this.#answered;
  }

  at(index: number): MessageSummary | undefined {
    return this.#rows[index];
  }

  indexOf(id: string): number {
    return this.#rows.findIndex((row) => row?.id === id);
  }

  /** Every loaded row, in order (for "select all listed"). */
  loaded(): MessageSummary[] {
    return this.#rows.filter((row): row is MessageSummary => row !== undefined);
  }

  dispose(): void {
    this.#disposed = true;
  }

  /** The rows on screen (inclusive); fetches what is missing around them. */
  want(first: number, last: number): void {
    this.#wanted = { first, last };
    this.#pump();
  }

  /**
   * Fetches the wanted rows again, with the total, and forgets the rest (fetched again when
   * scrolled to): after changes the live frames cannot place (a search, deletes elsewhere, a
   * reconnection). The old rows stay on screen until the answer replaces them.
   */
  async reload(): Promise<void> {
    const epoch = this.#epoch;
    const start = Math.max(0, this.#wanted.first - 10);
    const limit = Math.min(1000, Math.max(PAGE_ROWS, this.#wanted.last - start + 11));
    let page;
    try {
      page = await listMessages(this.#options.mailbox, this.#options.query, { start }, limit);
    } catch (err) {
      if (!this.#disposed) this.#options.onError(err);
      return;
    }
    if (this.#disposed) return;
    if (epoch !== this.#epoch && this.#discardedReloads < MAX_DISCARDED_RELOADS) {
      // Live changes moved rows while we waited: our answer may be older than them. Ask again.
      this.#discardedReloads += 1;
      return this.reload();
    }
    this.#discardedReloads = 0;
    const rows: (MessageSummary | undefined)[] = new Array<MessageSummary | undefined>(page.total);
    page.messages.forEach((message, offset) => {
      if (start + offset < page.total) rows[start + offset] = message;
    });
    this.#rows = rows;
    this.#total = page.total;
    this.#totalIsLowerBound = page.totalIsLowerBound;
    this.#answered = true;
    this.#moved();
    this.#pump();
  }

  /** A message new to this list, newer than every other: it goes on top. */
  insertNewest(message: MessageSummary): void {
    if (!this.#answered || this.indexOf(message.id) >= 0) return;
    this.#rows.unshift(message);
    this.#total += 1;
    this.#moved();
  }

  /** Removes these messages where they are loaded; true when every one of them was found. */
  remove(ids: readonly string[]): boolean {
    let found = 0;
    for (const id of ids) {
      const index = this.indexOf(id);
      if (index < 0) continue;
      this.#rows.splice(index, 1);
      this.#total -= 1;
      found += 1;
    }
    if (found > 0) this.#moved();
    return found === ids.length;
  }

  /** Changes a loaded row in place (read flag, tags): nothing moves. */
  update(id: string, change: (message: MessageSummary) => MessageSummary): void {
    const index = this.indexOf(id);
    const current = this.#rows[index];
    if (current === undefined) return;
    this.#rows[index] = change(current);
    this.#options.onChange();
  }

  /** Whether a page's total fits what we know: equal when both are exact, else neither contradicts the other. */
  #agrees(page: MessagePage): boolean {
    if (!this.#totalIsLowerBound && !page.totalIsLowerBound) return page.total === this.#total;
    if (this.#totalIsLowerBound && page.totalIsLowerBound) return true;
    // One is exact: it may not be below what the other says at least matches.
    return this.#totalIsLowerBound ? page.total >= this.#total : page.total <= this.#total;
  }

  #moved(): void {
    this.#epoch += 1;
    this.#inFlight = this.#inFlight.filter((request) => request.epoch === this.#epoch);
    this.#options.onChange();
  }

  #missing(index: number): boolean {
    return index >= 0 && index < this.#total && this.#rows[index] === undefined && !this.#inFlight.some((r) => index >= r.start && index < r.end);
  }

  /** Starts page requests for the wanted rows (nearest first), then for the rows around them. */
  #pump(): void {
    if (!this.#answered || this.#disposed) return;
    const { first, last } = this.#wanted;
    while (this.#inFlight.length < MAX_IN_FLIGHT) {
      let start = -1;
      for (let index = first; index <= last + PREFETCH_ROWS && start < 0; index++) if (this.#missing(index)) start = index;
      if (start < 0) {
        // Above the view: fetch the page that ends at the missing row.
        for (let index = first - 1; index >= first - PREFETCH_ROWS && start < 0; index--) if (this.#missing(index)) start = Math.max(0, index - PAGE_ROWS + 1);
      }
      if (start < 0) return;
      void this.#fetchPage(start);
    }
  }

  async #fetchPage(start: number): Promise<void> {
    const request = { start, end: start + PAGE_ROWS, epoch: this.#epoch };
    this.#inFlight.push(request);
    let page;
    try {
      page = await listMessages(this.#options.mailbox, this.#options.query, { start }, PAGE_ROWS);
    } catch (err) {
      this.#inFlight = this.#inFlight.filter((r) => r !== request);
      if (!this.#disposed) this.#options.onError(err);
      return;
    }
    const current = this.#inFlight.includes(request);
    this.#inFlight = this.#inFlight.filter((r) => r !== request);
    if (this.#disposed) return;
    if (current && !this.#agrees(page)) {
      // The result changed behind our back (no frame told of it): rows cannot be placed; reload.
      this.#options.onStale();
      return;
    }
    if (current && page.total > this.#total) {
      // A page further down counts further: the list grows (exact once the count reached the end).
      this.#rows.length = page.total;
      this.#total = page.total;
      this.#totalIsLowerBound = page.totalIsLowerBound;
    }
    if (current) {
      page.messages.forEach((message, offset) => {
        if (start + offset < this.#total) this.#rows[start + offset] = message;
      });
      this.#options.onChange();
    }
    // An answer dropped because rows moved meanwhile is asked again.
    this.#pump();
  }
}
