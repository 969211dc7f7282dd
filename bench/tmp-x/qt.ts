import pino from 'pino';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
const store = await openSqliteStore('/tmp/m1m/million.db', { log: pino({ level: 'silent' }), syncCommits: false });
for (const [label, q] of [['to:', (r: number) => `to:user${(r * 37) % 2000}@`], ['from:', (r: number) => `from:sender${r % 30}@`], ['subject:', (r: number) => `subject:"#${(r * 7919) % 1000000}"`]] as const) {
  const t: number[] = []; let total = '';
  for (let r = 0; r < 20; r++) { const s = performance.now(); const page = await store.list(ALL_MAILBOXES, { query: parseSearchQuery(q(r)), limit: 50, start: 0, cursor: null, boundedTotal: true }); t.push(performance.now() - s); total = `${page.totalIsLowerBound ? '≥' : ''}${page.total}`; }
  t.sort((a, b) => a - b); console.log(label, 'p50', t[10]!.toFixed(1), 'p99', t[19]!.toFixed(1), total);
}
await store.close();
