/**
 * The one way messages leave Kotak on request (the API, POP3's UPDATE state, later IMAP's
 * EXPUNGE): delete, then announce in one 'message:deleted' the ids that existed. Storage
 * announces nothing, so every caller that deletes by id goes through here and the web inbox,
 * waiters and the Mailpit events see the same frame whoever deleted.
 */
import type { EventBus } from './events.js';
import type { MessageStore } from './store/types.js';

export interface DeleteDeps {
  readonly store: MessageStore;
  readonly bus: EventBus;
}

/** Returns the ids that were deleted (those already gone are left out, not an error). */
export async function deleteMessages(deps: DeleteDeps, ids: readonly string[]): Promise<string[]> {
  const deleted: string[] = [];
  try {
    for (const id of new Set(ids)) if (await deps.store.delete(id)) deleted.push(id);
  } finally {
    // Even when a later delete fails, the ones already committed are gone and must be announced.
    if (deleted.length > 0) deps.bus.emit('message:deleted', { ids: deleted });
  }
  return deleted;
}
