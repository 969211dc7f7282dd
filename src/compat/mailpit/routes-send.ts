/**
 * POST /api/v1/send: Mailpit's JSON message → the same intake as SMTP (deps.deliver), answered
 * `{ ID }`. Errors here are JSON `{ Error }`, as Mailpit's send route writes them.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { KotakError } from '../../errors.js';
import { accessScope } from '../../api/access.js';
import type { CompatDeps } from '../deps.js';
import { basicAuthUser, describeError, readBody } from './http.js';
import { composeMessage, SendSchema } from './send.js';

export const SEND_PATH = '/api/v1/send';

export function mountSendRoute(app: Hono, deps: CompatDeps): void {
  const { mailboxes, deliver, log, maxMessageSize } = deps;
  // Mailpit caps the request body at the message size limit.
  const limit = bodyLimit({
    maxSize: maxMessageSize,
    onError: (c) => c.json({ Error: `http: request body too large (the limit is ${maxMessageSize} bytes)` }, 413),
  });

  app.post(SEND_PATH, limit, async (c) => {
    try {
      const body = await readBody(c, SendSchema);
      if (body === undefined) throw new KotakError('invalid_request', 'EOF');
      const message = await composeMessage(body, { address: getConnInfo(c).remote.address ?? '', user: basicAuthUser(c) });
      if (message.raw.length > maxMessageSize) {
        throw new KotakError('message_too_big', `message is ${message.raw.length} bytes; the limit is ${maxMessageSize}`);
      }
      // Into the login's mailboxes only: a scoped token must not place mail in another's inbox.
      const ids = await deliver(message.raw, message.envelope, accessScope(c));
      // The `new` frame may already have gone out without them: Mailpit clients take tags from `update` too.
      if (message.tags.length > 0) await mailboxes.setTags(accessScope(c), ids, message.tags);
      // Mailpit's answer has one ID: the first copy's (more than one only when routing splits it).
      return c.json({ ID: ids[0] });
    } catch (err) {
      const { status, message } = describeError(err, c, log);
      return c.json({ Error: message }, status as 400);
    }
  });
}
