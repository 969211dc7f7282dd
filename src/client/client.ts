/**
 * KotakClient: Kotak's HTTP API as typed methods, and waits that the server holds open until the
 * mail is there. Works wherever `fetch` does (Node 18+, browsers, Deno, Bun).
 */
import { planWait, sinceMs, type WaitCriteria, type WaitForManyCriteria } from './criteria.js';
import { Http, type Fetch } from './http.js';
import { findAttachment, toMessage, type Message, type MessageSource } from './message.js';
import type { MessageDetail, MessagePage, MessageSummary, RawOptions, Stats } from './types.js';
import { KotakApiError } from './errors.js';
import { ChaosClient } from './chaos.js';
import { MAX_WAIT_COUNT, waitForMessages, type WaitAnswer, type WaitRound, type WaitServer } from './wait.js';

export interface KotakClientOptions {
  /** Default for `timeout` in waits, in ms. Default 30 000. */
  readonly timeout?: number;
  /** A fetch to use instead of the global one (a proxy agent, a test double). */
  readonly fetch?: Fetch;
  /** An API token, for a Kotak started with --http-token (sent as `Authorization: Bearer <token>`). */
  readonly token?: string;
  /**
   * Only this mailbox: lists, searches, waits, `clear()` and `stats()` see and touch nothing else
   * (sent as `?mailbox=`). Calls by id (`get`, `raw`, `delete`…) take ids, unique across mailboxes.
   */
  readonly mailbox?: string;
}

export interface ListOptions {
  /** Search terms (README "Search syntax"); all messages without. */
  readonly query?: string;
  /** 1–1000; the server's default is 50. */
  readonly limit?: number;
  /** A page's `nextCursor`, for the next (older) page. */
  readonly cursor?: string;
  readonly signal?: AbortSignal;
}

const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

interface WaitBody {
  messages?: MessageSummary[];
  recent?: MessageSummary[];
}

export class KotakClient {
  readonly #http: Http;
  readonly #options: KotakClientOptions;
  readonly #defaultTimeout: number;
  readonly #source: MessageSource = {
    raw: (id, options) => this.#raw(id, options),
    part: (id, partId) => this.#http.bytes(messagePath(id, 'parts', partId)),
    check: (id, name, params, signal) => this.#http.json(messagePath(id, 'checks', name), { params, signal }),
  };

  /** The server calls a wait makes; the waiting logic itself is in ./wait.ts. */
  readonly #waitServer: WaitServer = {
    wait: async (round: WaitRound): Promise<WaitAnswer> => {
      const params = {
        mailbox: this.#options.mailbox,
        query: round.query || undefined,
        since: round.since ?? undefined,
        count: round.count,
        timeout: `${Math.ceil(round.timeoutMs)}ms`,
      };
      const response = await this.#http.request('api/messages/wait', { params, signal: round.signal, accept: [408] });
      const body = (await response.json()) as WaitBody;
      const messages = body.messages ?? [];
      return response.status === 408 ? { kind: 'timeout', messages, recent: body.recent ?? [] } : { kind: 'matched', messages };
    },
    get: async (id, signal) => {
      try {
        return await this.#http.json<MessageDetail>(messagePath(id), { signal });
      } catch (err) {
        if (err instanceof KotakApiError && err.status === 404) return null;
        throw err;
      }
    },
  };

  /** Chaos rules (README "Chaos"): `add` returns a handle whose `remove()` undoes it. */
  readonly chaos: ChaosClient;

  /** `baseUrl`: where Kotak's web inbox is, e.g. http://localhost:8025 or https://host/mail/. */
  constructor(baseUrl: string | URL, options: KotakClientOptions = {}) {
    this.#http = new Http(baseUrl, options.fetch, options.token);
    this.#options = options;
    this.#defaultTimeout = options.timeout ?? DEFAULT_WAIT_TIMEOUT_MS;
    this.chaos = new ChaosClient(this.#http, options.mailbox);
  }

  /** The same server and options, scoped to one mailbox: `kotak.mailbox('w3').clear()` empties exactly `w3`. */
  mailbox(name: string): KotakClient {
    return new KotakClient(this.#http.base, { ...this.#options, mailbox: name });
  }

  /** The mailbox this client is scoped to; undefined when it sees every mailbox. */
  get mailboxName(): string | undefined {
    return this.#options.mailbox;
  }

  /** The base URL in use, always ending in '/'. */
  get url(): string {
    return this.#http.base.href;
  }

  /** One page of summaries, newest first. */
  list(options: ListOptions = {}): Promise<MessagePage> {
    const { query, limit, cursor, signal } = options;
    return this.#http.json<MessagePage>('api/messages', { params: { mailbox: this.#options.mailbox, query, limit, cursor }, signal });
  }

  /** `list` with a query: `search('from:shop@example.com invoice')`. */
  search(query: string, options: Omit<ListOptions, 'query'> = {}): Promise<MessagePage> {
    return this.list({ ...options, query });
  }

  /** One message, parsed, with its links and likely one-time codes. A missing id is a KotakApiError (404). */
  async get(id: string, options: { signal?: AbortSignal } = {}): Promise<Message> {
    return toMessage(await this.#http.json<MessageDetail>(messagePath(id), { signal: options.signal }), this.#source);
  }

  /** The exact bytes received, or with `{ as: 'text' }` those bytes decoded as UTF-8. */
  raw(id: string, options?: RawOptions & { as?: 'bytes' }): Promise<Uint8Array>;
  raw(id: string, options: RawOptions & { as: 'text' }): Promise<string>;
  raw(id: string, options: RawOptions = {}): Promise<Uint8Array | string> {
    return this.#raw(id, options);
  }

  async #raw(id: string, options: RawOptions = {}): Promise<Uint8Array | string> {
    const bytes = await this.#http.bytes(messagePath(id, 'raw'));
    return options.as === 'text' ? new TextDecoder().decode(bytes) : bytes;
  }

  /** An attachment's decoded bytes, by part id ("2"), filename or Content-ID. */
  async attachment(id: string, partIdOrFilename: string): Promise<Uint8Array> {
    const detail = await this.#http.json<MessageDetail>(messagePath(id));
    return this.#http.bytes(messagePath(id, 'parts', findAttachment(detail, partIdOrFilename).id));
  }

  /** Deletes one message; a missing id is a KotakApiError (404). */
  async delete(id: string): Promise<void> {
    await this.#http.request(messagePath(id), { method: 'DELETE' });
  }

  /** Deletes the messages matching a query, or all of them without one (all of this client's mailbox, when it has one). Returns how many. */
  async clear(query?: string): Promise<number> {
    // A query that came out empty (an unset variable, say) must not quietly become "delete everything".
    if (query !== undefined && query.trim() === '') throw new TypeError('clear: the query is empty; call clear() without one to delete every message');
    const body = await this.#http.json<{ deleted: number }>('api/messages', { method: 'DELETE', params: { mailbox: this.#options.mailbox, query } });
    return body.deleted;
  }

  /** Message counts and size (of this client's mailbox when it has one). */
  stats(options: { signal?: AbortSignal } = {}): Promise<Stats> {
    return this.#http.json<Stats>('api/stats', { params: { mailbox: this.#options.mailbox }, signal: options.signal });
  }

  /**
   * Now, to pass as `since` to a later wait: take the mark, make the app send, then wait for what
   * arrived after the mark. Uses this machine's clock, which is Kotak's when it runs here (in
   * process, as a child process or in a local container).
   */
  mark(): Date {
    return new Date();
  }

  /**
   * The oldest message matching the criteria, already stored or still to come: resolves as soon
   * as it is there. Rejects with a KotakTimeoutError that lists what arrived instead.
   */
  async waitFor(criteria: WaitCriteria = {}): Promise<Message> {
    if ('count' in criteria) throw new TypeError('waitFor returns one message; for several use waitForMany({ count, … })');
    const [message] = await this.#wait(criteria, 1);
    return message!;
  }

  /** The oldest `count` messages matching the criteria, oldest first, as soon as that many exist. */
  async waitForMany(criteria: WaitForManyCriteria): Promise<Message[]> {
    const { count } = criteria;
    if (!Number.isInteger(count) || count < 1 || count > MAX_WAIT_COUNT) {
      throw new RangeError(`count must be an integer from 1 to ${MAX_WAIT_COUNT}, not ${String(count)}`);
    }
    return this.#wait(criteria, count);
  }

  async #wait(criteria: WaitCriteria, count: number): Promise<Message[]> {
    const details = await waitForMessages(this.#waitServer, planWait(criteria), {
      count,
      since: sinceMs(criteria.since),
      timeoutMs: criteria.timeout ?? this.#defaultTimeout,
      signal: criteria.signal,
    });
    return details.map((detail) => toMessage(detail, this.#source));
  }
}

function messagePath(id: string, ...rest: string[]): string {
  return ['api/messages', id, ...rest].map((segment, i) => (i === 0 ? segment : encodeURIComponent(segment))).join('/');
}
