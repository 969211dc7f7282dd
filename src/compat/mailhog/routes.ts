/**
 * MailHog's HTTP API routes (MailHog-Server api/v1.go and api/v2.go) over Kotak's store and mailbox service.
 *
 *   GET    /api/v2/messages?start&limit                         page of messages, newest first
 *   GET    /api/v2/search?kind=from|to|containing&query&start&limit
 *   DELETE /api/v1/messages                                      delete all (with a body: Mailpit's, passed on)
 *   GET    /api/v1/messages/{id}                                 one message
 *   DELETE /api/v1/messages/{id}                                 delete one
 *   GET    /api/v1/messages/{id}/download                        the raw message (.eml)
 *   GET    /api/v1/messages/{id}/mime/part/{n}/download          attachment n of the top-level parts
 *
 * Messages and pages are streamed, with bodies cut to shapes.ts's limits (pages far more than one
 * message), so no answer holds more than one message in memory whatever the message.
 *
 * Errors are Kotak's JSON errors (thrown KotakErrors reach the app's onError); where MailHog
 * answered an unknown id with `null` or a 500, this answers 404.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { KotakError } from '../../errors.js';
import { accessScope } from '../../api/access.js';
import type { MailboxScope } from '../../mail/mailbox-scope.js';
import type { MessageStore } from '../../store/types.js';
import { attachmentDisposition, downloadHeaders, pointToRaw } from '../../api/download.js';
import { UNTRUSTED_BYTES_POLICY } from '../../api/security.js';
import type { CompatDeps } from '../deps.js';
import { listPage, pageWindow, parseKind, searchPage, type IdPage, type PageWindow } from './search.js';
import { jsonStreamResponse } from '../../api/text-stream.js';
import { mailhogMessageJson, MESSAGE_LIMITS, PAGE_LIMITS, type StoredMessage } from './shapes.js';

async function loadMessage(store: MessageStore, scope: MailboxScope, id: string): Promise<StoredMessage | null> {
  const [detail, raw] = await Promise.all([store.get(scope, id), store.getRaw(scope, id)]);
  if (!detail || !raw) return null;
  return { id, receivedAt: detail.receivedAt, envelope: detail.envelope, raw };
}

/**
 * A page as MailHog's MessagesResult, written as it is read: one message loaded at a time, each cut
 * to PAGE_LIMITS, so a page of huge messages costs the memory of one. `count` comes last because a
 * message deleted between listing and loading is left out of the page (not answered as null).
 */
async function* pageJson(store: MessageStore, scope: MailboxScope, page: IdPage, window: PageWindow): AsyncGenerator<string> {
  yield `{"total":${page.total},"start":${window.start},"items":[`;
  let count = 0;
  for (const id of page.ids) {
    const message = await loadMessage(store, scope, id);
    if (!message) continue;
    if (count > 0) yield ',';
    count += 1;
    yield* mailhogMessageJson(message, PAGE_LIMITS);
  }
  yield `],"count":${count}}`;
}

const notFound = (id: string): KotakError => new KotakError('not_found', `no message ${id}`);

export function mountMailhogRoutes(app: OpenAPIHono, deps: CompatDeps): void {
  const { store, mailboxes, parser } = deps;

  app.get('/api/v2/messages', async (c) => {
    const window = pageWindow(c.req.query('start'), c.req.query('limit'));
    const scope = accessScope(c);
    return jsonStreamResponse(pageJson(store, scope, await listPage(store, scope, window), window));
  });

  app.get('/api/v2/search', async (c) => {
    const kind = parseKind(c.req.query('kind'));
    const window = pageWindow(c.req.query('start'), c.req.query('limit'));
    const scope = accessScope(c);
    return jsonStreamResponse(pageJson(store, scope, await searchPage(store, scope, kind, c.req.query('query'), window), window));
  });

  // MailHog answers deletions with an empty 200; the `mailhog` client parses any body as JSON.
  app.delete('/api/v1/messages', async (c, next) => {
    // MailHog's delete-all has no body. Mailpit's API, also served by Kotak, takes {"IDs": [...]}
    // on this same path to delete only those: such a request is left to the routes mounted after
    // this one (Hono caches the body, so they can still read it) and never empties the inbox here.
    if ((await c.req.text()).trim() !== '') return next();
    await mailboxes.clear(accessScope(c));
    return c.body(null, 200);
  });

  app.get('/api/v1/messages/:id', async (c) => {
    const id = c.req.param('id');
    const message = await loadMessage(store, accessScope(c), id);
    if (!message) throw notFound(id);
    return jsonStreamResponse(mailhogMessageJson(message, MESSAGE_LIMITS));
  });

  app.delete('/api/v1/messages/:id', async (c) => {
    const id = c.req.param('id');
    if ((await mailboxes.deleteByIds(accessScope(c), [id])).length === 0) throw notFound(id);
    return c.body(null, 200);
  });

  app.get('/api/v1/messages/:id/download', async (c) => {
    const id = c.req.param('id');
    const raw = await store.getRaw(accessScope(c), id);
    if (!raw) throw notFound(id);
    // The bytes as received (MailHog re-serialised its parsed headers, in random order).
    return new Response(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), {
      headers: { 'Content-Type': 'message/rfc822', 'Content-Disposition': attachmentDisposition(`${id}.eml`, 'message.eml'), 'Content-Security-Policy': UNTRUSTED_BYTES_POLICY },
    });
  });

  app.get('/api/v1/messages/:id/mime/part/:part/download', async (c) => {
    const id = c.req.param('id');
    const index = c.req.param('part');
    if (!/^\d{1,4}$/.test(index)) throw new KotakError('invalid_request', `part must be a part number, not "${index.slice(0, 20)}"`);
    const raw = await store.getRaw(accessScope(c), id);
    if (!raw) throw notFound(id);
    // MailHog counts the top-level parts from 0; Kotak's part ids are MIME paths counted from 1.
    const part = await parser.extractPart(raw, String(Number(index) + 1)).catch((err: unknown) => {
      throw pointToRaw(err, `/api/v1/messages/${id}/download`);
    });
    if (!part) throw new KotakError('not_found', `message ${id} has no attachment at part ${index}`);
    return new Response(new Uint8Array(part.content.buffer, part.content.byteOffset, part.content.byteLength), {
      // MailHog copied the part's own headers into the response; untrusted, so Kotak's safe ones instead.
      headers: downloadHeaders(part, `${id}-part-${index}`),
    });
  });
}
