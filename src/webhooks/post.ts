/**
 * One webhook request: POST the body, wait at most the timeout for the whole answer, follow no
 * redirect. Node's own http/https clients, so nothing is pooled with other outgoing requests and an
 * abort (the timeout, or Kotak stopping) ends the socket at once.
 */
import http from 'node:http';
import https from 'node:https';
import type { WebhookEndpoint } from './endpoint.js';

export interface PostResult {
  /** The endpoint's status; null when none came (refused, reset, timed out, aborted). */
  readonly statusCode: number | null;
  /** Why it is not a success, in words; null for a 2xx. */
  readonly error: string | null;
  /** A 429's or 503's `Retry-After` header, as sent. */
  readonly retryAfter: string | undefined;
  /** True when `signal` (Kotak stopping) ended it: nothing is known of the outcome. */
  readonly aborted: boolean;
}

/** Of an answer's body only this much is read (and thrown away): enough to let the connection be reused. */
const DRAIN_LIMIT = 64 * 1024;

export interface Transport {
  readonly agents: { readonly http: http.Agent; readonly https: https.Agent };
  close(): void;
}

/**
 * An idle kept-alive connection is closed after this, before the receiver's own idle limit (Node's
 * server: 5 s) closes it, so a request is rarely sent on a connection the other end is closing.
 */
const IDLE_SOCKET_MS = 4000;

export function createTransport(): Transport {
  const options = { keepAlive: true, maxSockets: 1, timeout: IDLE_SOCKET_MS };
  const agents = { http: new http.Agent(options), https: new https.Agent(options) };
  return {
    agents,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export function postWebhook(
  transport: Transport,
  endpoint: WebhookEndpoint,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PostResult> {
  return new Promise((resolve) => {
    const isHttps = endpoint.url.protocol === 'https:';
    let settled = false;
    let timedOut = false;
    const done = (result: PostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const payload = Buffer.from(body);
    const request = (isHttps ? https : http).request(endpoint.url, {
      method: 'POST',
      agent: isHttps ? transport.agents.https : transport.agents.http,
      headers: {
        ...headers,
        'Content-Length': String(payload.length),
        ...(endpoint.authorization !== null ? { Authorization: endpoint.authorization } : {}),
      },
    });
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = (): void => {
      request.destroy(new Error('Kotak is stopping'));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (err: NodeJS.ErrnoException) => {
      const aborted = signal.aborted && !timedOut;
      const reason = timedOut ? `timed out: no answer within ${timeoutMs} ms` : err.code ? `${err.code}: ${err.message}` : err.message;
      done({ statusCode: null, error: reason, retryAfter: undefined, aborted });
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const retryAfter = status === 429 || status === 503 ? headerText(response.headers['retry-after']) : undefined;
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        // A huge answer is not worth reading to the end: the socket is dropped instead of reused.
        if (read > DRAIN_LIMIT) response.destroy();
      });
      // The outcome is the status: known as soon as it arrives, whatever happens to the rest.
      const outcome: PostResult = {
        statusCode: status,
        error: status >= 200 && status < 300 ? null : `HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`,
        retryAfter,
        aborted: false,
      };
      response.on('end', () => done(outcome));
      response.on('close', () => done(outcome));
      response.on('error', () => done(outcome));
    });
    request.end(payload);
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
