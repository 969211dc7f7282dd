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
  it('keep the WAL bounded under writes that never pause', async () => {
    // A checkpoint beside a writer never finds the WAL wholly copied, and only then may SQLite
    // start it over: without a checkpoint that does (the writer's own, past a bound), the WAL
    // grew by every byte written (4.5× the raw bytes after bench/million.ts's fill of 100,000).
    const file = join(dir, 'busy.db');
    const store = await openSqliteStore(file, { log, syncCommits: false });
    try {
      const text = 'word '.repeat(1_000);
      for (let round = 0; round < 40; round++) {
        await Promise.all(Array.from({ length: 200 }, (_, i) => store.insert(searchMessage(`busy ${round}-${i}`, text))));
      }
      // 8,000 messages of ~5 KB: over 40 MB of raw bytes alone went through the WAL.
      expect(statSync(`${file}-wal`).size).toBeLessThan(32 * 1024 * 1024);
    } finally {
      await store.close();
    }
  });

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
