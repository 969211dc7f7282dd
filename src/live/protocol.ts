/**
 * The WebSocket protocol of `/api/live`, shared with the web inbox (web/ imports this file's types
 * and `frameMailbox`, a pure function, so both sides filter frames by one rule).
 * Every frame is `{ type, data }` with a lower-case, namespaced type.
 */
import type { MailEvents } from '../events.js';

/** Every bus event but tag changes, which only Mailpit's WebSocket carries (src/live/hub.ts lists them). */
export type LiveEventName = Exclude<keyof MailEvents, 'tags:changed'>;

export type LiveFrame = { [K in LiveEventName]: { readonly type: K; readonly data: MailEvents[K] } }[LiveEventName];

export const LIVE_PATH = '/api/live';

/** The mailbox a frame is about; null for the one frame every client gets (`messages:cleared`). */
export function frameMailbox(frame: LiveFrame): string | null {
  switch (frame.type) {
    case 'message:stored':
    case 'message:updated':
    case 'messages:updated':
    case 'message:deleted':
    case 'relay:updated':
      return frame.data.mailbox;
    default:
      return null;
  }
}
