/** What the link check answers (the route schemas in src/api/schemas.ts describe the same shapes). */
import type { LinkKind } from '../../mail/links.js';
import type { HttpMethod } from './request.js';

/**
 * - `ok`: answered below 400 (a redirect not followed counts: the link leads somewhere)
 * - `broken`: answered 400 or above
 * - `redirect-limit`: still redirecting after the most redirects followed
 * - `refused`: not fetched, its address is not public (SSRF guard; --link-check-private allows it)
 * - `failed`: no HTTP answer (DNS, connection, TLS), or redirected somewhere that is not fetched
 * - `timeout`: no answer within the time per link
 * - `not-checked`: not an http(s) URL (mailto:, tel:, cid:, data:, relative) or not a URL at all
 */
export type LinkOutcome = 'ok' | 'broken' | 'redirect-limit' | 'refused' | 'failed' | 'timeout' | 'not-checked';

export interface LinkHop {
  readonly url: string;
  /** The method whose answer this is: HEAD, or GET where HEAD was refused. */
  readonly method: HttpMethod;
  readonly status: number;
  readonly location: string | null;
  /** Bytes of the body read, at most 64 KB; never kept. */
  readonly bodyBytes: number;
}

export interface LinkResult {
  /** As written in the message. */
  readonly url: string;
  readonly kind: LinkKind;
  readonly outcome: LinkOutcome;
  /** The last HTTP status received, or null when none was. */
  readonly status: number | null;
  /** The status's text ("Not Found"), or what happened instead ("refused", "timeout"). */
  readonly statusText: string;
  /** Why, in a sentence, when the outcome is not plain: what was refused, which error, which limit. */
  readonly reason: string | null;
  /** Every request made, in order: the link, then each redirect followed. */
  readonly hops: readonly LinkHop[];
}

export interface LinkCheckReport {
  readonly follow: boolean;
  /** Unique URLs found in the message. */
  readonly found: number;
  /** Unique URLs past the cap, neither listed nor checked. */
  readonly omitted: number;
  /** Links that were fetched (outcome other than not-checked and refused). */
  readonly checked: number;
  /** Links whose outcome is broken, redirect-limit, refused, failed or timeout. */
  readonly errors: number;
  readonly links: readonly LinkResult[];
}

export const ERROR_OUTCOMES: ReadonlySet<LinkOutcome> = new Set(['broken', 'redirect-limit', 'refused', 'failed', 'timeout']);
