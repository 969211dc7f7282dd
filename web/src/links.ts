/**
 * Which URLs the inbox makes clickable. The links themselves come from the server
 * (`GET /api/messages/:id` lists them, src/mail/links.ts): parsing a message's HTML in the app's
 * own document, even with an inert DOMParser, makes the browser check its inline styles against
 * the app's CSP and log a violation for each one.
 */

const SAFE_SCHEME = /^(https?:|mailto:)/i;

/** Whether a URL from a message (or about one) may be a clickable link in the inbox. */
export function isSafeLink(url: string): boolean {
  return SAFE_SCHEME.test(url.trim());
}
