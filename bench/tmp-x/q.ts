import sqlite3 from 'sqlite3';
const db = new sqlite3.Database('/tmp/m1m/million.db', sqlite3.OPEN_READWRITE);
const all = (sql: string, p: unknown[] = []) => new Promise<any[]>((res, rej) => db.all(sql, p, (e, r) => (e ? rej(e) : res(r))));
const SYLLABLES = ['ka', 'lo', 'mi', 're', 'su', 'ta', 'ne', 'vo', 'di', 'pa', 'go', 'ru', 'sel', 'mon', 'tar', 'vin'];
const VOCAB = Array.from({ length: 5000 }, (_, i) => { let w = ''; for (let n = i + 17; n > 0; n = Math.floor(n / 16)) w += SYLLABLES[n % 16]; return w; });
async function time(label: string, f: () => Promise<unknown>, runs = 7) {
  const t: number[] = []; let out: unknown;
  for (let i = 0; i < runs; i++) { const s = performance.now(); out = await f(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b); console.log(label.padEnd(50), t[Math.floor(runs / 2)]!.toFixed(1), 'ms', JSON.stringify(out).slice(0, 80));
}
const max = (await all('SELECT max(rowid) m FROM message_fts'))[0].m;
await all("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fv USING fts5vocab(main, 'message_fts', 'row')");
for (const w of VOCAB.slice(0, 4)) {
  console.log('word', w);
  await time('prefix newest 1051', async () => (await all(`SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT 1051`, [`"${w}"*`])).length);
  await time('prefix window 20k', async () => (await all(`SELECT rowid FROM message_fts WHERE message_fts MATCH ? AND rowid > ? ORDER BY rowid DESC LIMIT 1051`, [`"${w}"*`, max - 20000])).length);
  await time('exact newest 1051', async () => (await all(`SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT 1051`, [`"${w}"`])).length);
  await time('vocab terms', async () => (await all(`SELECT term FROM fv WHERE term >= ? AND term < ?`, [w, w + '\uffff'])).length, 3);
  const terms = (await all(`SELECT term FROM fv WHERE term >= ? AND term < ?`, [w, w + '\uffff'])).map((r) => r.term);
  await time(`OR of ${terms.length} terms newest 1051`, async () => (await all(`SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT 1051`, [terms.map((t) => `"${t}"`).join(' OR ')])).length);
}
