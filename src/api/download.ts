/** Safe headers for serving untrusted attachment bytes. Pure. */
import { isKotakError, KotakError } from '../errors.js';
import { UNTRUSTED_BYTES_POLICY } from './security.js';

/**
 * For a part route's failure: a message whose parts cannot be read (`message_unparsed`, 422) is
 * still whole at `rawPath`, which the error then names; any other error is returned as it is.
 */
export function pointToRaw(err: unknown, rawPath: string): unknown {
  if (!isKotakError(err) || err.code !== 'message_unparsed') return err;
  return new KotakError('message_unparsed', `${err.message}; the raw message is at ${rawPath}`);
}

/**
 * Types a browser would execute or render as a document (HTML, SVG and any other XML, which can
 * carry script or an XSLT stylesheet, scripts, multipart replace streams): never served as
 * themselves.
 */
const ACTIVE_TYPES = /^(text\/html|text\/xml|text\/xsl|application\/xml|[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.-]+\+xml|text\/(x-)?(java|ecma|j|live|vb)script|application\/(x-)?(java|ecma)script|text\/x-component|multipart\/x-mixed-replace)$/i;
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

export function safeContentType(declared: string): string {
  const type = declared.split(';')[0]!.trim().toLowerCase();
  return MIME_TYPE.test(type) && !ACTIVE_TYPES.test(type) ? type : 'application/octet-stream';
}

/** Controls, and the bidirectional overrides that make `invoice\u202Efdp.exe` look like a PDF. */
const UNSAFE_NAME_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `attachment` with an ASCII fallback and the RFC 6266 / RFC 8187 UTF-8 name. Only the last path
 * segment of the name is kept, and nothing in it can break out of the header.
 */
export function attachmentDisposition(filename: string | null, fallback: string): string {
  const last = (filename ?? '')
    .split(/[\\/]/)
    .pop()!
    .replace(UNSAFE_NAME_CHARS, '')
    // A lone surrogate would make encodeURIComponent throw.
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .trim();
  const base = last === '' || last === '.' || last === '..' ? fallback : last;
  const ascii = base.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * Every attachment and MIME part route answers with these: always a download, never a type a
 * browser renders as a document, and a CSP under which even a rendered one would run nothing.
 */
export function downloadHeaders(part: { readonly contentType: string; readonly filename: string | null }, fallbackName: string): Record<string, string> {
  return {
    'Content-Type': safeContentType(part.contentType),
    'Content-Disposition': attachmentDisposition(part.filename, fallbackName),
    'Content-Security-Policy': UNTRUSTED_BYTES_POLICY,
    'X-Content-Type-Options': 'nosniff',
  };
}
