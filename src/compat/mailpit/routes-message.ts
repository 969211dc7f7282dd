/**
 * Mailpit's one-message routes: the parsed message, its headers, source and parts, and the
 * /view/{ID}.html and .txt documents. Any ID may be "latest". Reading a message marks it read.
 */
import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { KotakError } from '../../errors.js';
import { renderHtmlView } from '../../mail/html-view.js';
import { accessScope } from '../../api/access.js';
import type { AttachmentInfo, MessageDetail } from '../../mail/types.js';
import { downloadHeaders, pointToRaw } from '../../api/download.js';
import { messageHtmlPolicy, UNTRUSTED_BYTES_POLICY } from '../../api/security.js';
import type { CompatDeps } from '../deps.js';
import { headersFromRaw } from './headers.js';
import { PAGE_NOT_FOUND, resolveId } from './http.js';
import { messageText, toMailpitMessage, type MailpitChecksums } from './shapes.js';

/**
 * Checksums need each part's bytes, which means parsing the raw message again per part (as
 * /part/ does). Past this many parts the rest are sent with empty checksums rather than
 * making one request parse a message hundreds of times.
 */
const MAX_CHECKSUM_PARTS = 50;

function body(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function mountMessageRoutes(app: Hono, deps: CompatDeps): void {
  const { store, mailboxes, parser, log } = deps;

  /** The message, or the error Mailpit gives for an unknown ID. */
  async function load(c: Context, id: string, missing = PAGE_NOT_FOUND): Promise<MessageDetail> {
    const message = await store.get(accessScope(c), await resolveId(store, id, c));
    if (!message) throw new KotakError('not_found', missing);
    return message;
  }

  async function loadRaw(c: Context, id: string): Promise<{ id: string; raw: Buffer }> {
    const resolved = await resolveId(store, id, c);
    const raw = await store.getRaw(accessScope(c), resolved);
    if (!raw) throw new KotakError('not_found', PAGE_NOT_FOUND);
    return { id: resolved, raw };
  }

  /** As Mailpit does whenever it reads a message for a client. */
  async function markRead(c: Context, message: MessageDetail): Promise<void> {
    if (message.read) return;
    await mailboxes.markRead(accessScope(c), message.id, true);
  }

  async function checksums(c: Context, message: MessageDetail): Promise<Map<string, MailpitChecksums>> {
    const sums = new Map<string, MailpitChecksums>();
    const parts: readonly AttachmentInfo[] = message.attachments.slice(0, MAX_CHECKSUM_PARTS);
    if (parts.length === 0) return sums;
    const raw = await store.getRaw(accessScope(c), message.id);
    if (!raw) return sums;
    // One at a time: each extraction hands the whole message to a parser worker.
    for (const part of parts) {
      try {
        const extracted = await parser.extractPart(raw, part.id);
        if (!extracted) continue;
        const hex = (algorithm: string) => createHash(algorithm).update(extracted.content).digest('hex');
        sums.set(part.id, { MD5: hex('md5'), SHA1: hex('sha1'), SHA256: hex('sha256') });
      } catch (err) {
        log.warn({ err, id: message.id, part: part.id }, 'could not read a part for its checksums');
      }
    }
    return sums;
  }

  app.get('/api/v1/message/:id', async (c) => {
    const message = await load(c, c.req.param('id'));
    const [extras, sums] = await Promise.all([store.summaryExtras([message.id]), checksums(c, message)]);
    const json = toMailpitMessage(message, extras.get(message.id), sums);
    await markRead(c, message);
    return c.json(json);
  });

  app.get('/api/v1/message/:id/headers', async (c) => {
    const { raw } = await loadRaw(c, c.req.param('id'));
    return c.json(headersFromRaw(raw));
  });

  app.get('/api/v1/message/:id/raw', async (c) => {
    const { id, raw } = await loadRaw(c, c.req.param('id'));
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': UNTRUSTED_BYTES_POLICY };
    if (c.req.query('dl') === '1') headers['Content-Disposition'] = `attachment; filename="${id}.eml"`;
    return new Response(body(raw), { headers });
  });

  app.get('/api/v1/message/:id/part/:partId', async (c) => {
    const { id, raw } = await loadRaw(c, c.req.param('id'));
    const partId = c.req.param('partId');
    const part = await parser.extractPart(raw, partId).catch((err: unknown) => {
      throw pointToRaw(err, `/api/v1/message/${id}/raw`);
    });
    if (!part) throw new KotakError('not_found', PAGE_NOT_FOUND);
    return new Response(body(part.content), {
      // The declared type (so a client's blob.type is right), unless a browser would render it.
      headers: downloadHeaders(part, `part-${partId}`),
    });
  });

  app.get('/view/:file', async (c) => {
    const match = /^(.+)\.(html|txt)$/.exec(c.req.param('file'));
    if (!match) throw new KotakError('not_found', PAGE_NOT_FOUND);
    const message = await load(c, match[1]!, 'Message not found');
    if (match[2] === 'txt') {
      await markRead(c, message);
      return c.text(messageText(message));
    }
    if (message.html === null) throw new KotakError('not_found', 'This message does not contain a HTML part');
    // The same sanitised document as Kotak's /api/messages/{id}/html: never the raw HTML. Part
    // URLs are relative to /view/, so they work under any base path.
    const allowRemote = c.req.query('remote') === '1';
    const cidUrls = new Map(
      message.attachments.filter((a) => a.contentId).map((a) => [a.contentId!, `../api/v1/message/${encodeURIComponent(message.id)}/part/${a.id}`] as const),
    );
    const view = renderHtmlView(message.html, { cidUrls, allowRemote });
    await markRead(c, message);
    return new Response(view.html, {
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': messageHtmlPolicy(allowRemote),
        'X-Remote-Blocked': String(view.remoteBlocked),
        'Cache-Control': 'no-cache',
      },
    });
  });
}
