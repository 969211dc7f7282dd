/**
 * The WAL is moved into the database file by the store's own checkpoint connection
 * (store/checkpointer.ts), not inside a commit: while the store is open, and after fewer commits
 * than SQLite's own 1,000-page threshold would wait for; and everything committed reads back
 * after the store is closed and opened again.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { CHECKPOINT_AFTER_WRITES } from '../../src/store/checkpointer.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { eventually } from '../helpers/browser.js';
import { searchMessage } from '../helpers/search-corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

describe('background checkpoints', () => {
  it('copy the WAL into the database file while the store is open, after a few commits', async () => {
    const file = join(dir, 'a.db');
    const store = await openSqliteStore(file, { log, syncCommits: false });
    const sizeAtStart = statSync(file).size;
    // Each insert awaited: a commit of its own, ~12 pages of WAL; 40 of them stay far below the
    // 1,000 pages after which SQLite would checkpoint inside a commit.
    const count = CHECKPOINT_AFTER_WRITES + 8;
    for (let i = 0; i < count; i++) await store.insert(searchMessage(`checkpoint ${i}`, `body ${i}`));
    await eventually(() => statSync(file).size).toBeGreaterThan(sizeAtStart);
    await store.close();

    const reopened = await openSqliteStore(file, { log, syncCommits: false });
    try {
      expect((await reopened.stats(ALL_MAILBOXES)).total).toBe(count);
    } finally {
      await reopened.close();
    }
  });
});
