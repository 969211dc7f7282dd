/**
 * A cap on request bodies, enforced while they arrive: a declared Content-Length over the cap is
 * refused before a byte of the body is read, and a chunked body is counted as it streams and
 * refused the moment it passes the cap, so at most `maxBytes` is ever held. Every JSON body Kotak
 * takes is small (search terms, ids, read flags); Mailpit's send API, which carries whole messages,
 * keeps its own cap (--max-message-size) and is listed in `exempt`.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { KotakError } from '../errors.js';

/** Mailpit's cap on JSON bodies, which its clients already live within. */
export const MAX_JSON_BODY_BYTES = 5 * 1024 * 1024;

export function limitRequestBodies(options: { readonly maxBytes: number; readonly exempt: readonly string[] }): MiddlewareHandler {
  const exempt = new Set(options.exempt);
  const limit = bodyLimit({
    maxSize: options.maxBytes,
    onError: (c) => {
      const error = new KotakError('payload_too_large', `the request body is over ${options.maxBytes} bytes`);
      // The rest of the body is not wanted: the connection closes rather than reading it.
      return c.json(error.toJSON(), error.httpStatus as 413, { Connection: 'close' });
    },
  });
  return (c, next) => (exempt.has(c.req.path) ? next() : limit(c, next));
}
