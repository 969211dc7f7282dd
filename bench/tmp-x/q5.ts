import sqlite3 from 'sqlite3';
const db = new sqlite3.Database('/tmp/m1m/million.db', sqlite3.OPEN_READWRITE);
const all = (sql: string, p: unknown[] = []) => new Promise<any[]>((res, rej) => db.all(sql, p, (e, r) => (e ? rej(e) : res(r))));
async function time(label: string, f: () => Promise<unknown>, runs = 9) {
  const t: number[] = []; let out: unknown;
  for (let i = 0; i < runs; i++) { const s = performance.now(); out = await f(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b); console.log(label.padEnd(50), t[Math.floor(runs / 2)]!.toFixed(1), 'ms', JSON.stringify(out).slice(0, 60));
}
await time('offset on table', async () => (await all('SELECT seq, subject FROM messages m ORDER BY m.seq DESC LIMIT 51 OFFSET 49950')).length);
await time('offset seq-only subquery on table', async () => (await all('SELECT seq, subject FROM messages WHERE seq IN (SELECT seq FROM messages ORDER BY seq DESC LIMIT 51 OFFSET 49950) ORDER BY seq DESC')).length);
console.log(await all("EXPLAIN QUERY PLAN SELECT seq FROM messages ORDER BY seq DESC LIMIT 51 OFFSET 49950"));
const s = performance.now();
await all('CREATE INDEX IF NOT EXISTS messages_seq_only ON messages(seq)');
console.log('index built', (performance.now() - s).toFixed(0), 'ms');
console.log(await all("EXPLAIN QUERY PLAN SELECT seq FROM messages ORDER BY seq DESC LIMIT 51 OFFSET 49950"));
await time('offset via index', async () => (await all('SELECT seq, subject FROM messages WHERE seq IN (SELECT seq FROM messages INDEXED BY messages_seq_only ORDER BY seq DESC LIMIT 51 OFFSET 49950) ORDER BY seq DESC')).length);
await time('offset via received_at idx', async () => (await all('SELECT seq, subject FROM messages WHERE seq IN (SELECT seq FROM messages INDEXED BY messages_received_at ORDER BY received_at DESC, seq DESC LIMIT 51 OFFSET 49950) ORDER BY seq DESC')).length);
await time('offset mailbox idx', async () => (await all("SELECT seq, subject FROM messages m WHERE m.mailbox = 'default' ORDER BY m.seq DESC LIMIT 51 OFFSET 49950")).length);
await all('DROP INDEX messages_seq_only');
