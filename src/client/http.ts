/**
 * HTTP plumbing for the client: URLs under a base (with or without a base path), error statuses
 * turned into KotakApiError, an unreachable server into a KotakError that says where it looked.
 * Only the global `fetch`, so the same code runs in Node and in a browser.
 */
import { KotakApiError, KotakError } from './errors.js';

export type Fetch = typeof fetch;

export type QueryParams = Record<string, string | number | undefined>;

export interface RequestOptions {
  readonly method?: string;
  readonly params?: QueryParams;
  readonly signal?: AbortSignal | undefined;
  /** Statuses the caller reads itself instead of having them thrown (the wait's 408). */
  readonly accept?: readonly number[];
  /** Sent as JSON. */
  readonly body?: unknown;
}

/** The server's error body: `{ error: { code, message } }`. */
interface ErrorBody {
  error?: { code?: unknown; message?: unknown };
}

/** Accepts `http://host:8025`, `http://host:8025/`, `http://host/mail` and, in a browser, `/mail/`. */
export function normalizeBaseUrl(baseUrl: string | URL): URL {
  const location = (globalThis as { location?: { href: string } }).location;
  let url: URL;
  try {
    url = new URL(String(baseUrl), location?.href);
  } catch {
    throw new TypeError(`Kotak URL "${String(baseUrl)}" is not a URL (expected e.g. http://localhost:8025)`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

export class Http {
  readonly base: URL;
  readonly #fetch: Fetch;
  readonly #headers: Record<string, string>;

  /** `token`: an API token of the server's --http-token, sent as `Authorization: Bearer`. */
  constructor(baseUrl: string | URL, fetchImpl: Fetch = globalThis.fetch, token?: string) {
    this.base = normalizeBaseUrl(baseUrl);
    // Called unbound, browsers throw "Illegal invocation".
    this.#fetch = fetchImpl.bind(globalThis);
    this.#headers = token ? { Authorization: `Bearer ${token}` } : {};
  }

  url(path: string, params: QueryParams = {}): URL {
    const url = new URL(path, this.base);
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  async request(path: string, options: RequestOptions = {}): Promise<Response> {
    const method = options.method ?? 'GET';
    const url = this.url(path, options.params);
    let response: Response;
    try {
      const json = options.body !== undefined ? { headers: { ...this.#headers, 'Content-Type': 'application/json' }, body: JSON.stringify(options.body) } : { headers: this.#headers };
      response = await this.#fetch(url, { method, ...json, signal: options.signal ?? null });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new KotakError(`Could not reach Kotak at ${this.base.href} (${method} ${url.pathname}): ${reason}. Is it running?`, { cause: err });
    }
    if (response.ok || options.accept?.includes(response.status)) return response;
    throw await apiError(response, method, url);
  }

  async json<T>(path: string, options?: RequestOptions): Promise<T> {
    return (await (await this.request(path, options)).json()) as T;
  }

  async bytes(path: string, options?: RequestOptions): Promise<Uint8Array> {
    return new Uint8Array(await (await this.request(path, options)).arrayBuffer());
  }
}

async function apiError(response: Response, method: string, url: URL): Promise<KotakApiError> {
  const text = await response.text().catch(() => '');
  let code: string | null = null;
  let reason = text.trim().slice(0, 500) || response.statusText || 'no reason given';
  try {
    const body = JSON.parse(text) as ErrorBody;
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') reason = body.error.message;
  } catch {
    // Not JSON (a proxy's error page, say): the text itself is the best reason there is.
  }
  return new KotakApiError(response.status, code, reason, method, `${url.pathname}${url.search}`);
}
