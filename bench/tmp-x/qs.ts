import pino from 'pino';
import { ALL_MAILBOXES } from '../../src/mail/mailbox-scope.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
const SYLLABLES = ['ka', 'lo', 'mi', 're', 'su', 'ta', 'ne', 'vo', 'di', 'pa', 'go', 'ru', 'sel', 'mon', 'tar', 'vin'];
const VOCAB = Array.from({ length: 5000 }, (_, i) => { let w = ''; for (let n = i + 17; n > 0; n = Math.floor(n / 16)) w += SYLLABLES[n % 16]; return w; });
const store = await openSqliteStore('/tmp/m1m/million.db', { log: pino({ level: 'silent' }), syncCommits: false });
const RUNS = Number(process.argv[2] ?? 20);
const cases: [string, (r: number) => string][] = [
  ['common word', (r) => VOCAB[r % 40]!],
  ['middling word', (r) => VOCAB[200 + (r % 40)]!],
  ['phrase', (r) => `"${VOCAB[r % 40]} ${VOCAB[(r + 1) % 40]}"`],
  ['word and from:', (r) => `${VOCAB[200 + (r % 40)]} from:sender${r % 30}@`],
  ['two common words', (r) => `${VOCAB[r % 40]} ${VOCAB[(r + 7) % 40]}`],
  ['short prefix "ka"', () => 'ka'],
];
for (const [label, q] of cases) {
  const t: number[] = []; let total = '';
  for (let r = 0; r < RUNS; r++) {
    const s = performance.now();
    const page = await store.list(ALL_MAILBOXES, { query: parseSearchQuery(q(r)), limit: 50, start: 0, cursor: null, boundedTotal: true });
    t.push(performance.now() - s); total = `${page.totalIsLowerBound ? '≥' : ''}${page.total}`;
  }
  t.sort((a, b) => a - b);
  console.log(label.padEnd(22), 'p50', t[Math.floor(RUNS / 2)]!.toFixed(1), 'p99', t[Math.floor(RUNS * 0.99)]!.toFixed(1), total);
}
await store.close();
