/**
 * Content-Security-Policies and the other security headers. The inbox app runs only the scripts
 * and styles its index names with this response's nonce; a message's HTML runs nothing at all and
 * may load only its own parts (and remote images/styles once the user asks); everything else
 * (JSON, text, downloads, assets, errors) is not a document and may be neither framed nor run.
 */
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

/** For the message HTML document shown in the inbox's sandboxed iframe. */
export function messageHtmlPolicy(allowRemote: boolean): string {
  const remote = allowRemote ? ' https: http:' : '';
  return [
    "default-src 'none'",
    `img-src 'self' data:${remote}`,
    `style-src 'unsafe-inline'${remote}`,
    `font-src 'self' data:${remote}`,
    `media-src 'self'${remote}`,
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'self'",
    // Repeats the iframe's sandbox for anyone who opens the document directly: no scripts, no same-origin
    // access, but links may open a normal new tab.
    'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}

/** For the inbox app itself: only the tags carrying this response's nonce run or style it. */
export function appPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/** A fresh nonce for each response of the app's HTML (128 bits, base64). */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** For every response that is not one of our HTML documents: JSON, text, assets, errors. */
export const RESOURCE_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * For a message's own bytes (attachments, parts, the raw source): even if a browser were talked
 * into rendering them, they would run nothing and have no origin.
 */
export const UNTRUSTED_BYTES_POLICY = `${RESOURCE_POLICY}; sandbox`;

/** The legacy twin of CSP frame-ancestors, for browsers that only know it. */
function frameOptions(policy: string): string {
  return /frame-ancestors 'self'/.test(policy) ? 'SAMEORIGIN' : 'DENY';
}

/** For responses written outside Hono (redirects outside the base path, refused WebSocket handshakes). */
export const PLAIN_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': RESOURCE_POLICY,
  'X-Frame-Options': 'DENY',
};

/**
 * Hono middleware, outermost: after the handler (or the error handler, or the 404) has answered,
 * every response gets nosniff, no-referrer, a CSP (RESOURCE_POLICY unless the route chose its own)
 * and the X-Frame-Options matching its frame-ancestors.
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    headers.set('X-Content-Type-Options', 'nosniff');
    headers.set('Referrer-Policy', 'no-referrer');
    const policy = headers.get('Content-Security-Policy') ?? RESOURCE_POLICY;
    headers.set('Content-Security-Policy', policy);
    headers.set('X-Frame-Options', frameOptions(policy));
  };
}
