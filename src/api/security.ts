/**
 * Content-Security-Policies. The inbox app runs only its own bundled code; a message's HTML runs
 * nothing at all and may load only its own parts (and remote images/styles once the user asks).
 */

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

/** For the inbox app itself. */
export const APP_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');
