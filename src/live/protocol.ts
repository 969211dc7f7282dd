/**
 * The WebSocket protocol of `/api/live`, shared with the web inbox (web/ imports this file's types).
 * Every frame is `{ type, data }` with a lower-case, namespaced type.
 */
import type { MailEvents } from '../events.js';

export type LiveFrame = { [K in keyof MailEvents]: { readonly type: K; readonly data: MailEvents[K] } }[keyof MailEvents];

export const LIVE_PATH = '/api/live';
