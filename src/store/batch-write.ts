/**
 * A group commit's batch written as both stores write it (store/sqlite.ts, store/pg/message-store.ts):
 * whole, and when that fails, each message on its own, so that one bad row never fails its
 * neighbours. Each message is resolved once its own write has committed, or failed with its error.
 */
import type { Logger } from 'pino';
import type { MessageSummary } from '../mail/types.js';

export interface BatchItem {
  readonly summary: MessageSummary;
  readonly resolve: (summary: MessageSummary) => void;
}

export async function writeBatchOrEach<T extends BatchItem>(
  batch: readonly T[],
  write: (items: readonly T[]) => Promise<void>,
  fail: (item: T, err: unknown) => void,
  log: Logger,
): Promise<void> {
  if (batch.length === 0) return;
  try {
    await write(batch);
    for (const item of batch) item.resolve(item.summary);
    return;
  } catch (err) {
    if (batch.length === 1) {
      fail(batch[0]!, err);
      return;
    }
    log.warn({ err, messages: batch.length }, 'batch insert failed; retrying messages one by one');
  }
  for (const item of batch) {
    try {
      await write([item]);
      item.resolve(item.summary);
    } catch (err) {
      fail(item, err);
    }
  }
}
