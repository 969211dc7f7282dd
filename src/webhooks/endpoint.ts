/**
 * A webhook endpoint as `--webhook` gives it: a URL that may carry a user and password (HTTP Basic).
 * The password goes only into the Authorization header of requests: the endpoint's name (the
 * outbox's key, the deliveries API) is the URL without it. Log lines show less still: query values
 * are often tokens (`?token=…`), so logs show them cut (`logName`).
 */

export interface WebhookEndpoint {
  /** The URL without its password (the user stays): the outbox's key and what logs show. */
  readonly name: string;
  /** The name with every query value shown as `…`: what log lines show. */
  readonly logName: string;
  /** Where requests go: the URL without user and password. */
  readonly url: URL;
  /** `Basic …` from the URL's user and password; null when it has none. Never logged. */
  readonly authorization: string | null;
}

/** The URL's text with any `user:password@` cut to `user@`, for a message about a URL that does not parse. */
function withoutPasswordText(text: string): string {
  return text.replace(/^([^:/?#]*:\/\/[^/?#@:]*):[^/?#@]*@/, '$1@');
}

/** Why `text` is not a webhook URL (naming it without its password), or null when it is one. */
export function webhookUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return `"${withoutPasswordText(text.trim())}" is not a URL (http://host[:port]/path or https://…; a comma in it must be written %2C)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${endpointName(url)}" is not an http:// or https:// URL`;
  return null;
}

/** The URL without its password. */
export function endpointName(url: URL): string {
  if (url.password === '') return url.href;
  const shown = new URL(url.href);
  shown.password = '';
  return shown.href;
}

/** The URL without its password and with each query value cut to `…` (`?token=…&v=…`), for logs. */
export function endpointLogName(url: URL): string {
  const shown = new URL(endpointName(url));
  if (shown.search === '') return shown.href;
  const keys = [...shown.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=…`).join('&');
  shown.search = '';
  shown.hash = '';
  return `${shown.href}?${keys}`;
}

/** Reads a URL that webhookUrlProblem accepted. */
export function readEndpoint(text: string): WebhookEndpoint {
  const given = new URL(text.trim());
  const url = new URL(given.href);
  url.username = '';
  url.password = '';
  const user = decodeURIComponent(given.username);
  const password = decodeURIComponent(given.password);
  const authorization = user !== '' || password !== '' ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : null;
  return { name: endpointName(given), logName: endpointLogName(given), url, authorization };
}
