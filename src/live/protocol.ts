/**
 * The WebSocket protocol of `/api/live`, shared with the web inbox (web/ imports this file's types
 * and `frameMailbox`, a pure function, so both sides filter frames by one rule).
 * Every frame is `{ type, data }` with a lower-case, namespaced type.
 */
import type { MailEvents } from '../events.js';

/**
 * Bus events sent as they are; tag changes are reshaped into the two tag frames below (src/live/hub.ts).
 * IMAP's `message:flags` is no frame: nothing the web inbox or the API shows depends on it.
 */
export type LiveEventName = Exclude<keyof MailEvents, 'tags:changed' | 'message:flags'>;

/** One message's tags, as stored now. */
export interface MessageTaggedData {
  readonly id: string;
  readonly mailbox: string;
  readonly tags: readonly string[];
}

/**
 * A tag was renamed or removed across many messages: too broad to list, so clients refetch.
 * `mailbox` is the mailbox it may have touched; null when it may have touched every mailbox.
 */
export interface TagsChangedData {
  readonly mailbox: string | null;
}

export type LiveFrame =
  | { [K in LiveEventName]: { readonly type: K; readonly data: MailEvents[K] } }[LiveEventName]
  | { readonly type: 'message:tagged'; readonly data: MessageTaggedData }
  | { readonly type: 'tags:changed'; readonly data: TagsChangedData };

export const LIVE_PATH = '/api/live';

/** The mailbox a frame is about; null for the one frame every client gets (`messages:cleared`). */
export function frameMailbox(frame: LiveFrame): string | null {
  switch (frame.type) {
    case 'message:stored':
    case 'message:updated':
    case 'messages:updated':
    case 'message:deleted':
    case 'relay:updated':
    case 'message:tagged':
      return frame.data.mailbox;
    case 'tags:changed':
      return frame.data.mailbox;
    default:
      return null;
  }
}
