/**
 * The whole text of a message whose stored text is bounded. A message received into a spool file
 * is stored with only the first MAX_INDEXED_BODY_CHARS characters of each large text part
 * (parse/skeleton-file.ts, migration 012): enough for the snippet, the index and substring search,
 * without holding a 50 MB text while it is received. Every reader of a message (the API, the
 * Mailpit and MailHog routes, the checks, the HTML view, links) reads it through `get`, so this
 * wrapper derives the whole text and HTML there, from the raw bytes through the parser pool, as
 * attachments already are. Nothing else of the store changes.
 */
import type { Logger } from 'pino';
import { KotakError } from '../errors.js';
import type { MessageDetail } from '../mail/types.js';
import type { ParserPool } from '../parse/pool.js';
import type { MessageStore } from './types.js';

export function withFullText<S extends MessageStore>(store: S, deps: { parser: Pick<ParserPool, 'parse'>; log: Logger }): S {
  const get: MessageStore['get'] = async (scope, id) => {
    const stored = await store.get(scope, id);
    if (!stored?.textCut) return stored;
    const { textCut: _bounded, ...detail } = stored;
    const raw = await store.getRaw(scope, id);
    // Deleted in between: as if it had not been found.
    if (!raw) return null;
    const parsed = await deps.parser.parse(raw);
    if (!parsed.ok) {
      // It parsed when it was stored; a failure now (time limit, shutdown) is not the message's.
      deps.log.warn({ id, reason: parsed.error }, 'could not derive the whole text of a message');
      throw new KotakError('message_unparsed', `the text of message ${id} could not be read: ${parsed.error}`);
    }
    return { ...detail, text: parsed.message.text, html: parsed.message.html } satisfies MessageDetail;
  };
  return { ...store, get };
}
