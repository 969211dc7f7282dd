/**
 * The WebSocket protocol of `/api/live`, shared with the web inbox (web/ imports this file's types).
 * Every frame is `{ type, data }` with a lower-case, namespaced type.
 */
import type { MailEvents } from '../events.js';

/** Every bus event but tag changes, which only Mailpit's WebSocket carries (src/live/hub.ts lists them). */
export type LiveEventName = Exclude<keyof MailEvents, 'tags:changed'>;

export type LiveFrame = { [K in LiveEventName]: { readonly type: K; readonly data: MailEvents[K] } }[LiveEventName];

export const LIVE_PATH = '/api/live';
