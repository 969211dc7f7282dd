/**
 * Waiting for messages. The server does the waiting (GET /api/messages/wait holds the request
 * until enough messages match, woken by arrivals), so there is no polling here and no sleep.
 *
 * When some criteria can only be checked in the client (a RegExp), the server waits on the rest
 * and the client checks each candidate it returns. Each round asks for the candidates examined so
 * far (less those found deleted) plus as many as matches are still needed, always with the same
 * `since`: the server counts every candidate in the window, stored before the request or arriving
 * during it, so a round returns as soon as enough new ones exist. Candidates are told apart by
 * id, so none is missed or counted twice. (`since` is never advanced to the newest candidate's
 * time: a message's time is taken when it arrives, before it is parsed and stored, so messages
 * can be stored out of time order, and an advanced `since` would skip a slow one.)
 */
import { KotakError, KotakTimeoutError } from './errors.js';
import type { ClientCheck, WaitPlan } from './criteria.js';
import type { MessageDetail, MessageSummary } from './types.js';

/** The server returns and counts at most this many messages per wait. */
export const MAX_WAIT_COUNT = 1000;

/**
 * A server wait that ends sooner than asked, after at least this long, hit the server's own cap
 * (--max-wait) and is asked again while the caller's time lasts. Shorter ones are never repeated,
 * so a server that answers "timeout" at once cannot make the client spin.
 */
const MIN_REPEATED_ROUND_MS = 100;
/** How many non-matching messages a timeout error lists. */
const RECENT_SHOWN = 5;

export interface WaitRound {
  readonly query: string;
  readonly since: number | null;
  readonly count: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

export type WaitAnswer =
  | { readonly kind: 'matched'; readonly messages: readonly MessageSummary[] }
  | { readonly kind: 'timeout'; readonly messages: readonly MessageSummary[]; readonly recent: readonly MessageSummary[] };

/** The two server calls a wait needs. */
export interface WaitServer {
  wait(round: WaitRound): Promise<WaitAnswer>;
  /** Null when the message was deleted after the wait returned it. */
  get(id: string, signal: AbortSignal | undefined): Promise<MessageDetail | null>;
}

export interface WaitOptions {
  readonly count: number;
  readonly since: number | null;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly now?: () => number;
}

/** Resolves with `count` matching messages, oldest first, or rejects with a KotakTimeoutError. */
export async function waitForMessages(server: WaitServer, plan: WaitPlan, options: WaitOptions): Promise<MessageDetail[]> {
  const { count, since, timeoutMs, signal } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const deadline = started + timeoutMs;
  const examined = new Set<string>();
  /** Examined candidates found deleted since: the server no longer counts them. */
  let gone = 0;
  const matches: MessageDetail[] = [];
  const rejected: MessageSummary[] = [];
  let recent: readonly MessageSummary[] = [];

  for (;;) {
    signal?.throwIfAborted();
    const need = examined.size - gone + (count - matches.length);
    if (need > MAX_WAIT_COUNT) throw tooBroad(plan, examined.size, matches.length, count);
    const roundStarted = now();
    const answer = await server.wait({ query: plan.query, since, count: need, timeoutMs: Math.max(0, deadline - roundStarted), signal });

    for (const candidate of answer.messages) {
      if (examined.has(candidate.id)) continue;
      examined.add(candidate.id);
      const verdict = await check(server, plan.checks, candidate, signal);
      if (verdict === 'gone') gone++;
      else if (verdict === 'rejected') rejected.push(candidate);
      else matches.push(verdict);
      if (matches.length === count) return oldestFirst(matches);
    }

    if (answer.kind === 'matched') continue;
    recent = answer.recent;
    const finished = now();
    if (finished < deadline && finished - roundStarted >= MIN_REPEATED_ROUND_MS) continue;
    throw new KotakTimeoutError({
      criteria: plan.description,
      count,
      since,
      timeout: timeoutMs,
      elapsed: finished - started,
      matched: oldestFirst(matches),
      recent: newestFirst(uniqueById([...rejected, ...recent])).slice(0, RECENT_SHOWN),
    });
  }
}

/** The full message when the candidate passes every client-side check. */
async function check(
  server: WaitServer,
  checks: readonly ClientCheck[],
  candidate: MessageSummary,
  signal: AbortSignal | undefined,
): Promise<MessageDetail | 'rejected' | 'gone'> {
  for (const c of checks) {
    if (!c.needsBody && !c.test(candidate)) return 'rejected';
  }
  const detail = await server.get(candidate.id, signal);
  if (!detail) return 'gone';
  for (const c of checks) {
    if (c.needsBody && !c.test(detail)) return 'rejected';
  }
  return detail;
}

function tooBroad(plan: WaitPlan, examined: number, matched: number, count: number): KotakError {
  const serverPart = plan.query ? `the search "${plan.query}"` : 'any message';
  return new KotakError(
    `Waiting for ${count} message(s) matching ${plan.description} would mean checking more than ${MAX_WAIT_COUNT} ` +
      `candidates in the client: ${examined} messages matched ${serverPart} and ${matched} of them passed the regular ` +
      `expressions. Narrow the wait with a plain-string to/from/subject, a query or since.`,
  );
}

function byTime(a: MessageSummary, b: MessageSummary): number {
  return a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id);
}

function oldestFirst<T extends MessageSummary>(messages: readonly T[]): T[] {
  return [...messages].sort(byTime);
}

function newestFirst<T extends MessageSummary>(messages: readonly T[]): T[] {
  return [...messages].sort((a, b) => byTime(b, a));
}

function uniqueById(messages: readonly MessageSummary[]): MessageSummary[] {
  return [...new Map(messages.map((m) => [m.id, m])).values()];
}
