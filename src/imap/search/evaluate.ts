/**
 * Answers a tree of search keys (keys.ts) over a session's view, as set operations on the view's
 * positions: AND narrows its candidates key by key, the cheapest first; OR asks its second key
 * only about what the first left; NOT is what its key left of the candidates. Keys on flags, UIDs,
 * sequence numbers, sizes and INTERNALDATE are read from the view; string keys ask the store
 * (narrowing.ts) about the candidates still in play, then read only what the store found.
 */
import type { FolderMessage } from '../../access/folder-types.js';
import type { SearchQuery } from '../../mail/search-query.js';
import { dayMatches, utcDay } from './dates.js';
import type { SearchKey, StringTarget } from './keys.js';
import { anyFieldMatches, bodyTexts, messageTexts, needsBody, textMatches, type MessageTexts } from './message-text.js';
import { narrowingQuery, sentNarrowingQuery, unknownTextQuery } from './narrowing.js';
import { sequenceMatcher } from './sequence-set.js';

export interface KeySource {
  readonly messages: readonly FolderMessage[];
  matching(query: SearchQuery, within: readonly string[] | null): Promise<Set<string>>;
  read(id: string): Promise<Buffer | null>;
}

/**
 * Past this many candidates the store is asked about the whole folder instead (its answer is cut
 * to the candidates here): a list of ids becomes one SQL parameter each, and SQLite allows 32,766.
 */
const MAX_WITHIN_IDS = 10_000;
/** Raw messages read at once while checking candidates. */
const READ_CONCURRENCY = 4;
/** Lower-cased body text kept between keys of one search, in characters; past it a body is parsed again when asked. */
const BODY_CACHE_CHARS = 16 * 1024 * 1024;

/** The view's positions (0-based, ascending) that match `key`. */
export async function evaluateKeys(key: SearchKey, source: KeySource): Promise<number[]> {
  const evaluator = new Evaluator(source);
  return evaluator.evaluate(key, source.messages.map((_, at) => at));
}

/** How much a key costs to answer: from the view (0), by the store then candidates read (1), by reading every candidate (2). */
export function keyCost(key: SearchKey): number {
  switch (key.kind) {
    case 'string':
      return key.value === '' || narrowingQuery(key.target, key.value) === null ? 2 : 1;
    case 'sent-date':
      return 1;
    case 'and':
      return Math.max(0, ...key.keys.map(keyCost));
    case 'or':
      return Math.max(keyCost(key.left), keyCost(key.right));
    case 'not':
      return keyCost(key.key);
    default:
      return 0;
  }
}

class Evaluator {
  readonly #source: KeySource;
  readonly #texts = new Map<string, MessageTexts | null>();
  readonly #unknown = new Map<string, Promise<Set<number>>>();
  #cachedBodyChars = 0;

  constructor(source: KeySource) {
    this.#source = source;
  }

  async evaluate(key: SearchKey, candidates: number[]): Promise<number[]> {
    if (candidates.length === 0) return candidates;
    const messages = this.#source.messages;
    switch (key.kind) {
      case 'all':
        return candidates;
      case 'none':
        return [];
      case 'flag':
        return candidates.filter((at) => messages[at]!.flags[key.flag] === key.set);
      case 'keyword': {
        // Kotak's tags match without regard to case (tags.name is NOCASE), so keywords do too.
        const wanted = key.keyword.toLowerCase();
        return candidates.filter((at) => messages[at]!.flags.keywords.some((keyword) => keyword.toLowerCase() === wanted) === key.set);
      }
      case 'sequence': {
        const last = messages.at(-1);
        if (key.uid) {
          const matches = sequenceMatcher(key.set, last ? last.uid : null);
          return candidates.filter((at) => matches(messages[at]!.uid));
        }
        const matches = sequenceMatcher(key.set, last ? messages.length : null);
        return candidates.filter((at) => matches(at + 1));
      }
      case 'size':
        return candidates.filter((at) => (key.op === 'larger' ? messages[at]!.size > key.octets : messages[at]!.size < key.octets));
      case 'internal-date':
        return candidates.filter((at) => dayMatches(key.op, utcDay(messages[at]!.receivedAt), key.day));
      case 'sent-date': {
        const left = await this.#narrowed(sentNarrowingQuery(key.op, key.day), candidates);
        return this.#checked(left, false, (texts) => dayMatches(key.op, texts.sentDay, key.day));
      }
      case 'string':
        return this.#string(key.target, key.value, candidates);
      case 'and': {
        // Stable: keys of one cost keep the client's order.
        const ordered = key.keys.map((k, order) => ({ k, order, cost: keyCost(k) })).sort((a, b) => a.cost - b.cost || a.order - b.order);
        let left = candidates;
        for (const { k } of ordered) {
          left = await this.evaluate(k, left);
          if (left.length === 0) break;
        }
        return left;
      }
      case 'or': {
        const [first, second] = keyCost(key.right) < keyCost(key.left) ? [key.right, key.left] : [key.left, key.right];
        const a = await this.evaluate(first, candidates);
        const taken = new Set(a);
        const b = await this.evaluate(second, candidates.filter((at) => !taken.has(at)));
        for (const at of b) taken.add(at);
        return candidates.filter((at) => taken.has(at));
      }
      case 'not': {
        const matched = new Set(await this.evaluate(key.key, candidates));
        return candidates.filter((at) => !matched.has(at));
      }
    }
  }

  async #string(target: StringTarget, value: string, candidates: number[]): Promise<number[]> {
    const messages = this.#source.messages;
    const query = narrowingQuery(target, value);
    let left = candidates;
    if (query !== null) {
      const found = new Set(await this.#narrowed(query, candidates));
      // What the index or a header column cannot vouch for (a cut text, a message kept raw) stays a candidate.
      const unknown = unknownTextQuery(target, query);
      const unvouched = unknown === null ? new Set<number>() : await this.#unknownText(unknown);
      left = candidates.filter((at) => found.has(at) || unvouched.has(at));
    }
    const needle = value.toLowerCase();
    if (target.kind !== 'text' || needle === '') return this.#checked(left, needsBody(target) && needle !== '', (texts) => textMatches(texts, target, needle));
    // TEXT: the header first, which is cheap; only the messages it leaves have their bodies parsed.
    const inHeader = new Set(await this.#checked(left, false, (texts) => anyFieldMatches(texts, needle)));
    const inBody = new Set(await this.#checked(left.filter((at) => !inHeader.has(at)), true, (texts) => textMatches(texts, { kind: 'body' }, needle)));
    return left.filter((at) => inHeader.has(at) || inBody.has(at));
  }

  /** The view's messages whose text the store cannot vouch for (unknownTextQuery), asked once per search and kind: they are few. */
  #unknownText(query: SearchQuery): Promise<Set<number>> {
    const kind = JSON.stringify(query);
    let known = this.#unknown.get(kind);
    if (known === undefined) {
      known = this.#narrowed(query, this.#source.messages.map((_, at) => at)).then((positions) => new Set(positions));
      this.#unknown.set(kind, known);
    }
    return known;
  }

  /** The candidates the store's answer to `query` holds. */
  async #narrowed(query: SearchQuery, candidates: number[]): Promise<number[]> {
    const messages = this.#source.messages;
    // The whole view is asked as the folder (null), which spares the store a list of every id;
    // except for terms the store answers row by row (may-contain reads stored texts, text-unknown
    // has no index), asked about the candidates only, not about a folder that may hold far more.
    const scans = query.terms.some((term) => term.kind === 'may-contain' || term.kind === 'text-unknown');
    const whole = (!scans && candidates.length === messages.length) || candidates.length > MAX_WITHIN_IDS;
    const found = await this.#source.matching(query, whole ? null : candidates.map((at) => messages[at]!.id));
    return candidates.filter((at) => found.has(messages[at]!.id));
  }

  /** The candidates whose raw message passes `test`, read a few at a time; a message gone meanwhile does not. */
  async #checked(candidates: number[], body: boolean, test: (texts: MessageTexts) => boolean): Promise<number[]> {
    const passed = new Array<boolean>(candidates.length).fill(false);
    let next = 0;
    const worker = async () => {
      while (next < candidates.length) {
        const slot = next++;
        const texts = await this.#textsOf(this.#source.messages[candidates[slot]!]!.id, body);
        passed[slot] = texts !== null && test(texts);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, candidates.length) }, worker));
    return candidates.filter((_, slot) => passed[slot]);
  }

  async #textsOf(id: string, body: boolean): Promise<MessageTexts | null> {
    const known = this.#texts.get(id);
    if (known === null || (known && (!body || known.body !== null))) return known;
    const raw = await this.#source.read(id);
    if (raw === null) {
      this.#texts.set(id, null);
      return null;
    }
    const texts = known ?? messageTexts(raw);
    const withBody: MessageTexts = body ? { ...texts, body: await bodyTexts(raw) } : texts;
    this.#remember(id, withBody);
    return withBody;
  }

  /** Headers are kept for every message read; bodies while they fit the budget. */
  #remember(id: string, texts: MessageTexts): void {
    const chars = texts.body?.reduce((sum, text) => sum + text.length, 0) ?? 0;
    if (chars > 0 && this.#cachedBodyChars + chars > BODY_CACHE_CHARS) {
      this.#texts.set(id, { ...texts, body: null });
      return;
    }
    this.#cachedBodyChars += chars;
    this.#texts.set(id, texts);
  }
}
