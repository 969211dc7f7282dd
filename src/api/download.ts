/** Safe headers for serving untrusted attachment bytes. Pure. */

/** Types a browser would execute or render as a document: never served as themselves. */
const ACTIVE_TYPES = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/javascript|application\/ecmascript|text\/ecmascript|multipart\/x-mixed-replace)$/i;
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

export function safeContentType(declared: string): string {
  const type = declared.split(';')[0]!.trim().toLowerCase();
  return MIME_TYPE.test(type) && !ACTIVE_TYPES.test(type) ? type : 'application/octet-stream';
}

/**
 * `attachment` with an ASCII fallback and the RFC 6266 / 5987 UTF-8 name. Only the last path
 * segment of the name is kept, and nothing in it can break out of the header.
 */
export function attachmentDisposition(filename: string | null, fallback: string): string {
  const base = (filename ?? '').split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim() || fallback;
  const ascii = base.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
