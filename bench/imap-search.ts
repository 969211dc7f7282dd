/**
 * What IMAP SEARCH (src/imap/search.ts) costs over a folder's view: a fresh SQLite store filled
 * with N small messages through the store (parsed as ingest parses them), a view of all of them,
 * then each search below run three times. Prints, per search, the median time, how many store
 * queries it made and how many raw messages it read: every string key and SENT* are narrowed by
 * the store, so only its candidates are read (docs/IMAP.md "Search" has the figures).
 *
 *   tsx bench/imap-search.ts [--messages 5000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { FolderMessage } from '../src/access/folder-types.js';
import { evaluateSearch, parseSearch, type SearchContext } from '../src/imap/search.js';
import type { ImapValue } from '../src/imap/wire/values.js';
import { ALL_MAILBOXES } from '../src/mail/mailbox-scope.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { newMessageFromRaw, rawMessage } from '../test/helpers/new-message.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '5000' } } });
const count = Number(values.messages);
const WORDS = ['invoice', 'order', 'shipping', 'password', 'reset', 'report', 'meeting', 'budget', 'delivery', 'account', 'welcome', 'reminder'];

const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-bench-imap-search-'));
const store = await openSqliteStore(path.join(dir, 'bench.db'), { log: pino({ level: 'silent' }), syncCommits: false });
try {
  const view: FolderMessage[] = [];
  const start = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < count; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, count - i) }, async (_, j) => {
        const n = i + j;
        const word = WORDS[n % WORDS.length]!;
        const raw = rawMessage([
          `From: Sender ${n % 97} <sender${n % 97}@shop${n % 13}.example>`,
          `To: user${n % 50}@example.com`,
          `Subject: Your ${word} number ${n}`,
          `Date: ${new Date(start + n * 3_600_000).toUTCString()}`,
          `Message-ID: <m${n}@bench.example>`,
          '',
          `Hello, this is message ${n} about your ${word}. ${WORDS[(n * 7) % WORDS.length]} follows.`,
        ]);
        return store.insert(await newMessageFromRaw(raw, { receivedAt: start + n * 3_600_000 }));
      }),
    );
    for (const summary of batch) {
      view.push({ id: summary.id, uid: view.length + 1, size: summary.size, receivedAt: Date.parse(summary.receivedAt), flags: { seen: view.length % 3 === 0, flagged: view.length % 10 === 0, deleted: false, keywords: [] } });
    }
  }
  while ((await store.fullTextBacklog()) > 0) await new Promise((resolve) => setImmediate(resolve));

  const searches = ['SEEN', 'UID 4000:*', 'SUBJECT "rder number 12"', 'FROM sender42@', 'BODY " invoice"', 'BODY "is message 4999 about"', 'FLAGGED BODY "ello"', 'BODY "ello"', 'BODY "nvoic"', 'BODY "age 4999 ab"', 'TEXT "shop7"', 'TEXT "sage 4999"', 'HEADER Date "01 mar 2026 05"', 'SENTON 1-Mar-2026', 'OR SUBJECT invoice NOT FROM shop3'];
  console.log(`IMAP SEARCH over a view of ${count} messages (SQLite, Node ${process.versions.node}; median of 3)`);
  for (const text of searches) {
    const args: ImapValue[] = [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? { kind: 'string', value: Buffer.from(m[1]), literal: false } : { kind: 'atom', value: m[2]! }));
    const program = parseSearch(args);
    const times: number[] = [];
    let queries = 0;
    let reads = 0;
    let found = 0;
    for (let run = 0; run < 3; run++) {
      queries = 0;
      reads = 0;
      const context: SearchContext = {
        messages: view,
        async matching(query, within) {
          queries++;
          const ids = await store.find(ALL_MAILBOXES, { query, ids: within, limit: count });
          return new Set(ids.map((m) => m.id));
        },
        async read(id) {
          reads++;
          return store.getRaw(ALL_MAILBOXES, id);
        },
      };
      const began = performance.now();
      found = (await evaluateSearch(program, context)).length;
      times.push(performance.now() - began);
    }
    times.sort((a, b) => a - b);
    console.log(`${text.padEnd(36)} ${String(found).padStart(5)} found  ${times[1]!.toFixed(1).padStart(8)} ms  ${String(queries).padStart(2)} store queries  ${String(reads).padStart(5)} read`);
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
