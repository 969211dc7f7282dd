/**
 * The link check: every unique link and image URL of a message (the first 100), each asked for
 * with HEAD (GET where HEAD is refused), redirects followed on request, each hop's target vetted
 * before any connection (address-policy.ts) and connected to by the address that was vetted
 * (request.ts). Bounded: 10 s per link (configurable), a limit for the whole check, requests at
 * once in the process and per host (slots.ts), 64 KB of any body. Free of HTTP routes: the API
 * and the Mailpit route both call `check`.
 */
import { setMaxListeners } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { KotakError } from '../../errors.js';
import { linkTargets, type LinkTarget } from '../../mail/links.js';
import { refusalReason } from './address-policy.js';
import type { HostLookup, ResolvedAddress } from './lookup.js';
import { bareHostname, requestHop, type HopRequest, type HopResponse, type HttpMethod } from './request.js';
import { createSlots, type Slots } from './slots.js';
import { ERROR_OUTCOMES, type LinkCheckReport, type LinkHop, type LinkOutcome, type LinkResult } from './types.js';

export interface LinkCheckSettings {
  /** Let links reach loopback, private and other non-public addresses (--link-check-private). */
  readonly allowPrivate: boolean;
  /** Per link, its redirects included (--link-check-timeout). */
  readonly timeoutMs: number;
  readonly userAgent: string;
  /** The whole check, queueing included; links not tried by then are reported as timed out. */
  readonly checkTimeoutMs?: number;
}

export interface LinkCheckDeps {
  readonly lookup: HostLookup;
  readonly log: Logger;
  /** One HTTP request to a vetted address (default: request.ts); tests wrap it to see every connection. */
  readonly request?: (hop: HopRequest) => Promise<HopResponse>;
  /**
   * Why an address may not be fetched, or null (default: address-policy.ts). Tests, whose servers
   * are all on loopback, let one loopback address pass as "public" to serve a first hop.
   */
  readonly refusalReason?: (address: string) => string | null;
}

export interface LinkCheckInput {
  readonly html: string | null;
  readonly text: string | null;
}

export interface LinkCheckOptions {
  readonly follow: boolean;
  /** The caller gave up (the HTTP client went away): stop what is still running. */
  readonly signal?: AbortSignal;
}

export interface LinkChecker {
  check(message: LinkCheckInput, options: LinkCheckOptions): Promise<LinkCheckReport>;
}

/** As Mailpit: a message with more links is a catalogue, and the rest are said to be left out. */
export const MAX_LINKS = 100;
export const MAX_REDIRECTS = 5;
export const MAX_BODY_BYTES = 64 * 1024;
/** HTML and text scanned for links; a message with more is refused with `check_too_large`. */
export const MAX_SCANNED_CHARS = 16 * 1024 * 1024;
/** Scanning the HTML for links, on the API's thread: past this the message is refused with `check_too_large`. */
export const SCAN_TIME_MS = 3_000;
const MAX_URL_CHARS = 8 * 1024;
const REQUESTS_AT_ONCE = 5;
const REQUESTS_PER_HOST = 2;
const DEFAULT_CHECK_TIMEOUT_MS = 120_000;

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** HEAD answered with these means "ask with GET" (RFC 9110: HEAD is optional to implement well). */
const HEAD_REFUSED_STATUSES: ReadonlySet<number> = new Set([405, 501]);
/** Servers that choke on HEAD tend to drop the connection or answer with something unparseable. */
function headRefusedError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return code === 'ECONNRESET' || code === 'EPIPE' || code.startsWith('HPE_');
}
/** Errors where another address of the same name may still answer. */
const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** An outcome decided before or instead of an HTTP answer. */
class LinkStop extends Error {
  constructor(
    readonly outcome: LinkOutcome,
    readonly statusText: string,
    reason: string,
  ) {
    super(reason);
  }
}

/** The dedupe key: the URL as a browser would request it, or the text itself when it is not one. */
function urlKey(text: string): string {
  try {
    return new URL(text).href;
  } catch {
    return text;
  }
}

/** Unique targets in document order (a link seen as an image and as a link keeps its first kind). */
function uniqueTargets(html: string | null, text: string | null): { readonly targets: readonly LinkTarget[]; readonly found: number } {
  const all = linkTargets(html, text, performance.now() + SCAN_TIME_MS);
  if (all === null) {
    throw new KotakError('check_too_large', `the message's HTML took more than ${SCAN_TIME_MS / 1000} s to scan for links (nested too deeply?); nothing was checked`);
  }
  const seen = new Set<string>();
  const targets: LinkTarget[] = [];
  for (const target of all) {
    const key = urlKey(target.url);
    if (seen.has(key)) continue;
    seen.add(key);
    if (targets.length < MAX_LINKS) targets.push(target);
  }
  return { targets, found: seen.size };
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.message} (${e.code})` : String(e.message ?? err);
}

export function createLinkChecker(settings: LinkCheckSettings, deps: LinkCheckDeps): LinkChecker {
  const { lookup, log } = deps;
  const request = deps.request ?? requestHop;
  const refusal = deps.refusalReason ?? refusalReason;
  const slots: Slots = createSlots({ total: REQUESTS_AT_ONCE, perHost: REQUESTS_PER_HOST });
  const seconds = `${settings.timeoutMs / 1000} s`;

  /** The addresses a hop may connect to, in order, or why it may not. */
  async function vet(url: URL, signal: AbortSignal): Promise<readonly ResolvedAddress[]> {
    const host = bareHostname(url);
    let addresses: readonly ResolvedAddress[];
    const literal = isIP(host);
    if (literal !== 0) {
      addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await abortable(lookup(host), signal);
      } catch (err) {
        if (signal.aborted) throw err;
        throw new LinkStop('failed', 'DNS lookup failed', `${host}: ${describeError(err)}`);
      }
      if (addresses.length === 0) throw new LinkStop('failed', 'DNS lookup failed', `${host}: no addresses`);
    }
    if (settings.allowPrivate) return addresses;
    const allowed = addresses.filter((a) => refusal(a.address) === null);
    if (allowed.length > 0) return allowed;
    const why = refusal(addresses[0]!.address)!;
    throw new LinkStop('refused', 'refused', `${literal ? why : `${host} resolves to ${why}`}; not fetched (--link-check-private allows it)`);
  }

  /** One request, trying each vetted address while the connection itself is refused. */
  async function requestAny(url: URL, addresses: readonly ResolvedAddress[], method: HttpMethod, signal: AbortSignal): Promise<HopResponse> {
    let lastError: unknown;
    for (const { address } of addresses) {
      try {
        return await request({ url, address, method, signal, userAgent: settings.userAgent, maxBodyBytes: MAX_BODY_BYTES });
      } catch (err) {
        lastError = err;
        if (!CONNECT_ERRORS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      }
    }
    throw lastError;
  }

  /** HEAD, then GET where HEAD is refused: the hop as recorded. */
  async function askOnce(url: URL, addresses: readonly ResolvedAddress[], signal: AbortSignal): Promise<LinkHop> {
    let response: HopResponse | null = null;
    try {
      response = await requestAny(url, addresses, 'HEAD', signal);
    } catch (err) {
      if (signal.aborted || !headRefusedError(err)) throw err;
    }
    const method: HttpMethod = response === null || HEAD_REFUSED_STATUSES.has(response.status) ? 'GET' : 'HEAD';
    if (method === 'GET') response = await requestAny(url, addresses, 'GET', signal);
    return { url: url.href, method, status: response!.status, location: response!.location, bodyBytes: response!.bodyBytes };
  }

  async function checkLink(target: LinkTarget, follow: boolean, checkSignal: AbortSignal): Promise<LinkResult> {
    const hops: LinkHop[] = [];
    const result = (outcome: LinkOutcome, statusText: string, reason: string | null): LinkResult => {
      const status = hops.at(-1)?.status ?? null;
      return { url: target.url, kind: target.kind, outcome, status, statusText, reason, hops };
    };
    if (target.url.length > MAX_URL_CHARS) {
      return { ...result('not-checked', 'not checked', `a URL of ${target.url.length} characters (more than ${MAX_URL_CHARS})`), url: `${target.url.slice(0, 200)}…` };
    }
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      return result('not-checked', 'not checked', 'not an absolute URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return result('not-checked', 'not checked', `${url.protocol} links are not fetched`);

    const linkTimer = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const signal = AbortSignal.any([checkSignal, linkTimer.signal]);
    try {
      for (;;) {
        // Waiting for a slot counts against the whole check, not against this link's time.
        const release = await slots.acquire(bareHostname(url), timer ? signal : checkSignal);
        timer ??= setTimeout(() => linkTimer.abort(), settings.timeoutMs);
        let hop: LinkHop;
        try {
          hop = await askOnce(url, await vet(url, signal), signal);
        } finally {
          release();
        }
        hops.push(hop);
        const statusText = STATUS_CODES[hop.status] ?? `HTTP ${hop.status}`;
        if (!follow || !REDIRECTS.has(hop.status) || hop.location === null) {
          return result(hop.status < 400 ? 'ok' : 'broken', statusText, null);
        }
        if (hops.length > MAX_REDIRECTS) return result('redirect-limit', 'too many redirects', `still redirecting after ${MAX_REDIRECTS} redirects`);
        let next: URL;
        try {
          next = new URL(hop.location, url);
        } catch {
          return result('failed', 'bad redirect', `redirected to "${hop.location.slice(0, 200)}", which is not a URL`);
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') return result('failed', 'redirect not followed', `redirected to a ${next.protocol} URL, which is not fetched`);
        url = next;
      }
    } catch (err) {
      if (err instanceof LinkStop) return result(err.outcome, err.statusText, err.message);
      if (linkTimer.signal.aborted) return result('timeout', 'timeout', `no answer within ${seconds}`);
      if (checkSignal.aborted) return result('timeout', 'timeout', 'not finished: the check was cancelled or reached its time limit');
      return result('failed', 'request failed', describeError(err));
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async check(message, options) {
      const scanned = (message.html?.length ?? 0) + (message.text?.length ?? 0);
      if (scanned > MAX_SCANNED_CHARS) {
        throw new KotakError('check_too_large', `the message's HTML and text are ${scanned} characters; the link check reads at most ${MAX_SCANNED_CHARS}`);
      }
      const { targets, found } = uniqueTargets(message.html, message.text);
      const checkTimer = AbortSignal.timeout(settings.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS);
      const checkSignal = AbortSignal.any(options.signal ? [options.signal, checkTimer] : [checkTimer]);
      // Every link listens to it (up to 100), which is not the leak Node's warning is about.
      setMaxListeners(0, checkSignal);
      const links = await Promise.all(targets.map((target) => checkLink(target, options.follow, checkSignal)));
      const errors = links.filter((l) => ERROR_OUTCOMES.has(l.outcome)).length;
      // Refused before any request, or not http(s): not fetched.
      const checked = links.filter((l) => l.outcome !== 'not-checked' && (l.outcome !== 'refused' || l.hops.length > 0)).length;
      log.debug({ found, checked, errors, follow: options.follow }, 'links checked');
      return { follow: options.follow, found, omitted: found - targets.length, checked, errors, links };
    },
  };
}

/** A promise that rejects with the signal's reason when it aborts first (a DNS lookup cannot be cancelled). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
