/**
 * When a failed webhook delivery is tried again: exponential backoff with jitter, from about a
 * second doubling to a cap of an hour, a `Retry-After` of a 429 or 503 honoured within that cap, and
 * never past the delivery's retry window (`--webhook-retry-for` after its event: the last try is at
 * its end), after which it has failed.
 * Pure: the time and the random draw are given.
 */

export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 60 * 60 * 1000;

export interface RetryInput {
  /** Attempts made so far, the one that just failed included (1 after the first). */
  readonly attempts: number;
  /** When the attempt ended (epoch ms). */
  readonly now: number;
  /** When the delivery's event committed (epoch ms). */
  readonly createdAt: number;
  readonly retryForMs: number;
  /** What a 429 or 503 asked for (ms from now); null when none. */
  readonly retryAfterMs: number | null;
  /** A draw in [0, 1). */
  readonly random: number;
}

/** The next attempt's time (epoch ms), or null when the retry window is over (the delivery failed). */
export function nextRetryAt(input: RetryInput): number | null {
  const exponent = Math.min(Math.max(input.attempts - 1, 0), 30);
  const ceiling = Math.min(FIRST_RETRY_MS * 2 ** exponent, MAX_RETRY_MS);
  // "Equal jitter": between half the step and the whole, so that endpoints failing together do not
  // come back together, and the wait still grows with every attempt.
  let wait = ceiling / 2 + (ceiling / 2) * input.random;
  if (input.retryAfterMs !== null) wait = Math.min(Math.max(wait, input.retryAfterMs), MAX_RETRY_MS);
  const at = Math.round(input.now + wait);
  const deadline = input.createdAt + input.retryForMs;
  if (at <= deadline) return at;
  // One last try at the window's end rather than none for the rest of it.
  return input.now < deadline ? deadline : null;
}

/**
 * A `Retry-After` header (seconds, or an HTTP date) as ms from `now`; null when absent or unreadable.
 */
export function readRetryAfter(header: string | undefined, now: number): number | null {
  if (header === undefined) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
