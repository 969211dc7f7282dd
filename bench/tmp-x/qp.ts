import pino from 'pino';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
const t0 = performance.now();
const store = await openSqliteStore('/tmp/m1m/million.db', { log: pino({ level: 'silent' }), syncCommits: false });
console.log('open (migrations)', (performance.now() - t0).toFixed(0), 'ms');
const t: number[] = [];
for (let r = 0; r < 20; r++) { const s = performance.now(); await store.list(ALL_MAILBOXES, { query: parseSearchQuery(''), limit: 50, start: 49_950, boundedTotal: true }); t.push(performance.now() - s); }
t.sort((a, b) => a - b); console.log('page 1000 by start p50', t[10]!.toFixed(2), 'p99', t[19]!.toFixed(2));
await store.close();
